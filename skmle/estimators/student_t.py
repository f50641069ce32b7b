"""Linear regression with Student-t noise by maximum likelihood: robust to outliers in y.

The model, its derivatives and the E-step weights are
:class:`~skmle.models.student_t.StudentTLogLikelihood`; prediction, validation and
data larger than memory come from
:class:`~skmle.estimators.linear_regressor.LinearRegressorBase`; the EM solver
(:mod:`skmle.estimators.student_t_em`) is the alternative to exact Newton.
"""

from __future__ import annotations

import dataclasses
import warnings
from functools import partial
from numbers import Real

import numpy as np
from scipy import stats

from skmle._sklearn_compat import Interval, StrOptions
from skmle._sparse import matvec
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.estimators.least_squares import least_squares
from skmle.estimators.linear_fit import LinearObjective
from skmle.estimators.linear_regressor import LinearRegressorBase, solver_constraint
from skmle.estimators.student_t_em import solve_em
from skmle.inference import COV_TYPES, Information, WaldSpec
from skmle.inference.normal_t import normal_t_interval
from skmle.models.student_t import DF_BOUNDS, StudentTLogLikelihood
from skmle.optim import OptimizeResult, Status

DF_START = 5.0
"""The starting :math:`\\nu` (statsmodels' ``TLinearModel`` starts there too)."""


