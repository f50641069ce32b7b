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

**Data larger than memory.**
``fit``, ``log_likelihood``, ``aic`` and ``bic`` also take a ``dask.array`` chunked
by rows, or :func:`skmle.chunked` around a ``numpy.memmap`` (or any array with row
slicing). The mixin then binds the model to a store of batches instead of one
in-memory batch: :class:`~skmle.models.dask_batches.DaskBatches` (summed on the
Dask workers) or :class:`~skmle.models.chunked.ChunkedBatches` (read one chunk at a
time). Every chunk is validated by the same ``_validate_fit_data`` as in-memory
data, on the first pass only (later passes skip the finiteness scan), and
``_make_model`` receives the first rows (``head``) for the shapes. An estimator
works on such data when everything it computes from the data goes through
``objective.sum_batches`` with a small picklable function. Methods that map rows of ``X``
to rows of output take the same inputs when decorated with :func:`rowwise`.

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
from functools import partial, wraps
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from skmle._sklearn_compat import (
    Interval,
    StrOptions,
    check_sample_weight,
    validating_chunk,
)
from skmle.estimators.likelihood_api import LikelihoodFunctionMixin
from skmle.inference import (
    Information,
    Summary,
    SummaryRow,
    WaldSpec,
    block_standard_errors,
    check_alpha,
)
from skmle.models.base import Batch
from skmle.models.chunked import ChunkedArray, ChunkedBatches, release_pages
from skmle.models.dask_batches import is_dask_array, map_rows
from skmle.models.objective import Objective
from skmle.models.standardised import (
    StandardisedObjective,
    column_scaling,
    data_scaling,
    minimum_norm,
)
from skmle.optim import OPTIMIZERS, OptimizeResult
from skmle.optim.whitened import maximise_whitened

GENERIC_SOLVERS = tuple(OPTIMIZERS)


# -- data larger than memory ---------------------------------------------------------
def is_large(X) -> bool:
    """Whether ``X`` is read in pieces: a Dask array or :func:`skmle.chunked` data."""
    return isinstance(X, ChunkedArray) or is_dask_array(X)


def batch_store(X, y, sample_weight, prepare, *, persist: bool = True):
    """The store of batches for Dask or chunked ``X`` (see ``Objective.batches``)."""
    if isinstance(X, ChunkedArray):
        return ChunkedBatches(X, y, sample_weight, prepare=prepare)
    from skmle.models.dask_batches import DaskBatches

    return DaskBatches(X, y, sample_weight, prepare=prepare, persist=persist)


def _call_method(estimator, name, args, kwargs, X):
    return getattr(estimator, name)(X, *args, **kwargs)


def rowwise(method):
    """Let a method from rows of ``X`` to rows of output take data larger than memory.

    On a Dask array the decorated method returns a Dask array: the method mapped
    lazily over the row blocks, with the fitted estimator sent to the workers. On
    :func:`skmle.chunked` data it returns an ndarray computed one chunk at a time.
    Other input goes to the method unchanged.
    """

    @wraps(method)
    def wrapper(self, X, *args, **kwargs):
        if is_dask_array(X):
            # One row of zeros gives the output's dtype and row shape, and runs the
            # estimator's own checks (fitted, number of features) at once.
            probe = method(self, np.zeros((1, *X.shape[1:]), X.dtype), *args, **kwargs)
            function = partial(_call_method, self, method.__name__, args, kwargs)
            return map_rows(function, X, probe)
        if isinstance(X, ChunkedArray):
            parts = []
            for start, stop in X.bounds():
                rows = X.data[start:stop]
                parts.append(method(self, rows, *args, **kwargs))
                release_pages(rows)
            if not parts:
                return method(self, X.data[:0], *args, **kwargs)
            return np.concatenate(parts)
        return method(self, X, *args, **kwargs)

    return wrapper


