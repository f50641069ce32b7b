"""Weighted least squares by Householder QR, for designs whose normal equations are unreliable.

Minimise :math:`\\sum_i w_i (y_i - \\bar y - (x_i - \\bar x)^\\top \\beta)^2` (with an
intercept; :math:`\\bar x = 0`, :math:`\\bar y = 0` without one) when the Cholesky
factor of :math:`G = \\sum_i w_i \\tilde x_i \\tilde x_i^\\top` cannot be trusted
(:func:`skmle.models.linear_gaussian.solve_normal_equations` declines). Forming
:math:`G` squares the condition number :math:`\\kappa` of the design; QR works on
the rows and keeps :math:`\\kappa` itself.

The steps, each one sum over batches of rows (so they run unchanged on chunked
and Dask data):

1. The rows :math:`\\sqrt{w_i}\\,[(x_i - \\bar x) / s, \\; y_i - \\bar y]`, with the
   column scales :math:`s_j = \\sqrt{G_{jj}}` (unit-norm columns), are reduced to
   the triangular factor :math:`[R, z; 0, \\rho]` of their Householder QR, block by
   block, and the blocks merged by the QR of their stacked factors ("TSQR": the
   factor of the whole is the factor of the stacked factors, since an orthogonal
   transformation of the rows changes no sum of squares). :class:`TriangularFactor`.
2. The rank is decided on that scaled problem: the pivoted QR of :math:`R` has a
   decreasing diagonal, and entries below :data:`RANK_RTOL` times the largest are
   zero (:func:`numerical_rank`). Full rank: :math:`\\beta = s^{-1} R^{-1} z`.
   Rank-deficient: the minimum-norm solution in the original units, by SVD of
   :math:`R\\,\\mathrm{diag}(s)` keeping as many singular values as the rank.
3. One step of the corrected semi-normal equations (Björck): the gradient
   :math:`g = \\sum_i w_i \\tilde x_i r_i` at :math:`\\beta` is summed in extended
   precision (``numpy.longdouble``) from the original rows, and
   :math:`\\beta \\leftarrow \\beta + s^{-1} R^{-1} R^{-\\top} s^{-1} g`. It takes the
   solution to the exact least-squares solution of the given (rounded) data: on
   NIST's Filip (:math:`\\kappa \\approx 4 \\times 10^9` after centring and
   scaling) from 7.1 to 7.6 correct digits, the most the double-precision powers
   of ``x`` allow. Where ``longdouble`` is plain double (Windows, ARM macOS) the step
   is ordinary iterative refinement and gains less.

Conventions
-----------
Coefficients are in the original units of ``X``; the intercept is
:math:`\\bar y - \\bar x^\\top \\beta` (the caller's business).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from skmle.models.base import Batch

BLOCK_ROWS = 1 << 13
"""Rows reduced per Householder QR before merging (a few MB of workspace)."""

RANK_RTOL = 1e-13
"""A diagonal entry of the pivoted triangular factor of the unit-norm, centred columns
below this times the largest counts as zero: that column is a combination of the
others to within the rounding of its entries (about ``n_features * eps``; Filip's
smallest ratio is :math:`6 \\times 10^{-8}`, an exactly collinear column gives about
:math:`10^{-16}`)."""


@dataclass(frozen=True)
class TriangularFactor:
    """Upper-triangular factor of the scaled, centred, weighted rows ``[Z, t]``.

    ``r`` has shape (n_features + 1, n_features + 1) (or fewer rows while fewer
    rows than that have been seen): :math:`r^\\top r = [Z, t]^\\top [Z, t]`.
    Adding two factors (``+``) gives the factor of the union of their rows.
    """

    r: np.ndarray

    @classmethod
    def from_batch(
        cls, batch: Batch, x_mean: np.ndarray, y_mean: float, x_scale: np.ndarray
    ) -> TriangularFactor:
        """The factor of one batch's rows, reduced :data:`BLOCK_ROWS` at a time."""
        factor = None
        w = batch.sample_weight
        for start in range(0, batch.X.shape[0], BLOCK_ROWS):
            rows = slice(start, start + BLOCK_ROWS)
            root = np.sqrt(w[rows])[:, None]
            block = np.column_stack(
                [(batch.X[rows] - x_mean) / x_scale, batch.y[rows] - y_mean]
            )
            part = cls(_triangle(block * root))
            factor = part if factor is None else factor + part
        if factor is None:
            return cls(np.zeros((0, x_mean.shape[0] + 1)))
        return factor

    @classmethod
    def of_rows(cls, rows: np.ndarray) -> TriangularFactor:
        """The factor of any rows (already weighted, centred and scaled)."""
        factor = None
        for start in range(0, rows.shape[0], BLOCK_ROWS):
            part = cls(_triangle(rows[start : start + BLOCK_ROWS]))
            factor = part if factor is None else factor + part
        return cls(np.zeros((0, rows.shape[1]))) if factor is None else factor

    def __add__(self, other: TriangularFactor) -> TriangularFactor:
        return TriangularFactor(_triangle(np.vstack([self.r, other.r])))


def _triangle(rows: np.ndarray) -> np.ndarray:
    """R of the Householder QR of ``rows`` (at most as many rows as columns)."""
    if rows.shape[0] == 0:
        return rows
    return linalg.qr(rows, mode="r", check_finite=False)[0][: rows.shape[1]]


