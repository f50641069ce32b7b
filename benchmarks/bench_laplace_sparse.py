"""Benchmark ``LaplaceRegressor`` (exact LAD) on sparse one-hot data: sparse vs dense X.

The design is :func:`bench_sparse_logistic.make_data`'s: categorical columns
drawn uniformly, one-hot encoded with a level dropped per column, as CSR (full:
200,000 rows, 8 columns of 25 levels, 192 indicator columns at 4% density);
:math:`y = X\\beta + e` with level effects :math:`\\beta \\sim N(0, 1)` and
Laplace noise. ``LaplaceRegressor()`` (``solver="lp"``: an exact fit on a sample,
a band of rows, HiGHS on the band) is fitted to the CSR matrix and to the same
matrix densified, alternating round after round; medians reported. The ``gap``
is the relative difference of the two fits' sums of absolute residuals (both
exact: at most 1e-12).

Usage::

    python benchmarks/bench_laplace_sparse.py [--quick] [--repeats N]
"""

from __future__ import annotations

import warnings

import numpy as np
from bench_logistic import alternate, command_line
from bench_sparse_logistic import make_data

from skmle import LaplaceRegressor


def make_problem(n: int, n_columns: int, levels: int, seed: int = 0):
    X, _ = make_data(n, n_columns, levels, seed)
    rng = np.random.default_rng(seed + 1)
    y = 1.0 + X @ rng.standard_normal(X.shape[1]) + rng.laplace(size=n)
    return X, y


def run(quick: bool = False, repeats: int | None = None) -> list[dict]:
    n, n_columns, levels = (20_000, 4, 10) if quick else (200_000, 8, 25)
    repeats = repeats or (2 if quick else 5)
    X, y = make_problem(n, n_columns, levels)
    dense = X.toarray()

    def fit(data):
        def go():
            model = LaplaceRegressor().fit(data, y)
            return float(np.abs(y - model.predict(data)).sum())

        return go

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timed = alternate({"sparse": fit(X), "dense": fit(dense)}, repeats)
        rows = {k: (float(np.median(t)), r) for k, (t, r) in timed.items()}
    (sparse_s, sparse_value), (dense_s, dense_value) = rows["sparse"], rows["dense"]
    gap = abs(sparse_value - dense_value) / dense_value
    label = f"LaplaceRegressor one-hot {n:,} x {X.shape[1]} CSR"
    print(f"\n{label}, {repeats} alternating rounds (median seconds)")
    print(f"  sparse X: {sparse_s:.3f} s   dense X: {dense_s:.3f} s")
    print(f"  ratio sparse / dense: {sparse_s / dense_s:.3f}   objective gap {gap:.1e}")
    return [
        {
            "benchmark": label,
            "reference": "skmle on the dense array",
            "skmle_s": sparse_s,
            "reference_s": dense_s,
            "ratio": sparse_s / dense_s,
            "gap": gap,
            "gap_meaning": "relative difference of the sums of |residual|",
        }
    ]


def main() -> None:
    command_line(run, __doc__, one_core=False)


if __name__ == "__main__":
    main()
