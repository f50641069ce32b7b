"""The one protocol every store of rows meets, and the store of rows in memory.

Models, optimizers and estimators see rows only through :class:`Rows`: sum a
function over the batches (where they live), the first rows (for shapes), the total
weight, and a uniform sample (for random starts). Which kind of store holds them
(in memory, a chunked memmap, a Dask array) is for this layer alone to know.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from functools import reduce
from itertools import pairwise
from typing import Any, Protocol, runtime_checkable

import numpy as np

from skmle._sparse import stack_rows
from skmle.data.batch import Batch, add_results

PerBatch = Callable[[Batch], Any]
"""A function of one batch whose results over disjoint batches add up (numbers,
arrays, tuples of them, or objects with ``+``)."""


@runtime_checkable
class Rows(Protocol):
    """Rows of data, stored somewhere, seen as a sum over batches.

    ``map_sum(per_batch)`` applies ``per_batch`` to every batch (on the workers,
    for Dask) and adds the results; ``per_batch`` must capture only small things
    (a model, ``theta``), never the store. ``head(n_rows)`` is the first rows as a
    batch; ``sample(n_rows, random_state)`` a uniform sample without replacement,
    in row order, with the rows' weights; ``n_rows`` and ``total_weight`` count
    them. ``prepared(prepare)`` gives the batches turned into parts by
    ``prepare`` (picklable), for a solver that makes many passes over the same
    derived rows: a store in memory prepares them once and holds them, a store
    read in pieces prepares each again on every pass.
    ``resident_blocks(n_blocks, min_rows)`` is a capability: the rows cut into
    consecutive blocks held in this process's memory, each with its slice of the
    row index (so that per-row arrays, such as a linear predictor, can be kept
    beside them and the blocks summed in threads), or None when the store does not
    hold its rows (chunks read from disk, blocks on Dask workers).
    """

    def map_sum(self, per_batch: PerBatch) -> Any: ...

    def head(self, n_rows: int = 16) -> Batch: ...

    def sample(self, n_rows: int, random_state=None) -> Batch: ...

    def prepared(self, prepare: Callable[[Batch], Any]) -> Parts: ...

    def resident_blocks(
        self, n_blocks: int, min_rows: int = 1
    ) -> list[tuple[Batch, slice]] | None: ...

    @property
    def n_rows(self) -> int: ...

    @property
    def total_weight(self) -> float: ...


class Parts(Protocol):
    """What :meth:`Rows.prepared` returns: every batch turned into a part by
    ``prepare`` (for example the rows of a design, scaled), summed like rows."""

    def map_sum(self, per_part: Callable[[Any], Any]) -> Any: ...


class LazyParts:
    """Parts prepared again on every pass, where the batches live (a store whose
    rows are read in pieces keeps nothing more in memory than a chunk)."""

    def __init__(self, rows, prepare: Callable[[Batch], Any]):
        self.rows, self.prepare = rows, prepare

    def map_sum(self, per_part: Callable[[Any], Any]) -> Any:
        prepare = self.prepare
        return self.rows.map_sum(lambda batch: per_part(prepare(batch)))


class HeldParts:
    """Parts prepared once and held (rows already in memory)."""

    def __init__(self, parts: list):
        self.parts = parts

    def map_sum(self, per_part: Callable[[Any], Any]) -> Any:
        return reduce(add_results, (per_part(part) for part in self.parts))


def sample_indices(n_rows: int, size: int, random_state=None) -> np.ndarray:
    """Sorted indices of ``size`` of ``n_rows`` rows drawn uniformly without
    replacement (all of them, with no draw, when ``size >= n_rows``)."""
    if size >= n_rows:
        return np.arange(n_rows)
    rng = (
        random_state
        if isinstance(random_state, np.random.RandomState | np.random.Generator)
        else np.random.default_rng(random_state)
    )
    if isinstance(rng, np.random.Generator):
        # Floyd's algorithm: time in the size of the sample, not of the rows
        # (a RandomState permutes all of them).
        return np.sort(rng.choice(n_rows, size=size, replace=False, shuffle=False))
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def concatenate(batches: Sequence[Batch]) -> Batch:
    """One batch of the rows of several, in order."""
    if len(batches) == 1:
        return batches[0]

    def joined(name):
        if getattr(batches[0], name) is None:
            return None
        parts = [getattr(b, name) for b in batches]
        return stack_rows(parts) if name == "X" else np.concatenate(parts)

    return Batch(*(joined(f.name) for f in fields(Batch)))


class InMemoryRows:
    """Batches held in memory, summed one after another.

    Parameters
    ----------
    batches : sequence of Batch

    Examples
    --------
    >>> import numpy as np
    >>> from skmle.data import Batch, InMemoryRows
    >>> rows = InMemoryRows([Batch.from_arrays(np.arange(6.0).reshape(3, 2))])
    >>> float(rows.map_sum(lambda b: b.X.sum())), rows.n_rows, rows.total_weight
    (15.0, 3, 3.0)
    """

    def __init__(self, batches: Sequence[Batch]):
        self.batches = list(batches)
        if not self.batches:
            raise ValueError("InMemoryRows needs at least one batch.")

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        return iter(self.batches)

    def map_sum(self, per_batch: PerBatch) -> Any:
        return reduce(add_results, (per_batch(b) for b in self.batches))

    @property
    def n_rows(self) -> int:
        return sum(b.X.shape[0] for b in self.batches)

    @property
    def total_weight(self) -> float:
        return float(self.map_sum(lambda b: b.total_weight))

    def resident_blocks(
        self, n_blocks: int, min_rows: int = 1
    ) -> list[tuple[Batch, slice]]:
        """Each batch cut into at most ``n_blocks`` consecutive blocks of at least
        ``min_rows`` rows (one block when it has fewer), with the blocks' slices of
        the row index over all batches."""
        blocks, offset = [], 0
        for batch in self.batches:
            n = batch.X.shape[0]
            k = max(1, min(n_blocks, n // max(min_rows, 1)))
            cuts = np.linspace(0, n, k + 1).astype(int)
            for lo, hi in pairwise(cuts):
                blocks.append(
                    (batch.take(slice(lo, hi)), slice(offset + lo, offset + hi))
                )
            offset += n
        return blocks

    def head(self, n_rows: int = 16) -> Batch:
        first = concatenate(self.batches)
        return first.take(slice(0, min(n_rows, first.X.shape[0])))

    def prepared(self, prepare: Callable[[Batch], Any]) -> HeldParts:
        return HeldParts([prepare(batch) for batch in self.batches])

    def sample(self, n_rows: int, random_state=None) -> Batch:
        every = concatenate(self.batches)
        return every.take(sample_indices(every.X.shape[0], n_rows, random_state))
