"""Rows read a chunk at a time: fits on arrays larger than memory.

A log-likelihood, its gradient, its Hessian and every sufficient statistic are sums
over rows, so an :class:`~skmle.models.objective.Objective` needs only one chunk of
rows in memory at a time. :class:`ChunkedBatches` is the lazy sequence of those
chunks: consecutive row slices of arrays that support ``X[start:stop]`` (NumPy
arrays, ``numpy.memmap``, h5py or zarr datasets). Each chunk is read, turned into a
:class:`~skmle.data.Batch` by a ``prepare`` function (the estimator's
validation), used, and dropped.

Memory of a ``numpy.memmap``
----------------------------
Reading a memmap maps its file pages into the process, and those pages count
towards its resident memory until the kernel needs them back: one pass over a 4 GB
memmap shows as 4 GB resident. After each chunk, :func:`release_pages` tells the
kernel (``madvise(MADV_DONTNEED)``, Linux) that the chunk's pages are not needed;
they stay in the file and in the page cache, and are read again if touched. It is
skipped for copy-on-write memmaps (``mode="c"``), whose changed pages live only in
memory.

No scikit-learn here: the estimator layer supplies ``prepare``.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from skmle.data.batch import Batch, add_results, with_sides
from skmle.data.rows import LazyParts, sample_indices

DEFAULT_CHUNK_BYTES = 32 * 2**20
"""Bytes of ``X`` per chunk when no ``chunk_size`` is given."""

Prepare = Callable[[Any, Any, Any, bool], Batch]
"""``prepare(X, y, sample_weight, check) -> Batch`` for one chunk of rows; ``check``
is True on the first pass, when the values still need checking."""


def arrays_to_batch(X, y=None, sample_weight=None, check: bool = True) -> Batch:
    """The default ``prepare``: a :class:`Batch` of floats, checked to be finite."""
    batch = Batch.from_arrays(X, y, sample_weight)
    if check and not np.all(np.isfinite(batch.X)):
        raise ValueError("X contains NaN or infinity.")
    return batch


def default_chunk_size(X) -> int:
    """Rows per chunk so that a chunk of ``X`` holds about 32 MiB."""
    row_bytes = int(np.prod(X.shape[1:], dtype=np.int64)) * np.dtype(X.dtype).itemsize
    return max(1, DEFAULT_CHUNK_BYTES // max(row_bytes, 1))


class ChunkedArray:
    """An array to be read ``chunk_size`` rows at a time (see :func:`chunked`).

    Attributes
    ----------
    data : array-like of shape (n_samples, ...)
        Anything with ``shape``, ``dtype`` and row slicing ``data[start:stop]``.
    chunk_size : int
        Rows per chunk.
    """

    def __init__(self, data, chunk_size: int | None = None):
        if isinstance(data, ChunkedArray):
            data = data.data
        if not hasattr(data, "shape") or not hasattr(data, "__getitem__"):
            data = np.asarray(data)
        if len(data.shape) == 0:
            raise ValueError("chunked needs an array with rows, got a scalar.")
        if chunk_size is None:
            chunk_size = default_chunk_size(data)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
            raise ValueError(
                f"chunk_size must be a positive integer, got {chunk_size!r}."
            )
        if chunk_size < 1:
            raise ValueError(
                f"chunk_size must be a positive integer, got {chunk_size}."
            )
        self.data = data
        self.chunk_size = int(chunk_size)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.data.dtype)

    @property
    def ndim(self) -> int:
        return len(self.data.shape)

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        return (
            f"chunked({type(self.data).__name__} of shape {self.shape}, "
            f"chunk_size={self.chunk_size})"
        )

    def bounds(self) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` of each chunk."""
        n = self.shape[0]
        for start in range(0, n, self.chunk_size):
            yield start, min(start + self.chunk_size, n)


