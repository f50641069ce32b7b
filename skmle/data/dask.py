"""The row blocks of Dask arrays as batches, summed on the Dask workers.

A :class:`DaskBatches` turns each row block of ``X`` (with the matching blocks of
``y`` and ``sample_weight``) into a :class:`~skmle.models.base.Batch` on a worker.
:meth:`DaskBatches.map_sum` sends a per-batch function (a small closure over the
model and ``theta``) to every block and adds the results on the client, in block
order, so the sum does not depend on which worker ran what. The optimizer runs on
the client and only parameter vectors and per-block sums cross the network.

With a ``distributed`` client, the batches are computed once and kept on the
workers (persisted) for the whole fit; a block lost with its worker is recomputed
from the array's task graph, so a fit survives a worker failure or stops with the
error Dask raises; when no worker is left to recompute it (a cluster without
nannies), the fit stops with :class:`NoWorkersError` after
``dask.config`` ``skmle.no-workers-timeout`` seconds (60 by default) instead of
waiting forever. Without a client, each pass recomputes the blocks from their
source with Dask's local scheduler, so an array larger than memory stays out of
memory. Empty row blocks (what filtering gives) are skipped.

Dask is imported only when a :class:`DaskBatches` is built: importing this module
does not import it. No scikit-learn here: the estimator layer supplies ``prepare``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial, reduce
from typing import Any

import numpy as np

from skmle._sparse import is_sparse
from skmle.data.batch import Batch, add_results, with_sides
from skmle.data.chunked import Prepare, arrays_to_batch, check_n_samples
from skmle.data.rows import LazyParts, sample_indices


def is_dask_array(obj) -> bool:
    """Whether ``obj`` is a ``dask.array.Array`` (without importing Dask)."""
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(obj, module.Array)


def current_client():
    """The ``distributed`` client Dask would compute with now, or None.

    Follows Dask's own choice (``dask.config.set(scheduler=...)`` included), so a
    ``scheduler="threads"`` context runs a fit locally even while a client exists.
    """
    if "distributed" not in sys.modules:
        return None  # a client exists only if distributed was imported
    import dask.base
    from distributed import Client

    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


def _whole_rows(array):
    """``array`` with one chunk along every axis but the first."""
    if array.ndim > 1 and any(len(c) > 1 for c in array.chunks[1:]):
        array = array.rechunk({axis: -1 for axis in range(1, array.ndim)})
    return array


def _check_known_rows(array, name: str) -> None:
    if any(np.isnan(c) for c in array.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes (rows). Call {name}.compute_chunk_sizes() "
            "or build it with known chunks before fitting."
        )


def _rows_like(values, row_chunks, name: str):
    """``values`` as a Dask array with the row chunks ``row_chunks``; None and
    scalars are returned as they are."""
    import dask.array as da

    if values is None or np.ndim(values) == 0:
        return values
    if is_dask_array(values):
        _check_known_rows(values, name)
    elif not hasattr(values, "shape"):
        values = np.asarray(values)
    check_n_samples(sum(row_chunks), **{name: values})
    chunks = {0: row_chunks, **{axis: -1 for axis in range(1, len(values.shape))}}
    if is_dask_array(values):
        return values.rechunk(chunks)
    return da.from_array(values, chunks=chunks)


def prepare_with_sides(prepare: Prepare, X, y, sample_weight, offset, groups, check):
    """``prepare`` of one block with its side columns attached (on a worker)."""
    return with_sides(prepare(X, y, sample_weight, check), offset, groups, check)


def _blocks(values, n_blocks: int) -> list:
    if not is_dask_array(values):
        return [values] * n_blocks
    return list(values.to_delayed().ravel())


class DaskBatches:
    """Batches that are the row blocks of Dask arrays, summed where they live.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, ...)
        Chunked by rows (blocks along the other axes are merged).
    y : dask.array.Array, array-like or None, default=None
        Rechunked (or, for a NumPy array, split) to ``X``'s row chunks.
    sample_weight : dask.array.Array, array-like, float or None, default=None
    prepare : callable, default=arrays_to_batch
        ``prepare(X, y, sample_weight, check) -> Batch`` for one block, run on the
        workers; ``check`` is True for the first pass.
    persist : bool, default=True
        With a ``distributed`` client, compute the batches once and keep them on
        the workers for every later pass. Without a client nothing is persisted.
    offset, groups : dask.array.Array, array-like or None, default=None
        Side columns, rechunked like ``y`` and attached to each batch
        (:func:`~skmle.data.batch.with_sides`).

    Examples
    --------
    >>> import dask.array as da
    >>> from skmle.data.dask import DaskBatches
    >>> X = da.arange(10.0, chunks=3).reshape(5, 2)
    >>> batches = DaskBatches(X.rechunk((2, 2)))
    >>> len(batches)
    3
    >>> float(batches.map_sum(lambda b: b.X.sum()))
    45.0
    """

    def __init__(
        self,
        X,
        y=None,
        sample_weight=None,
        *,
        prepare: Prepare = arrays_to_batch,
        persist: bool = True,
        offset=None,
        groups=None,
    ):
        import dask

        if not is_dask_array(X):
            raise TypeError(f"DaskBatches needs a dask array, got {type(X).__name__}.")
        _check_known_rows(X, "X")
        self.X = _whole_rows(X)
        row_chunks = self.X.chunks[0]
        self.y = _rows_like(y, row_chunks, "y")
        self.sample_weight = _rows_like(sample_weight, row_chunks, "sample_weight")
        self.offset = _rows_like(offset, row_chunks, "offset")
        self.groups = _rows_like(groups, row_chunks, "groups")
        self.prepare = prepare
        self.checked = False
        n_blocks = len(row_chunks)
        blocks = list(
            zip(*(_blocks(values, n_blocks) for values in self._columns()), strict=True)
        )
        # Empty row blocks (filtering sorted data, then compute_chunk_sizes(),
        # gives them) add nothing to a sum, and validating one would fail on
        # "0 samples": they are left out. An array of no rows keeps its one
        # block, so that validating it raises the same error as an empty ndarray.
        kept = [block for block, n in zip(blocks, row_chunks, strict=True) if n > 0]
        self._blocks = kept or blocks[:1]
        self._head = None
        self.client = current_client()
        self._futures = None
        if persist and self.client is not None:
            self._futures = self.client.compute(self._batch_tasks(True))
            self.checked = True
        self._dask = dask

    def __len__(self) -> int:
        return len(self._blocks)

    def __iter__(self):
        raise TypeError(
            "The batches of a Dask array live on the workers: sum over them with "
            "Objective.sum_batches or DaskBatches.map_sum instead of iterating."
        )

    def __reduce__(self):
        raise TypeError(
            "DaskBatches cannot be sent to a worker. A function given to "
            "Objective.sum_batches must capture only small things (the model, theta), not "
            "the objective or its batches."
        )

    def _columns(self) -> tuple:
        return (self.X, self.y, self.sample_weight, self.offset, self.groups)

    def _batch_tasks(self, check: bool) -> list:
        import dask

        prepare = dask.delayed(partial(prepare_with_sides, self.prepare), pure=False)
        return [prepare(*columns, check) for columns in self._blocks]

    def head(self, n_rows: int = 16) -> Batch:
        """The first rows, fetched to the client and prepared: shapes for a model."""
        if self._head is None:
            stop = min(n_rows, self.X.shape[0])

            def first(values):
                if values is None or np.ndim(values) == 0:
                    return values
                return values[:stop]

            rows = self._compute(*(first(values) for values in self._columns()))
            self._head = prepare_with_sides(self.prepare, *rows, True)
        return self._head

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def total_weight(self) -> float:
        return float(self.map_sum(lambda b: b.total_weight))

    def prepared(self, prepare: Callable[[Batch], Any]) -> LazyParts:
        """Parts made by ``prepare`` again on every pass (see :class:`Rows`)."""
        return LazyParts(self, prepare)

    def sample(self, n_rows: int, random_state=None) -> Batch:
        """A uniform sample of ``n_rows`` rows without replacement, in row order
        (all rows when there are no more), fetched to the client and prepared."""
        rows = sample_indices(self.n_rows, n_rows, random_state)

        def pick(values):
            if values is None or np.ndim(values) == 0:
                return values
            return values[rows]

        X, *rest = self._compute(*(pick(values) for values in self._columns()))
        return prepare_with_sides(
            self.prepare, X if is_sparse(X) else np.asarray(X), *rest, True
        )

    def resident_blocks(self, n_blocks: int, min_rows: int = 1) -> None:
        """None: the rows are not held in this process's memory."""
        return None

    def map(self, per_batch: Callable[[Batch], Any]) -> list:
        """``per_batch`` of every block, computed by Dask, in block order."""
        if self._futures is not None:
            parts = self.client.map(per_batch, self._futures, pure=False)
            return gather(self.client, parts)
        apply = self._dask.delayed(per_batch, pure=False)
        tasks = [apply(batch) for batch in self._batch_tasks(not self.checked)]
        results = self._compute(*tasks)
        self.checked = True
        return results

    def _compute(self, *collections) -> list:
        """``dask.compute``; on a ``distributed`` client, through :func:`gather`."""
        if self.client is None:
            return list(self._dask.compute(*collections))
        lazy = [
            i for i, c in enumerate(collections) if self._dask.is_dask_collection(c)
        ]
        results = list(collections)
        computed = gather(self.client, self.client.compute([results[i] for i in lazy]))
        for i, value in zip(lazy, computed, strict=True):
            results[i] = value
        return results

    def map_sum(self, per_batch: Callable[[Batch], Any]) -> Any:
        """Apply ``per_batch`` to every block and add the results in block order."""
        return reduce(add_results, self.map(per_batch))

    def close(self) -> None:
        """Release the persisted batches on the workers (also done when collected)."""
        if self._futures is not None:
            self.client.cancel(self._futures)
            self._futures = None


