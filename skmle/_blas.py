"""Run BLAS on one thread while skmle fits, safely from many threads at once.

The products in a linear-model fit are tall and thin (many rows, few columns) or
memory-bound (``X @ w``): a second BLAS thread saves little, and on a machine
whose cores are busy its spin-waiting makes each call many times slower.

BLAS thread limits are process-wide, and :mod:`threadpoolctl` limiters are not
re-entrant across threads: each remembers the limits it found on entry and puts
them back on exit, so two overlapping fits in two threads (the second entering
while the first holds the limit, the first leaving before the second) left BLAS on
one thread for the rest of the process. Here one process-wide count, under a
lock, decides instead: the first fit to enter sets the limit, the last to leave
restores what the first found, and the fits in between change nothing.

OpenBLAS (pthreads build) also lets only one Python thread at a time change its
limit: the first thread to set it "controls" it until that thread releases it,
and calls from other threads are silently ignored. skmle releases the control it
takes after each change it makes, so the last fit to leave can restore the limits
even when another thread set them; a thread that controlled OpenBLAS before (a
user's own ``threadpool_limits``) keeps control, so its limits keep precedence,
as threadpoolctl intends.

Creating a :class:`threadpoolctl.ThreadpoolController` scans the loaded libraries
(milliseconds), so it is made once.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from functools import lru_cache

from threadpoolctl import ThreadpoolController

try:  # threadpoolctl >= 3.6 tracks which thread controls OpenBLAS
    from threadpoolctl import OpenBLASController
except ImportError:  # pragma: no cover - older threadpoolctl
    OpenBLASController = None


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


class _State:
    """The process-wide count of active :func:`single_blas_thread` contexts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.depth = 0
        self.limiter = None


_state = _State()


def _after_fork_in_child() -> None:
    # A forked child starts afresh (its lock may have been held by a thread that
    # did not survive the fork); contexts entered in the parent do not count here.
    global _state
    _state = _State()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _openblas_controller_thread():
    """The thread that controls OpenBLAS's limit now, or None.

    threadpoolctl keeps it in a private attribute; without it (another version),
    skmle assumes no thread controls OpenBLAS.
    """
    shared = getattr(OpenBLASController, "_SHARED_STATE", None)
    return getattr(shared, "controlling_thread", None)


def _change_limits(change) -> None:
    """``change()``, then give up control of OpenBLAS if this call took it.

    A thread that controlled OpenBLAS before (a user's ``threadpool_limits``)
    keeps control, so its limits keep precedence over skmle's.
    """
    before = _openblas_controller_thread() if OpenBLASController else None
    change()
    if OpenBLASController is not None and before is None:
        OpenBLASController.clear_controlling_thread()


def _enter():
    state = _state
    with state.lock:
        if state.depth == 0:

            def limit():
                state.limiter = _controller().limit(limits=1, user_api="blas")

            _change_limits(limit)
        state.depth += 1
    return state


def _leave(state: _State) -> None:
    if state is not _state:  # entered before a fork, left in the child
        return
    with state.lock:
        state.depth -= 1
        if state.depth == 0:
            limiter, state.limiter = state.limiter, None
            _change_limits(limiter.restore_original_limits)


@contextmanager
def single_blas_thread():
    """Context manager limiting BLAS to one thread while it is active.

    Re-entrant and thread-safe: nested and concurrent contexts share one limit,
    set by the first to enter and lifted (back to the limits found then) by the
    last to leave.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from skmle._blas import single_blas_thread
    >>> before = [lib["num_threads"] for lib in threadpool_info()]
    >>> with single_blas_thread(), single_blas_thread():
    ...     pass
    >>> [lib["num_threads"] for lib in threadpool_info()] == before
    True
    """
    state = _enter()
    try:
        yield
    finally:
        _leave(state)


SMALL_PRODUCTS_UP_TO = 256
"""Parameters up to which :func:`single_blas_thread_when_small` holds BLAS on one
thread: below, the products are too small for more threads to pay."""


def single_blas_thread_when_small(n_params: int):
    """:func:`single_blas_thread` for at most :data:`SMALL_PRODUCTS_UP_TO`
    parameters, else a context that leaves BLAS as it is: an information of
    order 4,000 forms and factors about twice as fast on two threads."""
    return single_blas_thread() if n_params <= SMALL_PRODUCTS_UP_TO else nullcontext()
