"""Linear regression with Gaussian noise by maximum likelihood: least squares.

The exact solver is least squares by Cholesky of the centred normal equations,
Householder QR when Cholesky is unreliable (:mod:`skmle.estimators.least_squares`);
``partial_fit`` merges the moments of batches of rows. The log-likelihood and its
profile in the scale come from the model,
:class:`~skmle.models.linear_gaussian.LinearGaussianLogLikelihood`.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy import stats

from skmle._blas import single_blas_thread
from skmle._sklearn_compat import (
    StrOptions,
    check_sample_weight,
    validate_data,
    validating_chunk,
)
from skmle.data import Batch
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.estimators.least_squares import least_squares
from skmle.estimators.linear_fit import LinearObjective
from skmle.estimators.linear_gaussian_inference import ExactInferenceMixin
from skmle.estimators.linear_regressor import LinearRegressorBase, solver_constraint
from skmle.inference import COV_TYPES
from skmle.models.linear import LinearMoments
from skmle.models.linear_gaussian import LinearGaussianLogLikelihood
from skmle.optim import OptimizeResult, Status
from skmle.optim.result import Learned


class LinearGaussianRegressor(ExactInferenceMixin, LinearRegressorBase):
    """Linear regression with Gaussian noise, fitted by maximum likelihood.

    The model is :math:`y = x^\\top w + b + e`, :math:`e \\sim N(0, \\sigma^2)`, with
    log-likelihood

    .. math:: \\ell(w, b, \\sigma) = -\\frac{W}{2}\\log(2\\pi\\sigma^2)
       - \\frac{1}{2\\sigma^2}\\sum_i w_i (y_i - x_i^\\top w - b)^2 .

    Its maximiser is the weighted least-squares fit and
    :math:`\\hat\\sigma^2 = \\mathrm{RSS}/W` (divided by the total weight, not by
    :math:`W - p`).

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit :math:`b`; otherwise :math:`b = 0`.
    solver : {"closed_form", "gd", "lbfgs", "newton"}, default="closed_form"
        ``"closed_form"`` centres ``X`` and ``y`` by their weighted means, forms the
        normal equations :math:`G w = c` block by block (a symmetric rank-k BLAS
        update, without copying ``X``) and solves them by Cholesky after scaling
        :math:`G` to unit diagonal. When :math:`G` is singular (a constant or
        collinear column, fewer samples than features) or ill-conditioned (its
        estimated reciprocal condition number, LAPACK ``dpocon``, below
        :math:`\\sqrt{\\epsilon} \\approx 1.5 \\times 10^{-8}`, that is
        :math:`\\kappa(X) \\gtrsim 10^4` after centring and scaling, where
        Cholesky would keep fewer than 8 digits), the centred, unit-norm rows are
        reduced by Householder QR instead (block by block; two more passes over
        chunked or Dask data), with one corrected semi-normal step summed in
        extended precision (:mod:`skmle.models.qr_least_squares`). The rank is
        decided there: a diagonal entry of the pivoted triangular factor below
        :math:`10^{-13}` times the largest means a column is a combination of the
        others, and only then is the minimum-norm solution returned. NIST's
        Filip, with condition number :math:`4 \\times 10^9`, comes out to 7.6
        correct digits. The gradient solvers maximise over
        ``[coef, intercept, log sigma]`` from :math:`w = 0`, :math:`b = \\bar y`,
        :math:`\\sigma` the weighted standard deviation of ``y``, and reach the same
        maximum (to ``tol``); they need more samples than parameters.
    learning_rate : float or "auto", default="auto"
        Step size of ``solver="gd"``; ``"auto"`` is an Armijo line search.
    max_iter : int, default=1000
        Iterations of the gradient solvers.
    tol : float, default=1e-8
        The gradient solvers stop when every component of the gradient of the
        mean log-likelihood is at most ``tol``.
    verbose : int, default=0
    warm_start : bool, default=False
        Start the gradient solvers from the previous fit.
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The covariance of the estimates (statsmodels' ``cov_type``):
        ``"nonrobust"`` is the inverse observed information
        :math:`\\hat\\sigma^2 (X_1^\\top W X_1)^{-1}`; the others are the
        sandwich :math:`(X_1^\\top W X_1)^{-1} M (X_1^\\top W X_1)^{-1}` with
        :math:`M = \\sum_i w_i r_i^2 x_{1i} x_{1i}^\\top` (``"HC0"``), times
        :math:`n/(n-p)` (``"HC1"``), or the residuals summed within the
        ``groups`` given to :meth:`fit` (``"cluster"``, with statsmodels'
        correction); see :mod:`skmle.inference.sandwich`. They do not depend on
        :math:`\\hat\\sigma` and equal statsmodels' ``OLS`` ``bse`` for the same
        ``cov_type`` (weights are frequency weights: a weight of 2 is a
        duplicated row). ``partial_fit`` keeps only moments, so it needs
        ``"nonrobust"``.
    inference : {"asymptotic", "exact"}, default="asymptotic"
        The inference of ``params_cov_``, ``coef_se_``, ``summary()`` and
        ``predict_interval(kind="mean" | "observation")``. ``"asymptotic"`` is the
        likelihood's: the MLE :math:`\\hat\\sigma^2 = \\mathrm{RSS}/W` in the
        inverse information and normal (z) tests and intervals, as for every
        skmle estimator. ``"exact"`` is the exact small-sample inference of the
        Gaussian linear model: the unbiased
        :math:`s^2 = \\mathrm{RSS}/(W - p)` (:math:`p` the coefficients, the
        intercept counted) and Student's t with :math:`W - p` degrees of
        freedom, which is what statsmodels' ``OLS().fit()`` and R's ``lm``
        report by default (their ``bse``, ``tvalues``, ``pvalues``,
        ``conf_int()``). A choice of inference, not of estimate: ``coef_``,
        ``sigma2_`` (the MLE) and ``loglik_`` do not change. With a sandwich
        ``cov_type`` the covariance does not involve the scale and has no exact
        distribution; ``"exact"`` then changes nothing, and the tests stay
        normal, as statsmodels' ``OLS.fit(cov_type="HC1")`` (whose ``use_t``
        is False unless asked). The weights are frequency weights here too:
        :math:`W = \\sum_i w_i`, so integer weights equal repeated rows
        (statsmodels' ``OLS`` on the repeated rows, or ``GLM`` with
        ``freq_weights`` and ``use_t=True``); statsmodels' ``WLS`` reads
        weights as precisions, invariant to their scale, and equals this when
        the weights are rescaled to sum to the number of rows.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        0.0 when ``fit_intercept=False``.
    sigma2_ : float
        Noise variance :math:`\\hat\\sigma^2 = \\sum_i w_i r_i^2 / W`. When the fit
        passes through every sample (no more distinct samples than parameters, or
        a constant ``y``) the likelihood is unbounded as :math:`\\sigma \\to 0`;
        when :math:`\\hat\\sigma` is below :math:`\\sqrt{\\epsilon}` times the
        weighted standard deviation of ``y`` (:math:`1 - R^2 < \\epsilon`:
        residuals zero to rounding) a warning is issued and :math:`\\sigma` is
        floored there (see :func:`~skmle.estimators.linear_fit.scale_floor`; a shift of ``y`` does not move
        the floor).
    coef_se_ : ndarray of shape (n_features,)
        Standard errors from ``params_cov_``; with the default ``cov_type``
        and ``inference`` the inverse observed information,
        :math:`\\hat\\sigma^2 (X_1^\\top W X_1)^{-1}` with :math:`X_1 = [X, 1]` and the
        MLE :math:`\\hat\\sigma^2`. They are smaller than statsmodels' OLS ``bse`` by
        the factor :math:`\\sqrt{(n-p)/n}`; with ``inference="exact"`` they
        are statsmodels' ``bse``. NaN, with a warning, when
        :math:`X_1^\\top W X_1` is singular (or, with ``"exact"``, when
        :math:`W \\le p`).
    intercept_se_ : float
        Defined when ``fit_intercept=True``.
    params_cov_ : ndarray of shape (n_features + 1, n_features + 1)
        The covariance of ``[coef, intercept]`` (``coef`` alone without an
        intercept), of ``cov_type`` (statsmodels' ``cov_params()``).
    df_resid_ : float
        The residual degrees of freedom :math:`W - p` (statsmodels'
        ``df_resid``), :math:`p` = n_features + fit_intercept.
    theta_ : ndarray of shape (n_params,)
        ``[coef, intercept, log sigma]`` (see :mod:`skmle.models.linear`).
    loglik_ : float
        Total weighted training log-likelihood (statsmodels' ``llf``).
    aic_, bic_ : float
        AIC and BIC of the training data (``aic(X, y)``, ``bic(X, y)``), with
        :math:`k` = n_features + 2 (the intercept and the scale counted).
    loglik_history_ : ndarray of shape (n_iter_ + 1,)
        Log-likelihood at the start of the gradient solvers (:math:`w = 0`) and
        after each iteration; for the closed form, at that start and at the
        solution.
    n_iter_ : int
        Iterations run (1 for the closed form).
    converged_ : bool
    solver_route_ : str
        For the closed form, ``"Cholesky"``, ``"Householder QR"``, ``"QR (rank k
        of d, minimum norm)"`` or, for ``partial_fit`` (which keeps only the
        moments), ``"eigendecomposition of X^T W X (minimum norm)"``.
    n_samples_seen_ : float
        Total sample weight.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import LinearGaussianRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([1.0, 3.0, 5.0, 8.0])
    >>> model = LinearGaussianRegressor().fit(X, y)
    >>> model.coef_, round(model.intercept_, 10), round(model.sigma2_, 10)
    (array([2.3]), 0.8, 0.075)
    >>> model.predict([[4.0]])
    array([10.])
    """

    _model_class = LinearGaussianLogLikelihood
    _distribution = staticmethod(stats.norm)
    _own_solvers = ("closed_form",)
    _generic_solvers = GENERIC_SOLVERS

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "solver": solver_constraint(_own_solvers, _generic_solvers),
        "cov_type": [StrOptions(set(COV_TYPES))],
        "inference": [StrOptions({"asymptotic", "exact"})],
    }

    def __init__(
        self,
        fit_intercept=True,
        solver="closed_form",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-8,
        verbose=0,
        warm_start=False,
        cov_type="nonrobust",
        inference="asymptotic",
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.cov_type = cov_type
        self.inference = inference

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the model by maximum likelihood (see
        :meth:`LinearRegressorBase.fit <skmle.estimators.linear_regressor.LinearRegressorBase.fit>`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array chunked by rows or :func:`skmle.chunked` data.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.
        groups : array-like of shape (n_samples,), default=None
            The cluster of each sample, for ``cov_type="cluster"`` (required
            then, refused otherwise); in memory. Routed as fit metadata
            (``set_fit_request(groups=True)``) in a pipeline.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For invalid input, data out of the double range (see the base
            class), or ``groups`` that do not fit ``cov_type``.
        """
        return self._fit_regression(X, y, sample_weight, groups)

    def _set_scale(self, scale: float) -> None:
        self.sigma2_ = scale**2

    def _dist_scale(self) -> float:
        return float(np.sqrt(self.sigma2_))

    def _initial_theta(self, objective: LinearObjective) -> np.ndarray:
        stats_ = objective.stats
        scale = max(float(np.sqrt(stats_.y_var)), stats_.scale_floor)
        return self.model_.pack(
            np.zeros(self.model_.n_features), stats_.y_mean, np.log(scale)
        )

    def partial_fit(self, X, y, sample_weight=None):
        """Update the fit with more rows: exactly ``fit`` on all rows seen so far.

        The weighted means and centred cross-products of ``X`` and ``y``
        (:class:`~skmle.models.linear.LinearMoments`) are merged with Chan et
        al.'s update, which does not lose precision the way running sums of
        squares do, and the closed form is solved from them whatever ``solver``
        is. A call after ``fit`` continues from the rows ``fit`` saw. The
        residual sum of squares comes from the moments,
        :math:`s - 2 c^\\top w + w^\\top G w`, which keeps about
        :math:`\\epsilon\\, \\mathrm{var}(y) / \\hat\\sigma^2` relative precision.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            A batch may weigh nothing; the total over all calls must not.

        Returns
        -------
        self : LinearGaussianRegressor

        Examples
        --------
        >>> import numpy as np
        >>> from skmle import LinearGaussianRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 2))
        >>> y = X @ [1.0, -2.0] + 0.5 + rng.normal(size=300)
        >>> stream = LinearGaussianRegressor()
        >>> for rows in np.array_split(np.arange(300), 3):
        ...     stream = stream.partial_fit(X[rows], y[rows])
        >>> whole = LinearGaussianRegressor().fit(X, y)
        >>> bool(np.allclose(stream.coef_, whole.coef_, rtol=1e-12))
        True
        """
        first_call = getattr(self, "_moments", None) is None
        if first_call:
            self._validate_params()
        if self.cov_type != "nonrobust":
            raise ValueError(
                f"partial_fit keeps only the moments of the rows, which give no "
                f"per-row scores: cov_type={self.cov_type!r} needs fit on all the "
                'rows (or cov_type="nonrobust").'
            )
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            y_numeric=True,
            multi_output=False,
            reset=first_call,
        )
        y = np.asarray(y, dtype=np.float64)
        with validating_chunk():
            sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        if not np.sum(sample_weight) > 0:
            # Every batch, not only the first: scikit-learn's convention (and
            # GaussianMLE's and LogisticGD's).
            raise ValueError(
                "The sample weights of this batch sum to zero: at least one sample "
                "needs a positive weight."
            )
        with single_blas_thread():
            moments = LinearMoments.from_batch(Batch(X, y, sample_weight))
            if not first_call:
                moments = self._moments + moments
            if not moments.weight > 0:
                raise ValueError(
                    "The sample weights sum to zero: at least one sample needs a "
                    "positive weight."
                )
            self.model_ = LinearGaussianLogLikelihood(X.shape[1], self.fit_intercept)
            objective = LinearObjective(
                self.model_, None, type(self).__name__, moments=moments
            )
            self._store_result(self._solve_closed_form(objective, None), objective)
        return self

    def _store_result(self, result: OptimizeResult, objective: LinearObjective) -> None:
        super()._store_result(result, objective)
        route = result.learned.extras.get("route")
        if route is not None:
            self.solver_route_ = route

    def _solve_closed_form(self, objective: LinearObjective, theta0) -> OptimizeResult:
        fit = least_squares(objective)
        coef, intercept = fit.coef, fit.intercept
        model = self.model_
        stats_ = objective.stats
        if objective.from_moments:
            rss = (
                stats_.square
                - 2.0 * float(stats_.cross @ coef)
                + float(coef @ stats_.gram @ coef)
            )
            # Known only to about (n_features + 1) eps times s: below that, the fit
            # interpolates as far as the moments can tell.
            noise = 8.0 * (coef.shape[0] + 1) * np.finfo(float).eps * stats_.square
            rss = rss if rss > noise else 0.0
        else:
            rss = objective.sum_batches(partial(model.residual_sum, coef, intercept))
        total = objective.total_weight
        sigma = objective.floored_scale(model.scale_from(rss / total))
        value = model.mean_loglik(rss / total, sigma)
        # The start of the gradient solvers (w = 0, b = mean of y) has residual
        # variance var(y): its log-likelihood needs no pass over X.
        start = self._initial_theta(objective)
        start_value = model.mean_loglik(stats_.y_var, float(np.exp(start[-1])))
        return OptimizeResult(
            theta=model.pack(coef, intercept, np.log(sigma)),
            value=value,
            history=np.array([start_value, value]),
            n_iter=1,
            converged=True,
            message=f"closed form ({fit.route})",
            status=Status.CLOSED_FORM,
            learned=Learned(extras={"gram_factor": fit.factor, "route": fit.route}),
        )
