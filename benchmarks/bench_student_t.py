"""Benchmark StudentTRegressor against statsmodels' TLinearModel.

Data: 20,000 x 10 Gaussian features, Student-t noise with 3 degrees of freedom and
2% gross outliers in ``y``; ``df`` and the scale are estimated. The references are
statsmodels' ``TLinearModel`` (``statsmodels.miscmodels.tmodel``, numerical
derivatives) fitted with BFGS and with its default, Nelder-Mead (which stops
early at this size), both from statsmodels' start (least squares, ``df = 5``).
skmle runs both its solvers: Newton (the default) and EM.

The fits alternate (skmle, reference, ...) and the median of ``--repeats`` runs
is kept. **gap** is skmle's log-likelihood minus the reference's, relative to
``|llf|``: positive means skmle's maximum is higher. ``--quick`` runs 2,000 x 5.

Usage::

    python benchmarks/bench_student_t.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import warnings

import numpy as np
import statsmodels.api as sm
from statsmodels.miscmodels.tmodel import TLinearModel

from skmle import StudentTRegressor


def timed(fit):
    start = time.perf_counter()
    result = fit()
    return time.perf_counter() - start, result


def data(n: int, d: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 1.0 + rng.standard_t(3, size=n)
    outliers = rng.random(n) < 0.02
    y[outliers] += rng.normal(0.0, 100.0, outliers.sum())
    return X, y


def tlinear(X_const, y, method: str):
    # TLinearModel prints on construction and warns when it stops early.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TLinearModel(y, X_const).fit(method=method, maxiter=5000, disp=0)


def run(quick: bool = False, repeats: int | None = None) -> list[dict]:
    n, d = (2_000, 5) if quick else (20_000, 10)
    repeats = repeats or (3 if quick else 5)
    X, y = data(n, d)
    X_const = sm.add_constant(X)
    fits = {
        "newton": lambda: StudentTRegressor().fit(X, y),
        "em": lambda: StudentTRegressor(solver="em", max_iter=5000).fit(X, y),
        "statsmodels TLinearModel (bfgs)": lambda: tlinear(X_const, y, "bfgs"),
        "statsmodels TLinearModel (nm, its default)": lambda: tlinear(X_const, y, "nm"),
    }
    times = {name: [] for name in fits}
    results = {}
    for _ in range(repeats):
        for name, fit in fits.items():
            seconds, results[name] = timed(fit)
            times[name].append(seconds)
    median = {name: float(np.median(t)) for name, t in times.items()}

    def loglik(name):
        result = results[name]
        return result.loglik_ if isinstance(result, StudentTRegressor) else result.llf

    rows = []
    size = f"{n:,} x {d}, df estimated"
    for ours in ("newton", "em"):
        for reference in [*list(fits)[2:], *(["newton"] if ours == "em" else [])]:
            gap = (loglik(ours) - loglik(reference)) / abs(loglik(reference))
            rows.append(
                {
                    "benchmark": f"StudentTRegressor(solver={ours!r}), {size}",
                    "reference": reference
                    if reference != "newton"
                    else "skmle StudentTRegressor (newton)",
                    "skmle_s": median[ours],
                    "reference_s": median[reference],
                    "ratio": median[ours] / median[reference],
                    "gap": gap,
                    "gap_meaning": "relative log-likelihood gain of skmle",
                    "note": f"skmle {results[ours].n_iter_} iterations, "
                    f"converged={results[ours].converged_}",
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    for row in run(args.quick, args.repeats):
        print(
            f"{row['benchmark']} vs {row['reference']}: skmle {row['skmle_s']:.3f} s, "
            f"reference {row['reference_s']:.3f} s, ratio {row['ratio']:.3f}, "
            f"loglik gain {row['gap']:+.1e} ({row['note']})"
        )


if __name__ == "__main__":
    main()
