"""Benchmark ``NegativeBinomialRegressor`` against statsmodels' NB2.

Two problems: statsmodels' randhie (20,190 doctor-visit counts ``mdvis`` on 9
columns) and a simulated one of 200,000 x 10 (``--quick``: randhie only, and
20,000 x 10) with an offset, dispersion 0.7. skmle's
``NegativeBinomialRegressor().fit`` (the Poisson start, then Newton with the
exact Hessian, standard errors included) against statsmodels'
``NegativeBinomial(y, X, loglike_method="nb2").fit()`` with its defaults (BFGS
from a Poisson start) and with ``method="newton"``. The gap is statsmodels'
log-likelihood subtracted from skmle's, relative (>= 0: skmle at least as
high). The fits alternate, each after a short pause; medians are reported. The
ratio is skmle's median over the faster statsmodels fit (target: at most 0.5).

Usage::

    python benchmarks/bench_negative_binomial.py [--quick] [--repeats N]
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import statsmodels.api as sm
from bench_logistic import command_line

from skmle import NegativeBinomialRegressor

SETTLE_S = 0.3


def randhie():
    data = sm.datasets.randhie.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float), None


def simulated(n: int, d: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    offset = np.log(rng.uniform(0.5, 2.0, n))
    mu = np.exp(X @ (0.4 * rng.standard_normal(d) / np.sqrt(d)) + 0.7 + offset)
    y = rng.negative_binomial(1 / 0.7, 1 / (1 + 0.7 * mu)).astype(float)
    return X, y, offset


def bench(label: str, X, y, offset, repeats: int) -> list[dict]:
    design = sm.add_constant(X, prepend=False)

    def skmle_fit():
        return NegativeBinomialRegressor().fit(X, y, offset=offset).loglik_

    def statsmodels_fit(**options):
        def fit():
            model = sm.NegativeBinomial(y, design, loglike_method="nb2", offset=offset)
            return float(model.fit(disp=0, **options).llf)

        return fit

    fits = {
        "skmle": skmle_fit,
        "statsmodels NegativeBinomial (default bfgs)": statsmodels_fit(maxiter=1000),
        "statsmodels NegativeBinomial newton": statsmodels_fit(method="newton"),
    }
    times = {name: [] for name in fits}
    values = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            for name, fit in fits.items():
                time.sleep(SETTLE_S)
                start = time.perf_counter()
                values[name] = fit()
                times[name].append(time.perf_counter() - start)
    medians = {name: float(np.median(t)) for name, t in times.items()}
    print(f"\nNB2 on {label}, {repeats} alternating rounds (median seconds)")
    for name in fits:
        print(f"  {name:<45} {medians[name]:8.3f} s  loglik {values[name]:.12g}")
    faster = min((n for n in fits if n != "skmle"), key=medians.get)
    print(
        f"  ratio to {faster}: {medians['skmle'] / medians[faster]:.3f} (target <= 0.5)"
    )
    return [
        {
            "benchmark": f"NegativeBinomialRegressor, {label}",
            "reference": name,
            "skmle_s": medians["skmle"],
            "reference_s": medians[name],
            "ratio": medians["skmle"] / medians[name],
            "gap": (values["skmle"] - values[name]) / abs(values[name]),
            "gap_meaning": "skmle's log-likelihood minus statsmodels', relative "
            "(>= 0: skmle at least as high)",
        }
        for name in fits
        if name != "skmle"
    ]


def run(quick: bool = False, repeats: int | None = None) -> list[dict]:
    repeats = repeats or (2 if quick else 5)
    n = 20_000 if quick else 200_000
    rows = bench("randhie 20,190 x 9", *randhie(), repeats)
    return rows + bench(f"simulated {n:,} x 10 with offset", *simulated(n), repeats)


def main() -> None:
    command_line(run, __doc__, one_core=False)


if __name__ == "__main__":
    main()
