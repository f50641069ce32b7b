"""The sparse rows' side of :mod:`skmle.models.standardised`.

Sparse rows are never standardised into a dense copy: the standardised objective
evaluates the raw one at :math:`\\theta = T\\phi` (see
:class:`~skmle.models.standardised.StandardisedObjective`), and the scaling's
moments and rotation come from sparse products (:mod:`skmle._sparse`).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cholesky

from skmle._sparse import is_sparse, weighted_gram
from skmle.models.base import Batch

SPARSE_RANK_RTOL = 1e-7
""":data:`RANK_RTOL` of sparse rows, whose factor comes from a Cholesky
decomposition of their Gram matrix (it resolves about half the digits)."""


def column_squares_sparse(X, w: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """:math:`\\sum_i w_i (x_{ij} - c_j)^2` as :math:`x^2 - 2cx + c^2` from the
    nonzeros: it cancels for a column whose mean is large against its spread,
    which only makes the scaling a worse preconditioner (the fit is the same
    maximum)."""
    return w @ X.multiply(X) - 2 * centre * (w @ X) + w.sum() * centre**2


def any_sparse(batch: Batch) -> int:
    return int(is_sparse(batch.X))


def scaled_gram(batch: Batch, centre: np.ndarray, scale: np.ndarray):
    """:math:`Z^\\top W Z` of sparse rows, :math:`Z = (X - 1m^\\top) S^{-1}`, from
    sparse products (:func:`skmle._sparse.weighted_gram`)."""
    gram = weighted_gram(batch.X, batch.sample_weight, False, centre)
    return gram / np.outer(scale, scale)


def rotation_of_gram(gram: np.ndarray, weight: float) -> np.ndarray | None:
    """Upper :math:`R` with :math:`R^\\top R = G / W` (Cholesky), or None when
    :math:`G` is not numerically positive definite: the sparse rows' stand-in
    for the QR factor (the same up to the signs of its rows and rounding, the
    squared condition number of the Cholesky route)."""
    try:
        R = cholesky(gram / weight, lower=False, check_finite=False)
    except LinAlgError:
        return None
    return R if np.all(np.abs(np.diag(R)) > SPARSE_RANK_RTOL) else None
