"""Linear regression with Laplace noise by maximum likelihood: median regression.

For any scale the maximiser in the location is the least-absolute-deviation fit,
solved exactly by linear programming (:mod:`skmle.optim.lad`, which sees only a
design, a response and weights: the model's
:meth:`~skmle.models.linear.LinearLogLikelihood.design_rows`) or approximately by
subgradient ascent; the scale then has a closed form. Laplace's solvers ``"lp"``
and ``"gd"`` are its own (``_solve_lp``, ``_solve_gd``, in
:mod:`skmle.estimators.laplace_solvers`), dispatched by the mixin like every
model-specific solver; the smooth generic solvers do not apply. Dense and
``scipy.sparse`` X alike.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from skmle._sklearn_compat import StrOptions
from skmle.estimators.base import GradientAscentMixin
from skmle.estimators.laplace_covariance import LaplaceCovarianceMixin
from skmle.estimators.laplace_solvers import LaplaceSolverMixin
from skmle.estimators.linear_regressor import LinearRegressorBase, solver_constraint
from skmle.inference import COV_TYPES
from skmle.inference.prediction import normal_laplace_interval
from skmle.models.laplace import LaplaceLogLikelihood


class LaplaceRegressor(LaplaceCovarianceMixin, LaplaceSolverMixin, LinearRegressorBase):
    """Linear regression with Laplace noise (median regression) by maximum likelihood.

    The model is :math:`y = x^\\top w + b + e`, :math:`e \\sim \\mathrm{Laplace}(0,
    s)`, with log-likelihood

    .. math:: \\ell(w, b, s) = -W\\log(2s) - \\frac{1}{s}\\sum_i w_i
       |y_i - x_i^\\top w - b| .

    For any :math:`s` the maximiser in :math:`(w, b)` is the weighted
    least-absolute-deviation fit, which is robust to outliers in ``y``; then
    :math:`\\hat s` is the weighted mean absolute residual.

    Parameters
    ----------
    fit_intercept : bool, default=True
    solver : {"lp", "gd"}, default="lp"
        ``"lp"`` reaches the exact optimum: least absolute deviations is a linear
        program, solved with HiGHS through :func:`scipy.optimize.linprog` on its
        dual (which has one equality row per coefficient), on rows centred,
        scaled and with weights of mean one (:class:`~skmle.optim.lad.LADScaling`;
        the answer is mapped back), and HiGHS's answer is accepted only when its
        primal and dual objectives agree (else a ValueError). Above 1,000 rows (and
        20 per coefficient) only a band of rows near a first fit enters the LP,
        the others being folded on their side of it (Portnoy and Koenker's
        preprocessing): the first fit is an exact fit on a uniform sample of about
        :math:`n^{2/3} p^{1/2}` rows above 5,000 rows, and iteratively reweighted
        least squares below; the folded rows' signs are checked at the solution,
        the few that flip are added back and the band is widened if needed, so the
        result is still exact and its cost close to linear in the rows (see
        :func:`skmle.optim.lad.least_absolute_deviations`). ``"gd"`` is
        subgradient ascent with steps decaying like :math:`1/k` on standardised
        features (:func:`skmle.optim.lad.subgradient_lad_by_sums`): the textbook
        method for a non-smooth log-likelihood, slower and approximate (to
        ``tol``), kept for teaching.
        The smooth-objective solvers (L-BFGS, Newton) do not apply: the gradient
        jumps at every kink and the Hessian is zero almost everywhere.
    learning_rate : float or "auto", default="auto"
        Initial step :math:`\\gamma` of ``solver="gd"``, in units of the current
        mean absolute residual; ``"auto"`` means 1.0. Only a start: the step
        doubles while every step improves and halves (back at the best point)
        while none does, so any positive value reaches the optimum.
    max_iter : int, default=1000
        Iterations of ``solver="gd"``.
    tol : float, default=1e-4
        ``solver="gd"`` is converged when a certificate proves its best iterate's
        sum of absolute residuals within ``tol`` (relative) of the optimum: every
        50 iterations and at the end, a dual feasible point is built from the
        signs of the residuals and a small LP on the rows nearest the fit, and
        the duality gap it gives bounds the distance to the optimum
        (:func:`skmle.optim.lad.relative_duality_gap`). If ``max_iter`` ends the
        fit first, ``converged_`` is False and a ``ConvergenceWarning`` gives the
        gap reached (raise ``max_iter`` or ``tol``, or use ``solver="lp"``).
    verbose : int, default=0
    warm_start : bool, default=False
        Start ``solver="gd"`` from the previous fit.
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The covariance of the estimates. ``"nonrobust"`` assumes Laplace
        errors: the inverse expected information
        :math:`\\hat s^2 (X_1^\\top W X_1)^{-1}`, whose density at the median
        is the Laplace one, :math:`1/(2\\hat s)`. The others do not assume a
        shape for the errors: the quantile-regression sandwich
        :math:`H^{-1} M H^{-1}` with bread :math:`H = \\hat f(0)\\, X_1^\\top W
        X_1` and meat :math:`M = \\sum_i w_i \\psi(r_i)^2 x_{1i} x_{1i}^\\top`,
        :math:`\\psi(r) = \\tfrac12 - 1\\{r < 0\\}` (``"HC0"``), times
        :math:`n/(n-p)` (``"HC1"``), or with :math:`\\psi` summed within the
        ``groups`` given to :meth:`fit` (``"cluster"``, CRV1), as for the other
        estimators (:mod:`skmle.inference.sandwich`). :math:`\\hat f(0)` is a
        kernel density of the residuals at zero (Epanechnikov kernel,
        Hall-Sheather bandwidth; :mod:`skmle.inference.sparsity`). ``"HC0"`` is
        statsmodels' ``QuantReg(...).fit(q=0.5)`` default (``vcov="robust"``,
        ``kernel="epa"``, ``bandwidth="hsheather"``) at the exact LAD optimum.
        At the median :math:`\\psi^2 = 1/4` for every row, so ``"HC0"`` is
        :math:`(X_1^\\top W X_1)^{-1} / (4 \\hat f(0)^2)`: it drops the Laplace
        shape, not the assumption of one density at the median for every row
        (Powell's kernel sandwich, a density per row in the bread, is not
        offered); ``"cluster"`` is robust to dependence within groups. The
        ``"HC0"``/``"HC1"`` sandwich is therefore computed in that closed form
        and ``"cluster"`` from group sums of :math:`\\psi(r_i) x_{1i}`, which
        sparse X gives without densifying.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        0.0 when ``fit_intercept=False``.
    scale_ : float
        :math:`\\hat s = \\sum_i w_i |r_i| / W`. When the fit passes through every
        sample the likelihood is unbounded; when :math:`\\hat s` is below
        :math:`\\sqrt{\\epsilon}` times the weighted standard deviation of ``y``
        (:func:`~skmle.estimators.linear_fit.scale_floor`) a warning is issued, ``scale_`` is floored there,
        and the coefficients are the minimum-norm interpolant (the
        least-squares solution), the same whether rows are repeated or weighted.
        Where the optimum is not unique otherwise (a flat edge of the LP, such as
        an even number of equally weighted samples in an intercept-only fit) the
        solver returns one basic solution: every point of that edge has the same
        likelihood.
    coef_se_ : ndarray of shape (n_features,)
        Asymptotic standard errors from ``params_cov_``: by default
        :math:`\\hat s^2 (X_1^\\top W X_1)^{-1}`, :math:`X_1 = [X, 1]` (the
        expected information: the observed one is zero almost everywhere).
        NaN, with a warning, when :math:`X_1^\\top W X_1` is singular (or, for
        the sandwiches, when the density estimate is not positive).
    params_cov_ : ndarray of shape (n_features + 1, n_features + 1)
        The covariance of ``[coef, intercept]`` of ``cov_type``.
    median_density_ : float
        For the sandwich ``cov_type``: :math:`\\hat f(0)`, the kernel estimate
        of the error density at the median (``1 / sparsity`` of statsmodels'
        ``QuantReg``).
    bandwidth_ : float
        For the sandwich ``cov_type``: the kernel's bandwidth :math:`h` in the
        units of ``y`` (``QuantReg``'s ``bandwidth``).
    intercept_se_ : float
        Defined when ``fit_intercept=True``.
    theta_ : ndarray of shape (n_params,)
        ``[coef, intercept, log s]`` (see :mod:`skmle.models.linear`).
    loglik_ : float
        Total weighted training log-likelihood.
    loglik_history_ : ndarray
        For ``"gd"``, shape (n_iter_ + 1,): the log-likelihood of the best iterate
        so far, at the start (:math:`w = 0`, :math:`b` the weighted median of
        ``y``) and after each iteration. For ``"lp"``, shape (2,): at that start
        and at the solution.
    n_iter_ : int
        Subgradient steps for ``"gd"``; 1 for the exact ``"lp"`` (its IRLS steps
        and LP solves are counted in the ``verbose`` message).
    converged_ : bool
        ``"lp"``: True (its optimum is certified by the duality gap of the LP).
        ``"gd"``: True only when the duality-gap rule of ``tol`` holds at the
        returned coefficients.
    n_samples_seen_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import LaplaceRegressor
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> y = np.array([1.0, 3.0, 5.0, 7.0, 9.0, 100.0])  # one outlier
    >>> model = LaplaceRegressor().fit(X, y)
    >>> np.round(model.coef_, 10), round(model.intercept_, 10)
    (array([2.]), 1.0)
    """

    _model_class = LaplaceLogLikelihood
    _distribution = staticmethod(stats.laplace)
    _own_solvers = ("lp", "gd")
    _generic_solvers = ()

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "solver": solver_constraint(_own_solvers, _generic_solvers),
        "cov_type": [StrOptions(set(COV_TYPES))],
    }

    def __init__(
        self,
        fit_intercept=True,
        solver="lp",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        cov_type="nonrobust",
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.cov_type = cov_type

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the model by maximum likelihood (see
        :meth:`LinearRegressorBase.fit <skmle.estimators.linear_regressor.LinearRegressorBase.fit>`).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            CSR or CSC ``scipy.sparse`` X is never densified (the LP takes
            :math:`X^\\top` sparse; see :mod:`skmle.optim.lad.sparse_rows`).
            Also a Dask array chunked by rows or :func:`skmle.chunked` data, of
            dense or sparse blocks.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.
        groups : array-like of shape (n_samples,), default=None
            The cluster of each sample, for ``cov_type="cluster"`` (required
            then, refused otherwise); in memory.

        Returns
        -------
        self
        """
        return self._fit_regression(X, y, sample_weight, groups)

    def _set_scale(self, scale: float) -> None:
        self.scale_ = scale

    def _dist_scale(self) -> float:
        return self.scale_

    def _observation_interval(self, eta, se, alpha: float) -> np.ndarray:
        """The central quantiles of :math:`\\hat y + N(0, \\mathrm{se}^2) +
        \\mathrm{Laplace}(0, \\hat s)`: the estimate's error, asymptotically
        normal, plus the new Laplace noise, independent of it (the convolution
        in closed form, :func:`~skmle.inference.prediction.normal_laplace_cdf`).
        The uncertainty of :math:`\\hat s` is left out (it is of order
        :math:`1/\\sqrt n` in the width, like the plug-in interval's)."""
        return normal_laplace_interval(eta, se, self.scale_, alpha)
