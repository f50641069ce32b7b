"""PoissonMLERegressor on a Dask array against dask-ml's PoissonRegression.

A local ``dask.distributed`` cluster (two worker processes, one thread each, on
loopback) holds a Dask array ``X`` of 20 float64 columns (full size 10,000,000
rows, 1.6 GB, in 40 row chunks; ``--rows`` to change it, ``--quick`` 100,000
in 10)
and Poisson counts ``y`` drawn from a log-linear model, generated lazily on the
workers and persisted, so that every fit reads the same blocks from the
workers' memory. The fits alternate on the same cluster and chunks:

- ``skmle``: ``PoissonMLERegressor().fit(X, y)``, Newton's method with every
  sum (log-likelihood, gradient, information, line search) computed per block
  on the workers and added on the client, standard errors included;
- dask-ml's ``PoissonRegression(penalty="l2", C=1e10)`` (dask-glm) with
  ``solver="newton"`` and with ``"lbfgs"``; ``C=1e10`` makes the penalty
  negligible (dask-ml has no unpenalised option that works with this
  scikit-learn), and neither takes an offset.

The gap is the Poisson log-likelihood of skmle's coefficients minus dask-ml's,
both summed on the cluster: >= 0 means skmle's fit is at least as good. The
ratio is skmle's median time over dask-ml's (target: at most 0.5).

Usage::

    python benchmarks/bench_dask_poisson.py [--quick] [--rows N] [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dask_alternation import alternate_fits, local_client

N_FEATURES = 20
N_CHUNKS = 40


def make_data(client, n_rows: int, chunk_rows: int):
    import dask.array as da
    from distributed import wait

    state = da.random.RandomState(0)
    X = state.normal(size=(n_rows, N_FEATURES), chunks=(chunk_rows, N_FEATURES))
    X = X * np.linspace(0.5, 1.5, N_FEATURES)
    beta = np.linspace(-0.3, 0.3, N_FEATURES) / np.sqrt(N_FEATURES)
    y = state.poisson(da.exp(X @ beta + 0.5)).astype(np.float64)
    X, y = client.persist([X, y])
    wait([X, y])
    return X, y


def poisson_loglik(X, y, coef, intercept) -> float:
    """:math:`\\sum_i y_i \\eta_i - e^{\\eta_i}` (without the constant
    :math:`-\\log y_i!`, the same for every fit), summed by Dask."""
    import dask.array as da

    eta = X @ np.ravel(coef) + float(np.ravel(intercept)[0])
    return float((y * eta - da.exp(eta)).sum().compute())


def warm_up_worker() -> None:
    import dask_glm.algorithms  # noqa: F401
    import dask_ml.linear_model  # noqa: F401

    import skmle.estimators.poisson  # noqa: F401


def run(
    quick: bool = False, repeats: int | None = None, rows: int | None = None
) -> list[dict]:
    from dask_ml.linear_model import PoissonRegression

    from skmle import PoissonMLERegressor

    n_rows = rows or (100_000 if quick else 10_000_000)
    n_chunks = 10 if quick else N_CHUNKS
    chunk_rows = max(n_rows // n_chunks, 1)
    repeats = repeats or 1
    references = {
        solver: (
            lambda solver=solver: PoissonRegression(
                penalty="l2", C=1e10, solver=solver, max_iter=100
            )
        )
        for solver in ("newton", "lbfgs")
    }
    with local_client() as client:
        X, y = make_data(client, n_rows, chunk_rows)
        times, fits = alternate_fits(
            client,
            X,
            y,
            chunk_rows,
            {"skmle": PoissonMLERegressor, **references},
            repeats,
            warm_up_worker,
        )
        logliks = {
            name: poisson_loglik(X, y, model.coef_, model.intercept_)
            for name, model in fits.items()
        }
    skmle_s = float(np.median(times["skmle"]))
    out = []
    for name in references:
        reference_s = float(np.median(times[name]))
        out.append(
            {
                "benchmark": f"PoissonMLERegressor on Dask, {n_rows:,} x "
                f"{N_FEATURES} ({n_chunks} chunks, 2 workers)",
                "reference": f"dask-ml PoissonRegression ({name})",
                "skmle_s": skmle_s,
                "reference_s": reference_s,
                "ratio": skmle_s / reference_s,
                "gap": logliks["skmle"] - logliks[name],
                "gap_meaning": "Poisson log-likelihood of skmle's fit minus "
                "dask-ml's (>= 0: skmle at least as good)",
                "note": f"skmle {fits['skmle'].n_iter_} Newton iterations",
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    for row in run(args.quick, args.repeats, args.rows):
        print(
            f"{row['benchmark']} vs {row['reference']}: skmle {row['skmle_s']:.3f} s, "
            f"reference {row['reference_s']:.3f} s, ratio {row['ratio']:.3f}, "
            f"loglik gap {row['gap']:.6g}"
        )


if __name__ == "__main__":
    main()
