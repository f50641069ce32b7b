"""Linear regression by maximum likelihood: Gaussian noise and Laplace noise.

The two estimators share everything but the noise model: validation, the
parameter layout, prediction (the mean, a frozen ``scipy.stats`` distribution,
central intervals), R^2 scoring, standard errors from
:math:`X_1^\\top \\mathrm{diag}(w) X_1` and the treatment of data that a line fits
exactly. Each adds its own exact solver: least squares by Cholesky for
:class:`LinearGaussianRegressor` (Householder QR when Cholesky is unreliable,
:mod:`skmle.models.qr_least_squares`), least absolute deviations by linear
programming on centred, scaled data for :class:`LaplaceRegressor`.

Data larger than memory (a Dask array, :func:`skmle.chunked` data) reaches the
estimators only through sums over its chunks: one pass of
:class:`~skmle.models.linear.LinearMoments` gives the normal equations, the
scale floor and the standard errors; the QR route merges per-chunk triangular
factors; Laplace's exact solver gathers only the band of rows near the fit
(:func:`skmle.optim.lad.banded_lad`).

Scale-free numerics: the scale floor is relative to the centred spread of ``y``
(:func:`scale_floor`), the LP sees centred, scaled, normalised rows
(:class:`~skmle.optim.lad.LADScaling`), and data whose squares leave the double
range are refused with a ValueError (:func:`_check_magnitudes`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial
from numbers import Real

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from skmle._blas import single_blas_thread
from skmle._sklearn_compat import (
    StrOptions,
    check_sample_weight,
    validate_data,
    validating_chunk,
)
from skmle.data import rowwise
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.models.base import Batch
from skmle.models.laplace import LaplaceLogLikelihood
from skmle.models.linear import LinearMoments
from skmle.models.linear_gaussian import (
    LinearGaussianLogLikelihood,
    inverse_from_factor,
    min_norm_from_normal_equations,
    solve_normal_equations,
)
from skmle.models.qr_least_squares import (
    QRSolution,
    TriangularFactor,
    corrected_coef,
    gradient_sums,
    solve_triangular_factor,
)
from skmle.optim import OptimizeResult
from skmle.optim.lad import (
    LADResult,
    LADScaling,
    band_sums,
    banded_lad,
    check_sums,
    irls_sums,
    key_bucket,
    key_histogram,
    least_absolute_deviations,
    relative_duality_gap,
    select_by_passes,
    subgradient_lad_by_sums,
    subgradient_sums,
    weighted_median,
)

SCALE_FLOOR = np.sqrt(np.finfo(float).eps)
"""The noise scale is floored at this times the weighted standard deviation of ``y``
(:func:`scale_floor`): a fitted scale below it means :math:`1 - R^2 < \\epsilon`, residuals
that are zero to rounding."""

MIN_SCALE = np.sqrt(np.finfo(float).tiny)
"""No floor is below this (about :math:`1.5 \\times 10^{-154}`), so that the variance
:math:`\\sigma^2` is still a normal double."""


CONSTANT_RTOL = 64.0
"""``y`` (or a column of ``X``) counts as constant when its standard deviation is at
most this many machine epsilons times its root mean square (the moments' corrected two-pass sum of squares
leaves a constant ``y`` far below that; NIST's SmLs09, with 13 constant leading
digits, is at 600)."""


def scale_floor(y_std: float, y_rms: float) -> float:
    """The smallest noise scale a fit may report, from the spread of ``y``.

    :math:`\\sqrt{\\epsilon}` times the weighted, centred standard deviation
    ``y_std`` of ``y``, so that shifting ``y`` leaves it alone and scaling ``y``
    scales it. When ``y`` is constant to rounding (``y_std`` at most
    :data:`CONSTANT_RTOL` :math:`\\epsilon` times the root mean square ``y_rms``)
    the floor is
    :math:`\\sqrt{\\epsilon}` times ``y_rms`` instead (:math:`\\sqrt{\\epsilon}`
    when ``y`` is all zero); never below :data:`MIN_SCALE`.

    Examples
    --------
    >>> bool(scale_floor(0.1, 1e12) == scale_floor(0.1, 0.2))  # shift-invariant
    True
    """
    eps = np.finfo(float).eps
    if y_std > CONSTANT_RTOL * eps * y_rms:
        spread = y_std
    else:
        spread = y_rms if y_rms > 0 else 1.0
    return max(SCALE_FLOOR * spread, MIN_SCALE)


@dataclass(frozen=True)
class _DataStats:
    """What a fit needs from the weighted moments of the data.

    ``gram``, ``cross`` and ``square`` are the normal equations
    :math:`(G, c, s)` of :meth:`LinearMoments.normal_equations`: centred with an
    intercept (then ``x_mean``, ``y_mean`` are the weighted means), raw without
    one (then they are zero).
    """

    x_mean: np.ndarray
    y_mean: float
    y_var: float
    scale_floor: float
    gram: np.ndarray
    cross: np.ndarray
    square: float


SMALLEST_DATA = 1e-153
"""Columns of ``X`` and ``y`` whose root mean square is below this (and not zero) are
refused: their squares, in the normal equations and the variance, would underflow."""

LARGEST_DATA = 1e153
"""Columns of ``X`` and ``y`` whose root mean square is above this are refused: their
squares would overflow."""


def _check_magnitudes(moments: LinearMoments, name: str) -> None:
    """Raise a ValueError when the data's sums of squares leave the double range.

    From the moments alone (no extra pass): they are not finite when a value of
    ``X`` or ``y`` is beyond about :math:`10^{154}` (its square overflows); a
    root mean square above :data:`LARGEST_DATA` or below :data:`SMALLEST_DATA`
    means squares that overflow or underflow.
    """
    parts = (moments.x_mean, moments.xx, moments.xy, moments.y_mean, moments.yy)
    remedy = (
        "Rescale them (divide or multiply by a power of ten): the fit is "
        "equivariant, coef_ and intercept_ scale back by the same factors."
    )
    finite = all(np.all(np.isfinite(part)) for part in parts)
    with np.errstate(over="ignore", invalid="ignore"):
        x_std = np.sqrt(np.abs(np.diag(moments.xx)) / moments.weight)
        x_rms = np.hypot(x_std, moments.x_mean)
        y_std = np.sqrt(abs(moments.yy) / moments.weight)
        y_rms = float(np.hypot(y_std, moments.y_mean))
    if not (finite and np.all(x_rms <= LARGEST_DATA) and y_rms <= LARGEST_DATA):
        raise ValueError(
            f"{name}: X or y has values too large for a least-squares fit in double "
            f"precision (root mean square above {LARGEST_DATA:g}: their squares "
            f"overflow). {remedy}"
        )
    small = (x_rms > 0) & (x_rms < SMALLEST_DATA)
    tiny = [f"column {j} of X" for j in np.flatnonzero(small)]
    if 0 < y_rms < SMALLEST_DATA:
        tiny.append("y")
    if tiny:
        raise ValueError(
            f"{name}: {', '.join(tiny)} has values too small for a least-squares fit "
            f"in double precision (root mean square below {SMALLEST_DATA:g}: their "
            f"squares underflow). {remedy}"
        )


class _MomentsObjective:
    """The little the fitting hooks need from an objective, for a fit from
    merged moments (``partial_fit``): the data themselves are gone."""

    def __init__(self, moments: LinearMoments):
        self.moments = moments
        self.total_weight = moments.weight


def _in_memory(objective) -> bool:
    """Whether the objective's batches are a list of in-memory batches."""
    return isinstance(getattr(objective, "batches", None), list)


