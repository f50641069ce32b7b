"""LinearGaussianRegressor on a Dask array against dask-ml's LinearRegression.

A local ``dask.distributed`` cluster (two worker processes, one thread each, on
loopback) holds a 10,000,000 x 20 float64 Dask array ``X`` (1.6 GB, 40 row chunks)
and ``y = X beta + 3 + noise``, generated on the workers and persisted, so that
every fit reads the same blocks from the workers' memory. The fits alternate, on
the same cluster and chunks:

- ``skmle``: ``LinearGaussianRegressor().fit(X, y)``: one pass of per-block
  centred moments merged on the client, Cholesky of the normal equations, one
  pass for the residual sum of squares;
- dask-ml's ``LinearRegression(penalty="l2", C=1e10)`` with its default solver
  (``"admm"``) and with ``"newton"`` (its fastest here). ``C=1e10`` makes the
  penalty negligible: ``penalty="none"`` crashes inside dask_glm with this
  scikit-learn.

Times are medians over the repeats. The log-likelihood gap is the Gaussian
log-likelihood of skmle's coefficients minus that of dask-ml's, each at its own
MLE noise variance (``-n/2 (log(2 pi RSS/n) + 1)``, RSS summed on the cluster):
positive or zero means skmle's fit is at least as good.

dask-ml is needed only here (``pip install dask-ml``); it is not part of any
extra of skmle. Run ``python benchmarks/bench_dask.py`` (about ten minutes) or
``--quick`` (200,000 rows, seconds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dask_alternation import alternate_fits, local_client

N_FEATURES = 20


def make_data(client, n_rows: int, chunk_rows: int):
    import dask.array as da
    from distributed import wait

    state = da.random.RandomState(0)
    X = state.normal(size=(n_rows, N_FEATURES), chunks=(chunk_rows, N_FEATURES))
    X = X * np.linspace(0.5, 2.0, N_FEATURES) + np.arange(N_FEATURES)
    beta = np.linspace(-1.0, 1.0, N_FEATURES)
    y = X @ beta + 3.0 + state.normal(scale=2.0, size=n_rows, chunks=chunk_rows)
    X, y = client.persist([X, y])
    wait([X, y])
    return X, y


def gaussian_loglik(X, y, coef, intercept) -> float:
    """Log-likelihood at the MLE noise variance RSS/n, RSS summed by Dask."""
    n = X.shape[0]
    rss = float(((y - X @ np.asarray(coef) - intercept) ** 2).sum().compute())
    return float(-0.5 * n * (np.log(2.0 * np.pi * rss / n) + 1.0))


def warm_up_worker() -> None:
    """Import both libraries on a worker, and make skmle's BLAS controller."""
    import dask_glm.algorithms  # noqa: F401
    import dask_ml.linear_model  # noqa: F401

    import skmle.estimators.linear_gaussian  # noqa: F401
    from skmle._blas import single_blas_thread

    with single_blas_thread():
        pass


def run(quick: bool = False, repeats: int | None = None) -> list[dict]:
    from dask_ml.linear_model import LinearRegression

    from skmle import LinearGaussianRegressor

    n_rows, chunk_rows = (200_000, 20_000) if quick else (10_000_000, 250_000)
    repeats = repeats or (2 if quick else 3)
    references = {
        "admm": lambda: LinearRegression(penalty="l2", C=1e10),
        "newton": lambda: LinearRegression(penalty="l2", C=1e10, solver="newton"),
    }
    with local_client() as client:
        X, y = make_data(client, n_rows, chunk_rows)
        times, fits = alternate_fits(
            client,
            X,
            y,
            chunk_rows,
            {"skmle": LinearGaussianRegressor, **references},
            repeats,
            warm_up_worker,
        )
        logliks = {
            name: gaussian_loglik(X, y, model.coef_, float(model.intercept_))
            for name, model in fits.items()
        }
        n_blocks = X.numblocks[0]
    skmle_s = float(np.median(times["skmle"]))
    rows = []
    for name in references:
        reference_s = float(np.median(times[name]))
        rows.append(
            {
                "benchmark": (
                    f"LinearGaussianRegressor on Dask, {n_rows:,} x {N_FEATURES} "
                    f"({n_blocks} chunks, 2 workers)"
                ),
                "reference": f"dask-ml LinearRegression ({name})",
                "skmle_s": skmle_s,
                "reference_s": reference_s,
                "ratio": skmle_s / reference_s,
                "gap": logliks["skmle"] - logliks[name],
                "gap_meaning": (
                    "Gaussian log-likelihood of skmle's fit minus dask-ml's, each "
                    "at its MLE variance (>= 0: skmle at least as good)"
                ),
                "note": (
                    f"skmle loglik_ {fits['skmle'].loglik_:.10g}, recomputed "
                    f"{logliks['skmle']:.10g}; dask-ml {logliks[name]:.10g}"
                ),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200,000 rows")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    for row in run(args.quick, args.repeats):
        print(
            f"{row['benchmark']}: skmle {row['skmle_s']:.2f} s, "
            f"{row['reference']} {row['reference_s']:.2f} s, "
            f"ratio {row['ratio']:.3f}, log-likelihood gap {row['gap']:.3g}\n"
            f"  {row['note']}"
        )


if __name__ == "__main__":
    main()
