"""What the two linear regressors share: everything but the noise model.

Validation, the parameter layout, prediction (the mean, a frozen ``scipy.stats``
distribution, central intervals), R^2 scoring, the treatment of data that a line
fits exactly (the scale floor, :mod:`skmle.estimators.linear_fit`) and the Wald
standard errors from :math:`X_1^\\top \\mathrm{diag}(w) X_1`
(:func:`~skmle.estimators.least_squares.location_information`). The estimators
are :class:`~skmle.estimators.linear_gaussian.LinearGaussianRegressor` and
:class:`~skmle.estimators.laplace.LaplaceRegressor`.

Data larger than memory (a Dask array, :func:`skmle.chunked` data) reaches the
estimators only through sums over its chunks: one pass of
:class:`~skmle.models.linear.LinearMoments` gives the normal equations, the
scale floor and the standard errors.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from skmle._blas import single_blas_thread
from skmle._sklearn_compat import StrOptions, check_sample_weight, validate_data
from skmle._sparse import SPARSE_FORMATS
from skmle.data import Batch, rowwise
from skmle.estimators.base import GradientAscentMixin
from skmle.estimators.least_squares import (
    gram_factor,
    intercept_last,
    location_information,
)
from skmle.estimators.linear_fit import LinearObjective
from skmle.inference import WaldSpec
from skmle.inference.prediction import (
    check_kind,
    design_rows,
    linear_predictor_se,
    mean_interval,
)
from skmle.optim import OptimizeResult


def location_scores(batch: Batch, model, theta: np.ndarray) -> np.ndarray:
    """The per-row scores of the location, ``[intercept, coef]`` (or ``coef``),
    the coordinates of :func:`~skmle.estimators.least_squares.location_information`:
    :math:`-s^{-1} \\partial_z \\log p(z_i)\\, [1, x_i]`."""
    scores = model.scores(theta, batch)
    d = model.n_features
    if model.fit_intercept:
        return np.column_stack([scores[:, d], scores[:, :d]])
    return scores[:, :d]


def solver_constraint(own: tuple[str, ...], generic: tuple[str, ...]) -> list:
    """The ``solver`` constraint: the estimator's own solvers (each a
    ``_solve_<name>`` method the mixin dispatches to) and the generic ones it
    admits, one vocabulary."""
    return [StrOptions({*own, *generic})]


class LinearRegressorBase(GradientAscentMixin, RegressorMixin, BaseEstimator):
    """What the two regressors share; subclasses set the model and the scale.

    Subclasses declare ``_own_solvers`` (names ``s`` with a ``_solve_<s>``
    method) and ``_generic_solvers`` (the mixin's optimizers that apply).
    """

    _model_class: type
    _accept_sparse = SPARSE_FORMATS
    _distribution = None  # scipy.stats family of the noise
    _own_solvers: tuple[str, ...] = ()
    _generic_solvers: tuple[str, ...] = ()

    # -- fit hooks -------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array chunked by rows (the sums are computed on the
            workers) or :func:`skmle.chunked` data such as a memmap (read one
            chunk at a time); the result equals the in-memory fit and the fitted
            attributes are NumPy arrays.
        y : array-like of shape (n_samples,)
            A Dask array (or a NumPy array, split like ``X``'s rows) with Dask
            ``X``; an array or memmap with chunked ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Besides invalid input: when a column of ``X`` or ``y`` has a root mean
            square above :data:`~skmle.estimators.linear_fit.LARGEST_DATA`
            (:math:`10^{153}`) or, not zero, below
            :data:`~skmle.estimators.linear_fit.SMALLEST_DATA`
            (:math:`10^{-153}`), where sums of squares leave the double range
            (rescale: the fit is equivariant), or when the weights sum beyond it.
        """
        return self._fit_regression(X, y, sample_weight)

    def _fit_regression(self, X, y, sample_weight=None, groups=None):
        """``fit`` on one BLAS thread, the moments of ``partial_fit`` reset."""
        self._moments = None
        # Tall, thin products throughout: see skmle._blas.
        with single_blas_thread():
            return self._fit(X, y, sample_weight, groups)

    def _fit_batch(self, X, y=None, sample_weight=None) -> Batch:
        batch = super()._fit_batch(X, y, sample_weight)
        with np.errstate(over="ignore"):
            total = float(np.sum(batch.sample_weight))
        if not np.isfinite(total):
            raise ValueError(
                f"{type(self).__name__}: sample_weight sums to more than the largest "
                "double (1.8e308). Divide the weights by a constant: the fitted "
                "parameters do not change (loglik_ scales by the same factor)."
            )
        return batch

    def _validate_fit_data(self, X, y):
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            y_numeric=True,
            multi_output=False,
            accept_sparse=self._accept_sparse,
        )
        # y_numeric keeps booleans and integers as they are; the fit needs floats.
        return X, np.asarray(y, dtype=np.float64)

    def _make_model(self, batch: Batch):
        return self._model_class(batch.X.shape[1], self.fit_intercept)

    def _make_objective(self, batches) -> LinearObjective:
        return LinearObjective(self.model_, batches, type(self).__name__)

    def _scoring_batch(self, X, y=None, sample_weight=None) -> Batch:
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.log_likelihood needs the targets y: the "
                "model is a density of y given X."
            )
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            y_numeric=True,
            multi_output=False,
            reset=False,
            accept_sparse=self._accept_sparse,
        )
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, np.asarray(y, dtype=np.float64), sample_weight)

    def _set_theta(self, theta) -> None:
        coef, intercept, log_scale = self.model_.unpack(theta)
        self.coef_ = np.array(coef)
        self.intercept_ = float(intercept)
        self._set_scale(float(np.exp(log_scale)))

    def _run_solver(self, objective: LinearObjective, theta0) -> OptimizeResult:
        _ = objective.stats  # refuses data out of the double range before any solver
        return super()._run_solver(objective, theta0)

    def _run_generic_solver(self, objective: LinearObjective, theta0) -> OptimizeResult:
        """The mixin's solvers, with the scale floored where they drove it to zero
        (the data are interpolated)."""
        result = super()._run_generic_solver(objective, theta0)
        log_floor = np.log(objective.scale_floor)
        theta = np.array(result.theta, dtype=float)
        index = objective.model.log_scale_index()
        if not theta[index] < log_floor:
            return result
        objective.floored_scale(float(np.exp(theta[index])), stacklevel=7)
        theta[index] = log_floor
        value = objective.value(theta)
        history = np.append(result.history[:-1], value)
        return dataclasses.replace(result, theta=theta, value=value, history=history)

    def _store_result(self, result: OptimizeResult, objective: LinearObjective) -> None:
        super()._store_result(result, objective)
        # partial_fit continues from the rows this fit saw.
        self._moments = objective.moments

    # -- inference -------------------------------------------------------------------
    def _inference_blocks(self):
        d = self.model_.n_features
        blocks = {"coef": np.arange(d)}
        if self.fit_intercept:
            blocks["intercept"] = np.array([d])
        return blocks

    def _parameter_labels(self, name: str, size: int, feature_names=None) -> list[str]:
        if name == "intercept":
            return ["intercept"]
        return super()._parameter_labels(name, size, feature_names)

    def _wald_spec(self, objective: LinearObjective, result: OptimizeResult):
        """:math:`v (X_1^\\top W X_1)^{-1}`, :math:`v` the noise's variance factor
        (:meth:`_coef_variance_factor`), from the factor the solver left in
        ``result.learned`` or a new one."""
        stats_ = objective.stats
        factor = result.learned.extras.get("gram_factor")
        variance = self._coef_variance_factor()

        def information():
            found = factor if factor is not None else gram_factor(objective)
            return location_information(
                found,
                stats_.x_mean,
                objective.total_weight,
                self.fit_intercept,
                variance,
            )

        return WaldSpec(
            information,
            self._inference_blocks(),
            transform=intercept_last if self.fit_intercept else None,
            singular_message=(
                f"{type(self).__name__}: X^T W X is singular (collinear or constant "
                "columns, or fewer samples than features), so the coefficients are "
                "not identified: standard errors are set to NaN."
            ),
        )

    def _score_rows(self, objective: LinearObjective, result: OptimizeResult):
        """:func:`location_scores` at the fit, in the information's coordinates."""
        return partial(location_scores, model=objective.model, theta=self.theta_)

    # -- prediction ------------------------------------------------------------------
    @rowwise
    def predict(self, X):
        """Predicted mean :math:`x^\\top \\hat w + \\hat b` of ``y`` given ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array (the result is then a lazy Dask array with ``X``'s
            row chunks) or :func:`skmle.chunked` data (computed chunk by chunk).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_for_scoring(X)
        return X @ self.coef_ + self.intercept_

    def predict_dist(self, X):
        """Predictive distribution of ``y`` for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scipy.stats frozen distribution
            Vectorised over rows: ``.mean()``, ``.ppf(q)``, ``.logpdf(y)`` ...
            return arrays of shape (n_samples,).
        """
        return self._distribution(loc=self.predict(X), scale=self._dist_scale())

    @rowwise
    def predict_interval(self, X, alpha: float = 0.05, kind: str = "plugin"):
        """Central ``1 - alpha`` interval for each row: of ``y`` or of its mean.

        ``kind`` says which (the names of statsmodels' ``summary_frame``
        columns ``mean_ci_*`` and ``obs_ci_*`` in brackets):

        ``"plugin"`` (the default)
            Between the ``alpha/2`` and ``1 - alpha/2`` quantiles of the fitted
            noise around the prediction, the estimates taken as known (a plug-in
            interval, :meth:`predict_dist`); too narrow in small samples.
        ``"mean"`` (``mean_ci_*``)
            A confidence interval for the mean (the median, for Laplace noise)
            :math:`x_1^\\top \\beta`: :math:`\\hat y \\pm q\\, \\mathrm{se}`,
            :math:`\\mathrm{se}^2 = x_1^\\top V x_1` with :math:`V` =
            ``params_cov_`` (of ``cov_type``; exact for a linear function).
        ``"observation"`` (``obs_ci_*``)
            A prediction interval for a new observation, which adds the
            uncertainty of the estimates to the noise, independent of it:
            Gaussian noise gives :math:`\\hat y \\pm q \\sqrt{\\mathrm{se}^2 +
            \\hat\\sigma^2}`; Laplace noise the central quantiles of
            :math:`\\hat y + N(0, \\mathrm{se}^2) + \\mathrm{Laplace}(0, \\hat s)`
            (:func:`~skmle.inference.prediction.normal_laplace_cdf`); Student's t
            noise those of :math:`\\hat y + N(0, \\mathrm{se}^2) + \\hat s
            T_{\\hat\\nu}` (:func:`~skmle.inference.normal_t.normal_t_cdf_pdf`).

        :math:`q` is the standard normal's ``1 - alpha/2`` quantile, or
        Student's t's with the residual degrees of freedom where the estimator
        has an exact small-sample inference
        (``LinearGaussianRegressor(inference="exact")``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array (the result is then a Dask array) or
            :func:`skmle.chunked` data.
        alpha : float, default=0.05
            In (0, 1); NumPy scalars such as ``np.float32(0.1)`` are accepted.
        kind : {"plugin", "mean", "observation"}, default="plugin"

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Lower and upper limits; NaN for ``"mean"`` and ``"observation"``
            where the standard errors are undefined (``params_cov_`` NaN).
        """
        real = isinstance(alpha, Real) and not isinstance(alpha, bool | np.bool_)
        if not (real and 0 < alpha < 1):
            raise ValueError(
                f"alpha must be a real number in (0, 1) (a Python or NumPy float), "
                f"got {alpha!r}."
            )
        alpha = float(alpha)
        check_kind(kind)
        if kind == "plugin":
            lower, upper = self.predict_dist(X).interval(1.0 - alpha)
            return np.column_stack([lower, upper])
        check_is_fitted(self)
        X = self._validate_for_scoring(X)
        eta = X @ self.coef_ + self.intercept_
        se = linear_predictor_se(
            design_rows(X, self.fit_intercept), self._location_covariance()
        )
        if kind == "mean":
            return mean_interval(eta, se, alpha, self._interval_df())
        return self._observation_interval(eta, se, alpha)

    def _location_covariance(self) -> np.ndarray:
        """The covariance of ``[coef, intercept]``, in that order: the leading
        block of the inference path's covariance (:meth:`_inference_blocks`'
        order, whatever order ``params_cov_`` reports; a noise with more
        parameters has them after it)."""
        p = self.model_.n_features + int(self.fit_intercept)
        return self.__dict__["_params_cov"].matrix()[:p, :p]

    def _interval_df(self) -> float | None:
        """Degrees of freedom of t for the intervals; None for the normal."""
        return None

    def _observation_interval(self, eta, se, alpha: float) -> np.ndarray:
        """The interval of a new observation given the predicted means ``eta``
        and their standard errors ``se``: the noise of the model convolved with
        :math:`N(0, \\mathrm{se}^2)`, for a noise that has it."""
        raise ValueError(
            f"{type(self).__name__}.predict_interval has no kind='observation' "
            "yet (the convolution of its noise with the estimate's normal error); "
            "use kind='plugin' or kind='mean'."
        )
