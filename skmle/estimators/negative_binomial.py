"""``NegativeBinomialRegressor``: NB2 regression, the dispersion estimated jointly
with the coefficients by maximum likelihood."""

from __future__ import annotations

import dataclasses
import warnings
from functools import partial

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin

from skmle._sklearn_compat import StrOptions
from skmle.data import Batch
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.estimators.count_base import (
    CountRegressorMixin,
    newton_center,
    poisson_newton_objective,
    poisson_start,
)
from skmle.inference import COV_TYPES, Information, WaldSpec
from skmle.models.negative_binomial import NegativeBinomialLogLikelihood
from skmle.models.objective import Objective
from skmle.optim import newton

POISSON_LIMIT = 1e-6
"""A fit whose extra variance :math:`\\alpha \\sum_i w_i \\mu_i^2` is below this
fraction of the Poisson variance :math:`\\sum_i w_i \\mu_i` has gone to the
Poisson limit."""
MIN_START_ALPHA = 1e-2
"""The smallest dispersion a fit starts from (the moment estimate can be 0 or
negative on underdispersed data)."""


class NegativeBinomialRegressor(
    CountRegressorMixin, GradientAscentMixin, RegressorMixin, BaseEstimator
):
    """Negative binomial (NB2) regression fitted by maximum likelihood.

    .. math:: y_i \\sim \\mathrm{NB}(\\mu_i, \\alpha), \\quad
       \\log\\mu_i = x_i^\\top w + b + o_i, \\quad
       \\mathrm{Var}(y_i) = \\mu_i + \\alpha\\mu_i^2,

    with the log-likelihood, gradient and information of
    :mod:`skmle.models.negative_binomial`, in :math:`(w, b, \\log\\alpha)`:
    the dispersion :math:`\\alpha` is estimated jointly with the coefficients
    (statsmodels' ``NegativeBinomial(loglike_method="nb2")``).

    **Solvers.** Every solver starts from the Poisson maximum (Newton on the
    linear predictor, a few passes) and the moment estimate
    :math:`\\alpha_0 = \\sum_i s_i [(y_i - \\mu_i)^2 - \\mu_i] / \\sum_i s_i
    \\mu_i^2`. ``"newton"`` (the default) is then Newton's method with the
    exact Hessian, ``"lbfgs"`` and ``"gd"`` the other generic solvers, all in
    standardised, whitened coordinates (so that a shifted or rescaled column
    changes nothing); the standard errors use the information in centred
    coordinates where a column's mean is large against its spread.

    Parameters
    ----------
    fit_intercept : bool, default=True
    solver : {"newton", "lbfgs", "gd"}, default="newton"
    learning_rate : float or "auto", default="auto"
    max_iter : int, default=100
    tol : float, default=1e-8
        Stop when every whitened gradient component of the mean log-likelihood
        (after standardising the columns) is at most ``tol``.
    verbose : int, default=0
    warm_start : bool, default=False
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    alpha_ : float
        The dispersion :math:`\\alpha` (0 is the Poisson limit).
    coef_se_, intercept_se_, alpha_se_
        Standard errors of ``cov_type``; ``alpha_se_`` by the delta method from
        :math:`\\log\\alpha` (exact at the maximum: the information transforms
        with the parameters).
    params_cov_ : ndarray of shape (n_params, n_params)
        In the order coefficients, intercept, ``alpha``.
    theta_ : ndarray
        ``[coef_, intercept_, log(alpha_)]``.
    loglik_, deviance_, aic_, bic_ : float
        ``deviance_`` with :math:`\\alpha` held at ``alpha_``.
    loglik_history_ : ndarray
    n_iter_ : int
    converged_ : bool
    n_samples_seen_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import NegativeBinomialRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 1))
    >>> y = rng.negative_binomial(2, 2 / (2 + np.exp(1 + 0.5 * X[:, 0])))
    >>> model = NegativeBinomialRegressor().fit(X, y)
    >>> model.coef_.round(2), round(model.alpha_, 2)
    (array([0.53]), 0.45)
    """

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"newton", *GENERIC_SOLVERS})],
        "cov_type": [StrOptions(set(COV_TYPES))],
    }

    _log_coordinate_blocks = ("alpha",)
    """Held in ``theta_`` as its logarithm (profiled there)."""

    def __init__(
        self,
        fit_intercept=True,
        solver="newton",
        learning_rate="auto",
        max_iter=100,
        tol=1e-8,
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

    def _make_model(self, batch: Batch) -> NegativeBinomialLogLikelihood:
        return NegativeBinomialLogLikelihood(batch.X.shape[1], self.fit_intercept)

    def _initial_theta(self, objective) -> np.ndarray:
        """The Poisson maximum and the moment estimate of :math:`\\alpha`."""
        start = poisson_newton_objective(
            objective.rows, self.model_.n_features, self.fit_intercept
        )
        poisson = start.model
        centred = newton(start, poisson_start(start, poisson), max_iter=50).theta

        def moments(b):
            mu = np.exp(poisson.eta(centred, b))
            w = b.sample_weight
            return np.array([w @ ((b.y - mu) ** 2 - mu), w @ mu**2])

        excess, squares = objective.sum_batches(moments)
        alpha = max(excess / squares, MIN_START_ALPHA) if squares > 0 else 1.0
        return np.append(poisson.uncentre(centred), np.log(alpha))

    def _store_result(self, result, objective) -> None:
        """Store the fit, and warn where :math:`\\hat\\alpha` has gone to its
        boundary 0 (:data:`POISSON_LIMIT`): on equi- or underdispersed counts
        the likelihood rises as :math:`\\alpha \\to 0`, the maximum is the
        Poisson regression's, and the Wald test of :math:`\\alpha` does not
        apply there."""
        super()._store_result(result, objective)
        model, theta = self.model_, self.theta_

        def variances(b):  # weighted sums of the Poisson variance and mu^2
            with np.errstate(over="ignore"):
                mu = np.exp(model.eta(theta, b))
            return np.array([b.sample_weight @ mu, b.sample_weight @ mu**2])

        poisson, squares = objective.sum_batches(variances)
        if not self.alpha_ * squares < POISSON_LIMIT * poisson:
            return
        warnings.warn(
            f"{type(self).__name__}: the dispersion's estimate is at its lower "
            f"bound 0 (alpha_ = {self.alpha_:.3g}): the counts show no "
            "overdispersion, and the fit is the Poisson regression "
            "(PoissonMLERegressor gives the same coefficients and standard "
            "errors). alpha_'s Wald test and interval do not apply on the "
            "boundary; a likelihood-ratio test of alpha = 0 against the Poisson "
            "fit has the 50:50 mixture of chi2(0) and chi2(1) as its null "
            "distribution.",
            UserWarning,
            stacklevel=4,
        )

    def _set_theta(self, theta) -> None:
        coef, intercept = self.model_.split(theta)
        self.coef_ = np.array(coef)
        self.intercept_ = float(intercept)
        self.alpha_ = float(np.exp(theta[-1]))

    def _inference_blocks(self) -> dict[str, np.ndarray]:
        d = self.model_.n_features
        blocks = {"coef": np.arange(d)}
        if self.fit_intercept:
            blocks["intercept"] = np.array([d])
        blocks["alpha"] = np.array([self.model_.n_params - 1])
        return blocks

    def _centred(self, objective):
        """The model in centred coordinates and ``theta_`` in them (see
        :func:`~skmle.estimators.count_base.newton_center`), or None."""
        center = newton_center(objective.rows, self.fit_intercept)
        if center is None:
            return None
        model = NegativeBinomialLogLikelihood(self.model_.n_features, True, center)
        return model, model.centre(self.theta_)

    def _wald_spec(self, objective, result) -> WaldSpec | None:
        """The information in ``theta`` (centred where a column needs it),
        reported for :math:`\\alpha`: :math:`J = \\mathrm{diag}(1, \\dots, 1,
        \\alpha)` after the map back from centred coordinates."""
        spec = super()._wald_spec(objective, result)
        if spec is None or spec.information is None:
            return spec
        centred, alpha = self._centred(objective), self.alpha_

        def transform(columns):
            columns = np.array(columns, dtype=float)
            if centred is not None:
                columns = centred[0].reported_columns(columns)
            columns[-1] *= alpha
            return columns

        if centred is None:
            return dataclasses.replace(spec, transform=transform)
        model, phi = centred
        rows, total = objective.rows, objective.total_weight
        return dataclasses.replace(
            spec,
            information=lambda: Information.from_hessian(
                Objective(model, rows).hessian(phi) * total
            ),
            transform=transform,
        )

    def _score_rows(self, objective, result):
        centred = self._centred(objective)
        if centred is None:
            return super()._score_rows(objective, result)
        return partial(centred[0].scores, centred[1])

    def predict_dist(self, X, offset=None):
        """The fitted distribution of each row's count, a frozen
        ``scipy.stats.nbinom`` with :math:`n = 1/\\alpha` and :math:`p = 1/(1 +
        \\alpha\\mu)`."""
        mu = self.predict(X, offset)
        return stats.nbinom(1.0 / self.alpha_, 1.0 / (1.0 + self.alpha_ * mu))
