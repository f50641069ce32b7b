"""Benchmark multinomial ``LogisticGD()`` (Newton, standard errors included)
against scikit-learn's ``LogisticRegression(C=np.inf)`` at the same optimum.

Two problems, features standard normal, coefficients of standard deviation
``1.5 / sqrt(d)``, labels drawn from the softmax:

- ``wide``: 20 classes, 50 features, 100,000 rows (969 free parameters). The
  exact information matrix, 969 x 969, is one matrix product of the class-pair
  weights with the rows' distinct products per block of rows
  (``skmle.models.logistic_information``), about 2.5e10 multiply-adds: skmle
  computes it once, at the returned point, for the stopping rule and the
  standard errors. The iterations before are L-BFGS steps preconditioned by the
  Kronecker-factored information at the start, then by the information of a
  15,504-row sample (``skmle.optim.newton_quasi_phase``), each about one
  gradient.
- ``many features``: 10 classes, 200 features, 5,000 rows (1,809 free
  parameters; too few rows for the sampled restart).

scikit-learn runs ``solver="lbfgs"`` with ``tol=1e-8`` (it then reaches the
same log-likelihood as skmle to about 1e-13, see the gap column). The fits
alternate round after round, so the load of a shared machine falls on both
alike; medians are reported, and the ratio is skmle's median over
scikit-learn's (target: at most 1). ``--one-core`` pins the process to one CPU
with BLAS on one thread.

Usage::

    python benchmarks/bench_logistic_multinomial.py [--quick] [--repeats N] [--one-core]
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from bench_logistic import alternate, command_line, one_core
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression

from skmle import LogisticGD


def make_data(n_classes: int, n_features: int, n: int, seed: int = 0):
    """Standard normal features and labels drawn from a softmax of them."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    W = rng.standard_normal((n_classes, n_features)) * 1.5 / np.sqrt(n_features)
    cumulative = np.cumsum(np.exp(log_softmax(X @ W.T, axis=1)), axis=1)
    y = (rng.random((n, 1)) > cumulative).sum(axis=1)
    return X, np.minimum(y, n_classes - 1)


def loglik(model, X, y) -> float:
    return float(np.sum(model.predict_log_proba(X)[np.arange(len(y)), y]))


def competitors(X, y) -> dict:
    def skmle_fit():
        model = LogisticGD().fit(X, y)
        assert np.all(np.isfinite(model.coef_se_))
        return model.loglik_, model.n_iter_

    def sklearn_fit():
        model = LogisticRegression(
            C=np.inf, solver="lbfgs", tol=1e-8, max_iter=10_000
        ).fit(X, y)
        return loglik(model, X, y), int(np.max(model.n_iter_))

    return {
        "skmle LogisticGD() + SEs": skmle_fit,
        "sklearn lbfgs": sklearn_fit,
    }


def bench(label: str, n_classes: int, n_features: int, n: int, repeats: int):
    X, y = make_data(n_classes, n_features, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = alternate(competitors(X, y), repeats)
    best = max(result[0] for _, result in rows.values())
    ours = "skmle LogisticGD() + SEs"
    ours_median = float(np.median(rows[ours][0]))
    print(
        f"\n{label}: {n_classes} classes, {n_features} features, {n:,} rows, "
        f"{repeats} alternating rounds"
    )
    print(
        f"  {'fit':<26} {'median s':>9} {'min s':>7} {'iter':>5} "
        f"{'skmle/this':>10} {'loglik':>20} {'rel. gap':>9}"
    )
    out = []
    for name, (times, (value, n_iter)) in rows.items():
        median = float(np.median(times))
        print(
            f"  {name:<26} {median:9.3f} {times.min():7.3f} {n_iter:5d} "
            f"{ours_median / median:10.3f} {value:20.10f} "
            f"{(best - value) / abs(best):9.1e}"
        )
        if name != ours:
            out.append(
                {
                    "benchmark": f"LogisticGD multinomial, {label}",
                    "reference": name,
                    "skmle_s": ours_median,
                    "reference_s": median,
                    "ratio": ours_median / median,
                }
            )
    return out


def run(quick: bool = False, repeats: int | None = None, single_core: bool = False):
    repeats = repeats or (1 if quick else 3)
    sizes = (
        [("wide", 5, 10, 5_000), ("many features", 4, 30, 1_000)]
        if quick
        else [("wide", 20, 50, 100_000), ("many features", 10, 200, 5_000)]
    )
    with one_core() if single_core else contextlib.nullcontext():
        return [row for size in sizes for row in bench(*size, repeats)]


def main() -> None:
    command_line(run, __doc__)


if __name__ == "__main__":
    main()