def _skip_empty(function, row_shape, dtype, block):
    """``function(block)``, or no rows of output for a block of no rows (which an
    estimator's validation would reject)."""
    if block.shape[0] == 0:
        return np.empty((0, *row_shape), dtype=dtype)
    return function(block)


# -- a cluster that loses its workers -------------------------------------------------
NO_WORKERS_TIMEOUT = 60.0
"""Seconds a fit waits for a cluster with no workers before it stops, unless Dask's
configuration sets ``skmle.no-workers-timeout``."""

POLL_SECONDS = 1.0
"""How often a pass still running checks that the cluster has workers."""


class NoWorkersError(RuntimeError):
    """The ``distributed`` cluster has had no workers for too long to go on."""


def no_workers_timeout() -> float:
    """Seconds to wait for workers: ``dask.config`` ``skmle.no-workers-timeout``,
    else :data:`NO_WORKERS_TIMEOUT`."""
    import dask

    return float(dask.config.get("skmle.no-workers-timeout", NO_WORKERS_TIMEOUT))


def gather(client, futures: list) -> list:
    """``client.gather(futures)``, but never waiting forever for a lost cluster.

    Dask recomputes the tasks of a lost worker on the others; when the last worker
    is gone (a cluster without nannies does not restart it) the tasks wait for a
    worker that never comes, and so would the fit. While the futures are not all
    done, this checks every :data:`POLL_SECONDS` that the scheduler still has
    workers, and raises :class:`NoWorkersError` once it has had none for
    :func:`no_workers_timeout` seconds. (A future is "lost" for a moment whenever
    its worker dies, and then recomputed: that alone is no reason to stop.) A
    pass that finishes within :data:`POLL_SECONDS` costs nothing more than a plain
    ``gather``.
    """
    from distributed import wait

    timeout = no_workers_timeout()
    idle_since = None
    while True:
        try:
            wait(futures, timeout=min(POLL_SECONDS, timeout))
            break
        except TimeoutError:
            pass
        if client.nthreads():
            idle_since = None
            continue
        now = time.monotonic()
        idle_since = now if idle_since is None else idle_since
        if now - idle_since >= timeout:
            client.cancel(futures)
            raise NoWorkersError(
                f"The Dask cluster has had no workers for {timeout:g} s (the last "
                "one was lost, or none was started), so the fit cannot go on. Start "
                "workers (a cluster with nannies restarts lost ones), or wait longer "
                "with dask.config.set({'skmle.no-workers-timeout': seconds})."
            )
    return client.gather(futures)


def map_rows(function: Callable[[np.ndarray], np.ndarray], X, probe: np.ndarray):
    """``function`` applied lazily to each row block of the Dask array ``X``.

    ``probe`` is ``function``'s output on one row: it gives the output's dtype and
    the shape of an output row. The result is a Dask array with ``X``'s row chunks.
    """
    X = _whole_rows(X)
    probe = np.asarray(probe)
    meta = np.empty((0,) * probe.ndim, dtype=probe.dtype)
    function = partial(_skip_empty, function, probe.shape[1:], probe.dtype)
    if probe.ndim == 1:
        return X.map_blocks(
            function, drop_axis=list(range(1, X.ndim)), dtype=probe.dtype, meta=meta
        )
    chunks = (X.chunks[0], *((n,) for n in probe.shape[1:]))
    # An output row with more axes than an input row (a class's interval per
    # row: (n, K, 2) from (n, d)) gets its extra axes as new ones.
    new_axis = list(range(X.ndim, probe.ndim)) if probe.ndim > X.ndim else None
    return X.map_blocks(
        function, chunks=chunks, dtype=probe.dtype, meta=meta, new_axis=new_axis
    )
