"""Run BLAS on one thread, through one cached :class:`threadpoolctl.ThreadpoolController`.

The products in a linear-model fit are tall and thin (many rows, few columns) or
memory-bound (``X @ w``): a second BLAS thread saves little, and on a machine
whose cores are busy its spin-waiting makes each call many times slower. Creating
a controller scans the loaded libraries (milliseconds), so it is made once.
"""

from __future__ import annotations

from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_blas_thread():
    """Context manager limiting BLAS to one thread while it is active."""
    return _controller().limit(limits=1, user_api="blas")
