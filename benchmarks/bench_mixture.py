"""EMGaussianMixture against scikit-learn's GaussianMixture: time per EM iteration.

100,000 x 10, K=8 full covariances. Both start from the same k-means start (the
parameters of ``GaussianMixture(max_iter=0)``, passed as ``weights_init``,
``means_init`` and ``precisions_init``) and run a fixed 50 iterations
(``tol=0``), alternating in one process; times are medians. skmle runs BLAS on one
thread inside its chunked E- and M-steps, so scikit-learn is also timed with BLAS
limited to one thread (threadpoolctl), for a like-for-like second row. The gap is
the largest relative difference of the weights, means and covariances after the
last iteration, and of the mean log-likelihood per row.

Run ``python benchmarks/bench_mixture.py`` or, for a smoke test, ``--quick``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from skmle import EMGaussianMixture


def make_data(n_samples, n_features, n_components, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(n_components, n_features))
    mixing = rng.normal(size=(n_components, n_features, n_features)) / np.sqrt(
        n_features
    )
    labels = rng.integers(n_components, size=n_samples)
    noise = rng.standard_normal((n_samples, n_features))
    return centres[labels] + np.einsum("nj,nij->ni", noise, mixing[labels])


def relative_gap(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def run(quick: bool = False) -> list[dict]:
    n_samples, n_features, K = (20_000, 10, 8) if quick else (100_000, 10, 8)
    n_iter, repeats = (10, 2) if quick else (50, 5)
    X = make_data(n_samples, n_features, K)
    start = GaussianMixture(K, max_iter=0, random_state=0).fit(X)  # k-means start
    params = dict(
        n_components=K,
        covariance_type="full",
        max_iter=n_iter,
        tol=0.0,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
    )

    def timed(cls, one_thread=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            tick = time.perf_counter()
            if one_thread:
                with threadpool_limits(limits=1, user_api="blas"):
                    model = cls(**params).fit(X)
            else:
                model = cls(**params).fit(X)
            return (time.perf_counter() - tick) / n_iter, model

    times = {"skmle": [], "sklearn": [], "sklearn_1": []}
    for _ in range(repeats):
        t, ours = timed(EMGaussianMixture)
        times["skmle"].append(t)
        t, theirs = timed(GaussianMixture)
        times["sklearn"].append(t)
        t, _ = timed(GaussianMixture, one_thread=True)
        times["sklearn_1"].append(t)
    gap = max(
        relative_gap(ours.weights_, theirs.weights_),
        relative_gap(ours.means_, theirs.means_),
        relative_gap(ours.covariances_, theirs.covariances_),
        abs(ours.score(X) / theirs.score(X) - 1.0),
    )
    ours_s = float(np.median(times["skmle"]))
    size = f"{n_samples:,} x {n_features}, K={K} full, {n_iter} iterations"
    rows = []
    for key, label in [
        ("sklearn", "sklearn GaussianMixture"),
        ("sklearn_1", "sklearn GaussianMixture, BLAS 1 thread"),
    ]:
        reference_s = float(np.median(times[key]))
        rows.append(
            {
                "benchmark": f"EMGaussianMixture per EM iteration, {size}",
                "reference": label,
                "skmle_s": ours_s,
                "reference_s": reference_s,
                "ratio": ours_s / reference_s,
                "gap": gap,
                "gap_meaning": "max relative difference of weights, means, "
                "covariances and mean log-likelihood after the last iteration",
                "note": f"same k-means start, tol=0; medians of {repeats} "
                "alternating runs",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(
            f"{row['benchmark']}: skmle {row['skmle_s']:.4f} s, "
            f"{row['reference']} {row['reference_s']:.4f} s, "
            f"ratio {row['ratio']:.2f}, max relative gap {row['gap']:.1e}"
        )


if __name__ == "__main__":
    main()