class StudentTRegressor(LinearRegressorBase):
    """Linear regression with Student-t noise, fitted by maximum likelihood.

    The model is :math:`y = x^\\top w + b + e`, :math:`e \\sim t_\\nu(0, s)`:

    .. math:: \\ell(w, b, s, \\nu) = \\sum_i w_i \\Big[\\log
       \\frac{\\Gamma(\\frac{\\nu+1}{2})}{\\Gamma(\\frac{\\nu}{2})\\sqrt{\\nu\\pi}\\,s}
       - \\frac{\\nu+1}{2}\\log\\Big(1 + \\frac{r_i^2}{\\nu s^2}\\Big)\\Big],
       \\qquad r_i = y_i - x_i^\\top w - b .

    A residual :math:`r` pulls on the fit with weight
    :math:`(\\nu+1)/(\\nu + r^2/s^2)`, which falls off like :math:`1/r^2`: gross
    outliers in ``y`` barely move the coefficients. As :math:`\\nu \\to \\infty` the
    model is :class:`~skmle.LinearGaussianRegressor`; :math:`\\nu = 1` is Cauchy
    noise.

    Parameters
    ----------
    df : float or None, default=None
        The degrees of freedom :math:`\\nu`: None estimates them with the other
        parameters; a number in :data:`~skmle.models.student_t.DF_BOUNDS` fixes
        them. The name of ``scipy.stats.t`` and of statsmodels' ``TLinearModel``
        (which reports ``df`` and takes ``fix_df``).
    fit_intercept : bool, default=True
    solver : {"newton", "em", "lbfgs", "gd"}, default="newton"
        ``"newton"``: exact Newton with a line search on ``[coef, intercept,
        log s, log nu]`` (standardised columns, whitened by the curvature; see
        :class:`~skmle.GradientAscentMixin`), from least squares. ``"em"``:
        expectation-maximisation of the t as a scale mixture of normals (weighted
        least squares, then a one-dimensional root for :math:`\\nu`; see
        :func:`~skmle.estimators.student_t_em.solve_em`), monotone but linear in
        its rate, hence slower (``benchmarks/bench_student_t.py``). Every solver
        is judged by the same rule at the point it returns.
    learning_rate : float or "auto", default="auto"
        Step size of ``solver="gd"``.
    max_iter : int, default=200
    tol : float, default=1e-8
        Converged when every component of the mean log-likelihood's gradient,
        whitened by the curvature at the returned point, is at most ``tol``.
    verbose : int, default=0
    warm_start : bool, default=False
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        ``"nonrobust"``: the inverse observed information (the exact Hessian);
        the others the sandwich of the per-row scores
        (:mod:`skmle.inference.sandwich`; ``"cluster"`` needs ``groups`` in
        :meth:`fit`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    scale_ : float
        :math:`\\hat s`, the scale of the t (its standard deviation is
        :math:`s\\sqrt{\\nu/(\\nu-2)}` for :math:`\\nu > 2`).
    df_ : float
        :math:`\\hat\\nu` (or the fixed ``df``). When the likelihood still rises
        at an end of :data:`~skmle.models.student_t.DF_BOUNDS` (towards
        :math:`\\nu \\to \\infty` for Gaussian noise, :math:`\\nu \\to 0` for
        degenerate data), a warning says so, ``df_`` is that end, the other
        parameters maximise the likelihood there and ``df_se_`` is NaN.
    coef_se_, intercept_se_, scale_se_, df_se_ : ndarray or float
        Standard errors from ``params_cov_`` (``df_se_`` only with ``df=None``);
        those of :math:`s` and :math:`\\nu` by the delta method from
        :math:`\\log s` and :math:`\\log \\nu`.
    params_cov_ : ndarray
        The covariance of ``[coef, intercept, scale, df]`` (statsmodels'
        ``cov_params()``, in its order apart from ``df`` and ``scale``).
    theta_ : ndarray
        ``[coef, intercept, log s, log nu]`` (see :mod:`skmle.models.student_t`).
    loglik_, aic_, bic_, loglik_history_, n_iter_, converged_ : see
        :class:`~skmle.GradientAscentMixin`.
    n_samples_seen_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import StudentTRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 1))
    >>> y = 2.0 * X[:, 0] + 1.0 + 0.1 * rng.standard_t(3, size=200)
    >>> y[:10] += 50.0  # gross outliers
    >>> model = StudentTRegressor().fit(X, y)
    >>> np.round(model.coef_, 1), round(model.intercept_, 1)
    (array([2.]), 1.0)
    """

    _model_class = StudentTLogLikelihood
    _log_coordinate_blocks = ("scale", "df")
    """Held in ``theta_`` as logarithms (profiled there)."""
    _own_solvers = ("em",)
    _generic_solvers = GENERIC_SOLVERS

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "df": [None, Interval(Real, *DF_BOUNDS, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": solver_constraint(_own_solvers, _generic_solvers),
        "cov_type": [StrOptions(set(COV_TYPES))],
    }

    def __init__(
        self,
        df=None,
        fit_intercept=True,
        solver="newton",
        learning_rate="auto",
        max_iter=200,
        tol=1e-8,
        verbose=0,
        warm_start=False,
        cov_type="nonrobust",
    ):
        self.df = df
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.cov_type = cov_type

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit by maximum likelihood (see
        :meth:`LinearRegressorBase.fit <skmle.estimators.linear_regressor.LinearRegressorBase.fit>`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array chunked by rows or :func:`skmle.chunked` data.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            The clusters of ``cov_type="cluster"`` (in memory).

        Returns
        -------
        self
        """
        return self._fit_regression(X, y, sample_weight, groups)

    # -- the model and its start -----------------------------------------------------
    def _make_model(self, batch) -> StudentTLogLikelihood:
        return StudentTLogLikelihood(batch.X.shape[1], self.fit_intercept, self.df)

    def _initial_theta(self, objective: LinearObjective) -> np.ndarray:
        """Least squares, :math:`s` the root mean square residual and
        :math:`\\nu = 5`, as statsmodels starts (all from the moments)."""
        fit = least_squares(objective)
        stats_ = objective.stats
        coef = fit.coef
        if objective.sparse:
            # The moments of sparse rows are centred implicitly, with more
            # rounding: a pass over the rows decides whether least squares
            # interpolates.
            rss = objective.sum_batches(
                partial(_squared_residuals, coef=coef, intercept=fit.intercept)
            )
        else:
            rss = (
                stats_.square
                - 2.0 * float(stats_.cross @ coef)
                + coef @ stats_.gram @ coef
            )
        scale = np.sqrt(max(rss, 0.0) / objective.total_weight)
        log_scale = np.log(max(scale, stats_.scale_floor))
        return self.model_.pack(coef, fit.intercept, log_scale, np.log(DF_START))

    def _interpolant(self, objective: LinearObjective, theta0) -> OptimizeResult:
        """Where least squares passes through every row the likelihood is unbounded
        (:math:`s \\to 0`, for any :math:`\\nu`): the minimum-norm interpolant, the
        scale floored with a warning, :math:`\\nu` at its upper bound (where the
        density at zero is largest), as :class:`~skmle.LinearGaussianRegressor`."""
        objective.floored_scale(0.0, stacklevel=6)
        theta = np.array(theta0)
        if self.df is None:
            theta[-1] = np.log(DF_BOUNDS[1])
        value = objective.value(theta)
        return OptimizeResult(
            theta=theta,
            value=value,
            history=np.array([value]),
            n_iter=0,
            converged=True,
            message="least squares interpolates the data",
            status=Status.CLOSED_FORM,
        )

    def _set_theta(self, theta) -> None:
        super()._set_theta(theta)
        self.df_ = self.model_.degrees_of_freedom(theta)
        # No standard error for a fixed df or one stopped at a bound.
        self.__dict__.pop("df_se_", None)
        if self.df is None and not self._df_estimated():
            self.df_se_ = float("nan")

    def _set_scale(self, scale: float) -> None:
        self.scale_ = scale

    def _dist_scale(self) -> float:
        return self.scale_

    def _observation_interval(self, eta, se, alpha: float) -> np.ndarray:
        """The central quantiles of :math:`\\hat y + N(0, \\mathrm{se}^2) + \\hat s
        T_{\\hat\\nu}`: the estimate's error, asymptotically normal, plus the new
        Student's t noise, independent of it
        (:func:`~skmle.inference.normal_t.normal_t_interval`). The uncertainty
        of :math:`\\hat s` and :math:`\\hat\\nu` is left out (of order
        :math:`1/\\sqrt n` in the width, like the plug-in interval's)."""
        return normal_t_interval(eta, se, self.scale_, self.df_, alpha)

    @property
    def _distribution(self):
        """``scipy.stats.t`` with the fitted degrees of freedom."""
        return partial(stats.t, self.df_)

    # -- solvers ---------------------------------------------------------------------
    def _solve_em(self, objective: LinearObjective, theta0) -> OptimizeResult:
        if theta0 is None:
            theta0 = self._initial_theta(objective)
        return solve_em(objective, theta0, max_iter=self.max_iter, tol=self.tol)

    def _run_solver(self, objective: LinearObjective, theta0) -> OptimizeResult:
        """The solver, with :math:`\\nu` at an end of :data:`DF_BOUNDS` where the
        maximum is there.

        From least squares, whose residuals decide whether the likelihood rises
        towards :math:`\\nu = \\infty` (a sample kurtosis below 3, in effect), the
        fit at the upper bound is tried first; otherwise, or where that is not a
        maximum, the free fit, and the bound where :math:`\\hat\\nu` ran to one.
        """
        fresh = theta0 is None
        if fresh:
            theta0 = self._initial_theta(objective)
            if theta0[self.model_.log_scale_index()] <= np.log(objective.scale_floor):
                return self._interpolant(objective, theta0)
        if self.df is not None:
            return super()._run_solver(objective, theta0)
        low, high = DF_BOUNDS
        if fresh:
            probe = np.append(theta0[:-1], np.log(high))
            if objective.value_and_grad(probe)[1][-1] > 0.0:
                bounded = self._fit_at_bound(objective, theta0[:-1], high)
                if bounded is not None:
                    return bounded
        result = super()._run_solver(objective, theta0)
        df = self.model_.degrees_of_freedom(result.theta)
        if result.converged or low * 2.0 < df < high / 2.0:
            return result
        bounded = self._fit_at_bound(
            objective, result.theta[:-1], high if df >= high / 2.0 else low
        )
        if bounded is None:
            return result
        return dataclasses.replace(
            bounded,
            history=np.concatenate([result.history, bounded.history]),
            n_iter=result.n_iter + bounded.n_iter,
        )

    def _fit_at_bound(self, objective: LinearObjective, start, edge: float):
        """The maximum with :math:`\\nu` fixed at ``edge``, with a warning, where
        it is a maximum of the bounded problem (converged, and the likelihood
        still rising across the bound); None otherwise."""
        fixed = StudentTLogLikelihood(self.model_.n_features, self.fit_intercept, edge)
        bounded = LinearObjective(
            fixed, objective.rows, objective.name, moments=objective.moments
        )
        inner = super()._run_solver(bounded, start)
        theta = np.append(inner.theta, np.log(edge))
        sign = 1.0 if edge == DF_BOUNDS[1] else -1.0
        if not (inner.converged and sign * objective.value_and_grad(theta)[1][-1] > 0):
            return None
        warnings.warn(
            f"{type(self).__name__}: the likelihood increases towards "
            + (
                "df = infinity (the noise looks Gaussian; LinearGaussianRegressor "
                "fits it)"
                if sign > 0
                else "df = 0 (degenerate data: many residuals at zero)"
            )
            + f"; df_ is capped at {edge:g} and the other parameters maximise the "
            "likelihood there (df_se_ is NaN).",
            UserWarning,
            stacklevel=6,
        )
        return dataclasses.replace(
            inner,
            theta=theta,
            message=f"maximum on the bound df = {edge:g} ({inner.message})",
        )

    # -- inference -------------------------------------------------------------------
    def _df_estimated(self) -> bool:
        """Whether :math:`\\nu` was estimated inside :data:`DF_BOUNDS`."""
        return self.df is None and DF_BOUNDS[0] < self.df_ < DF_BOUNDS[1]

    def _information_model(self) -> tuple[StudentTLogLikelihood, np.ndarray]:
        """The model and parameters of the information: with :math:`\\nu` fixed
        where it was given or stopped at a bound."""
        if self.df is not None or self._df_estimated():
            return self.model_, self.theta_
        fixed = StudentTLogLikelihood(
            self.model_.n_features, self.fit_intercept, self.df_
        )
        return fixed, self.theta_[:-1]

    def _inference_blocks(self):
        blocks = super()._inference_blocks()
        j = self.model_.log_scale_index()
        blocks["scale"] = np.array([j])
        if self._df_estimated():
            blocks["df"] = np.array([j + 1])
        return blocks

    def _parameter_labels(self, name: str, size: int, feature_names=None) -> list[str]:
        if name in ("scale", "df"):
            return [name]
        return super()._parameter_labels(name, size, feature_names)

    def _wald_spec(self, objective: LinearObjective, result: OptimizeResult):
        """The observed information (exact Hessian) in ``theta``, reported as
        :math:`(w, b, s, \\nu)` by the delta method."""
        model, theta = self._information_model()
        j = model.log_scale_index()
        jacobian = np.ones(model.n_params)
        jacobian[j:] = np.exp(theta[j:])

        def information():
            hessian = objective.sum_batches(partial(model.hessian, theta))
            return Information.from_hessian(hessian)

        return WaldSpec(
            information,
            self._inference_blocks(),
            transform=np.diag(jacobian),
            singular_message=(
                f"{type(self).__name__}: the observed information is singular "
                "(collinear or constant columns, or fewer samples than parameters): "
                "standard errors are set to NaN."
            ),
        )

    def _score_rows(self, objective: LinearObjective, result: OptimizeResult):
        model, theta = self._information_model()
        return partial(model.scores, theta)


def _squared_residuals(batch, coef: np.ndarray, intercept: float) -> float:
    """:math:`\\sum_i w_i (y_i - x_i^\\top w - b)^2` of a batch (dense or sparse)."""
    residuals = batch.y - matvec(batch.X, coef) - intercept
    return float(batch.sample_weight @ residuals**2)
