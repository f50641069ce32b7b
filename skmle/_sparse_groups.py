"""The weighted Gram matrix of sparse rows whose columns form one-hot groups.

One-hot encoded categories give columns in contiguous groups (one per category
variable) with at most one nonzero of each row in each group. The Gram matrix
:math:`G = X^\\top \\mathrm{diag}(f) X` is then made of blocks, one per pair of
groups :math:`(g, h)`:

.. math:: G_{ab} = \\sum_i f_i\\, x_{i a} x_{i b}, \\qquad a \\in g,\\ b \\in h,

and row :math:`i` adds to exactly one cell of the block, that of its nonzero in
:math:`g` and its nonzero in :math:`h`: the block is one ``np.bincount`` of the
rows' cells, into an array of :math:`(|g| + 1)(|h| + 1)` bins (one more per
group for a row with no nonzero there) that stays in cache. A block of a group
with itself is diagonal. The rows are taken :data:`ROWS_PER_CHUNK` at a time in
reused buffers, so that no temporary grows with the rows.

:func:`one_hot_groups` finds the fewest such groups from the data: every two
consecutive nonzeros of a row, in columns :math:`a < b`, need a group boundary in
:math:`(a, b]`, and the boundaries placed greedily at the right ends of the
tightest such intervals (the classic interval-stabbing greedy) are the fewest.
"""

from __future__ import annotations

import numpy as np

MAX_GROUPS = 64
"""More groups than this and :func:`one_hot_groups` gives up (the blocks' count
grows as its square)."""
ROUTE_FACTOR = 4.0
"""The grouped route is taken while its :math:`n\\,m(m+1)/2` cell updates (``m``
groups) are at most this many times the :math:`\\sum_i L_i^2 / 2` products."""
ROWS_PER_CHUNK = 1 << 15
"""Rows per chunk of :func:`grouped_gram` (its buffers: a few MB)."""


def one_hot_groups(X) -> np.ndarray | None:
    """The first column of each of the fewest contiguous column groups that hold
    at most one nonzero of every row of canonical CSR ``X``, or None when more
    than :data:`MAX_GROUPS` would be needed (or ``X`` has fewer than two
    nonzeros)."""
    d, nnz = X.shape[1], X.nnz
    if nnz < 2 or d < 2:
        return None
    same_row = np.ones(nnz - 1, dtype=bool)
    row_starts = X.indptr[1:-1]
    same_row[row_starts[(row_starts > 0) & (row_starts < nnz)] - 1] = False
    left = X.indices[:-1][same_row]
    right = X.indices[1:][same_row]
    # For each column a, the nearest column b after it in some row: a boundary
    # must lie in (a, reach[a]].
    reach = np.full(d, d, dtype=np.int64)
    np.minimum.at(reach, left, right)
    boundaries: list[int] = []
    last = -1
    for a in np.argsort(reach, kind="stable"):
        end = int(reach[a])
        if end >= d:
            break
        if last <= a:  # the interval (a, end] holds no boundary yet
            boundaries.append(end)
            last = end
            if len(boundaries) >= MAX_GROUPS:
                return None
    return np.array([0, *sorted(boundaries)], dtype=np.int64)


def grouped_route_pays(X, starts: np.ndarray) -> bool:
    """Whether :func:`grouped_gram`'s cell updates cost at most
    :data:`ROUTE_FACTOR` times the products of the Gram."""
    m = starts.size
    lengths = np.diff(X.indptr).astype(float)
    updates = X.shape[0] * m * (m + 1) / 2
    return updates <= ROUTE_FACTOR * max(float(lengths @ lengths) / 2, 1.0)


def grouped_gram(X, factor: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """:math:`X^\\top \\mathrm{diag}(f) X` (dense, d x d, exactly symmetric) of
    canonical CSR ``X`` whose column groups begin at ``starts``
    (:func:`one_hot_groups`)."""
    n, d = X.shape
    m = starts.size
    ends = np.r_[starts[1:], d]
    sizes = ends - starts
    widths = sizes + 1  # the last bin: no nonzero of the row in the group
    col_group = np.repeat(np.arange(m), sizes)
    col_local = np.arange(d) - starts[col_group]
    pairs = [(g, h) for g in range(m) for h in range(g, m)]
    blocks = [np.zeros(widths[g] * widths[h]) for g, h in pairs]
    chunk = min(ROWS_PER_CHUNK, max(n, 1))
    slot_buffer = np.empty(m * chunk, dtype=np.intp)
    value_buffer = np.empty(m * chunk)
    weighted_buffer = np.empty(m * chunk)
    cell_buffer = np.empty(chunk, dtype=np.intp)
    product_buffer = np.empty(chunk)
    indptr, indices, data = X.indptr, X.indices, X.data
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        rows = stop - start
        lo, hi = indptr[start], indptr[stop]
        columns = indices[lo:hi]
        owner = np.repeat(np.arange(rows), np.diff(indptr[start : stop + 1]))
        flat = col_group[columns] * rows + owner
        slot = slot_buffer[: m * rows].reshape(m, rows)
        value = value_buffer[: m * rows].reshape(m, rows)
        weighted = weighted_buffer[: m * rows].reshape(m, rows)
        slot[...] = sizes[:, None]
        value[...] = 0.0
        slot.reshape(-1)[flat] = col_local[columns]
        value.reshape(-1)[flat] = data[lo:hi]
        np.multiply(value, factor[start:stop], out=weighted)
        cell, product = cell_buffer[:rows], product_buffer[:rows]
        for (g, h), block in zip(pairs, blocks, strict=True):
            np.multiply(slot[g], widths[h], out=cell)
            np.add(cell, slot[h], out=cell)
            np.multiply(weighted[g], value[h], out=product)
            block += np.bincount(cell, product, minlength=block.size)
    out = np.zeros((d, d))
    for (g, h), block in zip(pairs, blocks, strict=True):
        cells = block.reshape(widths[g], widths[h])[: sizes[g], : sizes[h]]
        rows, cols = slice(starts[g], ends[g]), slice(starts[h], ends[h])
        if g == h:
            out[rows, cols] = np.diag(np.diag(cells))
        else:
            out[rows, cols] = cells
            out[cols, rows] = cells.T
    return out
