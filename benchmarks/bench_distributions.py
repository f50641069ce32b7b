"""DistributionMLE().fit against scipy.stats.<dist>.fit, one family at a time.

1,000,000 rows, standard errors included in skmle's time (scipy gives none).
scipy's fit with the same fixed parameters (``floc=0``, ``fscale=1`` for beta):
for gamma and beta that is a one-dimensional root of the profile equation, for
Weibull a root finder on the shape, for Student-t its generic optimiser; for
exponential, log-normal, Laplace and Gaussian a closed form. Times are medians of
alternating runs in one process; the ratio is skmle over scipy (below 1: skmle
faster). ``gap`` is the largest relative difference of the estimates.

For gamma and beta two more references: scipy's generic fit with ``loc`` (and for
beta ``scale``) free, a numerical fit of three (four) parameters, which is what
"the families SciPy fits numerically" means without the fixed location; and one
``numpy.log`` pass over the column (``log(1 - x)`` too for beta), the floor of any
fit that needs the sum of log x: scipy's fixed-location fit is itself that pass,
the mean and a one-dimensional root. Run ``python benchmarks/bench_distributions.py``
or with ``--quick`` (100,000 rows).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from scipy import stats

from skmle import DistributionMLE

GENERIC = {
    "gamma": "scipy, loc free: its generic optimiser over (shape, loc, scale)",
    "beta": "scipy, loc and scale free: its generic optimiser over four parameters",
}
"""The families also timed against scipy's fit without the fixed location."""


def log_pass(family, x):
    """The logarithms a fit of ``family`` cannot avoid, summed."""
    if family == "beta":
        return np.log(x).sum(), np.log1p(-x).sum()
    return np.log(x).sum()


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


def _medians(functions, repeats):
    """Median time of each function, the functions alternating."""
    times = [[] for _ in functions]
    results = [None] * len(functions)
    for _ in range(repeats):
        for k, function in enumerate(functions):
            t, results[k] = timed(function)
            times[k].append(t)
    return [float(np.median(t)) for t in times], results


def _gap(estimates, reference) -> float:
    reference = np.asarray(reference, dtype=float)
    return float(np.max(np.abs(estimates - reference) / np.abs(reference)))


def _row(family, n_samples, reference, ours_s, reference_s, gap, note):
    return {
        "benchmark": f"DistributionMLE {family}, {n_samples:,} rows (with SEs)",
        "reference": reference,
        "skmle_s": ours_s,
        "reference_s": reference_s,
        "ratio": ours_s / reference_s,
        "gap": gap,
        "gap_meaning": None
        if gap is None
        else "largest relative difference of the estimates",
        "note": note,
    }


def run(quick: bool = False) -> list[dict]:
    n_samples = 100_000 if quick else 1_000_000
    rows = []
    for family, x, dist, fixed, to_ours, repeats in cases(n_samples):
        X = x[:, None]
        functions = [
            partial(DistributionMLE(family=family).fit, X),
            partial(dist.fit, x, **fixed),
        ]
        if family in GENERIC:
            functions.append(partial(log_pass, family, x))
        times, results = _medians(functions, repeats if not quick else 2)
        if family in GENERIC:  # seconds a fit: three alternating runs
            generic, _ = _medians([functions[0], partial(dist.fit, x)], 3)
        model, result = results[0], results[1]
        estimates = np.concatenate(
            [getattr(model, f"{p}_") for p in model.param_blocks()]
        )

        name = f"scipy.stats.{dist.name}.fit"
        note = NOTES.get(family, "scipy: a closed form")
        rows.append(
            _row(
                family,
                n_samples,
                name,
                times[0],
                times[1],
                _gap(estimates, to_ours(result)),
                note,
            )
        )
        if family in GENERIC:
            rows.append(
                _row(
                    family,
                    n_samples,
                    f"{name} (loc free)",
                    generic[0],
                    generic[1],
                    None,  # a different model: loc is estimated
                    GENERIC[family],
                )
            )
            rows.append(
                _row(
                    family,
                    n_samples,
                    "one numpy.log pass",
                    times[0],
                    times[2],
                    None,
                    "the floor: the logarithms of the sufficient statistics alone",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(
            f"{row['benchmark']}: skmle {row['skmle_s']:.4f} s, {row['reference']} "
            f"{row['reference_s']:.4f} s, ratio {row['ratio']:.3f}"
            + ("" if row["gap"] is None else f", gap {row['gap']:.1e}")
        )


if __name__ == "__main__":
    main()
