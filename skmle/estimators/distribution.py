"""``DistributionMLE``: a univariate family fitted to each column by maximum likelihood."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import assert_all_finite

from skmle._blas import single_blas_thread
from skmle._sklearn_compat import (
    Interval,
    StrOptions,
    check_sample_weight,
    validate_data,
)
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.estimators.distribution_columns import (
    PRIOR_FAMILIES,
    FamilyColumnsMixin,
    FittedDistributionsMixin,
)
from skmle.estimators.distribution_solve import solve_columns, start_theta
from skmle.inference import COV_TYPES, Information, WaldSpec
from skmle.models.base import Batch
from skmle.models.distributions import FAMILIES, ColumnsLogLikelihood
from skmle.models.distributions.base import ones_view
from skmle.models.objective import Objective


class DistributionMLE(
    FamilyColumnsMixin, FittedDistributionsMixin, GradientAscentMixin, BaseEstimator
):
    """A univariate distribution fitted to each column of ``X`` by maximum likelihood.

    The columns are independent, column ``j`` from family :math:`F_j` with
    parameters :math:`\\phi_j`:

    .. math:: \\ell = \\sum_j \\sum_i w_i \\log p_j(x_{ij}; \\phi_j).

    The coin (``family="bernoulli"``) has :math:`\\hat p = k/N` with standard error
    :math:`\\sqrt{\\hat p(1-\\hat p)/N}`; the Poisson rate :math:`\\hat\\lambda = \\bar x`
    with :math:`\\sqrt{\\hat\\lambda/N}`. Bernoulli, binomial, Poisson, geometric,
    exponential, log-normal, Laplace and Gaussian have closed forms; gamma, beta,
    Weibull and Student-t are fitted by Newton's method on unconstrained
    coordinates (logarithms of the positive parameters), column by column, with
    analytic gradients and Hessians. Standard errors come from the observed
    information (the Fisher information for Laplace), mapped to the natural
    parameters by the delta method.

    The family is a hyperparameter, so ``GridSearchCV(DistributionMLE(),
    {"family": [...]})`` ranks families by held-out log-likelihood (``score`` is the
    mean log-likelihood per row); :func:`skmle.compare_distributions` tabulates
    log-likelihood, AIC, BIC and the Kolmogorov-Smirnov distance.

    Parameters
    ----------
    family : str or sequence of str, default="gaussian"
        One of ``"bernoulli"``, ``"binomial"``, ``"poisson"``, ``"geometric"``,
        ``"exponential"``, ``"gamma"``, ``"beta"``, ``"lognormal"``, ``"weibull"``,
        ``"laplace"``, ``"t"``, ``"gaussian"`` for every column, or one name per
        column.
    n_trials : int, default=None
        The known number of trials of ``"binomial"`` (required for it).
    prior : tuple of two floats, default=None
        A conjugate prior making the fit a maximum a posteriori estimate: Beta(a, b)
        on ``p`` for ``"bernoulli"``/``"binomial"``, giving
        :math:`(k + a - 1)/(nN + a + b - 2)`; Gamma(shape, rate) on the Poisson
        ``rate``, giving :math:`(k + \\mathrm{shape} - 1)/(N + \\mathrm{rate})`.
    solver : {"auto", "newton", "lbfgs", "gd"}, default="auto"
        ``"auto"``: the closed forms, and Newton by column on sufficient
        statistics where they exist. The generic solvers maximise the same
        function over all of ``theta`` (Laplace has no Hessian in its location:
        use ``"auto"``).
    learning_rate : float or "auto", default="auto"
        Step size of ``solver="gd"``.
    max_iter : int, default=100
    tol : float, default=1e-8
        Newton stops on a column when every component of its gradient of the mean
        log-likelihood, whitened by its curvature, is at most ``tol``.
    verbose : int, default=0
    warm_start : bool, default=False
        Start the iterative columns from the previous fit.
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The covariance of the estimates: the inverse information, or the
        sandwich :math:`I^{-1} (\\sum_i w_i s_i s_i^\\top) I^{-1}` of the per-row
        scores :math:`s_i` (times :math:`n/(n-p)` for ``"HC1"``; sums of the
        scores by group of ``fit(X, groups=...)`` for ``"cluster"``, see
        :mod:`skmle.inference.sandwich`), valid when the family is wrong (for
        Poisson counts, the overdispersion-robust error of the rate). Needs
        ``fit`` (the rows), not ``partial_fit``.

    Attributes
    ----------
    family_ : list of str
        The family of each column.
    <param>_ : ndarray
        Each natural parameter (``p_``, ``rate_``, ``mu_``, ``sigma_``, ``shape_``,
        ``scale_``, ``a_``, ``b_``, ``loc_``, ``df_``), one value per column whose
        family has it, in column order.
    <param>_se_ : ndarray
        Their standard errors.
    theta_ : ndarray
        The unconstrained parameters, column after column (see
        :mod:`skmle.models.distributions.model`).
    params_cov_ : ndarray
    loglik_, aic_, bic_ : float
    n_iter_ : int
    converged_ : bool
    n_samples_seen_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import DistributionMLE
    >>> tosses = np.array([[1], [0], [0], [1], [0], [0], [0], [1], [0], [0]])
    >>> coin = DistributionMLE(family="bernoulli").fit(tosses)
    >>> coin.p_, coin.p_se_.round(4)
    (array([0.3]), array([0.1449]))
    """

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "family": [StrOptions(set(FAMILIES)), list, tuple],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "prior": [tuple, list, None],
        "solver": [StrOptions({"auto", *GENERIC_SOLVERS})],
        "cov_type": [StrOptions(set(COV_TYPES))],
    }
    _log_coordinate_blocks = ("rate", "shape", "scale", "a", "b", "sigma", "df")
    """Blocks a family may hold as logarithms in ``theta_`` (profiled there)."""

    def __init__(
        self,
        family="gaussian",
        n_trials=None,
        prior=None,
        solver="auto",
        learning_rate="auto",
        max_iter=100,
        tol=1e-8,
        verbose=0,
        warm_start=False,
        cov_type="nonrobust",
    ):
        self.family = family
        self.n_trials = n_trials
        self.prior = prior
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.cov_type = cov_type

    # -- fit -----------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None, groups=None):
        """Fit each column's family.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array or :func:`skmle.chunked` data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            The cluster of each row, for ``cov_type="cluster"`` (required by it).

        Returns
        -------
        self : DistributionMLE
        """
        self._stats = None
        # The sums are dot products and the matrices a few parameters wide: BLAS
        # threads would only spin-wait (see skmle._blas).
        with single_blas_thread():
            return self._fit(X, None, sample_weight, groups=groups)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Add rows to the fit: exactly ``fit`` on all rows seen so far, for
        families with sufficient statistics (all but Laplace, Weibull and t).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : DistributionMLE
        """
        first = getattr(self, "_stats", None) is None
        if first:
            self._validate_params()
        if self.cov_type != "nonrobust":
            raise ValueError(
                "partial_fit keeps the sufficient statistics, not the rows that the "
                f"sandwich's per-row scores need: cov_type={self.cov_type!r} needs "
                'fit on all the rows (or cov_type="nonrobust").'
            )
        batch = self._fit_batch(X, reset=first, sample_weight=sample_weight)
        if first:
            self.model_ = self._make_model(batch)
            unsupported = [f.name for f in self.model_.families if not f.sufficient]
            if unsupported:
                raise ValueError(
                    f"partial_fit needs sufficient statistics, which {unsupported} "
                    "do not have; call fit on all the rows."
                )
        stats, total = self.model_.statistics_and_weight(batch)
        if first:
            self._stats, self._total = stats, 0.0
        else:
            self._stats = tuple(a + b for a, b in zip(self._stats, stats, strict=True))
        self._total += total
        objective = Objective(self.model_, None)
        objective._set_total_weight(self._total)
        with single_blas_thread():
            result = solve_columns(
                self.model_, self._stats, self._total, None, self.max_iter, self.tol
            )
            self._store_result(result, objective)
        return self

    def _fit_batch(self, X, y=None, sample_weight=None, reset=True) -> Batch:
        """Validate rows into a :class:`Batch` without a pass over them: float64
        ``X`` as it is, no weights written for ``sample_weight=None``
        (:func:`ones_view`); NaN, infinity and the support are found by the
        statistics' pass (:meth:`Family.checked`), except for Laplace and t."""
        X = validate_data(
            self, X, dtype=np.float64, ensure_all_finite=False, reset=reset
        )
        names = self._family_names(X.shape[1])
        if not all(FAMILIES[name].checks_in_statistics for name in names):
            assert_all_finite(X, input_name="X")
            self._check_support(X)
        if sample_weight is None:
            sample_weight = ones_view(X.shape[0])
        else:
            sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, None, sample_weight)

    def _make_model(self, batch: Batch) -> ColumnsLogLikelihood:
        families = self._families(batch.X)
        return ColumnsLogLikelihood(
            families, self._checked_prior([f.name for f in families])
        )

    def _column_statistics(self, objective):
        """The columns' statistics and the total weight, in one (checking) pass."""
        stats, total = objective.rows.map_sum(self.model_.statistics_and_weight)
        if objective._total_weight is None:
            objective._set_total_weight(total)
        return stats

    def _solve_auto(self, objective, theta0):
        stats = self._column_statistics(objective)
        return solve_columns(
            self.model_,
            stats,
            objective.total_weight,
            objective.sum_batches,
            self.max_iter,
            self.tol,
            theta0,
        )

    def _initial_theta(self, objective):
        """The closed forms and the Newton starts of ``"auto"`` (from the columns'
        weighted statistics and medians)."""
        stats = self._column_statistics(objective)
        return start_theta(
            self.model_, stats, objective.total_weight, objective.sum_batches
        )

    def _training_loglik(self, result, objective) -> float:
        if result.learned.loglik is not None:
            return result.learned.loglik
        return super()._training_loglik(result, objective)

    def _set_theta(self, theta) -> None:
        model = self.model_
        self.family_ = [f.name for f in model.families]
        values: dict[str, list[float]] = {}
        for family, phi in zip(model.families, model.split(theta), strict=True):
            for name, value in zip(family.params, family.natural(phi), strict=True):
                values.setdefault(name, []).append(float(value))
        for name, column_values in values.items():
            setattr(self, f"{name}_", np.array(column_values))

    def _store_result(self, result, objective) -> None:
        super()._store_result(result, objective)
        model = self.model_
        for j, (family, phi) in enumerate(
            zip(model.families, model.split(self.theta_), strict=True)
        ):
            if family.on_boundary(phi):
                value = dict(zip(family.params, family.natural(phi), strict=True))
                warnings.warn(
                    f"The MLE of column {self._column_names()[j]} lies on the edge of "
                    f"the parameter space ({family.name}: {value}): every observation "
                    "fell on one side, its standard error is 0 (as sqrt(p(1 - p)/N)) "
                    "and its interval a point. Three tosses of a fair coin come up all heads an eighth "
                    "of the time, and all tails another eighth. Set prior=(a, b) with a, b > 1 for a maximum a posteriori "
                    "estimate inside the space.",
                    UserWarning,
                    stacklevel=3,
                )

    def _column_names(self, feature_names=None) -> list[str]:
        names = (
            feature_names
            if feature_names is not None
            else getattr(self, "feature_names_in_", None)
        )
        if names is None:
            names = [f"x{j}" for j in range(self.n_features_in_)]
        return [str(n) for n in names]

    # -- inference -----------------------------------------------------------------
    def _positions(self) -> dict[str, list[int]]:
        positions: dict[str, list[int]] = {}
        for family, block in zip(self.model_.families, self.model_.slices, strict=True):
            for name, index in zip(
                family.params, range(block.start, block.stop), strict=True
            ):
                positions.setdefault(name, []).append(index)
        return positions

    def _inference_blocks(self):
        return {name: np.array(idx) for name, idx in self._positions().items()}

    def _wald_spec(self, objective, result) -> WaldSpec:
        """The information of the fit (minus the Hessian of the log-posterior in
        ``theta``), mapped to the natural parameters by the diagonal Jacobian of
        each family (the delta method)."""
        model, theta = self.model_, self.theta_
        learned = result.learned
        phis = model.split(theta)
        jacobian = np.concatenate(
            [f.jacobian(phi) for f, phi in zip(model.families, phis, strict=True)]
        )
        # An estimate on the edge (p = 0 or 1, a zero rate) has no curvature: its
        # standard error is the textbook formula's 0 (zero Jacobian), its block of
        # the information a placeholder that keeps the other columns' errors.
        edge = np.concatenate(
            [
                np.full(f.n_params, f.on_boundary(phi))
                for f, phi in zip(model.families, phis, strict=True)
            ]
        )
        jacobian[edge] = 0.0

        def information() -> Information:
            if learned.information is not None and np.array_equal(learned.at, theta):
                matrix = np.array(learned.information)
            else:
                matrix = -objective.hessian(theta) * objective.total_weight
            matrix[edge, :] = matrix[:, edge] = 0.0
            matrix[edge, edge] = 1.0
            return Information.from_matrix(matrix)

        return WaldSpec(
            information,
            self._inference_blocks(),
            transform=lambda columns: jacobian[:, None] * columns,
        )

    def _parameter_labels(self, name, size, feature_names=None):
        columns = self._column_names(feature_names)
        owners = [
            columns[j] for j, f in enumerate(self.model_.families) if name in f.params
        ]
        return [f"{name}[{c}]" for c in owners]

    def summary(self, alpha: float = 0.05, feature_names=None):
        """Table of the natural parameters with standard errors, z, p-values and
        Wald intervals; "maximum a posteriori" in the title with a prior.

        Parameters
        ----------
        alpha : float, default=0.05
        feature_names : sequence of str, default=None

        Returns
        -------
        Summary
        """
        summary = super().summary(alpha=alpha, feature_names=feature_names)
        summary.stats = {"family": ", ".join(self.family_), **summary.stats}
        if self.model_.prior is not None:
            summary.title = summary.title.replace(
                "maximum likelihood", "maximum a posteriori"
            )
            prior = PRIOR_FAMILIES[self.family_[0]].split("(")[0]
            summary.stats["prior"] = f"{prior}{self.model_.prior}"
        return summary
