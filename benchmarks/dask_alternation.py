"""What the Dask benchmarks share: a local cluster and alternating timed fits.

Not a benchmark itself (``run_all.py`` runs ``bench_*.py`` only). The scripts
import it from their own directory.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager


@contextmanager
def local_client():
    """A ``distributed`` client of two worker processes, one thread each, on
    loopback, with 6 GiB per worker and no dashboard."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            memory_limit="6GiB",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def timed(function: Callable):
    """``(seconds, result)`` of one call of ``function``."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def alternate_fits(
    client,
    X,
    y,
    head_rows: int,
    fits_by_name: dict[str, Callable],
    repeats: int,
    warm_up_worker: Callable,
):
    """Fit every ``fits_by_name[name]()`` on ``(X, y)``, alternating, ``repeats``
    times; returns ``(times, fits)``: the seconds of each fit by name, and the
    last fitted model by name.

    Not timed: ``warm_up_worker`` on every worker and one fit of each on the
    first ``head_rows`` rows, so that the first timed fit imports nothing.
    dask-ml's FutureWarnings are silenced.
    """
    times = {name: [] for name in fits_by_name}
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.run(warm_up_worker)
        head_X, head_y = X[:head_rows], y[:head_rows]
        for make in fits_by_name.values():
            make().fit(head_X, head_y)
        for _ in range(repeats):
            for name, make in fits_by_name.items():
                seconds, fits[name] = timed(lambda make=make: make().fit(X, y))
                times[name].append(seconds)
    return times, fits
