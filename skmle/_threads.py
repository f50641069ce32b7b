"""One process-wide pool of threads for sums over rows held in memory.

Starting threads for every sum costs more than the sum on a busy machine, so the
pool is started once (and again in a forked child, which inherits no threads).
Work mapped here runs with BLAS on one thread (:func:`skmle._blas.single_blas_thread`):
the products of one block of rows are too small for BLAS threads to pay, and on a
busy machine their spin-waiting costs far more.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from skmle._blas import single_blas_thread

_pool: tuple[int, ThreadPoolExecutor] | None = None


def available_threads() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(available_threads()))
    return _pool[1]


def thread_map(function: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """``[function(item) for item in items]``, in parallel threads when several,
    with BLAS on one thread (also when there is one item)."""
    with single_blas_thread():
        if len(items) == 1:
            return [function(items[0])]
        return list(_thread_pool().map(function, items))
