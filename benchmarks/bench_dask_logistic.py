"""LogisticGD on a Dask array against dask-ml's LogisticRegression.

A local ``dask.distributed`` cluster (two worker processes, one thread each, on
loopback) holds a 10,000,000 x 20 float64 Dask array ``X`` (1.6 GB, 40 row chunks)
and binary labels ``y`` drawn from a logistic model, generated on the workers and
persisted, so that every fit reads the same blocks from the workers' memory. The
fits alternate, on the same cluster and chunks:

- ``skmle``: ``LogisticGD().fit(X, y)``, Newton's method with every sum (the
  log-likelihood, gradient and information matrix, and the line search) computed
  per block on the workers and added on the client;
- dask-ml's ``LogisticRegression(penalty="l2", C=1e10)`` with ``"newton"``, and
  with its default solver (``"admm"``) in ``--quick`` runs or with ``--admm``
  (much slower: 50 s against 2 s for newton at 200,000 rows). ``C=1e10`` makes the penalty negligible:
  ``penalty="none"`` crashes inside dask_glm with this scikit-learn.

Times are medians over the repeats. The gap is the Bernoulli log-likelihood of
skmle's coefficients minus that of dask-ml's, both summed on the cluster: positive
or zero means skmle's fit is at least as good.

dask-ml is needed only here (``pip install dask-ml``). Run
``python benchmarks/bench_dask_logistic.py`` (minutes) or ``--quick`` (200,000
rows, seconds).
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
    X = X * np.linspace(0.5, 2.0, N_FEATURES)
    beta = np.linspace(-0.5, 0.5, N_FEATURES)
    eta = X @ beta - 0.5
    u = state.uniform(size=n_rows, chunks=chunk_rows)
    y = (u < 1.0 / (1.0 + da.exp(-eta))).astype(np.int64)
    X, y = client.persist([X, y])
    wait([X, y])
    return X, y


def bernoulli_loglik(X, y, coef, intercept) -> float:
    """:math:`\\sum_i y_i \\eta_i - \\log(1 + e^{\\eta_i})`, summed by Dask."""
    import dask.array as da

    eta = X @ np.ravel(coef) + float(np.ravel(intercept)[0])
    return float((y * eta - da.logaddexp(0.0, eta)).sum().compute())


def warm_up_worker() -> None:
    """Import both libraries on a worker."""
    import dask_glm.algorithms  # noqa: F401
    import dask_ml.linear_model  # noqa: F401

    import skmle.estimators.logistic  # noqa: F401


def run(
    quick: bool = False, repeats: int | None = None, admm: bool | None = None
) -> list[dict]:
    from dask_ml.linear_model import LogisticRegression

    from skmle import LogisticGD

    n_rows, chunk_rows = (200_000, 20_000) if quick else (10_000_000, 250_000)
    repeats = repeats or (2 if quick else 1)
    references = {
        "newton": lambda: LogisticRegression(penalty="l2", C=1e10, solver="newton"),
    }
    if admm if admm is not None else quick:
        # About 50 s at 200,000 rows already (vs 2 s for its newton): off by
        # default at full size.
        references["admm"] = lambda: LogisticRegression(penalty="l2", C=1e10)
    with local_client() as client:
        X, y = make_data(client, n_rows, chunk_rows)
        times, fits = alternate_fits(
            client,
            X,
            y,
            chunk_rows,
            {"skmle": LogisticGD, **references},
            repeats,
            warm_up_worker,
        )
        logliks = {
            name: bernoulli_loglik(X, y, model.coef_, model.intercept_)
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
                    f"LogisticGD on Dask, {n_rows:,} x {N_FEATURES} "
                    f"({n_blocks} chunks, 2 workers)"
                ),
                "reference": f"dask-ml LogisticRegression ({name})",
                "skmle_s": skmle_s,
                "reference_s": reference_s,
                "ratio": skmle_s / reference_s,
                "gap": logliks["skmle"] - logliks[name],
                "gap_meaning": (
                    "Bernoulli log-likelihood of skmle's fit minus dask-ml's "
                    "(>= 0: skmle at least as good)"
                ),
                "note": (
                    f"skmle loglik_ {fits['skmle'].loglik_:.10g} in "
                    f"{fits['skmle'].n_iter_} Newton iterations, recomputed "
                    f"{logliks['skmle']:.10g}; dask-ml {logliks[name]:.10g}"
                ),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--admm", action="store_true", help="also dask-ml's default admm at full size"
    )
    args = parser.parse_args()
    for row in run(args.quick, args.repeats, args.admm or None):
        print(
            f"{row['benchmark']} vs {row['reference']}: skmle {row['skmle_s']:.3f} s, "
            f"reference {row['reference_s']:.3f} s, ratio {row['ratio']:.3f}, "
            f"loglik gap {row['gap']:.6g}  ({row['note']})"
        )


if __name__ == "__main__":
    main()
