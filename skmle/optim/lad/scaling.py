"""The affine change of units under which the LAD linear program sees well-scaled numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmle._sparse import column_moments, constant_columns
from skmle.optim.lad.quantiles import weighted_median
from skmle.optim.lad.sparse_rows import is_sparse, scaled_columns

CENTRE_RATIO = 10.0
"""With a constant column, a column is centred for the LP only when its mean is
more than this many standard deviations from zero (then it is nearly parallel to
the constant one); others are only scaled, as a sparse design always is, so that
a sparse design and its dense array give HiGHS the same numbers."""


@dataclass(frozen=True)
class LADScaling:
    """The affine change of units under which the LP sees well-scaled numbers.

    Least absolute deviations is equivariant: with :math:`x'_j = (x_j - c_j) /
    s_j`, :math:`y' = (y - m) / t` and :math:`w' = w / \\bar w` the optimum moves
    as :meth:`coef` says, and the objective is multiplied by :math:`t \\bar w`.
    HiGHS works to absolute tolerances (about :math:`10^{-7}`), so without this
    weights of :math:`10^{20}`, values of :math:`10^{150}` or columns shifted by
    :math:`10^{10}` make it fail or stop early. When the design has a constant
    column (an intercept), ``y`` is centred by its weighted median (:math:`m`)
    and a column whose weighted mean is more than :data:`CENTRE_RATIO` standard
    deviations from zero (nearly parallel to the constant one: a year, a
    timestamp) by that mean (:math:`c_j`); the other columns only scaled
    (:math:`c_j = 0`). :math:`s_j` is the weighted root mean square of
    :math:`x_j - c_j` (the value of a constant column, which becomes ones),
    :math:`t` the weighted mean of :math:`|y - m|`, :math:`\\bar w` the mean
    positive weight (a zero scale is 1), each rounded to the nearest power of
    two: the divisions are exact, so rows whose summaries differ by rounding
    (dense and sparse sums, one block or many) become the same numbers, and HiGHS
    returns the same point even where the optimum is a flat edge. A sparse
    design (``centre_columns=False``) is never centred, which would fill in its
    zeros (``y`` still is).
    Attributes
    ----------
    x_shift, x_scale : ndarray of shape (n_features,)
    constant : ndarray of shape (n_features,), bool
        The constant, nonzero columns (not shifted; divided by their value).
    y_shift, y_scale, w_scale : float
    """

    x_shift: np.ndarray
    x_scale: np.ndarray
    constant: np.ndarray
    y_shift: float
    y_scale: float
    w_scale: float

    @classmethod
    def from_summaries(
        cls,
        x_mean,
        x_std,
        constant,
        y_centre,
        y_spread,
        w_mean,
        centre_columns: bool = True,
    ) -> LADScaling:
        """From the weighted mean and standard deviation of each column, which
        columns are constant, the weighted median ``y_centre`` of ``y`` and the
        mean of :math:`|y - y_c|` (``y_spread``) (with ``y_c`` = 0 when no column
        is constant), and the mean positive weight; ``centre_columns=False`` for
        a sparse design."""
        x_mean, x_std = np.asarray(x_mean, float), np.asarray(x_std, float)
        constant = np.asarray(constant, dtype=bool) & (x_mean != 0)
        centred = bool(np.any(constant))
        far = np.abs(x_mean) > CENTRE_RATIO * x_std
        columns = centred & centre_columns & far & ~constant
        shift = np.where(columns, x_mean, 0.0)
        spread = np.where(columns, x_std, np.hypot(x_std, x_mean))
        # A constant column is divided by its (signed) value: a column of ones.
        scale = np.where(constant, x_mean, _power_of_two(_positive(spread)))
        return cls(
            x_shift=shift,
            x_scale=scale,
            constant=constant,
            y_shift=float(y_centre) if centred else 0.0,
            y_scale=float(_power_of_two(_positive(np.array(y_spread)))),
            w_scale=float(_power_of_two(_positive(np.array(w_mean)))),
        )

    @classmethod
    def from_arrays(cls, X, y, w) -> LADScaling:
        """From rows of positive weight (a constant column: one value throughout);
        ``X`` dense or sparse."""
        total = float(w.sum())
        if X.shape[0]:
            x_mean, x_std = column_moments(X, w)
            constant = constant_columns(X)[0]
        else:
            x_mean = x_std = np.zeros(X.shape[1])
            constant = np.zeros(X.shape[1], dtype=bool)
        centre = weighted_median(y, w) if np.any(constant) else 0.0
        spread = float(w @ np.abs(y - centre)) / total
        if not spread > 0:
            spread = float(np.max(np.abs(y - centre), initial=0.0))
        return cls.from_summaries(
            x_mean,
            x_std,
            constant,
            centre,
            spread,
            total / max(len(w), 1),
            centre_columns=not is_sparse(X),
        )

    def rows(self, X, y, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows the LP sees: :math:`(x', y', w')` (dense or sparse ``X``)."""
        rows = scaled_columns(X, self.x_shift, self.x_scale)
        return rows, (y - self.y_shift) / self.y_scale, w / self.w_scale

    def coef(self, scaled: np.ndarray) -> np.ndarray:
        """Coefficients in the original units from those of the scaled problem.

        :math:`\\beta_j = t \\beta'_j / s_j`, and the first constant column
        :math:`k` (value :math:`v_k`) also takes the offset
        :math:`(m - t \\sum_j \\beta'_j c_j / s_j) / v_k`.
        """
        coef = self.y_scale * scaled / self.x_scale
        if np.any(self.constant):
            k = int(np.flatnonzero(self.constant)[0])
            offset = self.y_shift - float(coef @ self.x_shift)
            coef[k] += offset / self.x_scale[k]
        return coef


def _power_of_two(values: np.ndarray) -> np.ndarray:
    """The power of two nearest ``values`` (positive, finite) in ratio: dividing by
    it is exact, so that rows whose scales differ only by rounding (dense and
    sparse sums) are scaled to the same numbers."""
    mantissa, exponent = np.frexp(values)
    return np.ldexp(1.0, exponent - (mantissa < np.sqrt(0.5)))


def _positive(values: np.ndarray) -> np.ndarray:
    """``values`` with every entry that is not a positive finite number set to 1."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values) & (values > 0), values, 1.0)