class _LinearRegressorBase(GradientAscentMixin, RegressorMixin, BaseEstimator):
    """What the two regressors share; subclasses set the model and the scale."""

    _model_class: type
    _distribution = None  # scipy.stats family of the noise

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
            square above :data:`LARGEST_DATA` (:math:`10^{153}`) or, not zero,
            below :data:`SMALLEST_DATA` (:math:`10^{-153}`), where sums of squares
            leave the double range (rescale: the fit is equivariant), or when the
            weights sum beyond it.
        """
        self._gram_factor = None
        self._moments = None
        try:
            # Tall, thin products throughout: see skmle._blas.
            with single_blas_thread():
                return self._fit(X, y, sample_weight)
        finally:
            # drop the references to the training data
            self._stats = None
            self._median = None

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
            self, X, y, dtype=np.float64, y_numeric=True, multi_output=False
        )
        # y_numeric keeps booleans and integers as they are; the fit needs floats.
        return X, np.asarray(y, dtype=np.float64)

    def _make_model(self, batch: Batch):
        return self._model_class(batch.X.shape[1], self.fit_intercept)

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
        )
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, np.asarray(y, dtype=np.float64), sample_weight)

    def _validate_for_scoring(self, X):
        return validate_data(self, X, dtype=np.float64, reset=False)

    def _set_theta(self, theta) -> None:
        coef, intercept, log_scale = self.model_.unpack(theta)
        self.coef_ = np.array(coef)
        self.intercept_ = float(intercept)
        self._set_scale(float(np.exp(log_scale)))

    # -- weighted summaries of the data, computed once per fit -----------------------
    def _data_stats(self, objective) -> _DataStats:
        """The data's moments (one pass, cached for the objective)."""
        cached = getattr(self, "_stats", None)
        if cached is not None and cached[0] is objective:
            return cached[1]
        if isinstance(objective, _MomentsObjective):
            moments = objective.moments
        else:
            moments = objective.sum_batches(LinearMoments.from_batch)
        self._moments = moments
        _check_magnitudes(moments, type(self).__name__)
        total = moments.weight
        gram, cross, square = moments.normal_equations(self.fit_intercept)
        if self.fit_intercept:
            x_mean, y_mean = moments.x_mean, moments.y_mean
            # A column constant to rounding error (0.05 repeated: its centred
            # values are +-1e-18, not 0) carries no direction: its centred
            # spread is made exactly zero, so that every route sees a zero
            # column and gives it the minimum-norm coefficient 0.
            eps = np.finfo(float).eps
            constant = np.diag(gram) <= total * (CONSTANT_RTOL * eps * x_mean) ** 2
            if np.any(constant):
                gram, cross = gram.copy(), cross.copy()
                gram[constant, :] = 0.0
                gram[:, constant] = 0.0
                cross[constant] = 0.0
        else:
            x_mean, y_mean = np.zeros(moments.x_mean.shape[0]), 0.0
        # The centred spread of y sets the scale floor; its root mean square
        # (uncentred) tells whether that spread is only rounding.
        y_std = float(np.sqrt(max(moments.yy / total, 0.0)))
        y_rms = float(np.hypot(y_std, moments.y_mean))
        stats_ = _DataStats(
            x_mean=x_mean,
            y_mean=float(y_mean),
            y_var=square / total,
            scale_floor=scale_floor(y_std, y_rms),
            gram=gram,
            cross=cross,
            square=float(square),
        )
        self._stats = (objective, stats_)
        return stats_

    def _centring(self, objective) -> tuple[np.ndarray, float]:
        stats_ = self._data_stats(objective)
        return stats_.x_mean, stats_.y_mean

    # -- the scale floor, where a line fits the data exactly -------------------------
    def _scale_floor(self, objective) -> float:
        return self._data_stats(objective).scale_floor

    def _floored_scale(self, scale: float, objective) -> float:
        """``scale``, or the floor with a warning when the fit is (nearly) exact."""
        floor = self._scale_floor(objective)
        if scale >= floor:
            return scale
        warnings.warn(
            f"{type(self).__name__}: the fitted line passes through every sample "
            "(residuals are zero to rounding error, as happens with no more distinct "
            "samples than parameters or a constant y), so the likelihood is "
            f"unbounded as the noise scale goes to zero. The scale is floored at "
            f"{floor:.3g} (sqrt(machine epsilon) times the standard deviation of y); "
            "the coefficients are the minimum-norm interpolant.",
            UserWarning,
            stacklevel=5,
        )
        return floor

    def _run_solver(self, objective, theta0) -> OptimizeResult:
        self._data_stats(objective)  # refuses data out of the double range first
        result = super()._run_solver(objective, theta0)
        log_floor = np.log(self._scale_floor(objective))
        theta = np.asarray(result.theta, dtype=float)
        if not theta[-1] < log_floor:
            return result
        # A generic solver drove the scale towards zero: the data are interpolated.
        self._floored_scale(float(np.exp(theta[-1])), objective)
        theta = theta.copy()
        theta[-1] = log_floor
        value = objective.value(theta)
        history = np.append(result.history[:-1], value)
        return OptimizeResult(
            theta, value, history, result.n_iter, result.converged, result.message
        )

    # -- shared numerics -------------------------------------------------------------
    def _least_squares(self, objective) -> tuple[np.ndarray, float, str]:
        """Weighted least squares: Cholesky of the centred normal equations.

        When :func:`solve_normal_equations` declines (the equilibrated normal
        matrix is singular or its estimated reciprocal condition number is below
        :data:`~skmle.models.linear_gaussian.RCOND_MIN`), the rows are reduced by
        Householder QR instead (:mod:`skmle.models.qr_least_squares`): rank
        decided on the centred, unit-norm columns, one corrected semi-normal
        step when the rank is full, the minimum-norm solution when it is not.
        ``partial_fit``, which keeps only the moments, takes the minimum-norm
        solution from the eigendecomposition of the normal matrix instead.
        """
        stats_ = self._data_stats(objective)
        x_mean, y_mean = stats_.x_mean, stats_.y_mean
        solved = solve_normal_equations(stats_.gram, stats_.cross)
        if solved is not None:
            coef, self._gram_factor = solved
            route = "Cholesky"
        elif isinstance(objective, _MomentsObjective):
            coef = min_norm_from_normal_equations(stats_.gram, stats_.cross)
            route = "eigendecomposition of X^T W X (minimum norm)"
        else:
            coef, y_mean, route = self._qr_least_squares(objective, stats_)
        return coef, y_mean - float(x_mean @ coef), route

    def _qr_least_squares(self, objective, stats_) -> tuple[np.ndarray, float, str]:
        """The QR route of :meth:`_least_squares`: coefficients, centre of ``y``, route."""
        solution = self._qr_solution(objective)
        self._gram_factor = solution
        y_mean = stats_.y_mean
        if not solution.full_rank:
            d = solution.x_scale.shape[0]
            return (
                solution.coef,
                y_mean,
                f"QR (rank {solution.rank} of {d}, minimum norm)",
            )
        sums = objective.sum_batches(
            partial(
                gradient_sums,
                x_mean=stats_.x_mean,
                y_mean=y_mean,
                coef=solution.coef,
            )
        )
        coef, offset = corrected_coef(
            solution, sums, objective.total_weight, self.fit_intercept
        )
        return coef, y_mean + offset, "Householder QR"

    def _qr_solution(self, objective) -> QRSolution:
        """Householder QR of the centred, unit-norm, weighted rows (one pass)."""
        stats_ = self._data_stats(objective)
        diagonal = np.diag(stats_.gram)
        # A constant column (zero centred spread, see _data_stats) is divided by
        # an infinite scale: its rounding noise becomes an exact zero column.
        x_scale = np.where(diagonal > 0, np.sqrt(np.abs(diagonal)), np.inf)
        factor = objective.sum_batches(
            partial(
                TriangularFactor.from_batch,
                x_mean=stats_.x_mean,
                y_mean=stats_.y_mean,
                x_scale=x_scale,
            )
        )
        return solve_triangular_factor(factor, x_scale)

    def _n_parameters(self) -> int:
        return int(self.model_.n_params)

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

    def _standard_errors(self, objective):
        """:math:`\\hat s^2 (X_1^\\top W X_1)^{-1}`, by blocks of the centred design.

        With :math:`G = \\sum_i w_i (x_i - \\bar x)(x_i - \\bar x)^\\top`, the
        coefficient block of :math:`(X_1^\\top W X_1)^{-1}` is :math:`G^{-1}` and the
        intercept's entry is :math:`1/W + \\bar x^\\top G^{-1} \\bar x`.
        """
        stats_ = self._data_stats(objective)
        gram, x_mean = stats_.gram, stats_.x_mean
        factor = getattr(self, "_gram_factor", None)
        if factor is None:
            # Ill-conditioned is fine here (large errors are the honest answer);
            # singular to working precision is not.
            eps = np.finfo(float).eps
            solved = solve_normal_equations(
                gram, np.zeros(gram.shape[0]), rcond_min=gram.shape[0] * eps
            )
            if solved is not None:
                factor = solved[1]
            elif not isinstance(objective, _MomentsObjective):
                factor = self._qr_solution(objective)
        if factor is None or (isinstance(factor, QRSolution) and not factor.full_rank):
            warnings.warn(
                f"{type(self).__name__}: X^T W X is singular (collinear or constant "
                "columns, or fewer samples than features), so the coefficients are "
                "not identified: standard errors are set to NaN.",
                UserWarning,
                stacklevel=4,
            )
            return {
                name: np.full(len(idx), np.nan)
                for name, idx in self._inference_blocks().items()
            }
        variance = self._coef_variance_factor()
        if isinstance(factor, QRSolution):
            diagonal = factor.inverse_diagonal()
            spread = factor.quadratic_form(x_mean)
        else:
            inverse = inverse_from_factor(factor)
            diagonal = np.diag(inverse)
            spread = x_mean @ inverse @ x_mean
        errors = {"coef": np.sqrt(variance * diagonal)}
        if self.fit_intercept:
            intercept_var = 1.0 / objective.total_weight + spread
            errors["intercept"] = np.sqrt([variance * intercept_var])
        return errors

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
    def predict_interval(self, X, alpha: float = 0.05):
        """Central ``1 - alpha`` predictive interval of ``y`` for each row.

        The interval is between the ``alpha/2`` and ``1 - alpha/2`` quantiles of
        the fitted noise around the prediction; it ignores the uncertainty of the
        coefficients (a plug-in interval).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array (the result is then a Dask array) or
            :func:`skmle.chunked` data.
        alpha : float, default=0.05
            In (0, 1); NumPy scalars such as ``np.float32(0.1)`` are accepted.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Lower and upper limits.
        """
        real = isinstance(alpha, Real) and not isinstance(alpha, bool | np.bool_)
        if not (real and 0 < alpha < 1):
            raise ValueError(
                f"alpha must be a real number in (0, 1) (a Python or NumPy float), "
                f"got {alpha!r}."
            )
        alpha = float(alpha)
        lower, upper = self.predict_dist(X).interval(1.0 - alpha)
        return np.column_stack([lower, upper])


