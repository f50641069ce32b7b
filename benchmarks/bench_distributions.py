"""DistributionMLE().fit against scipy.stats.<dist>.fit, one family at a time.

1,000,000 rows, standard errors included in skmle's time (scipy gives none).
scipy's fit with the same fixed parameters (``floc=0``, ``fscale=1`` for beta):
for gamma and beta that is a one-dimensional root of the profile equation, for
Weibull a root finder on the shape, for Student-t its generic optimiser; for
exponential, log-normal, Laplace and Gaussian a closed form. Times are medians of
alternating runs in one process; the ratio is skmle over scipy (below 1: skmle
faster). ``gap`` is the largest relative difference of the estimates. Run
``python benchmarks/bench_distributions.py`` or with ``--quick`` (100,000 rows).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from scipy import stats

from skmle import DistributionMLE

NOTES = {
    "gamma": "scipy (floc=0): a 1-D root of the profile equation of the shape",
    "beta": "scipy (floc=0, fscale=1): a root of the two likelihood equations",
    "weibull": "scipy (floc=0): a root finder on the shape, a pass per evaluation",
    "t": "scipy: its generic optimiser over (df, loc, scale)",
}


def cases(n_samples: int):
    rng = np.random.default_rng(0)
    return [
        # family, data, scipy distribution, fixed, map to our parameters, repeats
        (
            "exponential",
            rng.exponential(2.0, n_samples),
            stats.expon,
            {"floc": 0},
            lambda r: [1.0 / r[1]],
            7,
        ),
        (
            "lognormal",
            rng.lognormal(0.3, 0.8, n_samples),
            stats.lognorm,
            {"floc": 0},
            lambda r: [np.log(r[2]), r[0]],
            7,
        ),
        (
            "laplace",
            rng.laplace(1.0, 2.0, n_samples),
            stats.laplace,
            {},
            lambda r: [r[0], r[1]],
            7,
        ),
        (
            "gaussian",
            rng.normal(1.0, 2.0, n_samples),
            stats.norm,
            {},
            lambda r: [r[0], r[1]],
            7,
        ),
        (
            "gamma",
            rng.gamma(2.5, 1.3, n_samples),
            stats.gamma,
            {"floc": 0},
            lambda r: [r[0], r[2]],
            7,
        ),
        (
            "beta",
            rng.beta(2.0, 5.0, n_samples),
            stats.beta,
            {"floc": 0, "fscale": 1},
            lambda r: [r[0], r[1]],
            7,
        ),
        (
            "weibull",
            rng.weibull(1.7, n_samples) * 2.0,
            stats.weibull_min,
            {"floc": 0},
            lambda r: [r[0], r[2]],
            5,
        ),
        (
            "t",
            rng.standard_t(5.0, n_samples) * 2.0 + 1.0,
            stats.t,
            {},
            lambda r: list(r),
            3,
        ),
    ]


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run(quick: bool = False) -> list[dict]:
    n_samples = 100_000 if quick else 1_000_000
    rows = []
    for family, x, dist, fixed, to_ours, repeats in cases(n_samples):
        X = x[:, None]
        ours, theirs = [], []
        ours_fit = partial(DistributionMLE(family=family).fit, X)
        scipy_fit = partial(dist.fit, x, **fixed)
        for _ in range(repeats if not quick else 2):
            t, model = timed(ours_fit)
            ours.append(t)
            t, result = timed(scipy_fit)
            theirs.append(t)
        estimates = np.concatenate(
            [getattr(model, f"{p}_") for p in model.param_blocks()]
        )
        reference = np.asarray(to_ours(result), dtype=float)
        rows.append(
            {
                "benchmark": f"DistributionMLE {family}, {n_samples:,} rows (with SEs)",
                "reference": f"scipy.stats.{dist.name}.fit",
                "skmle_s": float(np.median(ours)),
                "reference_s": float(np.median(theirs)),
                "ratio": float(np.median(ours) / np.median(theirs)),
                "gap": float(np.max(np.abs(estimates - reference) / np.abs(reference))),
                "gap_meaning": "largest relative difference of the estimates",
                "note": NOTES.get(family, "scipy: a closed form"),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(
            f"{row['benchmark']}: skmle {row['skmle_s']:.4f} s, {row['reference']} "
            f"{row['reference_s']:.4f} s, ratio {row['ratio']:.2f}, gap {row['gap']:.1e}"
        )


if __name__ == "__main__":
    main()
