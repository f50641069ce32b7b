"""Profile-likelihood confidence intervals, skmle against a brute force.

No Python library offers profile intervals for these models (R's ``confint``
does); the reference is what a user would write: statsmodels' ``loglike`` and
``score`` maximised by ``scipy.optimize.minimize`` (BFGS) with the parameter
eliminated through its constraint, the ends found by ``scipy.optimize.brentq``.
The gap is the largest difference of an interval end, relative to the
interval's width. Times are medians of alternating runs; the ratio is skmle over
the brute force (below 1 means skmle is faster). Run ``python
benchmarks/bench_inference.py`` or with ``--quick``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import statsmodels.api as sm
from scipy import optimize, stats

from skmle import LogisticGD

CHI2 = stats.chi2.ppf(0.95, df=1)


def brute_force_interval(loglik, grad, theta_hat, contrast, scale):
    """The 95% profile interval of ``contrast @ theta`` by BFGS refits."""
    i = int(np.argmax(np.abs(contrast)))
    rest = np.delete(np.arange(theta_hat.size), i)

    def full(z, value):
        theta = np.empty(theta_hat.size)
        theta[rest] = z
        theta[i] = (value - contrast[rest] @ z) / contrast[i]
        return theta

    def profile(value):
        def negative(z):
            theta = full(z, value)
            g = grad(theta)
            return -loglik(theta), -(g[rest] - g[i] * contrast[rest] / contrast[i])

        result = optimize.minimize(
            negative, theta_hat[rest], jac=True, method="BFGS", options={"gtol": 1e-9}
        )
        return -result.fun

    cutoff = loglik(theta_hat) - CHI2 / 2
    estimate = contrast @ theta_hat
    return np.array(
        [
            optimize.brentq(
                lambda v: profile(v) - cutoff,
                estimate,
                estimate + side * 4 * scale,
                xtol=1e-12,
            )
            for side in (-1, 1)
        ]
    )


def _case(name, X, y, reference, params, contrasts, repeats):
    fitted = reference.fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    theta = np.asarray(fitted.params).T.ravel()
    cov = fitted.cov_params().to_numpy()
    model = LogisticGD(tol=1e-10).fit(X, y)

    def ours():
        return model.conf_int(method="profile", X=X, y=y, params=params)

    def brute():
        return np.array(
            [
                brute_force_interval(
                    reference.loglike, reference.score, theta, c, np.sqrt(c @ cov @ c)
                )
                for c in contrasts
            ]
        )

    ours_times, brute_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        got = ours()
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        expected = brute()
        brute_times.append(time.perf_counter() - start)
    width = expected[:, 1] - expected[:, 0]
    return {
        "benchmark": name,
        "reference": "scipy BFGS + brentq on statsmodels loglike",
        "skmle_s": float(np.median(ours_times)),
        "reference_s": float(np.median(brute_times)),
        "ratio": float(np.median(ours_times) / np.median(brute_times)),
        "gap": float(np.max(np.abs(got - expected) / width[:, None])),
        "gap_meaning": "largest end difference / interval width",
    }


def run(quick: bool = False) -> list[dict]:
    repeats = 1 if quick else 5
    spector = sm.datasets.spector.load_pandas()
    X, y = spector.exog, spector.endog
    rows = [
        _case(
            "profile intervals, Spector Logit (4 parameters, 32 rows)",
            X,
            y,
            sm.Logit(y, sm.add_constant(X)),  # the constant first, as skmle
            None,
            list(np.eye(4)),
            repeats,
        )
    ]
    anes = sm.datasets.anes96.load_pandas().data
    Xa = anes[["logpopul", "selfLR", "age", "educ", "income"]]
    ya = anes["PID"].astype(int)
    reference = sm.MNLogit(ya, sm.add_constant(Xa, prepend=False))
    index = [f"{k}:{f}" for k in range(1, 7) for f in [*Xa.columns, "const"]]
    params = [f"{k}:selfLR - 0:selfLR" for k in range(1, 7)]
    contrasts = [np.eye(len(index))[index.index(f"{k}:selfLR")] for k in range(1, 7)]
    rows.append(
        _case(
            "profile intervals, anes96 MNLogit (6 of 36 coefficients, 944 rows)",
            Xa,
            ya,
            reference,
            params,
            contrasts,
            repeats,
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(
            f"{row['benchmark']}: skmle {row['skmle_s']:.3f} s, "
            f"brute force {row['reference_s']:.3f} s, ratio {row['ratio']:.2f}, "
            f"gap {row['gap']:.1e} ({row['gap_meaning']})"
        )


if __name__ == "__main__":
    main()