# -- the sums of one batch, sent to where the batch lives (module level: picklable) ------
def _squared_residual_sum(batch: Batch, coef, intercept) -> float:
    return float(batch.sample_weight @ np.square(batch.y - batch.X @ coef - intercept))


def _absolute_residual_sum(batch: Batch, coef, intercept) -> float:
    return float(batch.sample_weight @ np.abs(batch.y - batch.X @ coef - intercept))


def _design(batch: Batch, fit_intercept: bool) -> np.ndarray:
    X = batch.X
    return np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else X


def _lp_rows(batch: Batch, fit_intercept: bool, scaling: LADScaling | None):
    """The design, ``y`` and weights of a batch as the LAD solver sees them."""
    design = _design(batch, fit_intercept)
    if scaling is None:
        return design, batch.y, batch.sample_weight
    return scaling.rows(design, batch.y, batch.sample_weight)


def _spread_batch(batch: Batch, centre: float) -> tuple[float, int]:
    """:math:`\\sum_i w_i |y_i - m|` and the number of rows of positive weight."""
    w = batch.sample_weight
    return float(w @ np.abs(batch.y - centre)), int(np.count_nonzero(w > 0))


def _irls_batch(batch: Batch, coef, floor, fit_intercept, scaling=None):
    return irls_sums(*_lp_rows(batch, fit_intercept, scaling), coef, floor)


