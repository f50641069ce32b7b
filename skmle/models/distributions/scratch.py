"""Reusable per-thread buffers for the temporaries of the blocked sums.

The statistics of a block of rows (:func:`~skmle.models.distributions.model.blocked_sum`,
65,536 rows, 512 KB a temporary) need a few temporaries: ``log x``, ``x - c``.
Allocated afresh for each block they cost nothing when the allocator reuses
memory, but glibc's ``malloc`` serves blocks this large from ``mmap`` or from its
heap depending on a threshold that moves with the sizes freed before (other
code's 8 MB temporaries move it): in the one state every block's temporary is
fresh memory, and a gamma fit on a million rows took 6 ms instead of 2 ms,
alternating from one fit to the next. A buffer kept for the thread has the same
pages every time. Each thread (a Dask worker thread, say) has its own.
"""

from __future__ import annotations

import threading

import numpy as np

SCRATCH_ROWS = 65536
"""The largest buffer kept (a block of
:data:`~skmle.models.distributions.model.BLOCK_ROWS` rows); longer requests get
fresh memory."""

_LOCAL = threading.local()


def scratch(n_rows: int, slot: int = 0) -> np.ndarray:
    """An uninitialised float64 buffer of ``n_rows`` values, the same memory at
    every call with the same ``slot`` in this thread (two slots for two
    temporaries alive at once). The caller overwrites it (``out=``) and keeps
    nothing that refers to it."""
    if n_rows > SCRATCH_ROWS:
        return np.empty(n_rows)
    buffers = getattr(_LOCAL, "buffers", None)
    if buffers is None:
        buffers = _LOCAL.buffers = {}
    buffer = buffers.get(slot)
    if buffer is None:
        buffer = buffers[slot] = np.empty(SCRATCH_ROWS)
    return buffer[:n_rows]
