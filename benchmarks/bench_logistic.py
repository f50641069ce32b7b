"""Benchmark ``LogisticGD`` against scikit-learn and statsmodels.

Two binary problems of 200,000 x 50, neither separable:

- ``moderate``: AR(1)-correlated features (neighbour correlation 0.8) with scales
  from 0.37 to 2.7, coefficients giving log-odds of standard deviation about 3;
  scikit-learn's newton-cholesky needs about 5 iterations, its lbfgs about 50.
- ``easy``: independent standard normal features, log-odds of standard deviation
  2; lbfgs needs about 10 iterations and is scikit-learn's faster solver.

Each is fitted by the default ``LogisticGD()`` (Newton with a Cholesky solve of
:math:`X^\\top W X`, also computing standard errors), by scikit-learn's
``LogisticRegression(C=np.inf)`` with ``solver="lbfgs"`` and with
``solver="newton-cholesky"``, and by statsmodels' ``Logit(...).fit(method=
"newton")`` (timed with the ``add_constant`` it needs). The references run at
``tol=1e-8`` so that every fit reaches the same log-likelihood; the gap column is
each fit's relative distance to the best log-likelihood found. The fits
alternate, round after round, so the load of a shared machine falls on all
alike (each after a short pause, see :func:`alternate`); medians are reported, and the ratio is skmle's median over the faster
scikit-learn solver's (target: at most 0.5).

By default every library uses what it finds: skmle sums rows in one thread per
CPU, scikit-learn and statsmodels use multithreaded BLAS. On a machine that other
work keeps busy, OpenBLAS threads that wait for each other can make a product
many times slower; ``--one-core`` pins the whole process to one CPU (and BLAS to
one thread), which compares the algorithms on equal terms.

Usage::

    python benchmarks/bench_logistic.py [--quick] [--repeats N] [--one-core]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings

import numpy as np
import statsmodels.api as sm
from scipy.special import log_expit
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from skmle import LogisticGD

REFERENCE_TOL = 1e-8
SETTLE_S = 0.3


def make_data(kind: str, n: int, d: int, seed: int = 0):
    """Features and 0/1 labels drawn from a logistic model (see the module doc)."""
    rng = np.random.default_rng(seed)
    if kind == "moderate":
        rho = 0.8
        noise = rng.standard_normal((n, d))
        X = np.empty((n, d))
        X[:, 0] = noise[:, 0]
        for j in range(1, d):
            X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * noise[:, j]
        scales = np.exp(rng.uniform(-1, 1, d))
        X *= scales
        coef = 2.0 * rng.standard_normal(d) / np.sqrt(d) / scales
    elif kind == "easy":
        X = rng.standard_normal((n, d))
        coef = 2.0 * rng.standard_normal(d) / np.sqrt(d)
    else:
        raise ValueError(f"kind must be 'moderate' or 'easy', got {kind!r}")
    eta = X @ coef + 0.3
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.int64)
    return X, y


def loglik(X, y, coef, intercept) -> float:
    """Total Bernoulli log-likelihood of linear scores, in log space."""
    eta = X @ np.ravel(coef) + intercept
    return float(np.sum(log_expit(np.where(y == 1, eta, -eta))))


def competitors(X, y) -> dict:
    """Name -> function fitting one model and returning (loglik, n_iter)."""

    def skmle_fit():
        model = LogisticGD().fit(X, y)
        return model.loglik_, model.n_iter_

    def sklearn_fit(solver):
        def fit():
            model = LogisticRegression(
                C=np.inf, solver=solver, tol=REFERENCE_TOL, max_iter=10_000
            ).fit(X, y)
            return (
                loglik(X, y, model.coef_, model.intercept_[0]),
                int(model.n_iter_[0]),
            )

        return fit

    def statsmodels_fit():
        result = sm.Logit(y, sm.add_constant(X)).fit(
            method="newton", tol=REFERENCE_TOL, maxiter=100, disp=0
        )
        return float(result.llf), int(result.mle_retvals["iterations"])

    return {
        "skmle LogisticGD() (newton)": skmle_fit,
        "sklearn lbfgs": sklearn_fit("lbfgs"),
        "sklearn newton-cholesky": sklearn_fit("newton-cholesky"),
        "statsmodels Logit newton": statsmodels_fit,
    }


def alternate(fits: dict, repeats: int) -> dict:
    """Run the fits in turn, ``repeats`` rounds; name -> (times, last result).

    Each fit starts after a pause of :data:`SETTLE_S`: OpenBLAS worker threads keep
    spinning for a while after a multithreaded call (about 2**28 cycles, a tenth
    of a second), and without the pause each fit would pay for the threads of
    the fit before it, a cost that depends on the order of the round.
    """
    times = {name: [] for name in fits}
    results = {}
    for _ in range(repeats):
        for name, fit in fits.items():
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            results[name] = fit()
            times[name].append(time.perf_counter() - start)
    return {name: (np.asarray(times[name]), results[name]) for name in fits}


def bench(kind: str, n: int, d: int, repeats: int) -> list[dict]:
    X, y = make_data(kind, n, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' and sklearn's chatter
        rows = alternate(competitors(X, y), repeats)
    best = max(result[0] for _, result in rows.values())
    ours = "skmle LogisticGD() (newton)"
    ours_median = float(np.median(rows[ours][0]))
    fastest_sklearn = min(
        float(np.median(rows[name][0])) for name in rows if name.startswith("sklearn")
    )
    print(f"\n{kind}: {n:,} x {d}, {repeats} alternating rounds (median seconds)")
    print(
        f"  {'fit':<30} {'median s':>9} {'min s':>7} {'iter':>5} "
        f"{'skmle/this':>10} {'loglik':>18} {'rel. gap':>9}"
    )
    out = []
    for name, (times, (value, n_iter)) in rows.items():
        median = float(np.median(times))
        gap = (best - value) / abs(best)
        print(
            f"  {name:<30} {median:9.3f} {times.min():7.3f} {n_iter:5d} "
            f"{ours_median / median:10.3f} {value:18.10f} {gap:9.1e}"
        )
        if name != ours:
            out.append(
                {
                    "benchmark": f"LogisticGD, {kind} {n:,} x {d}",
                    "reference": name,
                    "skmle_s": ours_median,
                    "reference_s": median,
                    "ratio": ours_median / median,
                    "gap": (best - rows[ours][1][0]) / abs(best),
                    "gap_meaning": "relative log-likelihood gap of skmle to the best fit",
                }
            )
    print(
        f"  ratio to the faster scikit-learn solver: {ours_median / fastest_sklearn:.3f}"
        " (target <= 0.5)"
    )
    return out


def one_core():
    """Pin this process to one CPU and BLAS to one thread, for the duration."""
    stack = contextlib.ExitStack()
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    stack.callback(os.sched_setaffinity, 0, cpus)
    stack.enter_context(threadpool_limits(limits=1))
    return stack


def run(
    quick: bool = False, repeats: int | None = None, single_core: bool = False
) -> list[dict]:
    n, d = (20_000, 20) if quick else (200_000, 50)
    repeats = repeats or (2 if quick else 7)
    with one_core() if single_core else contextlib.nullcontext():
        if single_core:
            print(f"pinned to CPU {min(os.sched_getaffinity(0))}, BLAS on one thread")
        return bench("moderate", n, d, repeats) + bench("easy", n, d, repeats)


def command_line(run, doc: str, one_core: bool = True) -> None:
    """Parse ``--quick``, ``--repeats N`` and (with ``one_core``) ``--one-core``
    and call ``run(quick=, repeats=[, single_core=])``: the command line of this
    script and of the other benchmarks that take no more."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--repeats", type=int, default=None)
    if one_core:
        parser.add_argument(
            "--one-core",
            action="store_true",
            help="pin to one CPU, BLAS single-threaded",
        )
    args = parser.parse_args()
    options = {"single_core": args.one_core} if one_core else {}
    run(quick=args.quick, repeats=args.repeats, **options)


def main() -> None:
    command_line(run, __doc__)


if __name__ == "__main__":
    main()
