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
from skmle.estimators.gaussian_closed_form import GaussianObjective, covariance_fit
from skmle.estimators.gaussian_inference import GaussianInferenceMixin
from skmle.inference import COV_TYPES
from skmle.models.base import Batch
from skmle.models.gaussian import (
    COVARIANCE_TYPES,
    GaussianLogLikelihood,
)
from skmle.models.gaussian_moments import Moments
from skmle.optim import OptimizeResult


class GaussianMLE(
    GaussianInferenceMixin, GradientAscentMixin, LogDensityMixin, BaseEstimator
):
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
        the weighted mean and the diagonal of the (regularised) covariance, so
        that each feature starts at its own scale.
    reg_covar : float, default=0.0
        A variance added to the diagonal of the fitted covariance. It is the
        maximiser of the log-likelihood plus the log-prior
        :math:`-\\frac{W}{2}\\,\\mathrm{reg}\\,\\mathrm{tr}(\\Sigma^{-1})`, so every
        solver reaches the same answer, a maximum a posteriori estimate.

        With the default 0 the fit is the exact MLE (the weighted moments)
        whenever the sample covariance is positive definite. When it is
        numerically singular (a constant feature, a feature that is a linear
        combination of others up to rounding error, or fewer distinct samples
        than features), the MLE does not exist: a ``UserWarning`` says so, and
        the smallest regularisation relative to the data's scale is added,
        :math:`\\tau\\,\\hat\\sigma^2_j` to each variance (the mean variance for a
        constant feature; for ``"diag"``, to the constant features only), with
        :math:`\\tau` from about :math:`10^{-12} d` up, tenfold, until the
        covariance factors. "Numerically singular" means that a squared
        Cholesky pivot of the correlation matrix is below
        :math:`64\\,d\\,\\epsilon`. If every sample with a positive weight is the same
        point, there is no scale, and the fit raises ``ValueError``.

        A positive value is used as given (in the units of ``X``), as in
        scikit-learn's ``GaussianMixture``; if the covariance is still singular
        the fit raises ``ValueError``.
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
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The covariance of the estimates (statsmodels' ``cov_type``).
        ``"nonrobust"``: the inverse information, in closed form,
        :math:`\\hat\\Sigma/W` for the mean and
        :math:`(\\hat\\sigma_{ik}\\hat\\sigma_{jl} + \\hat\\sigma_{il}\\hat\\sigma_{jk})/W`
        for the covariance entries, right when the data are Gaussian. The
        sandwiches (``"HC0"``, ``"HC1"`` with the factor :math:`n/(n-p)`, or
        ``"cluster"`` over the ``groups`` given to :meth:`fit`) stay valid when
        they are not: the standard errors of the variances then depend on the
        fourth moments, which the closed form takes to be Gaussian (see
        :mod:`skmle.models.gaussian_information`). The sandwich sums
        :math:`p^2` products per row, :math:`p = d + d(d+1)/2` for ``"full"``.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    covariance_ : ndarray of shape (n_features, n_features), (n_features,) or float
        Full matrix, diagonal, or the shared variance, by ``covariance_type``.
    precision_cholesky_ : ndarray or float
        Lower Cholesky factor of the precision (its diagonal for diag, a float for
        spherical).
    mean_se_ : ndarray of shape (n_features,)
        Standard errors of the mean, :math:`\\sqrt{\\hat\\Sigma_{jj}/W}` by default.
    covariance_se_ : ndarray or float
        Standard errors of the entries of ``covariance_``, of its shape (a
        symmetric matrix for ``"full"``); by default
        :math:`\\sqrt{(\\hat\\sigma_{ii}\\hat\\sigma_{jj} + \\hat\\sigma_{ij}^2)/W}`,
        :math:`\\sqrt{2/W}\\,\\hat\\sigma_{jj}` on the diagonal.
    params_cov_ : ndarray
        The covariance of the reported estimates, in the order of
        :meth:`param_names`: the mean, then the covariance entries (the lower
        triangle row by row for ``"full"``), of ``cov_type``.
    theta_ : ndarray
        The parameters as the model's flat vector (see
        :mod:`skmle.models.gaussian`).
    loglik_ : float
        Total weighted training log-likelihood.
    loglik_history_ : ndarray of shape (n_iter_ + 1,)
        The maximised objective (the total log-likelihood, plus the log-prior of
        the regularisation when there is one) at the gradient solvers' start
        and after each iteration; for the closed form, at that start and at the
        maximum.
    n_iter_ : int
        Iterations run (1 for the closed form, as for the regressors).
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
    >>> model = GaussianMLE().fit(X)
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
        "cov_type": [StrOptions(set(COV_TYPES))],
    }

    def __init__(
        self,
        covariance_type="full",
        solver="closed_form",
        reg_covar=0.0,
        learning_rate="auto",
        max_iter=1000,
        tol=1e-6,
        verbose=0,
        warm_start=False,
        cov_type="nonrobust",
    ):
        self.covariance_type = covariance_type
        self.solver = solver
        self.reg_covar = reg_covar
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.cov_type = cov_type

    # -- fit -------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None, groups=None):
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
            Non-negative weights; a weight of 2 counts a row twice. Rows of zero
            weight are ignored; all-zero weights raise ``ValueError``.
        groups : array-like of shape (n_samples,), default=None
            The cluster of each sample, for ``cov_type="cluster"`` (required
            then, refused otherwise); route it as metadata
            (``set_fit_request(groups=True)``) in a pipeline.

        Returns
        -------
        self : GaussianMLE
        """
        self._moments = None  # the statistics partial_fit keeps between calls
        return self._fit(X, None, sample_weight, groups)

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
            As in :meth:`fit`. A batch whose weights are all zero raises
            ``ValueError`` (scikit-learn's rule for sample weights), on the first
            call and on later ones alike.

        Returns
        -------
        self : GaussianMLE

        Raises
        ------
        ValueError
            If ``covariance_type`` changed between calls from or to ``"full"``:
            the statistics kept so far (a full scatter matrix, or only its
            diagonal) cannot serve the new type. Call :meth:`fit`, or start again
            from a fresh (cloned) estimator.
        """
        first_call = getattr(self, "_moments", None) is None
        if first_call:
            self._validate_params()
        if self.cov_type != "nonrobust":
            raise ValueError(
                "partial_fit keeps the moments, not the rows that the sandwich's "
                f"per-row terms need: cov_type={self.cov_type!r} needs fit on all "
                'the rows (or cov_type="nonrobust").'
            )
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=first_call)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        kind = self._moments_type()
        if not first_call and self._moments.scatter.ndim != (
            2 if kind == "full" else 1
        ):
            raise ValueError(
                f"covariance_type changed to {self.covariance_type!r} between "
                "partial_fit calls, but the statistics kept so far are for "
                f"covariance_type={self.model_.covariance_type!r} (a "
                f"{'full' if self._moments.scatter.ndim == 2 else 'diagonal'} "
                "scatter). Call fit, or partial_fit on a fresh estimator "
                "(sklearn.base.clone)."
            )
        batch = Moments.from_data(X, sample_weight, kind)
        moments = batch if first_call else self._moments + batch
        model = self._make_model(Batch(X, None, sample_weight))
        objective = self._moments_objective(model, None, moments, stacklevel=4)
        self._moments = moments
        self._store_result(objective.closed_form_result(), objective)
        return self

    def _moments_type(self) -> str:
        return "full" if self.covariance_type == "full" else "diag"

    def _make_model(self, batch: Batch) -> GaussianLogLikelihood:
        return GaussianLogLikelihood(batch.X.shape[1], self.covariance_type)

    def _objective_for_data(self, X, y=None, sample_weight=None, **sides):
        objective = super()._objective_for_data(X, y, sample_weight, **sides)
        ct = self._moments_type()
        # one pass, which also checks every chunk and sums the weight
        moments = objective.sum_batches(
            lambda b: Moments.from_data(b.X, b.sample_weight, ct)
        )
        return self._moments_objective(
            objective.model, objective.rows, moments, stacklevel=4
        )

    def _moments_objective(self, model, rows, moments: Moments, stacklevel: int):
        """The objective of a fit to ``moments``, and ``model_`` with the
        regularisation it needs (``reg_covar``, or the smallest one that makes a
        singular covariance positive definite): a log-prior of the model, so that
        every solver maximises the same function."""
        fit = covariance_fit(
            moments, self.covariance_type, self.reg_covar, stacklevel=stacklevel
        )
        self.model_ = model.with_reg_covar(fit.reg)
        return GaussianObjective(self.model_, rows, moments, fit)

    def _solve_closed_form(self, objective, theta0) -> OptimizeResult:
        return objective.closed_form_result()

    def _initial_theta(self, objective) -> np.ndarray:
        """The weighted mean and the diagonal of the (regularised) covariance.

        Both come from the weighted moments, so a weight of 2 starts where a
        duplicated row does, and every feature starts at its own scale: a
        gradient step means the same for a feature measured in 1e-6 or 1e6.
        """
        return objective.start_theta()

    def _training_loglik(self, result, objective) -> float:
        if result.learned.loglik is not None:
            return result.learned.loglik
        return super()._training_loglik(result, objective)

    def _set_theta(self, theta) -> None:
        # The covariance and its factor follow in _store_result, from the result.
        self.mean_ = theta[: self.model_.n_features].copy()

    def _store_result(self, result: OptimizeResult, objective) -> None:
        super()._store_result(result, objective)
        covariance, factor = self._fitted_covariance(result)
        self.covariance_ = covariance
        self.precision_cholesky_ = (
            float(factor[0]) if self.covariance_type == "spherical" else factor
        )

    def _is_map(self) -> bool:
        """Whether the fit maximised a posterior: some regularisation was added."""
        check_is_fitted(self)
        return bool(self.model_.has_prior)

    def summary(self, alpha: float = 0.05, feature_names=None):
        """Table of the mean and the covariance entries (each variance and, for
        ``"full"``, each covariance below the diagonal) with standard errors,
        z, p-values and intervals.

        Titled "maximum a posteriori estimates" when the covariance was
        regularised (``reg_covar > 0``, or a singular covariance, see
        ``reg_covar``), with the largest regularisation added.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals are central ``1 - alpha`` Wald intervals.
        feature_names : sequence of str, default=None
            Names for the rows; by default ``feature_names_in_`` when the model
            was fitted on a DataFrame, else ``x0, x1, ...``.

        Returns
        -------
        Summary
        """
        summary = super().summary(alpha=alpha, feature_names=feature_names)
        if self._is_map():
            summary.title = summary.title.replace(
                "maximum likelihood", "maximum a posteriori"
            )
            summary.stats["largest reg_covar added"] = float(
                np.max(self.model_.reg_covar)
            )
        return summary

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
            # Sigma = R^-T R^-1 for the precision's factor R: x = mu + R^-T z, a
            # triangular solve with the factor the fit has already checked.
            draws = linalg.solve_triangular(
                self.precision_cholesky_, noise.T, lower=True, trans="T"
            )
            return self.mean_ + draws.T
        return self.mean_ + noise * np.sqrt(self.covariance_)
