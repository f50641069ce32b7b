"""GaussianMLE().fit against numpy.mean + numpy.cov(bias=True).

Times are medians of alternating runs in one process; the ratio is skmle over
numpy (below 1 means skmle is faster). Run ``python benchmarks/bench_gaussian.py``
(2,000,000 x 20) or with ``--quick``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from skmle import GaussianMLE


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run(quick: bool = False) -> list[dict]:
    n_samples, n_features, repeats = (200_000, 20, 3) if quick else (2_000_000, 20, 7)
    X = np.random.default_rng(0).standard_normal((n_samples, n_features))

    def skmle_fit():
        return GaussianMLE().fit(X)

    def numpy_moments():
        return X.mean(axis=0), np.cov(X, rowvar=False, bias=True)

    skmle_times, numpy_times = [], []
    for _ in range(repeats):
        t, model = timed(skmle_fit)
        skmle_times.append(t)
        t, (_, cov) = timed(numpy_moments)
        numpy_times.append(t)
    gap = float(
        np.max(np.abs(model.covariance_ - model.reg_covar * np.eye(n_features) - cov))
    )
    return [
        {
            "benchmark": f"GaussianMLE full, {n_samples:,} x {n_features}",
            "reference": "numpy mean + cov(bias=True)",
            "skmle_s": float(np.median(skmle_times)),
            "reference_s": float(np.median(numpy_times)),
            "ratio": float(np.median(skmle_times) / np.median(numpy_times)),
            "gap": gap,
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(
            f"{row['benchmark']}: skmle {row['skmle_s']:.3f} s, "
            f"{row['reference']} {row['reference_s']:.3f} s, "
            f"ratio {row['ratio']:.2f}, max |covariance gap| {row['gap']:.1e}"
        )


if __name__ == "__main__":
    main()