def _band_batch(batch: Batch, coef, threshold, fit_intercept, scaling=None):
    return band_sums(*_lp_rows(batch, fit_intercept, scaling), coef, threshold)


def _check_batch(batch: Batch, coef, threshold, candidate, fit_intercept, scaling=None):
    rows = _lp_rows(batch, fit_intercept, scaling)
    return check_sums(*rows, coef, threshold, candidate)


def _rows_batch(batch: Batch, fit_intercept, scaling=None):
    design, y, w = _lp_rows(batch, fit_intercept, scaling)
    positive = w > 0
    return [design[positive]], [y[positive]], [w[positive]]


def _values(batch: Batch, coef, fit_intercept, scaling=None) -> np.ndarray:
    """``y``, or the absolute residuals of the design coefficients ``coef``."""
    if coef is None:
        return batch.y
    design, y, _ = _lp_rows(batch, fit_intercept, scaling)
    return np.abs(y - design @ coef)


def _histogram_batch(
    batch: Batch, coef, fit_intercept, by_count, prefix, level, scaling=None
):
    w = batch.sample_weight
    masses = (w > 0).astype(float) if by_count else w
    values = _values(batch, coef, fit_intercept, scaling)
    return key_histogram(values, masses, prefix, level)


def _bucket_batch(batch: Batch, coef, fit_intercept, prefix, level):
    values = _values(batch, coef, fit_intercept)
    w = batch.sample_weight
    rows = key_bucket(values, w, prefix, level)
    return [values[rows]], [w[rows]]


