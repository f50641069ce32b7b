"""What one fit of a linear regressor computes from the data, once.

:class:`LinearObjective` is the per-fit objective of both regressors: beside the
mean log-likelihood it caches the weighted moments of the data
(:class:`~skmle.models.linear.LinearMoments`, one pass), the summaries a fit reads
from them (:class:`DataStats`: the normal equations, the centring, the scale
floor) and the weighted median of ``y``. It lives as long as the fit, so nothing
of the data stays on the estimator.

Scale-free numerics: the scale floor is relative to the centred spread of ``y``
(:func:`scale_floor`), and data whose squares leave the double range are refused
with a ValueError (:func:`check_magnitudes`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from skmle._sparse import is_sparse
from skmle.models.linear import LinearLogLikelihood, LinearMoments
from skmle.models.objective import Objective
from skmle.optim.lad import weighted_median_by_passes

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

SMALLEST_DATA = 1e-153
"""Columns of ``X`` and ``y`` whose root mean square is below this (and not zero) are
refused: their squares, in the normal equations and the variance, would underflow."""

LARGEST_DATA = 1e153
"""Columns of ``X`` and ``y`` whose root mean square is above this are refused: their
squares would overflow."""


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
class DataStats:
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

    @classmethod
    def from_moments(cls, moments: LinearMoments, fit_intercept: bool) -> DataStats:
        total = moments.weight
        gram, cross, square = moments.normal_equations(fit_intercept)
        if fit_intercept:
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
        return cls(
            x_mean=x_mean,
            y_mean=float(y_mean),
            y_var=square / total,
            scale_floor=scale_floor(y_std, y_rms),
            gram=gram,
            cross=cross,
            square=float(square),
        )


def check_magnitudes(moments: LinearMoments, name: str) -> None:
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


def data_rows(batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, sample_weight)`` of a batch (module level: picklable)."""
    return batch.X, batch.y, batch.sample_weight


class LinearObjective(Objective):
    """The per-fit objective of a linear regressor, with what the fit computes once.

    Parameters
    ----------
    model : LinearLogLikelihood
    batches : Rows, sequence of Batch, or None
        None for a fit from merged moments alone (``partial_fit``): then
        ``moments`` is required and nothing is summed over rows.
    name : str
        The estimator's name, for messages.
    moments : LinearMoments, default=None
    """

    def __init__(
        self,
        model: LinearLogLikelihood,
        batches,
        name: str,
        moments: LinearMoments | None = None,
    ):
        self.name = name
        self.from_moments = batches is None
        if self.from_moments:
            self.model, self.rows, self._total_weight = model, None, None
            self._set_total_weight(moments.weight)
        else:
            super().__init__(model, batches)
        if moments is not None:
            self.__dict__["moments"] = moments

    @cached_property
    def moments(self) -> LinearMoments:
        """The weighted moments of the rows (one pass), refused out of range."""
        moments = self.sum_batches(LinearMoments.from_batch)
        check_magnitudes(moments, self.name)
        return moments

    @cached_property
    def sparse(self) -> bool:
        """Whether the rows are ``scipy.sparse`` (never for a fit from moments)."""
        if self.from_moments:
            return False
        return bool(self.sum_batches(lambda b: int(is_sparse(b.X))))

    @cached_property
    def stats(self) -> DataStats:
        moments = self.moments
        if self.from_moments:
            check_magnitudes(moments, self.name)
        return DataStats.from_moments(moments, self.model.fit_intercept)

    @property
    def scale_floor(self) -> float:
        return self.stats.scale_floor

    @cached_property
    def y_median(self) -> float:
        """The lower weighted median of ``y`` (exact, from a few passes)."""
        return weighted_median_by_passes(self.sum_batches, data_rows, self.total_weight)

    def floored_scale(self, scale: float, stacklevel: int = 5) -> float:
        """``scale``, or the floor with a warning when the fit is (nearly) exact."""
        floor = self.scale_floor
        if scale >= floor:
            return scale
        warnings.warn(
            f"{self.name}: the fitted line passes through every sample "
            "(residuals are zero to rounding error, as happens with no more distinct "
            "samples than parameters or a constant y), so the likelihood is "
            f"unbounded as the noise scale goes to zero. The scale is floored at "
            f"{floor:.3g} (sqrt(machine epsilon) times the standard deviation of y); "
            "the coefficients are the minimum-norm interpolant.",
            UserWarning,
            stacklevel=stacklevel,
        )
        return floor
