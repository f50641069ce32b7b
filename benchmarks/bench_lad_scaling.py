"""Exact median regression as the rows grow (issue 19): LaplaceRegressor against
statsmodels' QuantReg and scikit-learn's QuantileRegressor.

Data: 20 standard normal features, ``y = X beta + 1 + e`` with three shapes of
``e``: symmetric Laplace noise, Student t with 1.5 degrees of freedom, and Laplace
noise with 5% of the rows shifted up by 50 (one-sided outliers); 20,000, 200,000
and 1,000,000 rows. The fits alternate (skmle, QuantReg, skmle, ...) and the
medians are reported:

- ``LaplaceRegressor().fit(X, y)`` (the exact banded LP, certified);
- ``sm.QuantReg(y, sm.add_constant(X)).fit(q=0.5)`` (IRLS to its tolerance);
- ``QuantileRegressor(quantile=0.5, alpha=0, solver="highs")`` (HiGHS on the
  primal LP over every row), once, at 20,000 rows only: it takes about a minute
  there and grows faster than the rows.

The gap is skmle's objective :math:`\\sum_i |r_i|` over the reference's, minus 1
(at or below 0: skmle at least as good), and the note gives skmle's objective
against the optimum of the dual LP solved directly on all rows by HiGHS's
interior point method (with crossover), not timed.

Every library's BLAS is limited to one thread (``--blas-threads``): on a machine
shared with other work, multithreaded BLAS in QuantReg's IRLS was measured 10 to
50 times slower than single-threaded, which would flatter skmle (whose LAD passes
use one thread anyway).

Usage::

    python benchmarks/bench_lad_scaling.py [--quick] [--repeats N] [--blas-threads K]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import statsmodels.api as sm
from scipy.optimize import linprog
from sklearn.linear_model import QuantileRegressor
from threadpoolctl import threadpool_limits

from skmle import LaplaceRegressor

SHAPES = ("Laplace noise", "t(1.5) noise", "5% one-sided outliers (+50)")
SIZES = (20_000, 200_000, 1_000_000)
SKLEARN_MAX_ROWS = 20_000
N_FEATURES = 20


def make_data(shape: str, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES))
    if shape == SHAPES[0]:
        noise = rng.laplace(size=n)
    elif shape == SHAPES[1]:
        noise = rng.standard_t(1.5, size=n)
    else:
        noise = rng.laplace(size=n) + 50.0 * (rng.random(n) < 0.05)
    return X, X @ rng.standard_normal(N_FEATURES) + 1.0 + noise


def lp_optimum(X_const: np.ndarray, y: np.ndarray) -> float:
    """min sum |r| by LP duality: max y^T d, X^T d = 0, |d| <= 1, on all rows."""
    result = linprog(
        -y,
        A_eq=X_const.T,
        b_eq=np.zeros(X_const.shape[1]),
        bounds=(-1, 1),
        method="highs-ipm",
    )
    return -result.fun if result.status == 0 else np.nan


def timed(fit):
    start = time.perf_counter()
    result = fit()
    return time.perf_counter() - start, result


def quantile_regressor(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)


def bench(shape: str, n: int, repeats: int, with_sklearn: bool) -> list[dict]:
    X, y = make_data(shape, n)
    X_const = sm.add_constant(X)
    fits = {
        "skmle": lambda: LaplaceRegressor().fit(X, y),
        "QuantReg": lambda: sm.QuantReg(y, X_const).fit(q=0.5),
    }
    times = {name: [] for name in fits}
    results = {}
    for _ in range(repeats):
        for name, fit in fits.items():
            seconds, results[name] = timed(fit)
            times[name].append(seconds)
    if with_sklearn:
        seconds, results["sklearn"] = timed(lambda: quantile_regressor(X, y))
        times["sklearn"] = [seconds]

    def objective(result):
        if isinstance(result, LaplaceRegressor | QuantileRegressor):
            return float(np.sum(np.abs(y - result.predict(X))))
        return float(np.sum(np.abs(y - X_const @ result.params)))

    ours = objective(results["skmle"])
    optimum = lp_optimum(X_const, y)
    skmle_s = float(np.median(times["skmle"]))
    certified = bool(results["skmle"].converged_)
    names = {
        "QuantReg": "statsmodels QuantReg(q=0.5)",
        "sklearn": 'sklearn QuantileRegressor(solver="highs")',
    }
    rows = []
    for name in [k for k in times if k != "skmle"]:
        reference_s = float(np.median(times[name]))
        rows.append(
            {
                "benchmark": f"LaplaceRegressor, {shape}, {n:,} x {N_FEATURES}",
                "reference": names[name],
                "skmle_s": skmle_s,
                "reference_s": reference_s,
                "ratio": skmle_s / reference_s,
                "gap": ours / objective(results[name]) - 1.0,
                "gap_meaning": (
                    "skmle's sum |r| over the reference's, minus 1 (<= 0: skmle "
                    "at least as good)"
                ),
                "note": (
                    f"skmle {len(times['skmle'])} run(s), reference "
                    f"{len(times[name])}; skmle exact and certified: {certified}; "
                    f"skmle sum|r| / direct HiGHS LP optimum - 1 = "
                    f"{ours / optimum - 1.0:+.1e}"
                ),
            }
        )
    return rows


def run(
    quick: bool = False, repeats: int | None = None, blas_threads: int | None = 1
) -> list[dict]:
    sizes = (3_000, 10_000) if quick else SIZES
    rows = []
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        for n in sizes:
            count = repeats or (1 if quick else (5 if n <= 20_000 else 3))
            for shape in SHAPES:
                with_sklearn = not quick and n <= SKLEARN_MAX_ROWS
                rows.extend(bench(shape, n, count, with_sklearn))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for row in run(args.quick, args.repeats, args.blas_threads):
        print(
            f"{row['benchmark']:<58} {row['reference']:<44} skmle "
            f"{row['skmle_s']:7.3f} s  ref {row['reference_s']:8.3f} s  ratio "
            f"{row['ratio']:5.3f}  gap {row['gap']:+.1e}\n    {row['note']}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
