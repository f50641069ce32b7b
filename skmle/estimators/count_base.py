"""What the count regressors share: the offset, predictions, deviance and whether
a maximum exists.

``fit(X, y, sample_weight=None, offset=None, groups=None)`` and
``predict(X, offset=None)``: the offset (the log of an exposure) is per-row
metadata, routed by scikit-learn's metadata routing in a pipeline or in
``cross_validate(params=...)`` once requested
(``set_fit_request(offset=True)``, ``set_predict_request(offset=True)``,
``set_score_request(offset=True)``). It rides with the rows into every batch
(:class:`skmle.data.Batch`), so chunked and Dask data take an offset too.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from skmle._blas import single_blas_thread
from skmle._sklearn_compat import validate_data
from skmle._sparse import SPARSE_FORMATS
from skmle.data import row_store, rowwise
from skmle.estimators.logistic_outcome import PerfectSeparationWarning
from skmle.inference import WaldSpec
from skmle.models.logistic_terms import CENTER_SAMPLE_ROWS, column_center
from skmle.models.poisson import (
    PoissonLogLikelihood,
    support_counts,
    unbounded_columns,
)
from skmle.models.predictor_objective import PredictorObjective
from skmle.status import Status


class CountRegressorMixin:
    """``fit``/``predict``/``score``/``log_likelihood``/``deviance`` with an offset,
    the check that the maximum exists and the non-negative target, for
    :class:`~skmle.PoissonMLERegressor` and :class:`~skmle.NegativeBinomialRegressor`.
    """

    _accept_sparse = SPARSE_FORMATS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def fit(self, X, y, sample_weight=None, offset=None, groups=None):
        """Fit the model to ``X`` and the counts ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array or :func:`skmle.chunked` data.
        y : array-like of shape (n_samples,)
            Non-negative counts (non-integer values are accepted, as by
            statsmodels and scikit-learn).
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: a weight of 2 counts a row twice.
        offset : array-like of shape (n_samples,), default=None
            A known term of each row's linear predictor, :math:`\\eta_i =
            x_i^\\top w + b + o_i`: the log of the exposure (time at risk,
            population) for a rate model.
        groups : array-like of shape (n_samples,), default=None
            The cluster of each sample, for ``cov_type="cluster"``.

        Returns
        -------
        self
        """
        # Tall, thin products throughout: BLAS threads cost more than they
        # save, and far more on a busy machine (see skmle._blas).
        with single_blas_thread():
            return self._fit(X, y, sample_weight, groups, offset)

    def _validate_fit_data(self, X, y):
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            y_numeric=True,
            accept_sparse=self._accept_sparse,
        )
        y = np.asarray(y, dtype=np.float64)
        if np.any(y < 0):
            raise ValueError(
                f"{type(self).__name__} needs non-negative counts y; got a minimum "
                f"of {y.min():g}."
            )
        return X, y

    # -- existence of the maximum ---------------------------------------------------
    def _store_result(self, result, objective) -> None:
        """Store the fit; where a column makes the likelihood unbounded
        (:func:`~skmle.models.poisson.unbounded_columns`) warn, with
        ``converged_`` False and NaN standard errors."""
        model, theta, fit_intercept = (
            self.model_,
            np.asarray(result.theta),
            self.fit_intercept,
        )

        def per_batch(b):  # one pass: the existence test and the saturated fit
            saturated = model.saturated_loglik_obs(theta, b.y)
            return support_counts(b, fit_intercept), float(b.sample_weight @ saturated)

        counts, saturated = objective.sum_batches(per_batch)
        unbounded = unbounded_columns(counts)
        if unbounded.size:
            result = dataclasses.replace(
                result, status=Status.QUASI_SEPARABLE, converged=True
            )
        super()._store_result(result, objective)
        self.deviance_ = 2.0 * (saturated - self.loglik_)
        if not unbounded.size:
            return
        self.converged_ = False
        names = self.param_names()
        warnings.warn(
            f"{type(self).__name__}: no maximum likelihood estimate exists. Every "
            "response is 0 where the column(s) "
            f"{', '.join(names[j] for j in unbounded)} are non-zero, so their "
            "coefficients go to infinity (the fitted means of those rows to 0). "
            "Returning the finite coefficients where the solver stopped; standard "
            "errors are NaN. Drop or merge those columns.",
            PerfectSeparationWarning,
            stacklevel=3,
        )

    def _wald_spec(self, objective, result) -> WaldSpec | None:
        if result.status is Status.QUASI_SEPARABLE:
            return WaldSpec(None, self._inference_blocks())
        return super()._wald_spec(objective, result)

    # -- predictions ------------------------------------------------------------------
    @rowwise
    def _linear_predictor(self, X):
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=np.float64, reset=False, accept_sparse=self._accept_sparse
        )
        return X @ self.coef_ + self.intercept_

    def _mean(self, X, offset=None):
        eta = self._linear_predictor(X)
        if offset is not None:
            eta = eta + (offset if hasattr(offset, "dask") else np.asarray(offset))
        return np.exp(eta)

    def predict(self, X, offset=None):
        """The fitted mean :math:`\\mu = e^{x^\\top w + b + o}` of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None
            The rows' offsets (log exposures), as at :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._mean(X, offset)

    def log_likelihood(self, X, y=None, sample_weight=None, offset=None) -> float:
        """Total weighted log-likelihood of ``(X, y)`` under the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array or :func:`skmle.chunked` data.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

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
            offset=offset,
        )
        model, theta = self.model_, self.theta_
        return float(rows.map_sum(lambda b: model.loglik(theta, b)))

    def _raw_coordinates(self):
        """A clone whose objective is a function of ``theta`` for the raw
        features, as ``theta_`` is: without the centring that
        ``solver="newton"`` applies to its own iterates."""
        work = clone(self)
        return work.set_params(solver="lbfgs") if self.solver == "newton" else work

    def loglik_function(self, X, y=None, sample_weight=None, offset=None):
        """The objective the solvers maximise, bound to data and an ``offset``, as
        a function of ``theta`` for the raw features (as ``theta_`` is)
        (:meth:`~skmle.estimators.likelihood_api.LikelihoodFunctionMixin.loglik_function`;
        :func:`skmle.check_gradient` passes its ``offset`` here)."""
        sides = {} if offset is None else {"offset": offset}
        work = self._raw_coordinates()
        return work._objective_for_data(X, y, sample_weight, **sides)

    def initial_params(self, X, y=None, sample_weight=None, offset=None):
        """Where the solvers start on these data and this ``offset``
        (:meth:`~skmle.estimators.likelihood_api.LikelihoodFunctionMixin.initial_params`)."""
        work = self._raw_coordinates()
        sides = {} if offset is None else {"offset": offset}
        objective = work._objective_for_data(X, y, sample_weight, **sides)
        return np.asarray(work._initial_theta(objective), dtype=float)

    def deviance(self, X, y, sample_weight=None, offset=None) -> float:
        """The deviance :math:`2\\sum_i w_i [\\log p(y_i; \\mu_i = y_i) -
        \\log p(y_i; \\hat\\mu_i)]`, the dispersion held fixed (for Poisson
        :math:`2\\sum_i w_i [y_i \\log(y_i/\\hat\\mu_i) - (y_i - \\hat\\mu_i)]`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        mu = self.predict(X, offset)
        y = np.asarray(y, dtype=np.float64)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight)
        return float(2.0 * w @ self.model_.half_deviance_obs(self.theta_, y, mu))

    def score(self, X, y, sample_weight=None, offset=None) -> float:
        """:math:`D^2`, the fraction of the deviance of the intercept-only model
        (the weighted mean of ``y``) that the fit explains (1 is best).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        y = np.asarray(y, dtype=np.float64)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight)
        null = np.full_like(y, float(w @ y) / float(w.sum()))
        null_deviance = float(w @ self.model_.half_deviance_obs(self.theta_, y, null))
        deviance = self.deviance(X, y, w, offset) / 2.0
        return 1.0 - deviance / null_deviance if null_deviance > 0 else 0.0


def poisson_start(objective, model) -> np.ndarray:
    """Zero coefficients and the intercept-only Poisson maximum
    :math:`b = \\log(\\sum_i s_i y_i / \\sum_i s_i e^{o_i})` (0 without an
    intercept), from weighted sums alone; the log-linear part of ``theta``."""
    theta = np.zeros(model.n_params)
    if not model.fit_intercept:
        return theta

    def sums(b):
        exposure = 1.0 if b.offset is None else np.exp(b.offset)
        return np.array([b.sample_weight @ b.y, np.sum(b.sample_weight * exposure)])

    total_y, total_exposure = objective.sum_batches(sums)
    # All-zero counts have no maximum (the fit warns); start at a tiny mean.
    theta[model.n_features] = np.log(
        max(total_y, 1e-8 * total_exposure) / total_exposure
    )
    return theta


def newton_center(rows, fit_intercept: bool) -> np.ndarray | None:
    """The centre of the columns whose mean is large against their spread
    (:func:`~skmle.models.logistic_terms.column_center` of a uniform sample of
    up to 8,192 rows, the same in every store), or None: Newton's method and
    the information are then formed on :math:`x - c`."""
    if not fit_intercept:
        return None
    sample = rows.sample(CENTER_SAMPLE_ROWS, random_state=0)
    return column_center(sample.X, sample.sample_weight)


def poisson_newton_objective(rows, n_features: int, fit_intercept: bool):
    """The Poisson :class:`~skmle.models.predictor_objective.PredictorObjective`
    of ``rows``, in centred coordinates where :func:`newton_center` says so."""
    center = newton_center(rows, fit_intercept)
    model = PoissonLogLikelihood(n_features, fit_intercept, center=center)
    return PredictorObjective(model, rows)
