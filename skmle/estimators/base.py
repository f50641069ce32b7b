"""``GradientAscentMixin``: the fitting loop every skmle estimator shares.

An estimator supplies its model and a few hooks; the mixin owns solver dispatch,
warm start, the history and convergence warning, verbose output, the fitted
``loglik_``/``loglik_history_``/``n_iter_``/``converged_``, ``log_likelihood``,
``aic``/``bic``, Wald standard errors and ``summary()``.

**Hooks an estimator implements.**

``_make_model(batch)``
    The :class:`~skmle.models.base.LogLikelihood` for this data and these
    hyperparameters.
``_initial_theta(objective)``
    A starting point, computed from the data only through weighted sums (so a
    weight of 2 and a duplicated row start at the same point).
``_set_theta(theta)``
    Unpack ``theta`` into the public fitted attributes.
``_solve_<name>(objective, theta0)`` (optional)
    A model-specific solver (``closed_form``, ``irls``, ``em``) returning an
    :class:`~skmle.optim.OptimizeResult`.
``_inference_blocks()`` (optional)
    ``{attribute: indices into theta}`` for the parameters that get standard
    errors (``coef`` gives ``coef_se_``).
``_wald_spec(objective, result)`` (optional)
    The information at the optimum, the map to the reported parameters and their
    blocks (:class:`~skmle.inference.WaldSpec`); by default the observed
    information from the objective's Hessian. The covariance ``params_cov_`` and
    the standard errors come from :func:`skmle.inference.reported_covariance`,
    for every estimator.
``_score_rows(objective, result)`` (optional)
    The per-row scores in the coordinates of that information, for the sandwich
    covariances of an estimator with a ``cov_type`` hyperparameter; by default
    the model's ``scores`` in ``theta``.

**Where the rows live.**
``fit``, ``log_likelihood``, ``aic`` and ``bic`` also take a ``dask.array`` chunked
by rows, or :func:`skmle.chunked` around a ``numpy.memmap`` (or any array with row
slicing). The mixin asks the data layer for the store
(:func:`skmle.data.row_store`) and binds the model to it; nothing above the data
layer asks which kind it is (:class:`skmle.data.Rows`). Every chunk is validated by
the same ``_validate_fit_data`` as in-memory data, on the first pass only (later
passes skip the finiteness scan), and ``_make_model`` receives the first rows
(``rows.head()``) for the shapes, in every store. Everything an estimator computes
from the data goes through ``objective.sum_batches`` with a small picklable
function. Methods that map rows of ``X`` to rows of output take the same inputs
when decorated with :func:`skmle.data.rowwise`.

**Where no unique maximum exists.**
Every start and stopping rule depends on the data only through weighted sums, so
a weighted fit and a fit on repeated rows follow the same iterates. Where the
maximum is not unique, the estimator must pick a canonical one: the minimum-norm
solution for a flat linear optimum; for a supremum that is not attained
(separable classes) a warning and the finite iterate where the stopping rule
fired. Standard errors are then NaN, with a warning, because the information
matrix is singular.
"""

from __future__ import annotations

import dataclasses
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from skmle._sklearn_compat import (
    Interval,
    StrOptions,
    check_sample_weight,
    validate_data,
    validating_chunk,
)
from skmle._sparse import dense_only_reason, refuse_sparse, refuse_sparse_sandwich
from skmle.data import Batch, distinct_values, row_store
from skmle.estimators.hypotheses import HypothesisTestMixin
from skmle.estimators.likelihood_api import LikelihoodFunctionMixin
from skmle.estimators.report import FitReportMixin
from skmle.estimators.standardised_fit import maximise_standardised
from skmle.inference import (
    Information,
    WaldSpec,
    check_cov_type,
    reported_covariance,
    score_meat,
)
from skmle.inference.covariance import split_blocks
from skmle.models.objective import Objective
from skmle.optim import OPTIMIZERS, SOLVER_REQUIREMENTS, OptimizeResult

GENERIC_SOLVERS = tuple(OPTIMIZERS)


