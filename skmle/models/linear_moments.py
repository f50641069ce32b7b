"""Weighted, centred second moments of :math:`(x, y)`, block by block and merged exactly.

:func:`centred_cross_products` computes
:math:`\\sum_i w_i (x_i - \\bar x)(x_i - \\bar x)^\\top` and
:math:`\\sum_i w_i (x_i - \\bar x)(y_i - \\bar y)` block by block, so a
(1,000,000, 50) ``X`` is never copied whole; :class:`LinearMoments` holds the same
statistics for chunks of rows, merged exactly with
:func:`~skmle.models.moments.chan_merge` (the least-squares fit of data read in
pieces, and ``partial_fit``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmle._blas import single_blas_thread
from skmle._sparse import is_sparse, rmatvec, weighted_gram
from skmle.models.base import Batch
from skmle.models.moments import chan_merge

BLOCK_ROWS = 1 << 14
"""Rows per block in the centred cross-products: a few MB of temporary memory."""


@dataclass(frozen=True)
class WeightedSums:
    """:math:`W = \\sum w_i`, :math:`\\sum w_i x_i` and :math:`\\sum w_i y_i`."""

    weight: float
    x: np.ndarray
    y: float

    @classmethod
    def from_batch(cls, batch: Batch) -> WeightedSums:
        w = batch.sample_weight
        return cls(float(w.sum()), rmatvec(batch.X, w), float(w @ batch.y))

    def __add__(self, other: WeightedSums) -> WeightedSums:
        return WeightedSums(
            self.weight + other.weight, self.x + other.x, self.y + other.y
        )

    def means(self) -> tuple[np.ndarray, float]:
        return self.x / self.weight, self.y / self.weight


def centred_cross_products(
    batch: Batch, x_mean: np.ndarray, y_mean: float
) -> tuple[np.ndarray, np.ndarray]:
    """:math:`\\sum_i w_i \\tilde x_i \\tilde x_i^\\top` and :math:`\\sum_i w_i \\tilde x_i \\tilde y_i`.

    :math:`\\tilde x_i = x_i - \\bar x`, :math:`\\tilde y_i = y_i - \\bar y`. Centring
    before multiplying avoids the cancellation of :math:`X^\\top X - W \\bar x \\bar
    x^\\top` when the means are large. Rows are processed in blocks of
    :data:`BLOCK_ROWS`, and each block's Gram matrix is a symmetric rank-k update
    (``Z.T @ Z`` with ``Z`` scaled by :math:`\\sqrt{w_i}`, which NumPy hands to
    BLAS SYRK: half the work of a general product). BLAS runs on one thread here:
    the many short products of a blocked pass gain little from a second one, and
    on a busy machine its spin-waiting made the pass ten times slower.
    """
    gram, cross, _ = _centred_products(batch, x_mean, y_mean)
    return gram, cross


def _centred_products(
    batch: Batch, x_mean: np.ndarray, y_mean: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`centred_cross_products` and :math:`\\sum_i w_i \\tilde y_i^2`."""
    X, y, w = batch.X, batch.y, batch.sample_weight
    if is_sparse(X):
        return _sparse_centred_products(X, y, w, x_mean, y_mean)
    d = X.shape[1]
    gram = np.zeros((d, d))
    cross = np.zeros(d)
    square = 0.0
    offset = 0.0
    unit = bool(np.all(w == 1.0))
    with single_blas_thread():
        for start in range(0, X.shape[0], BLOCK_ROWS):
            rows = slice(start, start + BLOCK_ROWS)
            z = X[rows] - x_mean
            t = y[rows] - y_mean
            if not unit:
                root = np.sqrt(w[rows])
                z *= root[:, None]
                t = t * root
                offset += float(root @ t)
            else:
                offset += float(t.sum())
            gram += z.T @ z
            cross += z.T @ t
            square += float(t @ t)
    return gram, cross, _corrected_square(square, offset, w)


def _corrected_square(square: float, offset: float, w: np.ndarray) -> float:
    """The corrected two-pass sum of squares (Chan, Golub and LeVeque): the
    rounded mean leaves sum w (y - mean) = offset, not 0, which would otherwise
    count as spread (a constant y of 10^6 rows would look 10^-13 wide)."""
    total = float(w.sum())
    if total > 0:
        square = max(square - (offset / total) * offset, 0.0)
    return square


def _sparse_centred_products(X, y, w, x_mean, y_mean):
    """:func:`_centred_products` of sparse rows, centred implicitly
    (:func:`skmle._sparse.weighted_gram`): :math:`X^\\top W X - g\\bar x^\\top -
    \\bar x g^\\top + W\\bar x\\bar x^\\top`. Unlike the dense blocks it cancels
    the digits of :math:`(\\bar x_j / s_j)^2` for a column whose mean is large
    against its spread (rare for sparse columns, which are mostly zeros)."""
    t = y - y_mean
    gram = weighted_gram(X, w, False, x_mean)
    cross = rmatvec(X, w * t, x_mean)
    offset = float(w @ t)
    return gram, cross, _corrected_square(float(w @ (t * t)), offset, w)


