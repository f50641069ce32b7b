"""The few operations of the LAD solvers that differ for ``scipy.sparse`` designs.

The solvers of :mod:`skmle.optim.lad` touch a design :math:`X` only through
:math:`X\\beta`, :math:`X^\\top r`, row selections, stacks of rows and weighted
Gram matrices :math:`X^\\top \\mathrm{diag}(v) X`; HiGHS takes the sparse
constraint matrix :math:`X^\\top` as it is. The functions here do those
operations on a dense ndarray or a CSR matrix alike, and a sparse design is never
densified (the one exception: :func:`dense_band`, for the :math:`2p` rows of a
duality-gap certificate, whose LP is posed on an orthonormal basis of them).

A sparse design is scaled, never centred: :math:`x'_j = x_j / s_j` keeps its
zeros, and the centring of the dense route (which conditions HiGHS when a column
has a large mean against its spread) would fill them in. Sparse columns, mostly
zeros, have means of the order of their spreads.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from skmle._sparse import is_sparse, stack_rows, weighted_gram

__all__ = [
    "absolute",
    "dense_band",
    "gram",
    "is_sparse",
    "row_norms_squared",
    "scaled_columns",
    "stack_rows",
    "take_rows",
]


def gram(X, v: np.ndarray) -> np.ndarray:
    """:math:`X^\\top \\mathrm{diag}(v) X` (``v`` non-negative), dense (p x p).

    Dense rows: :math:`Z^\\top Z` with :math:`Z = \\mathrm{diag}(v)^{1/2} X`;
    sparse rows: one sparse product (:func:`skmle._sparse.weighted_gram`).
    """
    if is_sparse(X):
        return weighted_gram(X, v, False)
    Z = X * np.sqrt(v)[:, None]
    return Z.T @ Z


def take_rows(X, rows: np.ndarray):
    """The rows of ``X`` at ``rows`` (a boolean mask or indices), as ``X[rows]``."""
    if is_sparse(X):
        rows = np.asarray(rows)
        return X[np.flatnonzero(rows) if rows.dtype == bool else rows]
    return X[rows]


def absolute(X):
    """:math:`|X|` elementwise (sparse stays sparse)."""
    return abs(X) if is_sparse(X) else np.abs(X)


def row_norms_squared(X) -> np.ndarray:
    """:math:`\\lVert x_i \\rVert^2` of every row."""
    if is_sparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", X, X)


def scaled_columns(X, shift: np.ndarray, scale: np.ndarray):
    """:math:`(X - 1c^\\top) S^{-1}`; for sparse ``X`` only :math:`X S^{-1}`
    (``shift`` must then be zero: centring would fill in the zeros)."""
    if is_sparse(X):
        if np.any(shift):
            raise ValueError("A sparse design is scaled, not centred.")
        return sp.csr_array(X.multiply(1.0 / scale[None, :]))
    rows = X - shift
    rows /= scale  # in place: one copy of a tall design, not two
    return rows


def dense_band(X) -> np.ndarray:
    """The rows ``X`` of a band (a few times the number of columns) as an ndarray."""
    return X.toarray() if is_sparse(X) else X


ROUNDING = 64.0 * np.finfo(float).eps
"""A residual within this fraction of the size of its terms is zero to rounding."""


def settled_residuals(X, y: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """:math:`r = y - X\\beta`, with the residuals that are zero to rounding,
    :math:`|r_i| \\le 64 \\epsilon (|y_i| + |x_i|^\\top |\\beta|)`, set to zero.

    A row the fit passes through (a basic row, or a row tied with one) has a
    residual of rounding noise whose sign depends on the order of the sums (dense
    or sparse rows, one block or many); the fold checks read its sign as zero,
    so that every store of the same rows takes the same decisions.
    """
    residuals = y - X @ coef
    # Only rows within the bound of every row's size can be zero to rounding.
    bound = np.max(np.abs(y), initial=0.0) + _largest(X) * np.sum(np.abs(coef))
    rows = np.flatnonzero(np.abs(residuals) <= ROUNDING * bound)
    if rows.size:
        size = np.abs(y[rows]) + absolute(take_rows(X, rows)) @ np.abs(coef)
        residuals[rows[np.abs(residuals[rows]) <= ROUNDING * size]] = 0.0
    return residuals


def _largest(X) -> float:
    """:math:`\\max_{ij} |x_{ij}|` (without a copy of a dense ``X``)."""
    if X.shape[0] == 0 or X.shape[1] == 0:
        return 0.0
    if is_sparse(X):
        return float(np.max(np.abs(X.data), initial=0.0))
    return float(max(X.max(), -X.min()))