class GradientAscentMixin(LikelihoodFunctionMixin, FitReportMixin, HypothesisTestMixin):
    """Mixin for estimators fitted by maximising a log-likelihood.

    The mixin has no constructor of its own. The estimators built on it share
    the hyperparameters below, which the mixin reads.

    Parameters
    ----------
    solver : str
        ``"gd"``, ``"lbfgs"``, ``"newton"`` or one of the model's own solvers.
    learning_rate : float or "auto", default="auto"
        Step size of ``solver="gd"`` on the mean log-likelihood; ``"auto"`` is an
        Armijo backtracking line search.
    max_iter : int
    tol : float
        The generic solvers stop when every component of the gradient of the
        mean (per unit of sample weight) objective, in coordinates whitened by
        the curvature at the returned point (after standardising the columns of
        a linear predictor), is at most ``tol``; the rule is checked by skmle
        at the point returned, whatever the solver reported. It does not change
        when a column of ``X`` is shifted or rescaled.
    verbose : int, default=0
        0 silent, 1 a line at the end of the fit, 2 a line per iteration.
    warm_start : bool, default=False
        Start from the previous fit's parameters.

    Attributes
    ----------
    theta_ : ndarray
        The fitted parameters as the model's flat vector.
    params_cov_ : ndarray of shape (n_reported, n_reported)
        For an estimator with standard errors: the covariance matrix of the
        reported estimates, in the order of :meth:`param_names` (statsmodels'
        ``cov_params()``); its diagonal is the square of the ``<block>_se_``.
        The inverse information by default, the sandwich of ``cov_type`` where
        the estimator has one (:mod:`skmle.inference.sandwich`).
    loglik_ : float
        Total (weighted) training log-likelihood at ``theta_``.
    aic_, bic_ : float
        :math:`-2\\ell + 2k` and :math:`-2\\ell + k \\log n` of the training data,
        :math:`k` the free parameters and :math:`n` the total sample weight
        (``aic(X, y)`` and ``bic(X, y)`` on unweighted training data).
    loglik_history_ : ndarray of shape (n_iter_ + 1,)
        The maximised objective (the total log-likelihood, plus the log-prior
        where the estimator has a penalty), at the start and after each iteration.
    n_iter_ : int
    converged_ : bool
    """

    _common_parameter_constraints: dict = {
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    _accept_sparse: tuple[str, ...] | bool = False
    """The ``scipy.sparse`` formats ``X`` may take (:data:`skmle._sparse.SPARSE_FORMATS`
    for a linear-predictor model), or False: then a sparse ``X`` is a ValueError
    naming :attr:`_dense_only_reason`."""
    _dense_only_reason: str | None = None
    """Why sparse ``X`` is refused; None: :func:`skmle._sparse.dense_only_reason`."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._accept_sparse)
        return tags

    # -- fitting -----------------------------------------------------------------
    def _fit_batch(self, X, y=None, sample_weight=None) -> Batch:
        """Validate training rows into a :class:`Batch`."""
        if not self._accept_sparse:
            refuse_sparse(X, type(self).__name__, dense_only_reason(self))
        self._refuse_sparse_covariance(X)
        X, y = self._validate_fit_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, y, sample_weight)

    def _refuse_sparse_covariance(self, X) -> None:
        """ValueError when ``cov_type`` needs what sparse ``X`` does not give
        (:func:`skmle._sparse.refuse_sparse_sandwich`; an estimator whose
        sandwich is a weighted Gram matrix overrides it)."""
        refuse_sparse_sandwich(X, self)

    def _fit_chunk(self, X, y=None, sample_weight=None, check=True) -> Batch:
        """:meth:`_fit_batch` for one chunk of a larger data set (on a worker, for
        Dask); ``check=False`` after the first pass skips the scan for NaN."""
        with validating_chunk(check):
            return self._fit_batch(X, y, sample_weight)

    def _objective_for_data(self, X, y=None, sample_weight=None, **sides) -> Objective:
        """Validate training data, build ``model_`` and bind it to the data; the
        side columns (``offset``, ``groups``) ride with the rows (:class:`Batch`)."""
        rows = row_store(
            X, y, sample_weight, whole=self._fit_batch, chunk=self._fit_chunk, **sides
        )
        self.model_ = self._make_model(rows.head())
        return self._make_objective(rows)

    def _fit(self, X, y=None, sample_weight=None, groups=None, offset=None):
        """The body of every estimator's ``fit``: validate, solve, store.

        ``groups`` (one label per row) are the clusters of ``cov_type="cluster"``
        and ``offset`` a known term of a linear predictor: both follow the rows
        into every batch, in memory, in chunks or on Dask workers."""
        self._validate_params()
        # Only the side columns given: an override without them keeps working.
        sides = {
            k: v for k, v in (("offset", offset), ("groups", groups)) if v is not None
        }
        objective = self._objective_for_data(X, y, sample_weight, **sides)
        self._attach_groups(objective, groups)
        theta0 = self.theta_ if self._warm_started() else None
        result = self._run_solver(objective, theta0)
        self._store_result(result, objective)
        return self

    def _attach_groups(self, objective: Objective, groups) -> None:
        """Check ``groups`` against ``cov_type`` and the rows, and give the
        objective their sorted distinct labels (read a chunk at a time, or by
        Dask, for data larger than memory), from which each batch numbers the
        groups of its rows."""
        check_cov_type(
            getattr(self, "cov_type", "nonrobust"), groups, objective.rows.n_rows
        )
        if groups is not None:
            objective.group_labels = distinct_values(groups)

    def _make_objective(self, batches) -> Objective:
        return Objective(self.model_, batches)

    def _warm_started(self) -> bool:
        theta = getattr(self, "theta_", None)
        return bool(
            self.warm_start
            and theta is not None
            and theta.shape == (self.model_.n_params,)
        )

    def _run_solver(self, objective: Objective, theta0) -> OptimizeResult:
        self._check_capabilities(objective.model)
        own = getattr(self, f"_solve_{self.solver}", None)
        if own is not None:
            return own(objective, theta0)
        if self.solver not in OPTIMIZERS:  # _parameter_constraints should prevent this
            raise ValueError(f"Unknown solver {self.solver!r}.")
        if theta0 is None:
            theta0 = self._initial_theta(objective)
        return self._run_generic_solver(objective, theta0)

    def _check_capabilities(self, model) -> None:
        """Fail at once, naming what is missing, if the model does not offer what
        the solver requires (:data:`skmle.optim.SOLVER_REQUIREMENTS`)."""
        needs = SOLVER_REQUIREMENTS.get(self.solver, frozenset())
        missing = needs - model.capabilities
        if missing:
            raise ValueError(
                f"solver={self.solver!r} needs a model with {', '.join(sorted(missing))}"
                f"; {type(model).__name__} offers "
                f"{', '.join(sorted(model.capabilities)) or 'value and gradient only'}."
                " Choose another solver."
            )

    def _run_generic_solver(self, objective: Objective, theta0) -> OptimizeResult:
        """``gd``, ``lbfgs`` or ``newton`` in well-conditioned coordinates (see
        :func:`~skmle.estimators.generic.maximise_standardised`)."""
        options = {"max_iter": self.max_iter, "tol": self.tol}
        if self.solver == "gd":
            options["learning_rate"] = self.learning_rate
        if self.verbose >= 2:
            options["callback"] = self._print_iteration(objective.total_weight)
        return maximise_standardised(
            OPTIMIZERS[self.solver], objective, theta0, **options
        )

    def _print_iteration(self, total_weight):
        name = type(self).__name__

        def callback(iteration, theta, value):
            print(f"[{name}] iter {iteration:4d}  loglik {value * total_weight:.10g}")

        return callback

    def _store_result(self, result: OptimizeResult, objective: Objective) -> None:
        theta = np.asarray(result.theta, dtype=float)
        if not np.all(np.isfinite(theta)):
            raise ValueError(
                f"{type(self).__name__} with solver={self.solver!r} produced "
                "non-finite parameters; scale the features or choose another solver."
            )
        self.theta_ = theta
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.n_samples_seen_ = objective.total_weight
        self.loglik_history_ = np.asarray(result.history) * objective.total_weight
        self.loglik_ = self._training_loglik(result, objective)
        self._set_theta(theta)
        self._compute_standard_errors(objective, result)
        self._set_information_criteria()
        if self.verbose >= 1:
            print(
                f"[{type(self).__name__}] solver={self.solver} "
                f"n_iter={self.n_iter_} converged={self.converged_} "
                f"loglik={self.loglik_:.10g} ({result.message})"
            )
        if not self.converged_:
            warnings.warn(
                f"{type(self).__name__} did not converge with solver={self.solver!r} "
                f"(max_iter={self.max_iter}, tol={self.tol:g}): its stopping rule "
                f"does not hold at the returned parameters ({result.message}). "
                "Increase max_iter, loosen tol, or try another solver.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _training_loglik(self, result: OptimizeResult, objective: Objective) -> float:
        """Total training log-likelihood at the fitted parameters (no prior)."""
        if not self.model_.has_prior:
            return float(result.value * objective.total_weight)
        return objective.loglik(result.theta)

    # -- standard errors -----------------------------------------------------------
    def _inference_blocks(self) -> dict[str, np.ndarray]:
        return {}

    def _wald_spec(
        self, objective: Objective, result: OptimizeResult
    ) -> WaldSpec | None:
        """What inference needs for the standard errors (None: the estimator has
        none). The default: the observed information from the objective's
        Hessian at ``theta_``, the blocks of :meth:`_inference_blocks`, reported as
        they are stored in ``theta``."""
        blocks = self._inference_blocks()
        if not blocks:
            return None
        theta = self.theta_

        def information() -> Information:
            return Information.from_hessian(
                objective.hessian(theta) * objective.total_weight
            )

        return WaldSpec(
            information,
            blocks,
            singular_message=(
                f"The observed information of {type(self).__name__} is singular at "
                "the fitted parameters (the maximum is not unique): standard errors "
                "are undefined and set to NaN."
            ),
        )

    def _score_rows(self, objective: Objective, result: OptimizeResult):
        """``scores(batch)``: the per-row scores in the coordinates of the
        information of :meth:`_wald_spec` (here the model's, in ``theta``)."""
        return partial(objective.model.scores, self.theta_)

    def _compute_standard_errors(
        self, objective: Objective, result: OptimizeResult
    ) -> None:
        """Set the covariance behind ``params_cov_`` and ``<block>_se_`` for each block of
        :meth:`_wald_spec`: the one inference path
        (:func:`skmle.inference.reported_covariance`), with the meat of
        ``cov_type`` where the estimator has one."""
        spec = self._wald_spec(objective, result)
        if spec is None:
            return
        cov_type = getattr(self, "cov_type", "nonrobust")
        # A spec with its own meat (a closed form) keeps it.
        own_meat = spec.meat is not None
        if cov_type != "nonrobust" and spec.information is not None and not own_meat:
            meat = partial(
                score_meat,
                objective.sum_batches,
                self._score_rows(objective, result),
                cov_type,
                objective.total_weight,
                labels=objective.group_labels,
            )
            spec = dataclasses.replace(spec, meat=meat)
        # params_cov_ (a property) forms the whole matrix only when read.
        self._params_cov = reported_covariance(spec, stacklevel=4)
        for name, se in split_blocks(spec, self._params_cov.variances()).items():
            shape = np.shape(getattr(self, f"{name}_"))
            setattr(
                self, f"{name}_se_", np.reshape(se, shape) if shape else float(se[0])
            )

    def _scoring_batch(self, X, y=None, sample_weight=None) -> Batch:
        """Validate data for scoring a fitted model (override when y needs care)."""
        X = self._validate_for_scoring(X)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, None if y is None else np.asarray(y), sample_weight)

    def _scoring_chunk(self, X, y=None, sample_weight=None, check=True) -> Batch:
        with validating_chunk(check):
            return self._scoring_batch(X, y, sample_weight)

    def _validate_for_scoring(self, X):
        """``X`` checked against the fit, as float64 (the default of every estimator)."""
        if not self._accept_sparse:
            refuse_sparse(X, type(self).__name__, dense_only_reason(self))
        return validate_data(
            self, X, dtype=np.float64, reset=False, accept_sparse=self._accept_sparse
        )

    def log_likelihood(self, X, y=None, sample_weight=None) -> float:
        """Total weighted log-likelihood of data under the fitted model.

        .. math:: \\ell(\\hat\\theta) = \\sum_i w_i \\log p(x_i, y_i; \\hat\\theta)

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array or :func:`skmle.chunked` data (summed by pieces).
        y : array-like of shape (n_samples,), default=None
            Targets, for the supervised estimators.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        check_is_fitted(self)
        rows = row_store(
            X,
            y,
            sample_weight,
            whole=self._scoring_batch,
            chunk=self._scoring_chunk,
            persist=False,
        )
        model, theta = self.model_, self.theta_
        return float(rows.map_sum(lambda b: model.loglik(theta, b)))