def _subgradient_batch(batch: Batch, coef, intercept):
    return subgradient_sums(batch.X, batch.y, batch.sample_weight, coef, intercept)


class _LADPassesOverBatches:
    """:class:`skmle.optim.lad.LADPasses` through ``objective.sum_batches``: each method
    is one pass over the batches, wherever they are stored."""

    def __init__(self, objective, fit_intercept: bool, scaling=None):
        self.objective = objective
        self.fit_intercept = fit_intercept
        self.scaling = scaling  # LADScaling of the rows the LP sees, or None

    def sum_batches(self, function, **arguments):
        per_batch = partial(function, fit_intercept=self.fit_intercept, **arguments)
        return self.objective.sum_batches(per_batch)

    def _scaled_sum(self, function, **arguments):
        return self.sum_batches(function, scaling=self.scaling, **arguments)

    def irls_system(self, coef, floor):
        return self._scaled_sum(_irls_batch, coef=coef, floor=floor)

    def threshold(self, coef, n_rows):
        def histogram(prefix, level):
            return self._scaled_sum(
                _histogram_batch, coef=coef, by_count=True, prefix=prefix, level=level
            )

        return select_by_passes(histogram, None, n_rows)

    def band(self, coef, threshold):
        X, y, w, rhs = self._scaled_sum(_band_batch, coef=coef, threshold=threshold)
        return np.concatenate(X), np.concatenate(y), np.concatenate(w), rhs

    def check(self, coef, threshold, candidate):
        n_flipped, reach, objective = self._scaled_sum(
            _check_batch, coef=coef, threshold=threshold, candidate=candidate
        )
        return n_flipped, float(np.max(np.concatenate(reach), initial=0.0)), objective

    def all_rows(self):
        X, y, w = self._scaled_sum(_rows_batch)
        return np.concatenate(X), np.concatenate(y), np.concatenate(w)

    def weighted_median_of_y(self) -> float:
        def histogram(prefix, level):
            return self.sum_batches(
                _histogram_batch, coef=None, by_count=False, prefix=prefix, level=level
            )

        def gather(prefix, level):
            values, masses = self.sum_batches(
                _bucket_batch, coef=None, prefix=prefix, level=level
            )
            return np.concatenate(values), np.concatenate(masses)

        return select_by_passes(histogram, gather, 0.5 * self.objective.total_weight)


def _gaussian_mean_loglik(mean_square: float, sigma: float) -> float:
    """Mean Gaussian log-density of residuals with mean square ``mean_square``."""
    return float(
        -0.5 * np.log(2.0 * np.pi) - np.log(sigma) - 0.5 * mean_square / sigma**2
    )


def _stacked(objective) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All rows of the objective's in-memory batches as one X, y and sample_weight."""
    if not _in_memory(objective):
        raise TypeError(
            "The rows of a Dask array or of skmle.chunked data are not gathered in "
            "memory: compute what is needed through objective.sum_batches."
        )
    batches = objective.batches
    if len(batches) == 1:
        b = batches[0]
        return b.X, b.y, b.sample_weight
    return (
        np.vstack([b.X for b in batches]),
        np.concatenate([b.y for b in batches]),
        np.concatenate([b.sample_weight for b in batches]),
    )