def chunked(X, chunk_size: int | None = None) -> ChunkedArray:
    """Mark ``X`` to be read ``chunk_size`` rows at a time by ``fit`` and friends.

    Every skmle estimator's ``fit``, ``log_likelihood``, ``aic``/``bic`` and its
    row-wise methods (``score_samples``, ``predict``, ...) accept the result in
    place of ``X``. The fit then holds one chunk of rows in memory at a time and
    equals the fit on the whole array; ``y`` and ``sample_weight`` (arrays or
    memmaps with the same number of rows) are sliced alongside.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        A ``numpy.memmap``, an ndarray, or any array with row slicing (h5py, zarr).
    chunk_size : int, default=None
        Rows per chunk; by default about 32 MiB of ``X``. Peak memory is a few
        times one chunk.

    Returns
    -------
    ChunkedArray

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import GaussianMLE, chunked
    >>> X = np.random.default_rng(0).normal(size=(1000, 2))
    >>> whole = GaussianMLE().fit(X)
    >>> by_chunks = GaussianMLE().fit(chunked(X, chunk_size=300))
    >>> bool(np.allclose(by_chunks.covariance_, whole.covariance_, rtol=1e-12))
    True
    """
    return ChunkedArray(X, chunk_size)


# -- giving memmap pages back -------------------------------------------------------------
def _libc_madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


_MADVISE = _libc_madvise()


def release_pages(array) -> bool:
    """Drop the resident pages of a slice of a ``numpy.memmap``; the data stays.

    Returns True when the kernel was told, False when there was nothing to do
    (not a memmap, copy-on-write, or not Linux).
    """
    if (
        _MADVISE is None
        or not isinstance(array, np.memmap)
        or array.mode == "c"  # private pages: dropping them would lose changes
        or array.size == 0
    ):
        return False
    low, high = np.lib.array_utils.byte_bounds(array)
    # madvise needs a page-aligned start; a mapping starts on a page boundary, so
    # rounding down stays inside it (the kernel rounds the length up).
    start = low - low % mmap.PAGESIZE
    return _MADVISE(start, high - start, mmap.MADV_DONTNEED) == 0


# -- the lazy sequence of batches ---------------------------------------------------------
def _rows(values, start: int, stop: int):
    """Rows ``start:stop`` of an optional per-row array (None and scalars pass)."""
    if values is None or np.ndim(values) == 0:
        return values
    return values[start:stop]


def _pick(values, rows):
    """The ``rows`` of ``values``, or ``values`` itself for None and scalars."""
    if values is None or np.ndim(values) == 0:
        return values
    return values[rows]


def check_n_samples(n_samples: int, **arrays) -> None:
    """Raise ``ValueError`` when a per-row array's length differs from ``n_samples``."""
    for name, values in arrays.items():
        if values is None or np.ndim(values) == 0:
            continue
        if np.shape(values)[0] != n_samples:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"X has {n_samples} rows but {name} has {np.shape(values)[0]}."
            )


