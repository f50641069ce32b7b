"""DistributionMLE's sandwich covariances (cov_type "HC0", "HC1") against an
independent computation: per-row scores by central differences of
``scipy.stats`` logpdf, the meat S^T S, the bread a finite-difference Hessian of
the summed logpdf, all in the natural parameters; and statsmodels' robust
Poisson GLM for the overdispersion-robust error of a rate."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from skmle import DistributionMLE

VISITS = sm.datasets.randhie.load_pandas().data["mdvis"].to_numpy(float)
"""Outpatient visits of the RAND health insurance experiment: counts whose
variance (20.3) is seven times their mean (2.86), overdispersed for Poisson."""
INCOME = sm.datasets.engel.load_pandas().data["income"].to_numpy(float) / 1000.0
"""Engel's household incomes (235 Belgian households, in thousands of francs)."""


def fd_sandwich(logpdf, x, natural, cov_type, rel=1e-5):
    """``H^{-1} (S^T S) H^{-1}`` (times ``n/(n-p)`` for HC1), with ``S`` the
    central-difference scores of each row of ``logpdf(x, *natural)`` and ``H`` the
    central-difference Jacobian of the summed scores."""
    natural = np.asarray(natural, dtype=float)
    k, n = natural.size, x.size
    h = rel * np.abs(natural)

    def scores(point):
        columns = []
        for i in range(k):
            up, down = point.copy(), point.copy()
            up[i] += h[i]
            down[i] -= h[i]
            columns.append((logpdf(x, *up) - logpdf(x, *down)) / (2 * h[i]))
        return np.column_stack(columns)

    s = scores(natural)
    hess = np.empty((k, k))
    for i in range(k):
        up, down = natural.copy(), natural.copy()
        up[i] += 10 * h[i]
        down[i] -= 10 * h[i]
        hess[:, i] = (scores(up).sum(0) - scores(down).sum(0)) / (20 * h[i])
    hess = 0.5 * (hess + hess.T)
    bread = np.linalg.inv(-hess)
    cov = bread @ (s.T @ s) @ bread
    return cov * (n / (n - k) if cov_type == "HC1" else 1.0)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_poisson_sandwich_is_the_overdispersion_robust_error(cov_type):
    fit = DistributionMLE(family="poisson", cov_type=cov_type).fit(VISITS[:, None])
    reference = fd_sandwich(stats.poisson.logpmf, VISITS, fit.rate_, cov_type)
    np.testing.assert_allclose(fit.rate_se_**2, np.diag(reference), rtol=1e-6)
    # statsmodels: intercept-only Poisson GLM, robust covariance of log(rate)
    glm = sm.GLM(VISITS, np.ones_like(VISITS), family=sm.families.Poisson())
    result = glm.fit(cov_type="HC0")
    factor = VISITS.size / (VISITS.size - 1.0) if cov_type == "HC1" else 1.0
    np.testing.assert_allclose(
        fit.rate_se_, fit.rate_ * result.bse * np.sqrt(factor), rtol=1e-10
    )
    # the closed form: sqrt(sum (x - mean)^2) / n, far above sqrt(rate / n)
    n = VISITS.size
    closed = np.sqrt(np.sum((VISITS - VISITS.mean()) ** 2) * factor) / n
    np.testing.assert_allclose(fit.rate_se_, closed, rtol=1e-12)
    assert fit.rate_se_[0] > 2.5 * np.sqrt(fit.rate_[0] / n)
    assert fit.summary().stats["covariance"] == cov_type


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_gamma_sandwich_against_finite_differences_of_scipy(cov_type):
    fit = DistributionMLE(family="gamma", cov_type=cov_type).fit(INCOME[:, None])
    natural = [fit.shape_[0], fit.scale_[0]]
    reference = fd_sandwich(
        lambda x, shape, scale: stats.gamma.logpdf(x, shape, scale=scale),
        INCOME,
        natural,
        cov_type,
    )
    ours = fit.params_cov_
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-12)
    # incomes are more spread than a gamma says: the robust errors are larger
    plain = DistributionMLE(family="gamma").fit(INCOME[:, None])
    assert np.all(np.sqrt(np.diag(ours)) > np.sqrt(np.diag(plain.params_cov_)))


def test_cluster_sandwich_against_statsmodels():
    groups = np.arange(VISITS.size) // 50  # households of 50 consecutive rows
    fit = DistributionMLE(family="poisson", cov_type="cluster").fit(
        VISITS[:, None], groups=groups
    )
    glm = sm.GLM(VISITS, np.ones_like(VISITS), family=sm.families.Poisson())
    result = glm.fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(fit.rate_se_, fit.rate_ * result.bse, rtol=1e-10)


def test_weighted_sandwich_equals_repeated_rows():
    rng = np.random.default_rng(3)
    weights = rng.integers(1, 4, INCOME.size)
    weighted = DistributionMLE(family="gamma", cov_type="HC0").fit(
        INCOME[:, None], sample_weight=weights.astype(float)
    )
    repeated = DistributionMLE(family="gamma", cov_type="HC0").fit(
        np.repeat(INCOME, weights)[:, None]
    )
    np.testing.assert_allclose(weighted.params_cov_, repeated.params_cov_, rtol=1e-9)


def test_partial_fit_refuses_a_sandwich():
    with pytest.raises(ValueError, match="partial_fit keeps the sufficient"):
        DistributionMLE(family="poisson", cov_type="HC0").partial_fit(VISITS[:, None])