class LinearGaussianRegressor(_LinearRegressorBase):
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
        floored there (see :func:`scale_floor`; a shift of ``y`` does not move
        the floor).
    coef_se_ : ndarray of shape (n_features,)
        Standard errors from the inverse observed information,
        :math:`\\hat\\sigma^2 (X_1^\\top W X_1)^{-1}` with :math:`X_1 = [X, 1]` and the
        MLE :math:`\\hat\\sigma^2`. They are smaller than statsmodels' OLS ``bse`` by
        the factor :math:`\\sqrt{(n-p)/n}`. NaN, with a warning, when
        :math:`X_1^\\top W X_1` is singular.
    intercept_se_ : float
        Defined when ``fit_intercept=True``.
    theta_ : ndarray of shape (n_params,)
        ``[coef, intercept, log sigma]`` (see :mod:`skmle.models.linear`).
    loglik_ : float
        Total weighted training log-likelihood (statsmodels' ``llf``).
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

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"closed_form", *GENERIC_SOLVERS})],
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
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start

    def _set_scale(self, scale: float) -> None:
        self.sigma2_ = scale**2

    def _dist_scale(self) -> float:
        return float(np.sqrt(self.sigma2_))

    def _coef_variance_factor(self) -> float:
        return self.sigma2_

    def _initial_theta(self, objective) -> np.ndarray:
        _, y_mean = self._centring(objective)
        floor = self._scale_floor(objective)
        scale = max(float(np.sqrt(self._y_variance(objective))), floor)
        return self.model_.pack(np.zeros(self.model_.n_features), y_mean, np.log(scale))

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
            self._gram_factor = None
            objective = _MomentsObjective(moments)
            try:
                self._store_result(self._solve_closed_form(objective, None), objective)
            finally:
                self._stats = None
        return self

    def _solve_closed_form(self, objective, theta0) -> OptimizeResult:
        coef, intercept, route = self._least_squares(objective)
        self.solver_route_ = route
        if isinstance(objective, _MomentsObjective):
            stats_ = self._data_stats(objective)
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
            rss = objective.sum_batches(
                partial(_squared_residual_sum, coef=coef, intercept=intercept)
            )
        total = objective.total_weight
        sigma = self._floored_scale(float(np.sqrt(rss / total)), objective)
        theta = self.model_.pack(coef, intercept, np.log(sigma))
        value = _gaussian_mean_loglik(rss / total, sigma)
        # The start of the gradient solvers (w = 0, b = mean of y) has residual
        # variance var(y): its log-likelihood needs no pass over X.
        start = self._initial_theta(objective)
        start_sigma = float(np.exp(start[-1]))
        start_value = _gaussian_mean_loglik(self._y_variance(objective), start_sigma)
        return OptimizeResult(
            theta=theta,
            value=value,
            history=np.array([start_value, value]),
            n_iter=1,
            converged=True,
            message=f"closed form ({route})",
        )

    def _y_variance(self, objective) -> float:
        return self._data_stats(objective).y_var


