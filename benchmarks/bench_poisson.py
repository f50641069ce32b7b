"""Benchmark ``PoissonMLERegressor`` against glum and scikit-learn.

One Poisson problem of 1,000,000 x 50 (``--quick``: 20,000 x 20): AR(1)-correlated
standard normal features (neighbour correlation 0.5), coefficients giving a
log-mean of standard deviation about 0.5 around log 2, and an offset (log
exposure, uniform on [0.5, 2]) for skmle and glum (scikit-learn has none: it is
fitted on the same data without the offset, a problem of the same size and
difficulty). The fits:

- ``skmle``: ``PoissonMLERegressor().fit(X, y, offset=...)``, Newton (IRLS) on
  the linear predictor, with standard errors;
- glum's ``GeneralizedLinearRegressor(family="poisson", alpha=0)`` (its default
  IRLS-Cholesky solver), ``gradient_tol`` 1e-10;
- scikit-learn's ``PoissonRegressor(alpha=0, solver="newton-cholesky")``,
  ``tol`` 1e-10.

The references run at tight tolerances so that each reaches the same
log-likelihood as skmle's fit (the gap column: skmle's relative distance to the
best log-likelihood of its problem; target 1e-9). The fits alternate, round
after round, after a short pause each (:func:`alternate`), and medians are
reported. The ratio is skmle's median over the faster reference's (target: at
most 0.5).

Usage::

    python benchmarks/bench_poisson.py [--quick] [--repeats N]
"""

from __future__ import annotations

import warnings

import numpy as np
from bench_logistic import alternate, command_line
from scipy.special import gammaln

from skmle import PoissonMLERegressor

REFERENCE_TOL = 1e-10


def make_data(n: int, d: int, seed: int = 0):
    """Features, counts and an offset drawn from a Poisson model (see above)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    for j in range(1, d):
        X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(0.75) * X[:, j]
    coef = 0.5 * rng.standard_normal(d) / np.sqrt(d)
    offset = np.log(rng.uniform(0.5, 2.0, n))
    y = rng.poisson(np.exp(X @ coef + np.log(2.0) + offset)).astype(float)
    y_plain = rng.poisson(np.exp(X @ coef + np.log(2.0))).astype(float)
    return X, y, offset, y_plain


def poisson_loglik(X, y, coef, intercept, offset=None) -> float:
    eta = X @ coef + intercept + (0.0 if offset is None else offset)
    return float(np.sum(y * eta - np.exp(eta) - gammaln(y + 1.0)))


def competitors(X, y, offset, y_plain) -> dict:
    """Name -> (fit returning (loglik, n_iter), which problem: "offset"/"plain")."""
    import glum
    from sklearn.linear_model import PoissonRegressor

    def skmle_fit(target, off):
        def fit():
            model = PoissonMLERegressor().fit(X, target, offset=off)
            return model.loglik_, model.n_iter_

        return fit

    def glum_fit():
        model = glum.GeneralizedLinearRegressor(
            family="poisson", alpha=0, gradient_tol=REFERENCE_TOL
        ).fit(X, y, offset=offset)
        value = poisson_loglik(X, y, model.coef_, model.intercept_, offset)
        return value, int(model.n_iter_)

    def sklearn_fit():
        model = PoissonRegressor(
            alpha=0, solver="newton-cholesky", tol=REFERENCE_TOL, max_iter=100
        ).fit(X, y_plain)
        value = poisson_loglik(X, y_plain, model.coef_, model.intercept_)
        return value, int(model.n_iter_)

    return {
        "skmle (offset)": (skmle_fit(y, offset), "offset"),
        "glum IRLS (offset)": (glum_fit, "offset"),
        "skmle (no offset)": (skmle_fit(y_plain, None), "plain"),
        "sklearn newton-cholesky": (sklearn_fit, "plain"),
    }


def run(quick: bool = False, repeats: int | None = None) -> list[dict]:
    n, d = (20_000, 20) if quick else (1_000_000, 50)
    repeats = repeats or (2 if quick else 5)
    X, y, offset, y_plain = make_data(n, d)
    fits = competitors(X, y, offset, y_plain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = alternate({name: fit for name, (fit, _) in fits.items()}, repeats)
    medians = {name: float(np.median(times)) for name, (times, _) in rows.items()}
    best = {}
    for name, (_, (value, _)) in rows.items():
        problem = fits[name][1]
        best[problem] = max(best.get(problem, -np.inf), value)
    print(f"\nPoisson: {n:,} x {d}, {repeats} alternating rounds (median seconds)")
    for name, (times, (value, n_iter)) in rows.items():
        gap = (best[fits[name][1]] - value) / abs(best[fits[name][1]])
        print(
            f"  {name:<26} {medians[name]:8.3f} s  min {times.min():7.3f}  "
            f"iter {n_iter:3d}  loglik {value:.12g}  rel. gap {gap:.1e}"
        )
    out = []
    for ours, reference in [
        ("skmle (offset)", "glum IRLS (offset)"),
        ("skmle (no offset)", "sklearn newton-cholesky"),
    ]:
        problem = fits[ours][1]
        out.append(
            {
                "benchmark": f"PoissonMLERegressor, {n:,} x {d}"
                + (" with offset" if problem == "offset" else ""),
                "reference": reference,
                "skmle_s": medians[ours],
                "reference_s": medians[reference],
                "ratio": medians[ours] / medians[reference],
                "gap": (best[problem] - rows[ours][1][0]) / abs(best[problem]),
                "gap_meaning": "relative log-likelihood gap of skmle to the best fit",
                "note": f"reference log-likelihood gap "
                f"{(best[problem] - rows[reference][1][0]) / abs(best[problem]):.1e}",
            }
        )
    faster = min(medians["glum IRLS (offset)"], medians["sklearn newton-cholesky"])
    print(
        f"  ratio to the faster reference: "
        f"{medians['skmle (offset)'] / faster:.3f} (target <= 0.5)"
    )
    return out


def main() -> None:
    command_line(run, __doc__, one_core=False)


if __name__ == "__main__":
    main()