def numerical_rank(r: np.ndarray, rtol: float = RANK_RTOL) -> int:
    """Rank of the unit-norm columns behind the triangular ``r``.

    The pivoted QR of ``r`` (LAPACK ``geqp3``) orders its diagonal by decreasing
    magnitude; the rank is the number of entries above ``rtol`` times the first.
    """
    if r.size == 0:
        return 0
    diagonal = np.abs(np.diag(linalg.qr(r, mode="r", pivoting=True)[0]))
    top = diagonal[0] if diagonal.size else 0.0
    if not top > 0:
        return 0
    return int(np.count_nonzero(diagonal > rtol * top))


@dataclass(frozen=True)
class QRSolution:
    """Outcome of :func:`solve_triangular_factor`.

    Attributes
    ----------
    coef : ndarray of shape (n_features,)
        In the original units.
    rank : int
    r : ndarray of shape (n_features, n_features)
        Triangular factor of the scaled Gram matrix, :math:`R^\\top R = S^{-1} G S^{-1}`.
    x_scale : ndarray of shape (n_features,)
    """

    coef: np.ndarray
    rank: int
    r: np.ndarray
    x_scale: np.ndarray

    @property
    def full_rank(self) -> bool:
        return self.rank == self.x_scale.shape[0]

    def solve_gram(self, vector: np.ndarray) -> np.ndarray:
        """:math:`G^{-1} v = S^{-1} R^{-1} R^{-\\top} S^{-1} v` (full rank only)."""
        half = linalg.solve_triangular(self.r, vector / self.x_scale, trans="T")
        return linalg.solve_triangular(self.r, half) / self.x_scale

    def inverse_diagonal(self) -> np.ndarray:
        """Diagonal of :math:`G^{-1}`: squared row norms of :math:`S^{-1} R^{-1}`."""
        r_inverse = linalg.solve_triangular(self.r, np.eye(self.r.shape[0]))
        return np.sum(r_inverse**2, axis=1) / self.x_scale**2

    def quadratic_form(self, vector: np.ndarray) -> float:
        """:math:`v^\\top G^{-1} v = \\lVert R^{-\\top} S^{-1} v \\rVert^2`, without
        the cancellation of an explicit inverse."""
        half = linalg.solve_triangular(self.r, vector / self.x_scale, trans="T")
        return float(half @ half)


def solve_triangular_factor(
    factor: TriangularFactor, x_scale: np.ndarray, rtol: float = RANK_RTOL
) -> QRSolution:
    """Least-squares coefficients from the factor ``[R, z; 0, rho]`` (step 2 above).

    Full rank: :math:`\\beta = S^{-1} R^{-1} z`. Otherwise the minimum-norm
    :math:`\\beta` of :math:`\\min \\lVert R S \\beta - z \\rVert` (the same as on
    the rows, since they differ by an orthogonal transformation and a constant),
    by SVD of :math:`R S` truncated to the rank.
    """
    d = x_scale.shape[0]
    r_aug = np.zeros((d + 1, d + 1))
    r_aug[: factor.r.shape[0]] = factor.r
    r, z = r_aug[:d, :d], r_aug[:d, d]
    rank = numerical_rank(r, rtol)
    if rank == d:
        coef = linalg.solve_triangular(r, z) / x_scale
    else:
        # An infinite scale marks a constant column: a zero column of R S.
        finite_scale = np.where(np.isinf(x_scale), 0.0, x_scale)
        u, singular, vt = linalg.svd(r * finite_scale, full_matrices=False)
        coef = vt[:rank].T @ ((u[:, :rank].T @ z) / singular[:rank])
    return QRSolution(coef, rank, r, x_scale)


def gradient_sums(
    batch: Batch, x_mean: np.ndarray, y_mean: float, coef: np.ndarray
) -> tuple[np.ndarray, np.longdouble, np.ndarray]:
    """Sums of one batch for the corrected step, in extended precision.

    With :math:`\\tilde x_i = x_i - \\bar x` and
    :math:`r_i = y_i - \\bar y - \\tilde x_i^\\top \\beta`: :math:`\\sum_i w_i
    \\tilde x_i r_i`, :math:`\\sum_i w_i r_i` and :math:`\\sum_i w_i \\tilde x_i`
    (the last two are rounding only: the means are rounded). The residuals of a
    good fit are a small difference of large numbers; computed and summed in
    ``longdouble`` they keep the digits the corrected step recovers.
    """
    wide = np.longdouble
    coef_wide = coef.astype(wide)
    mean_wide = x_mean.astype(wide)
    grad = np.zeros(x_mean.shape[0], dtype=wide)
    shift = np.zeros(x_mean.shape[0], dtype=wide)
    total = wide(0.0)
    for start in range(0, batch.X.shape[0], BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        centred = batch.X[rows].astype(wide) - mean_wide
        residual = batch.y[rows].astype(wide) - wide(y_mean) - centred @ coef_wide
        w = batch.sample_weight[rows].astype(wide)
        grad += centred.T @ (w * residual)
        total += w @ residual
        shift += w @ centred
    return grad, total, shift


def corrected_coef(
    solution: QRSolution, sums: tuple, weight: float, fit_intercept: bool
) -> tuple[np.ndarray, float]:
    """One corrected semi-normal step (step 3): coefficients and centre shift.

    ``sums`` are :func:`gradient_sums` over all rows. With an intercept, the
    offset :math:`a = \\sum_i w_i r_i / W` is optimal for the current
    :math:`\\beta`, the gradient is :math:`g - a \\sum_i w_i \\tilde x_i`, and
    :math:`a` is returned for the caller to add to :math:`\\bar y`; without one,
    :math:`a = 0`.
    """
    grad, total, shift = sums
    offset = total / weight if fit_intercept else np.longdouble(0.0)
    gradient = np.asarray(grad - offset * shift, dtype=float)
    return solution.coef + solution.solve_gram(gradient), float(offset)