class LaplaceRegressor(_LinearRegressorBase):
    """Linear regression with Laplace noise (median regression) by maximum likelihood.

    The model is :math:`y = x^\\top w + b + e`, :math:`e \\sim \\mathrm{Laplace}(0,
    s)`, with log-likelihood

    .. math:: \\ell(w, b, s) = -W\\log(2s) - \\frac{1}{s}\\sum_i w_i
       |y_i - x_i^\\top w - b| .

    For any :math:`s` the maximiser in :math:`(w, b)` is the weighted
    least-absolute-deviation fit, which is robust to outliers in ``y``; then
    :math:`\\hat s` is the weighted mean absolute residual.

    Parameters
    ----------
    fit_intercept : bool, default=True
    solver : {"lp", "gd"}, default="lp"
        ``"lp"`` reaches the exact optimum: least absolute deviations is a linear
        program, solved with HiGHS through :func:`scipy.optimize.linprog` on its
        dual (which has one equality row per coefficient), on rows centred,
        scaled and with weights of mean one (:class:`~skmle.optim.lad.LADScaling`;
        the answer is mapped back), and HiGHS's answer is accepted only when its
        primal and dual objectives agree (else a ValueError). Above 1,000 rows (and
        20 per coefficient), iteratively reweighted least squares gets close first
        and only a band of rows near the fit enters the LP, the others being fixed
        on their side of it; the solution is checked and the band widened until
        no fixed row changes side, so the result is still exact (see
        :func:`skmle.optim.lad.least_absolute_deviations`). ``"gd"`` is
        subgradient ascent with steps decaying like :math:`1/k` on standardised
        features (:func:`skmle.optim.lad.subgradient_lad_by_sums`): the textbook
        method for a non-smooth log-likelihood, slower and approximate (to
        ``tol``), kept for teaching.
        The smooth-objective solvers (L-BFGS, Newton) do not apply: the gradient
        jumps at every kink and the Hessian is zero almost everywhere.
    learning_rate : float or "auto", default="auto"
        Initial step :math:`\\gamma` of ``solver="gd"``, in units of the current
        mean absolute residual; ``"auto"`` means 1.0. Only a start: the step
        doubles while every step improves and halves (back at the best point)
        while none does, so any positive value reaches the optimum.
    max_iter : int, default=1000
        Iterations of ``solver="gd"``.
    tol : float, default=1e-4
        ``solver="gd"`` is converged when a certificate proves its best iterate's
        sum of absolute residuals within ``tol`` (relative) of the optimum: every
        50 iterations and at the end, a dual feasible point is built from the
        signs of the residuals and a small LP on the rows nearest the fit, and
        the duality gap it gives bounds the distance to the optimum
        (:func:`skmle.optim.lad.relative_duality_gap`). If ``max_iter`` ends the
        fit first, ``converged_`` is False and a ``ConvergenceWarning`` gives the
        gap reached (raise ``max_iter`` or ``tol``, or use ``solver="lp"``).
    verbose : int, default=0
    warm_start : bool, default=False
        Start ``solver="gd"`` from the previous fit.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        0.0 when ``fit_intercept=False``.
    scale_ : float
        :math:`\\hat s = \\sum_i w_i |r_i| / W`. When the fit passes through every
        sample the likelihood is unbounded; when :math:`\\hat s` is below
        :math:`\\sqrt{\\epsilon}` times the weighted standard deviation of ``y``
        (:func:`scale_floor`) a warning is issued, ``scale_`` is floored there,
        and the coefficients are the minimum-norm interpolant (the
        least-squares solution), the same whether rows are repeated or weighted.
        Where the optimum is not unique otherwise (a flat edge of the LP, such as
        an even number of equally weighted samples in an intercept-only fit) the
        solver returns one basic solution: every point of that edge has the same
        likelihood.
    coef_se_ : ndarray of shape (n_features,)
        Asymptotic standard errors from :math:`\\hat s^2 (X_1^\\top W X_1)^{-1}`,
        :math:`X_1 = [X, 1]` (the expected information: the observed one is zero
        almost everywhere). NaN, with a warning, when :math:`X_1^\\top W X_1` is
        singular.
    intercept_se_ : float
        Defined when ``fit_intercept=True``.
    theta_ : ndarray of shape (n_params,)
        ``[coef, intercept, log s]`` (see :mod:`skmle.models.linear`).
    loglik_ : float
        Total weighted training log-likelihood.
    loglik_history_ : ndarray
        For ``"gd"``, shape (n_iter_ + 1,): the log-likelihood of the best iterate
        so far, at the start (:math:`w = 0`, :math:`b` the weighted median of
        ``y``) and after each iteration. For ``"lp"``, shape (2,): at that start
        and at the solution.
    n_iter_ : int
        Subgradient steps for ``"gd"``; 1 for the exact ``"lp"`` (its IRLS steps
        and LP solves are counted in the ``verbose`` message).
    converged_ : bool
        ``"lp"``: True (its optimum is certified by the duality gap of the LP).
        ``"gd"``: True only when the duality-gap rule of ``tol`` holds at the
        returned coefficients.
    n_samples_seen_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import LaplaceRegressor
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> y = np.array([1.0, 3.0, 5.0, 7.0, 9.0, 100.0])  # one outlier
    >>> model = LaplaceRegressor().fit(X, y)
    >>> np.round(model.coef_, 10), round(model.intercept_, 10)
    (array([2.]), 1.0)
    """

    _model_class = LaplaceLogLikelihood
    _distribution = staticmethod(stats.laplace)

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"lp", "gd"})],
    }

    def __init__(
        self,
        fit_intercept=True,
        solver="lp",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-4,
        verbose=0,
        warm_start=False,
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start

    def _set_scale(self, scale: float) -> None:
        self.scale_ = scale

    def _dist_scale(self) -> float:
        return self.scale_

    def _coef_variance_factor(self) -> float:
        return self.scale_**2

    def _y_median(self, objective) -> float:
        """Weighted median of ``y`` (cached for the objective)."""
        cached = getattr(self, "_median", None)
        if cached is not None and cached[0] is objective:
            return cached[1]
        if _in_memory(objective):
            _, y, w = _stacked(objective)
            median = weighted_median(y, w)
        else:
            median = _LADPassesOverBatches(objective, False).weighted_median_of_y()
        self._median = (objective, median)
        return median

    def _initial_theta(self, objective) -> np.ndarray:
        centre = self._y_median(objective) if self.fit_intercept else 0.0
        zeros = np.zeros(self.model_.n_features)
        spread = objective.sum_batches(
            partial(_absolute_residual_sum, coef=zeros, intercept=centre)
        )
        scale = max(spread / objective.total_weight, self._scale_floor(objective))
        return self.model_.pack(zeros, centre, np.log(scale))

    def _result_from_fit(self, objective, coef, intercept, **fields) -> OptimizeResult:
        """Close the fit: the scale in closed form, floored, and the log-likelihood."""
        total = objective.total_weight
        sad = objective.sum_batches(
            lambda b: float(b.sample_weight @ np.abs(b.y - b.X @ coef - intercept))
        )
        scale = self._floored_scale(sad / total, objective)
        theta = self.model_.pack(coef, intercept, np.log(scale))
        value = -np.log(2.0 * scale) - sad / (total * scale)
        history = fields.pop(
            "history",
            np.array([objective.value(self._initial_theta(objective)), value]),
        )
        # The last entry is the returned point (the same number unless the scale
        # was floored or the interpolant replaced).
        history = np.append(history[:-1], value)
        return OptimizeResult(
            theta=theta, value=float(value), history=history, **fields
        )

    def _lad_scaling(self, objective) -> LADScaling:
        """:class:`~skmle.optim.lad.LADScaling` of the design from sums over batches
        (the moments, the weighted median of ``y`` and one more pass)."""
        self._data_stats(objective)
        moments = self._moments
        total = moments.weight
        x_mean, x_std = (
            moments.x_mean,
            np.sqrt(np.maximum(np.diag(moments.xx), 0.0) / total),
        )
        constant = x_std == 0
        if self.fit_intercept:
            # A constant column is not identified beside the intercept: an
            # infinite scale makes it an exact zero column of the LP, and its
            # coefficient the minimum-norm 0.
            eps = np.finfo(float).eps
            flat = x_std <= CONSTANT_RTOL * eps * np.abs(x_mean)
            x_std, constant = np.where(flat, np.inf, x_std), np.zeros_like(flat)
            x_mean, x_std = np.append(x_mean, 1.0), np.append(x_std, 0.0)
            constant = np.append(constant, True)
        centre = self._y_median(objective) if np.any(constant & (x_mean != 0)) else 0.0
        spread, n_rows = objective.sum_batches(partial(_spread_batch, centre=centre))
        return LADScaling.from_summaries(
            x_mean, x_std, constant, centre, spread / total, total / max(n_rows, 1)
        )

    def _solve_lp(self, objective, theta0) -> OptimizeResult:
        d = self.model_.n_features
        if _in_memory(objective):
            X, y, w = _stacked(objective)
            # With an intercept a constant column is not identified: its
            # minimum-norm coefficient is 0, so the LP does without it.
            keep = np.ones(d, dtype=bool)
            if self.fit_intercept:
                keep = np.diag(self._data_stats(objective).gram) > 0
            design = X[:, keep]
            if self.fit_intercept:
                design = np.column_stack([design, np.ones(X.shape[0])])
            lad = least_absolute_deviations(design, y, w)
            full = np.zeros(d + int(self.fit_intercept))
            full[np.append(keep, True)[: full.size]] = lad.coef
            lad = LADResult(full, lad.objective, lad.n_iter, lad.method)
        else:
            scaling = self._lad_scaling(objective)
            passes = _LADPassesOverBatches(objective, self.fit_intercept, scaling)
            scaled = banded_lad(passes, d + int(self.fit_intercept))
            lad = LADResult(
                scaling.coef(scaled.coef),
                scaled.objective * scaling.y_scale * scaling.w_scale,
                scaled.n_iter,
                scaled.method,
            )
        coef = lad.coef[:d]
        intercept = float(lad.coef[-1]) if self.fit_intercept else 0.0
        if lad.objective / objective.total_weight < self._scale_floor(objective):
            # Every interpolant is optimal: return the canonical, minimum-norm one.
            coef, intercept, _ = self._least_squares(objective)
        return self._result_from_fit(
            objective,
            coef,
            intercept,
            n_iter=1,
            converged=True,
            message=f"exact ({lad.method}, {lad.n_iter} IRLS steps and LP solves)",
        )

    def _subgradient_printer(self):
        name = type(self).__name__

        def callback(iteration, theta, value):
            print(f"[{name}] iter {iteration:4d}  mean |residual| {-value:.10g}")

        return callback

    def _gap_certificate(self, objective):
        """``certificate(coef, intercept)`` for :func:`subgradient_lad_by_sums`: the
        relative duality gap of :func:`~skmle.optim.lad.relative_duality_gap` on
        the ``2 p`` rows nearest the fit (three passes over the rows)."""
        passes = _LADPassesOverBatches(objective, self.fit_intercept)
        n_band = 2 * (self.model_.n_features + int(self.fit_intercept))

        def certificate(coef, intercept):
            theta = np.append(coef, intercept) if self.fit_intercept else coef
            return relative_duality_gap(passes, theta, n_band)

        return certificate

    def _solve_gd(self, objective, theta0) -> OptimizeResult:
        stats_ = self._data_stats(objective)
        total = objective.total_weight
        if theta0 is not None:
            coef0, intercept0, _ = self.model_.unpack(theta0)
            start = (coef0, intercept0)
        else:
            centre = self._y_median(objective) if self.fit_intercept else 0.0
            start = (np.zeros(self.model_.n_features), centre)

        def sums(coef, intercept):
            return objective.sum_batches(
                partial(_subgradient_batch, coef=coef, intercept=intercept)
            )

        # Standardised features: the diagonal of G is sum w (x - mean)^2 with an
        # intercept and sum w x^2 without (then the mean is zero).
        result, coef, intercept = subgradient_lad_by_sums(
            sums,
            stats_.x_mean,
            np.sqrt(np.maximum(np.diag(stats_.gram), 0.0) / total),
            total,
            start,
            fit_intercept=self.fit_intercept,
            learning_rate=1.0 if self.learning_rate == "auto" else self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            callback=self._subgradient_printer() if self.verbose >= 2 else None,
            certificate=self._gap_certificate(objective),
        )
        floor = self._scale_floor(objective)
        if -result.value < floor:
            # Every interpolant is optimal: return the canonical, minimum-norm one,
            # as the exact solver does.
            coef, intercept, _ = self._least_squares(objective)
        # History of the profile log-likelihood (s at its optimum for each iterate).
        spread = np.maximum(-result.history, floor)
        history = -np.log(2.0 * spread) - 1.0
        return self._result_from_fit(
            objective,
            coef,
            intercept,
            history=history,
            n_iter=result.n_iter,
            converged=result.converged,
            message=result.message,
        )
