"""``GaussianMLE``: the maximum likelihood Gaussian, by closed form or by ascent."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skmle._sklearn_compat import (
    Interval,
    StrOptions,
    check_sample_weight,
    validate_data,
)
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.estimators.density import LogDensityMixin
from skmle.models.base import Batch
from skmle.models.gaussian import (
    COVARIANCE_TYPES,
    GaussianLogLikelihood,
    Moments,
    covariance_from_theta,
    loglik_from_moments,
    pack,
    precision_cholesky,
)
from skmle.optim import OptimizeResult


class GaussianMLE(GradientAscentMixin, LogDensityMixin, BaseEstimator):
    """Multivariate Gaussian fitted by maximum likelihood.

    The model is :math:`x \\sim N(\\mu, \\Sigma)` with log-likelihood

    .. math:: \\ell(\\mu, \\Sigma) = -\\frac{W}{2}\\big(d\\log 2\\pi + \\log|\\Sigma|\\big)
       - \\frac12\\sum_i w_i (x_i - \\mu)^\\top \\Sigma^{-1} (x_i - \\mu),

    maximised by the weighted mean :math:`\\hat\\mu = \\sum_i w_i x_i / W` and the
    weighted covariance :math:`\\hat\\Sigma = \\sum_i w_i (x_i-\\hat\\mu)(x_i-\\hat\\mu)^\\top / W`
    (divided by the total weight :math:`W`, not :math:`W - 1`).

    Parameters
    ----------
    covariance_type : {"full", "diag", "spherical"}, default="full"
        ``"full"``: any covariance; ``"diag"``: independent features with their
        own variances; ``"spherical"``: one variance shared by all features.
    solver : {"closed_form", "gd", "lbfgs", "newton"}, default="closed_form"
        ``"closed_form"`` computes the weighted moments in one pass (Chan et al.'s
        stable merge when chunked). The gradient solvers maximise the
        log-likelihood over the mean and the log-diagonal Cholesky factor of the
        precision, so they cannot step into a negative variance; they start from
        the weighted mean and a spherical covariance.
    reg_covar : float, default=1e-6
        Added to the diagonal of the fitted covariance, as in scikit-learn's
        ``GaussianMixture``. It keeps the fit defined when the sample covariance is
        singular (a constant column, fewer samples than features). It is the
        maximiser of the log-likelihood plus the log-prior
        :math:`-\\frac{W}{2}\\,\\mathrm{reg}\\,\\mathrm{tr}(\\Sigma^{-1})`, so every solver
        reaches the same answer. Set it to 0 for the plain MLE; a singular
        covariance then raises ``ValueError``.
    learning_rate : float or "auto", default="auto"
        Step size of ``solver="gd"``; ``"auto"`` is an Armijo line search.
    max_iter : int, default=1000
        Iterations of the gradient solvers.
    tol : float, default=1e-6
        The gradient solvers stop when every component of the gradient of the
        mean log-likelihood is at most ``tol``.
    verbose : int, default=0
    warm_start : bool, default=False
        Start the gradient solvers from the previous fit.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    covariance_ : ndarray of shape (n_features, n_features), (n_features,) or float
        Full matrix, diagonal, or the shared variance, by ``covariance_type``.
    precision_cholesky_ : ndarray
        Lower Cholesky factor of the precision (its diagonal for diag/spherical).
    mean_se_ : ndarray of shape (n_features,)
        Standard errors :math:`\\sqrt{\\hat\\Sigma_{jj}/W}` of the mean.
    theta_ : ndarray
        The parameters as the model's flat vector (see
        :mod:`skmle.models.gaussian`).
    loglik_ : float
        Total weighted training log-likelihood.
    loglik_history_ : ndarray of shape (n_iter_ + 1,)
        Objective at the start and after each iteration (one entry for the closed
        form).
    n_iter_ : int
        Iterations run (0 for the closed form).
    converged_ : bool
    n_samples_seen_ : float
        Total sample weight seen (the number of rows without weights).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import GaussianMLE
    >>> X = np.array([[0.0, 1.0], [2.0, 1.0], [1.0, 4.0]])
    >>> model = GaussianMLE(reg_covar=0).fit(X)
    >>> model.mean_
    array([1., 2.])
    >>> model.covariance_.round(4)
    array([[0.6667, 0.    ],
           [0.    , 2.    ]])
    >>> model.mean_se_.round(4)
    array([0.4714, 0.8165])
    """

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "solver": [StrOptions({"closed_form", *GENERIC_SOLVERS})],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        covariance_type="full",
        solver="closed_form",
        reg_covar=1e-6,
        learning_rate="auto",
        max_iter=1000,
        tol=1e-6,
        verbose=0,
        warm_start=False,
    ):
        self.covariance_type = covariance_type
        self.solver = solver
        self.reg_covar = reg_covar
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start

    # -- fit -------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Fit the Gaussian to ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array chunked by rows (the moments or gradients are summed
            on the workers) or :func:`skmle.chunked` data such as a memmap (read
            one chunk at a time); the result equals the in-memory fit.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.

        Returns
        -------
        self : GaussianMLE
        """
        self._moments = None
        return self._fit(X, None, sample_weight)

    def _validate_fit_data(self, X, y):
        return validate_data(self, X, dtype=[np.float64, np.float32]), None

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the fit with more rows: exactly ``fit`` on all rows seen so far.

        The weighted mean and scatter are merged with Chan et al.'s update, which
        does not lose precision the way running sums of squares do. The result is
        the closed form whatever ``solver`` is.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMLE
        """
        first_call = getattr(self, "_moments", None) is None
        if first_call:
            self._validate_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=first_call)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        batch = Moments.from_data(X, sample_weight, self._moments_type())
        moments = batch if first_call else self._moments + batch
        self.model_ = GaussianLogLikelihood(
            X.shape[1], self.covariance_type, self.reg_covar
        )
        self._moments = moments
        self._store_result(
            self._closed_form_result(moments), _MomentsObjective(moments)
        )
        return self

    def _moments_type(self) -> str:
        return "full" if self.covariance_type == "full" else "diag"

    def _make_model(self, batch: Batch) -> GaussianLogLikelihood:
        return GaussianLogLikelihood(
            batch.X.shape[1], self.covariance_type, self.reg_covar
        )

    def _data_moments(self, objective) -> Moments:
        if getattr(self, "_moments", None) is None:
            ct = self._moments_type()
            self._moments = objective._sum(
                lambda b: Moments.from_data(b.X, b.sample_weight, ct)
            )
        return self._moments

    def _checked_covariance(self, moments: Moments):
        covariance = moments.covariance(self.covariance_type, self.reg_covar)
        try:
            precision_cholesky(covariance, self.covariance_type)
        except (np.linalg.LinAlgError, linalg.LinAlgError):
            raise ValueError(
                "The covariance of X is singular (a constant column, or fewer "
                "distinct samples than features), so the Gaussian MLE does not "
                f"exist. Set reg_covar > 0 (it is {self.reg_covar}) to regularise "
                "it, or remove the redundant columns."
            ) from None
        return covariance

    def _closed_form_result(self, moments: Moments) -> OptimizeResult:
        covariance = self._checked_covariance(moments)
        theta = pack(moments.mean, covariance, self.covariance_type)
        self._closed_form_loglik = loglik_from_moments(
            moments, moments.mean, covariance, self.covariance_type
        )
        value = self._closed_form_loglik
        if self.reg_covar > 0:
            value += self.model_.log_prior(theta, moments.weight)[0]
        return OptimizeResult(
            theta=theta,
            value=value / moments.weight,
            history=np.array([value / moments.weight]),
            n_iter=0,
            converged=True,
            message="closed form",
        )

    def _solve_closed_form(self, objective, theta0) -> OptimizeResult:
        return self._closed_form_result(self._data_moments(objective))

    def _initial_theta(self, objective) -> np.ndarray:
        moments = self._data_moments(objective)
        self._checked_covariance(moments)
        scatter = moments.scatter
        diagonal = np.diag(scatter) if scatter.ndim == 2 else scatter
        variance = float(np.mean(diagonal) / moments.weight) + self.reg_covar
        d = moments.mean.shape[0]
        start = {
            "full": np.eye(d) * variance,
            "diag": np.full(d, variance),
            "spherical": variance,
        }[self.covariance_type]
        return pack(moments.mean, start, self.covariance_type)

    def _training_loglik(self, result, objective) -> float:
        if result.message == "closed form":
            return self._closed_form_loglik
        return super()._training_loglik(result, objective)

    def _set_theta(self, theta) -> None:
        d = self.model_.n_features
        self.mean_ = theta[:d].copy()
        self.covariance_ = covariance_from_theta(theta, d, self.covariance_type)
        self.precision_cholesky_ = precision_cholesky(
            self.covariance_, self.covariance_type
        )

    # -- inference -------------------------------------------------------------------
    def _inference_blocks(self):
        return {"mean": np.arange(self.model_.n_features)}

    def _standard_errors(self, objective):
        variances = (
            np.diag(self.covariance_)
            if self.covariance_type == "full"
            else np.broadcast_to(self.covariance_, self.mean_.shape)
        )
        return {"mean": np.sqrt(variances / objective.total_weight)}

    # -- density ---------------------------------------------------------------------
    def _validate_for_scoring(self, X):
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def sample(self, n_samples=1, random_state=None):
        """Draw rows from the fitted Gaussian.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        if not (isinstance(n_samples, int | np.integer) and n_samples >= 1):
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        rng = check_random_state(random_state)
        noise = rng.standard_normal((n_samples, self.mean_.shape[0]))
        if self.covariance_type == "full":
            return self.mean_ + noise @ linalg.cholesky(self.covariance_, lower=True).T
        return self.mean_ + noise * np.sqrt(self.covariance_)


class _MomentsObjective:
    """The little an objective must say for a fit from merged moments."""

    def __init__(self, moments: Moments):
        self.total_weight = moments.weight
