"""The weighted Gram matrix :math:`X^\\top \\mathrm{diag}(f) X` of CSR rows, dense.

The information of a linear predictor on sparse rows is this d x d matrix,

.. math::

    G = X^\\top \\mathrm{diag}(f) X = \\sum_i f_i\\, x_i x_i^\\top, \\qquad
    G_{ab} = \\sum_i f_i \\sum_{p, q \\in \\text{row } i} x_{ip} x_{iq}
        [\\text{col}(p) = a][\\text{col}(q) = b],

a sum over the *pairs of nonzeros within each row*: :math:`\\sum_i L_i^2`
products for rows of :math:`L_i` nonzeros (one-hot rows of 10 categories: 100
per row), and only the pairs :math:`p \\le q` are needed (:math:`G` is
symmetric). scipy's sparse-sparse product :math:`X^\\top (f \\odot X)` computes the
same sums but builds a sparse result, with a symbolic pass first, that is then made
dense; for rows with few nonzeros and a dense :math:`G` that is most of its cost.

Three ways (:func:`sparse_gram` picks):

0. by column groups, where the columns fall into a few contiguous groups that
   hold at most one nonzero of each row (one-hot encoded categories,
   :func:`skmle._sparse_groups.one_hot_groups`): each block of :math:`G` is then a
   ``bincount`` into a small, cache-resident array
   (:func:`skmle._sparse_groups.grouped_gram`), about ten times the next route;
1. vectorised numpy: for each offset :math:`o = 0, 1, \\ldots, \\max_i L_i - 1`
   the pairs :math:`(p, p + o)` of the same row, summed into the linearised
   cells :math:`a d + b` of the upper triangle by ``np.bincount`` (cost
   :math:`\\max_i L_i` passes over the nonzeros, so only for rows of similar,
   small lengths);
2. scipy's product: for rows of very unequal lengths, and for small products
   (below :data:`SMALL_PRODUCTS`), where the first route's fixed cost (a dense
   :math:`d^2` count per offset) is not worth it.

Both sum the same products (in another order: they agree to rounding).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from skmle._sparse_groups import grouped_gram, grouped_route_pays, one_hot_groups

SMALL_PRODUCTS = 2_000_000
"""Below this many products :math:`\\sum_i L_i^2` scipy's product is taken (some
50 ms at most)."""
PAIR_PASSES_FACTOR = 4
"""The numpy route is taken while its :math:`n_{nz} \\max_i L_i`
products are at most this many times the :math:`\\sum_i L_i^2` needed."""


def canonical_csr(X):
    """``X`` as CSR with sorted, unique column indices per row (a copy only when
    ``X`` is not so already; the same object when it is, whose format flag scipy
    then caches)."""
    if X.format != "csr":
        X = sp.csr_array(X)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def symmetric_from_upper(upper: np.ndarray) -> np.ndarray:
    """:math:`U + U^\\top - \\mathrm{diag}(U)` for an upper-triangular ``upper``."""
    out = upper + upper.T
    out[np.diag_indices_from(out)] *= 0.5
    return out


def pair_gram(X, factor: np.ndarray) -> np.ndarray:
    """Route 1 (numpy ``bincount`` over the pairs of each offset), ``X`` canonical
    CSR."""
    d = X.shape[1]
    lengths = np.diff(X.indptr)
    columns = X.indices.astype(np.int64)
    scaled = X.data * np.repeat(factor, lengths)
    # The nonzeros after each one in its row: the pair (p, p + o) exists iff >= o.
    after = np.repeat(X.indptr[1:], lengths) - np.arange(X.nnz) - 1
    upper = np.zeros(d * d)
    upper[:: d + 1] = np.bincount(columns, scaled * X.data, minlength=d)
    cells = columns * d
    for o in range(1, int(lengths.max(initial=0))):
        pair = after[:-o] >= o
        upper += np.bincount(
            cells[:-o][pair] + columns[o:][pair],
            (scaled[:-o] * X.data[o:])[pair],
            minlength=d * d,
        )
    return symmetric_from_upper(upper.reshape(d, d))


def product_gram(X, factor: np.ndarray) -> np.ndarray:
    """Route 2: scipy's sparse-sparse product, made dense."""
    return (X.T @ sp.csr_array(X.multiply(factor[:, None]))).toarray()


def products(X) -> float:
    """The products :math:`\\sum_i L_i^2` of the Gram of CSR ``X``."""
    lengths = np.diff(X.indptr).astype(float)
    return float(lengths @ lengths)


def pair_route_pays(X) -> bool:
    """Whether :func:`pair_gram`'s passes cost at most :data:`PAIR_PASSES_FACTOR`
    times the products needed."""
    longest = float(np.diff(X.indptr).max(initial=0))
    return X.nnz * longest <= PAIR_PASSES_FACTOR * products(X)


def sparse_gram(X, factor: np.ndarray) -> np.ndarray:
    """:math:`X^\\top \\mathrm{diag}(f) X` (d x d, dense) of sparse ``X``.

    Parameters
    ----------
    X : sparse matrix or array of shape (n_samples, n_features)
        Converted to canonical CSR (no copy when it is one already).
    factor : ndarray of shape (n_samples,)
        The row weights :math:`f` (any sign).

    Returns
    -------
    gram : ndarray of shape (n_features, n_features)
        Symmetric.
    """
    X = canonical_csr(X)
    factor = np.ascontiguousarray(factor, dtype=float)
    if X.data.dtype != np.float64:
        X = X.astype(np.float64)
    if products(X) < SMALL_PRODUCTS:
        return product_gram(X, factor)
    starts = one_hot_groups(X)
    if starts is not None and grouped_route_pays(X, starts):
        return grouped_gram(X, factor, starts)
    if pair_route_pays(X):
        return pair_gram(X, factor)
    return product_gram(X, factor)