class GradientAscentMixin(LikelihoodFunctionMixin):
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
    loglik_ : float
        Total (weighted) training log-likelihood at ``theta_``.
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

    # -- fitting -----------------------------------------------------------------
    def _fit_batch(self, X, y=None, sample_weight=None) -> Batch:
        """Validate training rows into a :class:`Batch`."""
        X, y = self._validate_fit_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, y, sample_weight)

    def _fit_chunk(self, X, y=None, sample_weight=None, check=True) -> Batch:
        """:meth:`_fit_batch` for one chunk of a larger data set (on a worker, for
        Dask); ``check=False`` after the first pass skips the scan for NaN."""
        with validating_chunk(check):
            return self._fit_batch(X, y, sample_weight)

    def _objective_for_data(self, X, y=None, sample_weight=None) -> Objective:
        """Validate training data, build ``model_`` and bind it to the data."""
        if is_large(X):
            batches = batch_store(X, y, sample_weight, self._fit_chunk)
            self.model_ = self._make_model(batches.head())
            return self._make_objective(batches)
        batch = self._fit_batch(X, y, sample_weight)
        self.model_ = self._make_model(batch)
        return self._make_objective([batch])

    def _fit(self, X, y=None, sample_weight=None):
        """The body of every estimator's ``fit``: validate, solve, store."""
        self._validate_params()
        objective = self._objective_for_data(X, y, sample_weight)
        theta0 = self.theta_ if self._warm_started() else None
        result = self._run_solver(objective, theta0)
        self._store_result(result, objective)
        return self

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
        own = getattr(self, f"_solve_{self.solver}", None)
        if own is not None:
            return own(objective, theta0)
        if self.solver not in OPTIMIZERS:  # _parameter_constraints should prevent this
            raise ValueError(f"Unknown solver {self.solver!r}.")
        if theta0 is None:
            theta0 = self._initial_theta(objective)
        return self._run_generic_solver(objective, theta0)

    def _run_generic_solver(self, objective: Objective, theta0) -> OptimizeResult:
        """``gd``, ``lbfgs`` or ``newton`` in well-conditioned coordinates.

        The columns of a linear predictor (and the response of a regression) are
        standardised (:mod:`skmle.models.standardised`), the solver runs whitened
        by the curvature (:func:`~skmle.optim.whitened.maximise_whitened`, which
        also checks the stopping rule at the point returned), and the result is
        mapped back, at the minimum-norm point where the maximum is flat.
        """
        function, scaling = objective, None
        blocks = getattr(self.model_, "linear_blocks", None)
        if blocks is not None:
            log_scale = getattr(self.model_, "log_scale_index", None)
            scaling = column_scaling(
                objective.sum_batches,
                blocks(),
                self.model_.n_features,
                None if log_scale is None else log_scale(),
            )
        elif hasattr(self.model_, "standardising_map"):
            scaling = data_scaling(objective.sum_batches, self.model_)
        if scaling is not None:
            function = StandardisedObjective(objective, scaling)
            theta0 = scaling.to_phi(theta0)
        options = {"max_iter": self.max_iter, "tol": self.tol}
        if self.solver == "gd":
            options["learning_rate"] = self.learning_rate
        if self.verbose >= 2:
            options["callback"] = self._print_iteration(objective.total_weight)
        result, null = maximise_whitened(
            OPTIMIZERS[self.solver], function, theta0, **options
        )
        if scaling is None:
            return result
        offset = scaling.value_offset
        theta = scaling.to_theta(result.theta)
        directions = [scaling.to_theta(v, direction=True) for v in null.T]
        null = np.column_stack(directions) if directions else null
        return dataclasses.replace(
            result,
            theta=minimum_norm(theta, null, scaling.blocks),
            value=result.value + offset,
            history=result.history + offset,
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

    def _compute_standard_errors(
        self, objective: Objective, result: OptimizeResult
    ) -> None:
        """Set ``<block>_se_`` for each block of :meth:`_wald_spec`: the one
        inference path (:func:`skmle.inference.block_standard_errors`)."""
        legacy = getattr(self, "_standard_errors", None)
        if legacy is not None:
            standard_errors = legacy(objective)
        else:
            spec = self._wald_spec(objective, result)
            if spec is None:
                return
            standard_errors = block_standard_errors(spec, stacklevel=4)
        for name, se in standard_errors.items():
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
        if is_large(X):
            batches = batch_store(
                X, y, sample_weight, self._scoring_chunk, persist=False
            )
            model, theta = self.model_, self.theta_
            return float(batches.map_sum(lambda b: model.loglik(theta, b)))
        batch = self._scoring_batch(X, y, sample_weight)
        return self.model_.loglik(self.theta_, batch)

    def _n_parameters(self) -> int:
        """Number of free parameters, for AIC and BIC."""
        return int(self.model_.n_params)

    def aic(self, X, y=None) -> float:
        """Akaike information criterion :math:`-2\\ell + 2k` on ``X`` (lower is better)."""
        return -2.0 * self.log_likelihood(X, y) + 2.0 * self._n_parameters()

    def bic(self, X, y=None) -> float:
        """Bayesian information criterion :math:`-2\\ell + k\\log n` (lower is better)."""
        n_samples = np.shape(X)[0]
        return -2.0 * self.log_likelihood(X, y) + self._n_parameters() * np.log(
            n_samples
        )

    # -- summary -------------------------------------------------------------------
    def _summary_rows(self, feature_names=None) -> list[SummaryRow]:
        rows = []
        for name in self._inference_blocks():
            estimates = np.ravel(getattr(self, f"{name}_"))
            errors = np.ravel(getattr(self, f"{name}_se_"))
            labels = self._parameter_labels(name, estimates.size, feature_names)
            rows += [
                SummaryRow(label, float(e), float(s))
                for label, e, s in zip(labels, estimates, errors, strict=True)
            ]
        return rows

    def _parameter_labels(self, name: str, size: int, feature_names=None) -> list[str]:
        features = feature_names
        if features is None:
            features = getattr(self, "feature_names_in_", None)
        if features is None:
            features = [f"x{j}" for j in range(self.n_features_in_)]
        if name == "coef" and size == len(features):
            return [str(f) for f in features]
        if size == 1 and name == "intercept":
            return [name]
        if size == len(features):
            return [f"{name}[{f}]" for f in features]
        if size == 1:
            return [name]
        return [f"{name}[{j}]" for j in range(size)]

    def _check_feature_names_arg(self, feature_names):
        """``summary``'s ``feature_names`` as a list of ``n_features_in_`` strings."""
        if feature_names is None:
            return None
        if isinstance(feature_names, str) or not np.iterable(feature_names):
            raise ValueError(
                "feature_names must be a sequence of names, one per feature, got "
                f"{feature_names!r}."
            )
        names = [str(name) for name in feature_names]
        if len(names) != self.n_features_in_:
            raise ValueError(
                f"feature_names has {len(names)} names but {type(self).__name__} "
                f"was fitted on {self.n_features_in_} features: give "
                f"{self.n_features_in_} names, one per feature."
            )
        return names

    def summary(self, alpha: float = 0.05, feature_names=None) -> Summary:
        """Table of estimates with standard errors, z, p-values and intervals.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals are central ``1 - alpha`` Wald intervals; ``alpha`` must
            lie strictly between 0 and 1.
        feature_names : sequence of str, default=None
            One name per feature (``n_features_in_`` of them) for the rows; by
            default ``feature_names_in_`` when the model was fitted on a
            DataFrame, else ``x0, x1, ...``.

        Returns
        -------
        Summary
            ``str()`` gives the table; ``to_dict()`` the same as plain types.

        Raises
        ------
        ValueError
            When ``alpha`` is not in (0, 1), or ``feature_names`` does not have
            ``n_features_in_`` names.
        """
        check_is_fitted(self)
        alpha = check_alpha(alpha)
        feature_names = self._check_feature_names_arg(feature_names)
        n = getattr(self, "n_samples_seen_", None)
        stats = {
            "log-likelihood": self.loglik_,
            "n parameters": self._n_parameters(),
            "AIC": -2.0 * self.loglik_ + 2.0 * self._n_parameters(),
        }
        if n is not None:
            stats["BIC"] = -2.0 * self.loglik_ + self._n_parameters() * np.log(n)
            stats["n samples"] = n
        prior = float(getattr(self, "alpha", 0.0) or 0.0)
        if prior > 0:
            stats["prior precision alpha"] = prior
        stats.update(
            {
                "solver": self.solver,
                "iterations": self.n_iter_,
                "converged": self.converged_,
            }
        )
        # With a prior the estimates maximise the posterior, and the standard
        # errors are the Laplace approximation's posterior standard deviations.
        kind = "maximum a posteriori" if prior > 0 else "maximum likelihood"
        return Summary(
            title=f"{type(self).__name__} {kind} estimates",
            rows=self._summary_rows(feature_names),
            stats=stats,
            alpha=alpha,
        )
