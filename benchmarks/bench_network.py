"""Benchmark ``MLPClassifierMLE`` against scikit-learn's ``MLPClassifier``
(one hidden ReLU layer, ``solver="lbfgs"``), from the same start.

The data: 100,000 rows of 50 standard normal features and 3 classes drawn from
the softmax of a random teacher network with 16 hidden ReLU units. Both fit a
network of ``H = 64`` hidden units with ``alpha = 1e-4`` (scikit-learn's loss is
the mean cross-entropy plus :math:`\\alpha / (2n) \\lVert W\\rVert^2`, which is
:math:`-1/n` times skmle's penalised log-likelihood with the same ``alpha``),
both from skmle's Glorot start (``random_state=0``), handed to scikit-learn
through ``warm_start`` and its ``coefs_``/``intercepts_``.

1. The target: scikit-learn's penalised log-likelihood
   (``-n * loss_``) after 200 L-BFGS iterations (``tol=0``).
2. One skmle fit records its history; the first iteration ``k`` whose
   objective reaches the target is then timed as ``fit(max_iter=k)``,
   alternating with scikit-learn's 200 iterations, medians of the rounds.
   Target: ratio at most 0.5.
3. skmle's fit with ``max_iter=1000`` (or to convergence): its final
   objective against scikit-learn's after 200 iterations (target: at least as
   high) and, with ``--long``, after 1000.

Usage::

    python benchmarks/bench_network.py [--quick] [--repeats N] [--long]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier

from skmle import MLPClassifierMLE

SETTLE_S = 0.3


def make_data(n: int, n_features: int, n_classes: int = 3, seed: int = 0):
    """Standard normal features; labels from a softmax of a 16-unit teacher."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    W = rng.standard_normal((16, n_features)) / np.sqrt(n_features)
    U = 2.0 * rng.standard_normal((n_classes, 16))
    scores = np.maximum(X @ W.T, 0.0) @ U.T
    y = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)
    return X, y


def sklearn_from(theta, model, X, y, alpha, max_iter):
    """``MLPClassifier`` started at skmle's ``theta`` (through ``warm_start``)."""
    W, b1, U, b2 = model.unpack(theta)
    reference = MLPClassifier(
        hidden_layer_sizes=(model.n_hidden,),
        activation="relu",
        solver="lbfgs",
        alpha=alpha,
        max_iter=1,
        tol=0.0,
        warm_start=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X[:50], y[:50])  # sets the classes and the layer shapes
    reference.coefs_ = [W.T.copy(), U.T.copy()]
    reference.intercepts_ = [b1.copy(), b2.copy()]
    reference.max_iter = max_iter
    return reference


def penalised(model, theta, loglik, alpha) -> float:
    return float(loglik - 0.5 * alpha * (model.weight_mask() @ theta**2))


def run(quick: bool = False, repeats: int | None = None, long: bool = False):
    n, d, H, alpha = (5_000, 20, 16, 1e-4) if quick else (100_000, 50, 64, 1e-4)
    repeats = repeats or (1 if quick else 3)
    X, y = make_data(n, d)
    options = {"n_hidden": H, "alpha": alpha, "random_state": 0}
    ours = MLPClassifierMLE(**options)
    theta0 = ours.initial_params(X, y)
    model = ours.loglik_function(X[:10], y[:10]).model

    def sklearn_fit(max_iter=200):
        reference = sklearn_from(theta0, model, X, y, alpha, max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference.fit(X, y)
        return -reference.loss_ * n, reference.n_iter_

    def skmle_fit(max_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = MLPClassifierMLE(**options, max_iter=max_iter).fit(X, y)
        return fitted

    target, sk_iter = sklearn_fit()
    long_run = skmle_fit(1000)
    history = long_run.loglik_history_
    reached = np.flatnonzero(history >= target)
    k = int(reached[0]) if reached.size else len(history) - 1
    times = {"skmle": [], "sklearn": []}
    for _ in range(repeats):
        for name, fit in (
            ("skmle", lambda: skmle_fit(max(k, 1))),
            ("sklearn", sklearn_fit),
        ):
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            fit()
            times[name].append(time.perf_counter() - start)
    ours_s, ref_s = np.median(times["skmle"]), np.median(times["sklearn"])
    final = penalised(long_run.model_, long_run.theta_, long_run.loglik_, alpha)
    print(
        f"\nMLPClassifierMLE vs MLPClassifier: {n:,} x {d}, H={H}, 3 classes, "
        f"alpha={alpha}, {repeats} alternating rounds"
    )
    print(f"  target (sklearn, {sk_iter} L-BFGS iterations): {target:.6f}")
    print(
        f"  skmle reaches it at iteration {k}: {ours_s:.2f} s vs {ref_s:.2f} s, "
        f"ratio {ours_s / ref_s:.3f}"
    )
    print(
        f"  skmle final ({long_run.n_iter_} iterations, converged="
        f"{long_run.converged_}): {final:.6f}; gain over sklearn's 200: "
        f"{final - target:+.4f}"
    )
    rows = [
        {
            "benchmark": f"MLPClassifierMLE to sklearn's 200-iteration loglik, "
            f"{n:,} x {d}, H={H}",
            "reference": "sklearn MLPClassifier lbfgs (200 it.)",
            "skmle_s": float(ours_s),
            "reference_s": float(ref_s),
            "ratio": float(ours_s / ref_s),
            "gap": float(final - target),
            "gap_meaning": (
                f"skmle's final penalised log-likelihood ({long_run.n_iter_} "
                f"iterations) minus sklearn's after {sk_iter} (>= 0: skmle at "
                f"least as high); skmle reached sklearn's value at iteration {k}"
            ),
        }
    ]
    if long:
        longest, long_iter = sklearn_fit(1000)
        print(
            f"  sklearn after {long_iter} iterations: {longest:.6f}; skmle "
            f"minus it: {final - longest:+.4f}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--long", action="store_true", help="also sklearn to 1000")
    args = parser.parse_args()
    run(quick=args.quick, repeats=args.repeats, long=args.long)


if __name__ == "__main__":
    main()
