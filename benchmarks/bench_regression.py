"""Benchmark the two regressors against scikit-learn and statsmodels.

- ``LinearGaussianRegressor`` (closed form) against scikit-learn's
  ``LinearRegression`` and statsmodels' ``OLS`` on 1,000,000 x 50 Gaussian data:
  median fit times, their ratios, and the largest relative difference of the
  coefficients.
- ``LaplaceRegressor`` (exact LP) against statsmodels' ``QuantReg(q=0.5)`` and
  scikit-learn's ``QuantileRegressor(quantile=0.5, alpha=0, solver="highs")`` on
  20,000 x 20 data with 5% gross outliers in ``y``: median fit times, ratios and
  the gap of each objective :math:`\\sum_i |r_i|` to the best one found
  (HiGHS on the dual LP is the reference). ``QuantileRegressor`` takes about a
  minute at this size, so it runs ``--quantile-repeats`` times (default 1).

The fits alternate (skmle, reference, skmle, ...) so that the load of a shared
machine falls on both alike. ``--quick`` runs small sizes in a few seconds.
``--blas-threads 1`` limits every library's BLAS to one thread: on a busy machine
multithreaded BLAS can be many times slower than single-threaded (skmle already
uses one thread in its blocked passes), so this is the fairer comparison there.

Usage::

    python benchmarks/bench_regression.py [--quick] [--repeats N] [--blas-threads K]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import statsmodels.api as sm
from scipy.optimize import linprog
from sklearn.linear_model import LinearRegression, QuantileRegressor
from threadpoolctl import threadpool_limits

from skmle import LaplaceRegressor, LinearGaussianRegressor


def timed(fit):
    start = time.perf_counter()
    result = fit()
    return time.perf_counter() - start, result


def alternate(fits: dict, repeats: int, counts: dict | None = None) -> dict:
    """Run each fit ``repeats`` times (or ``counts[name]``) in turn; keep times."""
    times = {name: [] for name in fits}
    results = {}
    for round_ in range(repeats):
        for name, fit in fits.items():
            if counts is not None and round_ >= counts.get(name, repeats):
                continue
            seconds, results[name] = timed(fit)
            times[name].append(seconds)
    return {name: (np.median(t), len(t), results[name]) for name, t in times.items()}


def report(title: str, rows: dict, ours: str, extra) -> None:
    print(f"\n{title}")
    base = rows[ours][0]
    for name, (median, count, result) in rows.items():
        ratio = base / median
        print(
            f"  {name:<38} median {median:8.3f} s over {count} run(s)   "
            f"skmle/this = {ratio:6.3f}   {extra(name, result)}"
        )


def bench_gaussian(n: int, d: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 3.0 + rng.standard_normal(n)
    X_const = np.column_stack([X, np.ones(n)])  # statsmodels wants the intercept column
    fits = {
        "skmle LinearGaussianRegressor": lambda: LinearGaussianRegressor().fit(X, y),
        "sklearn LinearRegression": lambda: LinearRegression().fit(X, y),
        "statsmodels OLS": lambda: sm.OLS(y, X_const).fit(),
    }
    rows = alternate(fits, repeats)
    ours = rows["skmle LinearGaussianRegressor"][2]
    theta = np.append(ours.coef_, ours.intercept_)

    def coefficients(result):
        if isinstance(result, LinearRegression):
            return np.append(result.coef_, result.intercept_)
        if isinstance(result, LinearGaussianRegressor):
            return np.append(result.coef_, result.intercept_)
        return result.params

    def extra(name, result):
        other = coefficients(result)
        gap = np.max(np.abs(theta - other)) / np.max(np.abs(other))
        return f"max rel coef diff to skmle {gap:.1e}"

    report(
        f"LinearGaussianRegressor, {n:,} x {d} (route: {ours.solver_route_})",
        rows,
        "skmle LinearGaussianRegressor",
        extra,
    )


def bench_laplace(n: int, d: int, repeats: int, quantile_repeats: int) -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 1.0 + rng.laplace(size=n)
    outliers = rng.random(n) < 0.05
    y[outliers] += rng.normal(0.0, 50.0, outliers.sum())
    X_const = np.column_stack([X, np.ones(n)])

    def quantile_regressor():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)

    fits = {
        "skmle LaplaceRegressor": lambda: LaplaceRegressor().fit(X, y),
        "statsmodels QuantReg": lambda: sm.QuantReg(y, X_const).fit(q=0.5),
        "sklearn QuantileRegressor(highs)": quantile_regressor,
    }
    rows = alternate(
        fits, repeats, counts={"sklearn QuantileRegressor(highs)": quantile_repeats}
    )
    reference = linprog(
        -y, A_eq=X_const.T, b_eq=np.zeros(d + 1), bounds=(-1, 1), method="highs"
    )
    optimum = -reference.fun

    def objective(result):
        if isinstance(result, LaplaceRegressor | QuantileRegressor):
            return float(np.sum(np.abs(y - result.predict(X))))
        return float(np.sum(np.abs(y - X_const @ result.params)))

    def extra(name, result):
        gap = objective(result) / optimum - 1.0
        return f"objective - LP optimum: {gap:+.1e} (relative)"

    report(
        f"LaplaceRegressor, {n:,} x {d}, 5% outliers "
        f"(LP optimum sum|r| = {optimum:.10g})",
        rows,
        "skmle LaplaceRegressor",
        extra,
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quantile-repeats", type=int, default=1)
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="limit BLAS threads for all"
    )
    parser.add_argument("--only", choices=["gaussian", "laplace"], default=None)
    args = parser.parse_args(argv)
    print(f"BLAS threads: {args.blas_threads or 'library default'}")
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        if args.quick:
            bench_gaussian(20_000, 10, 3)
            bench_laplace(2_000, 5, 3, 1)
            return
        if args.only != "laplace":
            bench_gaussian(1_000_000, 50, args.repeats)
        if args.only != "gaussian":
            bench_laplace(20_000, 20, args.repeats, args.quantile_repeats)


if __name__ == "__main__":
    main()
