"""``EMGaussianMixture``: a Gaussian mixture fitted by expectation-maximisation."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from skmle._blas import single_blas_thread_when_small
from skmle._sklearn_compat import Interval, StrOptions, validate_data
from skmle.estimators.base import GradientAscentMixin
from skmle.estimators.density import LogDensityMixin
from skmle.estimators.mixture_inference import MixtureInferenceMixin
from skmle.estimators.mixture_init import (
    INIT_PARAMS,
    check_n_samples,
    check_spread,
    checked_inits,
    initial_responsibilities,
    start_theta,
)
from skmle.estimators.mixture_predict import MixturePredictionMixin
from skmle.inference import COV_TYPES
from skmle.models.base import Batch
from skmle.models.mixture import COVARIANCE_TYPES, GaussianMixtureLogLikelihood
from skmle.models.mixture_stats import (
    covariances_from_cholesky,
    n_covariance_params,
    precisions_from_cholesky,
)
from skmle.models.objective import Objective
from skmle.optim import OptimizeResult, em

INIT_SAMPLE_ROWS = 100_000
"""Random starts are drawn from at most this many rows,
chosen uniformly at random without replacement (all rows when there are fewer)."""


class EMGaussianMixture(
    MixtureInferenceMixin,
    GradientAscentMixin,
    MixturePredictionMixin,
    LogDensityMixin,
    BaseEstimator,
):
    """Gaussian mixture fitted by maximum likelihood with the EM algorithm.

    The model is :math:`x \\sim \\sum_{k=1}^K \\pi_k N(\\mu_k, \\Sigma_k)`, with
    log-likelihood :math:`\\ell = \\sum_i w_i \\log \\sum_k \\pi_k N(x_i; \\mu_k,
    \\Sigma_k)`. Each EM iteration is one ascent step of :math:`\\ell`: the E-step
    computes the responsibilities :math:`r_{ik} \\propto \\pi_k N(x_i; \\mu_k,
    \\Sigma_k)` in log space (densities through the Cholesky factors of the
    precisions, a log-sum-exp over components), the M-step sets :math:`\\pi_k`,
    :math:`\\mu_k` and :math:`\\Sigma_k` to their :math:`w_i r_{ik}`-weighted
    estimates, with ``reg_covar`` added to the diagonal of each covariance.

    From the same ``weights_init``, ``means_init`` and ``precisions_init``, the
    iterates are those of scikit-learn's :class:`~sklearn.mixture.GaussianMixture`
    (same regularisation, same k-means start for the same ``random_state``, same
    stopping rule), computed faster and in a numerically safer way.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        ``"full"``: each component has its own covariance matrix; ``"tied"``: all
        share one; ``"diag"``: each has a diagonal covariance; ``"spherical"``: each
        has a single variance.
    tol : float, default=1e-3
        EM stops when the mean (per unit of sample weight) log-likelihood gained by
        the last step is below ``tol``; ``tol=0`` runs exactly ``max_iter`` steps.
        As in scikit-learn, the gain is the one the E-step has measured, so one more
        M-step follows the step that met the rule.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance in each M-step. It keeps a
        component that collapses onto a point, or loses all its points, well
        defined; with ``reg_covar=0`` such a component raises ``ValueError``.
    max_iter : int, default=100
        Maximum number of EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the run with the highest final log-likelihood
        is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, \