class ChunkedBatches(Sequence):
    """Consecutive row chunks of ``X``, ``y`` and ``sample_weight`` as batches.

    Chunk ``i`` is built only when asked for (``batches[i]``, iteration, or
    :meth:`map_sum`), so at most one chunk is in memory at a time. The first full
    pass calls ``prepare`` with ``check=True``; later passes with ``check=False``,
    so an expensive check (finite values) runs once per fit.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...) or ChunkedArray
    y : array-like of shape (n_samples, ...), default=None
    sample_weight : array-like of shape (n_samples,) or float, default=None
    chunk_size : int, default=None
        Rows per chunk; by default ``X.chunk_size`` for a :class:`ChunkedArray`,
        else about 32 MiB of ``X``.
    prepare : callable, default=arrays_to_batch
        ``prepare(X, y, sample_weight, check) -> Batch`` for one chunk.
    offset, groups : array-like of shape (n_samples,), default=None
        Side columns sliced alongside and attached to each batch
        (:func:`~skmle.data.batch.with_sides`).

    Examples
    --------
    >>> import numpy as np
    >>> from skmle.data.chunked import ChunkedBatches
    >>> batches = ChunkedBatches(np.arange(10.0).reshape(5, 2), chunk_size=2)
    >>> [b.X.shape[0] for b in batches]
    [2, 2, 1]
    >>> float(batches.map_sum(lambda b: b.X.sum()))
    45.0
    """

    def __init__(
        self,
        X,
        y=None,
        sample_weight=None,
        *,
        chunk_size: int | None = None,
        prepare: Prepare = arrays_to_batch,
        offset=None,
        groups=None,
    ):
        if isinstance(X, ChunkedArray):
            chunk_size = X.chunk_size if chunk_size is None else chunk_size
        self.rows = ChunkedArray(X, chunk_size)
        self.y, self.sample_weight, self.offset, self.groups = (
            values.data if isinstance(values, ChunkedArray) else values
            for values in (y, sample_weight, offset, groups)
        )
        check_n_samples(
            self.rows.shape[0],
            y=self.y,
            sample_weight=self.sample_weight,
            offset=self.offset,
            groups=self.groups,
        )
        self.prepare = prepare
        self.bounds = list(self.rows.bounds())
        self.checked = False

    @property
    def chunk_size(self) -> int:
        return self.rows.chunk_size

    def __len__(self) -> int:
        return len(self.bounds)

    def _columns(self) -> tuple:
        """The per-row arrays beside ``X``: y, weights, offset, groups."""
        return (self.y, self.sample_weight, self.offset, self.groups)

    def _raw(self, index: int) -> tuple:
        start, stop = self.bounds[index]
        return (
            self.rows.data[start:stop],
            *(_rows(values, start, stop) for values in self._columns()),
        )

    def _prepare(self, raw: tuple, check: bool) -> Batch:
        """``prepare`` of the first three columns, with the side columns attached."""
        return with_sides(self.prepare(*raw[:3], check), *raw[3:], check=check)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._prepare(self._raw(range(len(self))[index]), not self.checked)

    def __iter__(self) -> Iterator[Batch]:
        return self.map(lambda batch: batch)

    def head(self, n_rows: int = 16) -> Batch:
        """The first ``n_rows`` rows, prepared and checked: shapes for a model."""
        stop = min(n_rows, self.rows.shape[0])
        return self._prepare(
            (self.rows.data[:stop], *(_rows(v, 0, stop) for v in self._columns())),
            True,
        )

    @property
    def n_rows(self) -> int:
        return self.rows.shape[0]

    @property
    def total_weight(self) -> float:
        return float(self.map_sum(lambda b: b.total_weight))

    def prepared(self, prepare: Callable[[Batch], Any]) -> LazyParts:
        """Parts made by ``prepare`` again on every pass (see :class:`Rows`)."""
        return LazyParts(self, prepare)

    def sample(self, n_rows: int, random_state=None) -> Batch:
        """A uniform sample of ``n_rows`` rows without replacement, in row order
        (all rows when there are no more), read and prepared as one batch."""
        rows = sample_indices(self.n_rows, n_rows, random_state)
        return self._prepare(
            (self.rows.data[rows], *(_pick(v, rows) for v in self._columns())), True
        )

    def resident_blocks(self, n_blocks: int, min_rows: int = 1) -> None:
        """None: the rows are not held in this process's memory."""
        return None

    def map(self, per_batch: Callable[[Batch], Any]) -> Iterator[Any]:
        """``per_batch`` of each chunk in order, reading one chunk at a time."""
        check = not self.checked
        for index in range(len(self)):
            raw = self._raw(index)
            try:
                yield per_batch(self._prepare(raw, check))
            finally:
                for values in raw:
                    release_pages(values)
        self.checked = True

    def map_sum(self, per_batch: Callable[[Batch], Any]) -> Any:
        """Apply ``per_batch`` to every chunk and add the results in row order."""
        total = None
        for part in self.map(per_batch):
            total = part if total is None else add_results(total, part)
        return total
