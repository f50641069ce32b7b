"""Benchmark ``LogisticGD`` on sparse one-hot data against scikit-learn and glum.

The design: 10 categorical columns of 100 levels each, drawn uniformly, one-hot
encoded with *one level dropped per column* (99 indicator columns each, 990 in
all, plus the intercept: with every level kept, the indicators of each column
sum to the intercept's column and the MLE is not unique), as a CSR matrix of
1,000,000 rows at 1% density (10 nonzeros per row). ``y`` is drawn from a
logistic model with level effects of standard deviation 0.5 and an intercept of
-0.5; with 10,000 rows per level the MLE exists (no level is separated) and is
unique.

Fits, alternating round after round (medians reported):

- ``LogisticGD()`` (Newton, the information :math:`X^\\top W X` summed over
  the pairs of nonzeros of each row by :mod:`skmle._sparse_gram`; also computes
  standard errors);
- scikit-learn's ``LogisticRegression(C=np.inf)``, ``solver="newton-cholesky"``
  and ``solver="lbfgs"``, at ``tol=1e-8``;
- glum's ``GeneralizedLinearRegressor(family="binomial", alpha=0)`` on the same
  sparse matrix (``gradient_tol=1e-8``).

The ``rel. gap`` column is each fit's relative distance in total log-likelihood
to the best one found (the same optimum: at most 1e-9). The ratio is skmle's
median over the fastest reference's (target: at most 0.5). skmle's first fit
in the process is made before the rounds, with glum's import, and printed. ``--one-core`` pins the process to one CPU
(BLAS and OpenMP on one thread): the algorithms on equal terms, on a busy machine.

Usage::

    python benchmarks/bench_sparse_logistic.py [--quick] [--repeats N] [--one-core]
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings

import numpy as np
import scipy.sparse as sp
from bench_logistic import alternate, command_line, loglik, one_core
from sklearn.linear_model import LogisticRegression

from skmle import LogisticGD

REFERENCE_TOL = 1e-8


def make_data(n: int, n_columns: int = 10, levels: int = 100, seed: int = 0):
    """One-hot CSR design (a level dropped per column) and 0/1 labels."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, levels, size=(n, n_columns))
    effects = 0.5 * rng.standard_normal((n_columns, levels))
    eta = -0.5 + effects[np.arange(n_columns), codes].sum(axis=1)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.int64)
    # Level 0 of every column is the reference level: no column for it.
    keep = codes > 0
    columns = (codes - 1 + (levels - 1) * np.arange(n_columns))[keep]
    rows = np.repeat(np.arange(n), n_columns).reshape(n, n_columns)[keep]
    X = sp.csr_array(
        (np.ones(columns.size), (rows, columns)),
        shape=(n, n_columns * (levels - 1)),
    )
    return X, y


def competitors(X, y) -> dict:
    """Name -> function fitting one model and returning (loglik, n_iter)."""

    def skmle_fit():
        model = LogisticGD().fit(X, y)
        return model.loglik_, model.n_iter_

    def sklearn_fit(solver):
        def fit():
            model = LogisticRegression(
                C=np.inf, solver=solver, tol=REFERENCE_TOL, max_iter=10_000
            ).fit(X, y)
            value = loglik(X, y, model.coef_, model.intercept_[0])
            return value, int(model.n_iter_[0])

        return fit

    def glum_fit():
        from glum import GeneralizedLinearRegressor

        model = GeneralizedLinearRegressor(
            family="binomial", alpha=0, gradient_tol=REFERENCE_TOL
        ).fit(X, y)
        return loglik(X, y, model.coef_, model.intercept_), int(model.n_iter_)

    return {
        "skmle LogisticGD() (newton)": skmle_fit,
        "sklearn newton-cholesky": sklearn_fit("newton-cholesky"),
        "sklearn lbfgs": sklearn_fit("lbfgs"),
        "glum binomial": glum_fit,
    }


def run(
    quick: bool = False, repeats: int | None = None, single_core: bool = False
) -> list[dict]:
    with one_core() if single_core else contextlib.nullcontext():
        if single_core:
            print(f"pinned to CPU {min(os.sched_getaffinity(0))}, BLAS on one thread")
        return bench(quick, repeats)


def bench(quick: bool, repeats: int | None) -> list[dict]:
    n = 20_000 if quick else 1_000_000
    repeats = repeats or (1 if quick else 3)
    X, y = make_data(n)
    fits = competitors(X, y)
    ours = "skmle LogisticGD() (newton)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Untimed by the rounds: skmle's first fit, glum's import.
        start = time.perf_counter()
        fits[ours]()
        first_fit = time.perf_counter() - start
        import glum  # noqa: F401

        rows = alternate(fits, repeats)
    best = max(result[0] for _, result in rows.values())
    ours_median = float(np.median(rows[ours][0]))
    size = f"{n:,} x {X.shape[1]}, {X.nnz / (n * X.shape[1]):.1%} dense"
    print(f"\nsparse one-hot: {size}, {repeats} alternating rounds (median seconds)")
    print(
        f"  {'fit':<30} {'median s':>9} {'min s':>7} {'iter':>5} "
        f"{'skmle/this':>10} {'loglik':>20} {'rel. gap':>9}"
    )
    out, fastest = [], np.inf
    for name, (times, (value, n_iter)) in rows.items():
        median = float(np.median(times))
        gap = (best - value) / abs(best)
        print(
            f"  {name:<30} {median:9.3f} {times.min():7.3f} {n_iter:5d} "
            f"{ours_median / median:10.3f} {value:20.10f} {gap:9.1e}"
        )
        if name != ours:
            fastest = min(fastest, median)
            out.append(
                {
                    "benchmark": f"LogisticGD, sparse one-hot {size}",
                    "reference": name,
                    "skmle_s": ours_median,
                    "reference_s": median,
                    "ratio": ours_median / median,
                    "gap": (best - rows[ours][1][0]) / abs(best),
                    "gap_meaning": "relative log-likelihood gap of skmle to the best fit",
                }
            )
    print(
        f"  ratio to the fastest reference: {ours_median / fastest:.3f} (target <= 0.5)"
    )
    print(f"  skmle's first fit in this process (before the rounds): {first_fit:.3f} s")
    return out


def main() -> None:
    command_line(run, __doc__)


if __name__ == "__main__":
    main()