@dataclass(frozen=True)
class LinearMoments:
    """Weighted, centred second moments of :math:`(x, y)`: the sufficient statistics
    of the Gaussian linear model.

    With :math:`W = \\sum_i w_i`, the weighted means :math:`\\bar x, \\bar y`,
    :math:`\\tilde x_i = x_i - \\bar x` and :math:`\\tilde y_i = y_i - \\bar y`:

    .. math:: S_{xx} = \\sum_i w_i \\tilde x_i \\tilde x_i^\\top, \\quad
       S_{xy} = \\sum_i w_i \\tilde x_i \\tilde y_i, \\quad
       S_{yy} = \\sum_i w_i \\tilde y_i^2 .

    Moments of disjoint sets of rows merge exactly with Chan et al.'s update
    (:meth:`merge`, also ``+``; :func:`~skmle.models.moments.chan_merge`), so they can be computed chunk by chunk, on Dask
    workers, or as rows stream in (``partial_fit``). Being centred, they do not
    lose the precision that running sums of squares lose when the means are
    large compared with the spread.

    Attributes
    ----------
    weight : float
    x_mean : ndarray of shape (n_features,)
    y_mean : float
    xx : ndarray of shape (n_features, n_features)
    xy : ndarray of shape (n_features,)
    yy : float

    Examples
    --------
    >>> import numpy as np
    >>> from skmle.models.base import Batch
    >>> from skmle.models.linear import LinearMoments
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(100, 2)), rng.normal(size=100)
    >>> whole = LinearMoments.from_batch(Batch(X, y, np.ones(100)))
    >>> parts = LinearMoments.from_batch(Batch(X[:30], y[:30], np.ones(30)))
    >>> parts = parts + LinearMoments.from_batch(Batch(X[30:], y[30:], np.ones(70)))
    >>> bool(np.allclose(parts.xx, whole.xx, rtol=1e-12))
    True
    """

    weight: float
    x_mean: np.ndarray
    y_mean: float
    xx: np.ndarray
    xy: np.ndarray
    yy: float

    @classmethod
    def from_batch(cls, batch: Batch) -> LinearMoments:
        w = batch.sample_weight
        weight = float(w.sum())
        d = batch.X.shape[1]
        if not weight > 0:
            return cls(0.0, np.zeros(d), 0.0, np.zeros((d, d)), np.zeros(d), 0.0)
        # Values beyond 1e154 overflow here: the caller sees non-finite moments
        # and can say so, instead of a RuntimeWarning from deep inside.
        with np.errstate(over="ignore", invalid="ignore"):
            x_mean = rmatvec(batch.X, w) / weight
            y_mean = float(w @ batch.y) / weight
            xx, xy, yy = _centred_products(batch, x_mean, y_mean)
        return cls(weight, x_mean, y_mean, xx, xy, yy)

    def merge(self, other: LinearMoments) -> LinearMoments:
        """Moments of the union of two disjoint sets of rows (Chan et al., 1979).

        .. math:: \\bar x = \\bar x_a + \\delta_x W_b / W, \\quad
           S_{xx} = S_{xx}^a + S_{xx}^b + \\delta_x \\delta_x^\\top W_a W_b / W,

        with :math:`\\delta_x = \\bar x_b - \\bar x_a`, and the same for
        :math:`S_{xy}` (with :math:`\\delta_x \\delta_y`) and :math:`S_{yy}`.
        """
        if other.weight == 0:
            return self
        if self.weight == 0:
            return other
        weight, mean, scatter = chan_merge(
            self.weight,
            np.append(self.x_mean, self.y_mean),
            self._scatter(),
            other.weight,
            np.append(other.x_mean, other.y_mean),
            other._scatter(),
        )
        d = self.x_mean.shape[0]
        return LinearMoments(
            float(weight),
            mean[:d],
            float(mean[d]),
            scatter[:d, :d],
            scatter[:d, d],
            float(scatter[d, d]),
        )

    def _scatter(self) -> np.ndarray:
        """The centred scatter of :math:`(x, y)` as one matrix."""
        return np.block([[self.xx, self.xy[:, None]], [self.xy[None, :], self.yy]])

    __add__ = merge

    def normal_equations(
        self, fit_intercept: bool
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """:math:`(G, c, s)` of least squares: :math:`\\min_w\\, w^\\top G w - 2 c^\\top w + s`.

        With an intercept they are the centred :math:`S_{xx}, S_{xy}, S_{yy}`;
        without one, the raw weighted products :math:`X^\\top W X = S_{xx} + W
        \\bar x \\bar x^\\top`, :math:`X^\\top W y = S_{xy} + W \\bar x \\bar y`
        and :math:`y^\\top W y = S_{yy} + W \\bar y^2`.
        """
        if fit_intercept:
            return self.xx, self.xy, self.yy
        w = self.weight
        return (
            self.xx + w * np.outer(self.x_mean, self.x_mean),
            self.xy + w * self.x_mean * self.y_mean,
            self.yy + w * self.y_mean**2,
        )
