"""Which store holds the data a user passed, and methods that map rows to rows.

The one place that looks at the type of ``X``: in memory, a Dask array, or
:func:`skmle.chunked` data. Everything else sees :class:`~skmle.data.rows.Rows`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps

import numpy as np

from skmle.data.batch import Batch, with_sides
from skmle.data.chunked import ChunkedArray, ChunkedBatches, Prepare, release_pages
from skmle.data.dask import is_dask_array, map_rows
from skmle.data.rows import InMemoryRows, Rows


def is_large(X) -> bool:
    """Whether ``X`` is read in pieces: a Dask array or :func:`skmle.chunked` data."""
    return isinstance(X, ChunkedArray) or is_dask_array(X)


def row_store(
    X,
    y,
    sample_weight,
    *,
    whole: Callable[..., Batch],
    chunk: Prepare,
    persist: bool = True,
    offset=None,
    groups=None,
) -> Rows:
    """The :class:`~skmle.data.rows.Rows` that hold ``X`` (and ``y``, weights).

    Parameters
    ----------
    X, y, sample_weight
        In memory, a Dask array, or :func:`skmle.chunked` data.
    whole : callable
        ``whole(X, y, sample_weight) -> Batch``: validates in-memory data at once.
    chunk : callable
        ``chunk(X, y, sample_weight, check) -> Batch``: validates one chunk (on a
        worker, for Dask); ``check`` is False on passes after the first.
    persist : bool, default=True
        Keep Dask batches on the workers between passes.
    offset, groups : array-like of shape (n_samples,), default=None
        Side columns that follow the rows into every batch
        (:class:`~skmle.data.Batch`); for data read in pieces, arrays of the
        same kind (or in memory: they are sliced alongside).
    """
    sides = {"offset": offset, "groups": groups}
    if isinstance(X, ChunkedArray):
        return ChunkedBatches(X, y, sample_weight, prepare=chunk, **sides)
    if is_dask_array(X):
        from skmle.data.dask import DaskBatches

        return DaskBatches(X, y, sample_weight, prepare=chunk, persist=persist, **sides)
    return InMemoryRows([with_sides(whole(X, y, sample_weight), **sides)])


def distinct_values(values, chunk_rows: int = 1 << 20) -> np.ndarray:
    """The sorted distinct values of a column that may be larger than memory.

    A Dask array goes through ``dask.array.unique``; anything else (an ndarray, a
    ``numpy.memmap``, :func:`skmle.chunked` data) is read ``chunk_rows`` at a time
    and the values of the chunks are merged.
    """
    if isinstance(values, ChunkedArray):
        values = values.data
    if is_dask_array(values):
        import dask.array as da

        return np.asarray(da.unique(values.ravel()).compute())
    if not hasattr(values, "shape"):
        values = np.asarray(values)
    distinct = None
    for start in range(0, max(values.shape[0], 1), chunk_rows):
        part = np.unique(np.ravel(np.asarray(values[start : start + chunk_rows])))
        distinct = part if distinct is None else np.union1d(distinct, part)
    return distinct


def _call_method(estimator, name, args, kwargs, X):
    return getattr(estimator, name)(X, *args, **kwargs)


def rowwise(method):
    """Let a method from rows of ``X`` to rows of output take data larger than memory.

    On a Dask array the decorated method returns a Dask array: the method mapped
    lazily over the row blocks, with the fitted estimator sent to the workers. On
    :func:`skmle.chunked` data it returns an ndarray computed one chunk at a time.
    Other input goes to the method unchanged.
    """

    @wraps(method)
    def wrapper(self, X, *args, **kwargs):
        if is_dask_array(X):
            # One row of zeros gives the output's dtype and row shape, and runs the
            # estimator's own checks (fitted, number of features) at once.
            probe = method(self, np.zeros((1, *X.shape[1:]), X.dtype), *args, **kwargs)
            function = partial(_call_method, self, method.__name__, args, kwargs)
            return map_rows(function, X, probe)
        if isinstance(X, ChunkedArray):
            parts = []
            for start, stop in X.bounds():
                rows = X.data[start:stop]
                parts.append(method(self, rows, *args, **kwargs))
                release_pages(rows)
            if not parts:
                return method(self, X.data[:0], *args, **kwargs)
            return np.concatenate(parts)
        return method(self, X, *args, **kwargs)

    return wrapper