default="kmeans"
        How the starting responsibilities are drawn: hard labels of one k-means
        run, the k-means++ seeds, uniform random responsibilities, or random rows
        as one-point components. Sample weights are passed to k-means and
        k-means++ and used as selection probabilities by ``random_from_data``.
    weights_init : array-like of shape (n_components,), default=None
        Initial weights (non-negative, summing to one).
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means.
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances), shaped as ``covariances_``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and, by default, :meth:`sample`.
    warm_start : bool, default=False
        Start from the previous fit (one run, ``n_init`` ignored). As in
        scikit-learn, the stopping rule carries across calls: the first E-step
        of a warm-started fit is compared with the last one of the previous fit,
        so repeated calls with a small ``max_iter`` converge once the
        log-likelihood stops moving.
    verbose : int, default=0
        0 silent, 1 a line at the end of the fit, 2 a line per iteration.
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The covariance of the weights and means (statsmodels' ``cov_type``): the
        inverse observed information (see Notes), or the sandwich
        :math:`I^{-1} (\\sum_i w_i s_i s_i^\\top) I^{-1}` of the per-row scores
        :math:`s_i` (``"HC0"``), times :math:`n/(n-p)` (``"HC1"``), or summed
        within the ``groups`` given to :meth:`fit` (``"cluster"``), with
        :math:`p = K - 1 + K d` and the covariances held fixed as in the
        information.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        (K, d, d) ``full``, (d, d) ``tied``, (K, d) ``diag``, (K,) ``spherical``.
    precisions_ : ndarray
        The inverses of the covariances, same shapes.
    precisions_cholesky_ : ndarray
        Upper-triangular :math:`U_k` with :math:`U_k U_k^\\top = \\Sigma_k^{-1}` (the
        square roots of the precisions for diag and spherical), as scikit-learn.
    weights_se_ : ndarray of shape (n_components,)
        Standard errors of the weights (see Notes).
    means_se_ : ndarray of shape (n_components, n_features)
        Standard errors of the means (see Notes).
    converged_ : bool
        Whether the kept run met ``tol`` before ``max_iter``.
    n_iter_ : int
        EM iterations (M-steps) of the kept run.
    loglik_ : float
        Total weighted training log-likelihood at the fitted parameters, i.e. after
        the last M-step (scikit-learn's ``lower_bound_`` is the per-sample value
        before it).
    loglik_history_ : ndarray of shape (n_iter_ + 1,)
        Total log-likelihood at the start and after each M-step of the kept run;
        the last entry is ``loglik_``. EM never lowers it: it is non-decreasing up
        to rounding, and up to the tiny effect of ``reg_covar``, which is not part
        of the likelihood.
    theta_ : ndarray
        The parameters as the model's flat vector (see
        :mod:`skmle.models.mixture`).
    n_samples_seen_ : float
        Total sample weight.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string feature names.

    Notes
    -----
    The E- and M-steps run on chunks of rows sized to stay in cache, with BLAS
    limited to one thread during the fit (threads cost more than they bring on
    such small products; scikit-learn's k-means does the same).

    Sample weights multiply the responsibilities in the M-step, so an integer
    weight equals repeated rows: from the same explicit start the two fits run the
    same iterates. Random starts (k-means and the others) are drawn from the
    weighted rows, which is not the same random draw as from repeated rows; with
    ``n_components > 1`` they can then reach different local maxima.

    ``weights_se_`` and ``means_se_`` come from the observed information of the
    weights and means with the covariances held at their estimates (the exact
    Hessian of :math:`\\ell` in those parameters). They ignore the uncertainty
    of the covariances, and are only as good as the normal approximation, which
    is poor when components overlap heavily. Where that information is not
    positive definite (components that coincide, a component with almost no
    weight, or a fit stopped far from a maximum) they are NaN, with a
    ``UserWarning`` if EM had converged.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import EMGaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = EMGaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_
    array([[10.,  2.],
           [ 1.,  2.]])
    >>> gm.predict([[0, 0], [12, 3]])
    array([1, 0])
    >>> gm.weights_
    array([0.5, 0.5])
    """

    solver = "em"
    """EM is the only solver; the mixin dispatches it to :meth:`_solve_em`."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "tol": [Interval(Real, 0, None, closed="left")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions(set(INIT_PARAMS))],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "cov_type": [StrOptions(set(COV_TYPES))],
    }

    def __init__(
        self,
        n_components=1,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        cov_type="nonrobust",
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.cov_type = cov_type

    # -- fit -------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None, groups=None):
        """Fit the mixture by EM (``n_init`` runs, the best kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.
        groups : array-like of shape (n_samples,), default=None
            The cluster of each sample, for ``cov_type="cluster"`` (required
            then, refused otherwise); route it as metadata
            (``set_fit_request(groups=True)``) in a pipeline.

        Returns
        -------
        self : EMGaussianMixture
        """
        return self._fit(X, None, sample_weight, groups)

    def _validate_fit_data(self, X, y):
        return validate_data(self, X, dtype=np.float64), None

    def _objective_for_data(self, X, y=None, sample_weight=None, **sides):
        first = super()._objective_for_data(X, y, sample_weight, **sides)
        # The model is centred on the weighted mean of all the rows (this pass also
        # checks every chunk and sums the weight), so it is built after it.
        location = first.sum_batches(lambda b: b.sample_weight @ b.X)
        location = location / first.total_weight
        self.model_ = first.model.with_location(location)
        objective = Objective(self.model_, first.rows)
        check_spread(objective, location)
        return objective

    def _make_model(self, batch: Batch) -> GaussianMixtureLogLikelihood:
        return GaussianMixtureLogLikelihood(
            self.n_components, batch.X.shape[1], self.covariance_type, self.reg_covar
        )

    def _training_data(self, objective, rng) -> tuple[np.ndarray, np.ndarray]:
        """The rows and weights the random starts are drawn from.

        A uniform random sample of :data:`INIT_SAMPLE_ROWS` rows without
        replacement, or all rows when there are fewer, wherever the rows are
        stored (in memory, chunked, a Dask array): the same rows, so the same
        start.
        """
        batch = objective.rows.sample(INIT_SAMPLE_ROWS, rng)
        return batch.X, batch.sample_weight

    def _solve_em(self, objective, theta0) -> OptimizeResult:
        model, total_weight = objective.model, objective.total_weight

        def step(theta):
            stats = objective.sum_batches(lambda batch: model.e_step(theta, batch))
            return stats.loglik / total_weight, model.m_step(stats)

        callback = None
        if self.verbose >= 2:
            callback = self._print_iteration(total_weight)
        n_init = 1 if theta0 is not None else self.n_init
        random_state = check_random_state(self.random_state)
        best = None
        # The E- and M-steps run BLAS on cache-sized chunks of rows, where threads
        # cost more than they bring (as in scikit-learn's k-means), unless the
        # features are many (products of order n_features, two thousand say).
        with single_blas_thread_when_small(model.n_features):
            for _ in range(n_init):
                start = (
                    theta0
                    if theta0 is not None
                    else self._initial_theta(objective, random_state)
                )
                result = em(
                    step,
                    start,
                    value=objective.value,
                    max_iter=self.max_iter,
                    tol=self.tol,
                    callback=callback,
                    previous=self._previous_step_value(theta0),
                )
                if best is None or result.value > best.value:
                    best = result
        return best

    def _previous_step_value(self, theta0):
        """For a warm start, the mean log-likelihood the last fit's last E-step
        measured (scikit-learn's ``lower_bound_``), which the stopping rule
        compares with the first E-step of this fit; None for a fresh start."""
        if theta0 is None:
            return None
        history = self.loglik_history_
        return float(history[-2] / self.n_samples_seen_)

    # -- initialisation --------------------------------------------------------------
    def _initial_theta(self, objective, random_state=None) -> np.ndarray:
        """Starting ``theta``: the M-step of a k-means (or random) partition, with the
        user's ``weights_init``/``means_init``/``precisions_init`` put in."""
        check_n_samples(objective, self.n_components)
        weights, means, precisions = checked_inits(
            self.weights_init,
            self.means_init,
            self.precisions_init,
            self.n_components,
            objective.model.n_features,
            self.covariance_type,
        )
        if weights is None or means is None or precisions is None:
            model = objective.model
            if self.n_components == 1 and self.init_params == "kmeans":
                # k-means with one cluster labels every row 0: no draw, no copy,
                # and it works on data read in pieces.
                stats = objective.sum_batches(
                    lambda b: model.statistics_from_responsibilities(
                        b.X, b.sample_weight, np.ones((b.X.shape[0], 1))
                    )
                )
            else:
                rng = check_random_state(
                    self.random_state if random_state is None else random_state
                )
                X, w = self._training_data(objective, rng)
                resp = initial_responsibilities(
                    X, w, rng, self.n_components, self.init_params
                )
                stats = model.statistics_from_responsibilities(X, w, resp)
        else:
            stats = None
        return start_theta(
            weights, means, precisions, stats, self.covariance_type, self.reg_covar
        )

    # -- fitted attributes -------------------------------------------------------------
    def _set_theta(self, theta) -> None:
        params = self.model_.unpack(theta)
        ct = self.covariance_type
        self.weights_ = params.weights
        self.means_ = params.means.copy()
        self.precisions_cholesky_ = params.precisions_cholesky
        self.covariances_ = covariances_from_cholesky(params.precisions_cholesky, ct)
        self.precisions_ = precisions_from_cholesky(params.precisions_cholesky, ct)

    def _n_parameters(self) -> int:
        """Free parameters: K - 1 weights, K d means and the covariances."""
        K, d = self.n_components, self.n_features_in_
        return int(K - 1 + K * d + n_covariance_params(K, d, self.covariance_type))
