"""Portnoy and Koenker's globs: which rows a banded LP folds, and the sums of one part.

A :class:`Fold` says, from a reference fit, which rows are taken as above or below
the fit at the optimum (their dual values fixed at :math:`\\pm w_i`, summed into
two pseudo-observations, the globs) and which form the band the LP sees;
:func:`fold_band_sums` gathers one part's band and glob, :func:`fold_check_sums`
finds the folded rows a candidate puts on the wrong side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from skmle._sparse import weighted_gram
from skmle.optim.lad.sparse_rows import (
    is_sparse,
    row_norms_squared,
    settled_residuals,
    take_rows,
)

LEVERAGE_ROWS = 4096
"""Rows of a sparse design whose leverages are computed at once."""


@dataclass(frozen=True)
class Fold:
    """Which rows a banded LP folds, and with which sign (Portnoy and Koenker's globs).

    With :math:`r_i = y_i - x_i^\\top \\beta_0` at the reference fit ``coef``
    and :math:`s_i = \\lVert M^\\top x_i \\rVert` (``metric`` :math:`M`; 1 when
    None), a row of positive weight with :math:`|r_i| > t s_i` is folded with
    sign :math:`\\mathrm{sign}(r_i)`: above the band when positive, below when
    negative. A row whose residual has the other sign at one of the earlier
    candidates (``repaired``, one per row of the array) is taken back into the
    band.

    Attributes
    ----------
    coef : ndarray of shape (n_features,)
    threshold : float
    metric : ndarray of shape (n_features, n_features) or None
    repaired : ndarray of shape (n_candidates, n_features)
    """

    coef: np.ndarray
    threshold: float
    metric: np.ndarray | None = None
    repaired: np.ndarray | None = None

    def repairing(self, candidate: np.ndarray) -> Fold:
        """The same fold, with the rows that ``candidate`` flips taken back."""
        repaired = candidate[None, :]
        if self.repaired is not None:
            repaired = np.vstack([self.repaired, repaired])
        return Fold(self.coef, self.threshold, self.metric, repaired)


def leverage_metric(X: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """:math:`L^{-\\top}` for the Cholesky factor :math:`L` of :math:`G = X^\\top W
    X / \\sum w` (a tiny ridge keeps it definite), so that
    :math:`\\lVert L^{-1} x \\rVert^2 = x^\\top G^{-1} x`; None if it fails."""
    if is_sparse(X):
        gram = weighted_gram(X, w / w.sum(), False)
    else:
        gram = (X * (w / w.sum())[:, None]).T @ X
    ridge = 1e-12 * max(float(np.trace(gram)), np.finfo(float).tiny) / X.shape[1]
    try:
        factor = linalg.cholesky(gram + ridge * np.eye(X.shape[1]), lower=True)
    except linalg.LinAlgError:
        return None
    identity = np.eye(X.shape[1])
    return linalg.solve_triangular(factor, identity, lower=True).T


def leverage_scale(X: np.ndarray, metric: np.ndarray | None) -> np.ndarray:
    """:math:`s_i = \\lVert M^\\top x_i \\rVert` (ones when ``metric`` is None);
    for sparse ``X`` :data:`LEVERAGE_ROWS` rows at a time (:math:`XM` is dense)."""
    if metric is None:
        return np.ones(X.shape[0])
    if is_sparse(X):
        step = LEVERAGE_ROWS
        return np.concatenate(
            [
                _leverage(X[start : start + step], metric)
                for start in range(0, X.shape[0], step)
            ]
            or [np.zeros(0)]
        )
    return _leverage(X, metric)


def _leverage(X, metric: np.ndarray) -> np.ndarray:
    Z = np.asarray(X @ metric)
    Z *= Z
    return np.sqrt(Z @ np.ones(Z.shape[1]))


def fold_signs(X: np.ndarray, y: np.ndarray, w: np.ndarray, fold: Fold) -> np.ndarray:
    """The fixed dual values' signs: ``+1``/``-1`` for rows folded above/below the
    band (:class:`Fold`), 0 for the band's rows and rows of weight zero.

    :math:`s_i` (:math:`p^2` operations a row) is formed only for the rows that
    :math:`s_i \\le \\lVert M \\rVert_2 \\lVert x_i \\rVert` does not put
    outside the band already.
    """
    residuals = y - X @ fold.coef
    absolute = np.abs(residuals)
    if fold.metric is None:
        inside = absolute <= fold.threshold
    else:
        norm = np.linalg.norm(fold.metric, 2)
        inside = absolute <= fold.threshold * norm * np.sqrt(row_norms_squared(X))
        rows = np.flatnonzero(inside)
        inside[rows] = absolute[rows] <= fold.threshold * leverage_scale(
            take_rows(X, rows), fold.metric
        )
    signs = np.where((w > 0) & ~inside, np.sign(residuals), 0.0)
    if fold.repaired is not None:
        rows = np.flatnonzero(signs)
        fitted = take_rows(X, rows) @ fold.repaired.T
        flipped = signs[rows, None] * (y[rows, None] - fitted) < 0
        signs[rows[np.any(flipped, axis=1)]] = 0.0
    return signs


def fold_band_sums(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, fold: Fold
) -> tuple[list, list, list, np.ndarray]:
    """:func:`band_sums` for the rows a :class:`Fold` keeps: the band's rows (one-element
    lists) and :math:`-\\sum_{F} w_i\\, \\sigma_i\\, x_i` over the folded rows
    (:math:`\\sigma_i` their signs)."""
    signs = fold_signs(X, y, w, fold)
    near = (w > 0) & (signs == 0)
    return [take_rows(X, near)], [y[near]], [w[near]], -(X.T @ (w * signs))


def fold_check_sums(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    fold: Fold,
    candidate: np.ndarray,
    limit: int,
) -> tuple[int, float, list, list, list, list]:
    """The folded rows whose residual at ``candidate`` has the other sign than their
    fold (a zero residual is allowed), to be taken back into the band.

    Returns their number, :math:`\\sum_i w_i |r_i|` at ``candidate``, and
    ``[design], [y], [weights], [fold signs]`` of those rows (one-element lists),
    empty when more than ``limit`` rows of this part flipped (then the band is
    widened instead: what is gathered stays bounded).
    """
    new = settled_residuals(X, y, candidate)
    # Only a row whose residual changes sign between the two fits can have flipped.
    rows = np.flatnonzero((w > 0) & ((y - X @ fold.coef) * new < 0))
    signs = fold_signs(take_rows(X, rows), y[rows], w[rows], fold)
    flipped = signs * new[rows] < 0
    count = int(np.count_nonzero(flipped))
    if count > limit:
        flipped[:] = False
    rows = rows[flipped]
    return (
        count,
        float(w @ np.abs(new)),
        [take_rows(X, rows)],
        [y[rows]],
        [w[rows]],
        [signs[flipped]],
    )
