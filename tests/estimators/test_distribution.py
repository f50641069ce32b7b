"""DistributionMLE against scipy.stats fits, textbook standard errors and finite
differences of scipy's log-density."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from skmle import DistributionMLE, check_gradient

RNG = np.random.default_rng(7)
N = 400
DATA = {
    "exponential": RNG.exponential(2.0, N),
    "gamma": RNG.gamma(2.5, 1.3, N),
    "beta": RNG.beta(2.0, 5.0, N),
    "lognormal": RNG.lognormal(0.3, 0.8, N),
    "weibull": RNG.weibull(1.7, N) * 2.0,
    "laplace": RNG.laplace(1.0, 2.0, N),
    "t": RNG.standard_t(5.0, N) * 2.0 + 1.0,
    "gaussian": RNG.normal(1.0, 2.0, N),
}
# scipy's fit and the map from its (shapes, loc, scale) to our natural parameters
SCIPY = {
    "exponential": (stats.expon, {"floc": 0}, lambda r: [1.0 / r[1]]),
    "gamma": (stats.gamma, {"floc": 0}, lambda r: [r[0], r[2]]),
    "beta": (stats.beta, {"floc": 0, "fscale": 1}, lambda r: [r[0], r[1]]),
    "lognormal": (stats.lognorm, {"floc": 0}, lambda r: [np.log(r[2]), r[0]]),
    "weibull": (stats.weibull_min, {"floc": 0}, lambda r: [r[0], r[2]]),
    "laplace": (stats.laplace, {}, lambda r: [r[0], r[1]]),
    "t": (stats.t, {}, lambda r: list(r)),
    "gaussian": (stats.norm, {}, lambda r: [r[0], r[1]]),
}


def natural_params(model):
    return np.concatenate([getattr(model, f"{n}_") for n in model.param_blocks()])


def standard_errors(model):
    return np.concatenate([getattr(model, f"{n}_se_") for n in model.param_blocks()])


def logpdf_sum(model, x, natural):
    family = model.model_.families[0]
    return family.frozen(np.asarray(natural)).logpdf(x).sum()


def fd_standard_errors(model, x, natural, rel=1e-4):
    """Inverse of minus a central-difference Hessian of scipy's logpdf sum."""
    natural = np.asarray(natural, dtype=float)
    k = natural.size
    h = rel * np.maximum(np.abs(natural), 1e-2)
    hess = np.empty((k, k))

    def f(i, j, di, dj):
        point = natural.copy()
        point[i] += di * h[i]
        point[j] += dj * h[j]
        return logpdf_sum(model, x, point)

    for i in range(k):
        for j in range(k):
            corners = f(i, j, 1, 1) - f(i, j, 1, -1) - f(i, j, -1, 1) + f(i, j, -1, -1)
            hess[i, j] = corners / (4 * h[i] * h[j])
    return np.sqrt(np.diag(np.linalg.inv(-hess)))


@pytest.mark.parametrize("family", sorted(DATA))
def test_estimates_equal_scipy_fit(family):
    x = DATA[family]
    model = DistributionMLE(family=family).fit(x[:, None])
    dist, fixed, to_natural = SCIPY[family]
    reference = to_natural(dist.fit(x, **fixed))
    ours, scipy_loglik = natural_params(model), logpdf_sum(model, x, reference)
    assert model.loglik_ == pytest.approx(logpdf_sum(model, x, ours), rel=1e-12)
    # scipy's optimiser (t) and root finder (Weibull) stop short of the maximum
    rtol = {"t": 1e-3, "weibull": 1e-4}.get(family, 1e-7)
    np.testing.assert_allclose(ours, reference, rtol=rtol)
    assert model.loglik_ >= scipy_loglik - 1e-12 * abs(scipy_loglik)


@pytest.mark.parametrize("family", sorted(set(DATA) - {"laplace"}))
def test_standard_errors_equal_finite_difference_hessian(family):
    x = DATA[family]
    model = DistributionMLE(family=family).fit(x[:, None])
    reference = fd_standard_errors(model, x, natural_params(model))
    np.testing.assert_allclose(standard_errors(model), reference, rtol=1e-5)


def test_closed_form_standard_errors_are_the_textbook_formulas():
    x = DATA["gaussian"]
    m = DistributionMLE().fit(x[:, None])
    sigma = np.std(x)
    np.testing.assert_allclose(m.sigma_, sigma, rtol=1e-12)
    np.testing.assert_allclose(m.mu_se_, sigma / np.sqrt(N), rtol=1e-10)
    np.testing.assert_allclose(m.sigma_se_, sigma / np.sqrt(2 * N), rtol=1e-10)
    x = DATA["exponential"]
    m = DistributionMLE(family="exponential").fit(x[:, None])
    np.testing.assert_allclose(m.rate_se_, m.rate_ / np.sqrt(N), rtol=1e-10)
    x = DATA["laplace"]
    m = DistributionMLE(family="laplace").fit(x[:, None])
    b = np.mean(np.abs(x - np.median(x)))
    np.testing.assert_allclose([m.loc_[0], m.scale_[0]], [np.median(x), b], rtol=1e-12)
    np.testing.assert_allclose([m.loc_se_[0], m.scale_se_[0]], [b / np.sqrt(N)] * 2)


def test_the_coin():
    tosses = np.array([1] * 379 + [0] * 621, dtype=float)[:, None]
    coin = DistributionMLE(family="bernoulli").fit(tosses)
    assert coin.p_[0] == 379 / 1000
    assert coin.p_se_[0] == pytest.approx(np.sqrt(0.379 * 0.621 / 1000), rel=1e-12)
    k = tosses.sum()
    assert coin.loglik_ == pytest.approx(k * np.log(0.379) + (1000 - k) * np.log(0.621))
    binomial = DistributionMLE(family="binomial", n_trials=7).fit(
        RNG.binomial(7, 0.4, (N, 1))
    )
    p = binomial.p_[0]
    assert binomial.p_se_[0] == pytest.approx(np.sqrt(p * (1 - p) / (7 * N)), rel=1e-10)
    geometric_x = RNG.geometric(0.3, (N, 1))
    geometric = DistributionMLE(family="geometric").fit(geometric_x)
    p = 1 / geometric_x.mean()
    assert geometric.p_[0] == pytest.approx(p, rel=1e-12)
    assert geometric.p_se_[0] == pytest.approx(p * np.sqrt((1 - p) / N), rel=1e-10)


def test_three_tosses_warn_on_the_edge_and_the_prior_gives_the_map():
    heads = np.ones((3, 1))
    with pytest.warns(UserWarning, match="edge of the parameter space"):
        coin = DistributionMLE(family="bernoulli").fit(heads)
    assert coin.p_[0] == 1.0 and coin.p_se_[0] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        posterior = DistributionMLE(family="bernoulli", prior=(2.0, 2.0)).fit(heads)
    assert posterior.p_[0] == pytest.approx((3 + 2 - 1) / (3 + 2 + 2 - 2))
    summary = str(posterior.summary())
    assert "maximum a posteriori" in summary and "Beta(2.0, 2.0)" in summary
    counts = RNG.poisson(0.5, (20, 1))
    rate = DistributionMLE(family="poisson", prior=(3.0, 2.0)).fit(counts)
    assert rate.rate_[0] == pytest.approx((counts.sum() + 3 - 1) / (20 + 2))
    with pytest.raises(ValueError, match="prior is for"):
        DistributionMLE(family="gamma", prior=(1.0, 1.0)).fit(DATA["gamma"][:, None])


def test_real_counts_randhie():
    visits = sm.datasets.randhie.load_pandas().data["mdvis"].to_numpy()
    model = DistributionMLE(family="poisson").fit(visits[:, None])
    assert model.rate_[0] == pytest.approx(visits.mean(), rel=1e-13)
    assert model.rate_se_[0] == pytest.approx(
        np.sqrt(visits.mean() / visits.size), rel=1e-10
    )
    reference = stats.poisson(visits.mean()).logpmf(visits).sum()
    assert model.loglik_ == pytest.approx(reference, rel=1e-12)


@pytest.mark.parametrize("family", ["gamma", "lognormal", "weibull"])
def test_real_income_engel(family):
    income = sm.datasets.engel.load_pandas().data["income"].to_numpy()
    model = DistributionMLE(family=family).fit(income[:, None])
    dist, fixed, to_natural = SCIPY[family]
    np.testing.assert_allclose(
        natural_params(model), to_natural(dist.fit(income, **fixed)), rtol=1e-6
    )
    reference = fd_standard_errors(model, income, natural_params(model))
    np.testing.assert_allclose(standard_errors(model), reference, rtol=1e-4)


@pytest.mark.parametrize("family", sorted(DATA))
def test_gradient_weights_and_solvers(family):
    x = DATA[family][:60, None]
    model = DistributionMLE(family=family)
    assert check_gradient(model, x, random_state=0) < 1e-6
    w = np.r_[np.full(10, 2.0), np.ones(50)]
    weighted = DistributionMLE(family=family).fit(x, sample_weight=w)
    repeated = DistributionMLE(family=family).fit(np.vstack([x[:10], x]))
    np.testing.assert_allclose(weighted.theta_, repeated.theta_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        standard_errors(weighted), standard_errors(repeated), rtol=1e-8
    )
    if family != "laplace":
        newton = DistributionMLE(family=family, solver="newton", tol=1e-10).fit(x)
        np.testing.assert_allclose(
            newton.theta_, weighted.fit(x).theta_, rtol=1e-6, atol=1e-8
        )


def test_columns_concatenate_and_score_samples():
    X = np.column_stack([DATA["gamma"], RNG.poisson(3.0, N), DATA["t"]])
    model = DistributionMLE(family=["gamma", "poisson", "t"]).fit(X)
    singles = [
        DistributionMLE(family=f).fit(X[:, [j]]) for j, f in enumerate(model.family_)
    ]
    np.testing.assert_allclose(
        model.theta_, np.concatenate([s.theta_ for s in singles])
    )
    assert model.loglik_ == pytest.approx(sum(s.loglik_ for s in singles))
    assert model.param_names()[:2] == ["shape[x0]", "scale[x0]"]
    frozen = model.frozen_distributions()
    reference = (
        frozen[0].logpdf(X[:, 0])
        + frozen[1].logpmf(X[:, 1])
        + frozen[2].logpdf(X[:, 2])
    )
    np.testing.assert_allclose(model.score_samples(X), reference, rtol=1e-12)
    outside = X[:2].copy()
    outside[0, 0] = -1.0
    assert model.score_samples(outside)[0] == -np.inf
    draws = model.sample(5, random_state=3)
    rng = np.random.RandomState(3)
    expected = np.column_stack([d.rvs(size=5, random_state=rng) for d in frozen])
    np.testing.assert_array_equal(draws, expected)


def test_partial_fit_equals_fit():
    X = np.column_stack([DATA["gamma"], DATA["beta"], RNG.poisson(2.0, N)])
    families = ["gamma", "beta", "poisson"]
    whole = DistributionMLE(family=families).fit(X)
    parts = DistributionMLE(family=families)
    for rows in np.array_split(np.arange(N), 3):
        parts.partial_fit(X[rows])
    np.testing.assert_allclose(parts.theta_, whole.theta_, rtol=1e-9)
    np.testing.assert_allclose(
        standard_errors(parts), standard_errors(whole), rtol=1e-8
    )
    with pytest.raises(ValueError, match="sufficient statistics"):
        DistributionMLE(family="weibull").partial_fit(DATA["weibull"][:, None])


def test_bad_input():
    with pytest.raises(ValueError, match="positive values"):
        DistributionMLE(family="gamma").fit(-DATA["gamma"][:, None])
    with pytest.raises(ValueError, match="n_trials"):
        DistributionMLE(family="binomial").fit(np.ones((5, 1)))
    with pytest.raises(ValueError, match="one per column"):
        DistributionMLE(family=["gamma"]).fit(np.ones((5, 2)))
    with pytest.raises(ValueError, match="values 0 or 1"):
        DistributionMLE(family="bernoulli").fit(np.full((5, 1), 2.0))


def test_compare_distributions_and_grid_search():
    from sklearn.model_selection import GridSearchCV

    from skmle import compare_distributions

    x = DATA["gamma"]
    table = compare_distributions(x, ["exponential", "gamma", "gaussian", "beta"])
    assert table.rows[0]["family"] == "gamma"
    assert "beta" not in [r["family"] for r in table.rows]  # outside its support
    row = table.rows[0]
    shape, _, scale = stats.gamma.fit(x, floc=0)
    assert row["loglik"] == pytest.approx(
        stats.gamma(shape, scale=scale).logpdf(x).sum()
    )
    assert row["aic"] == pytest.approx(-2 * row["loglik"] + 4)
    assert row["ks"] == pytest.approx(
        stats.kstest(x, stats.gamma(shape, scale=scale).cdf).statistic, rel=1e-6
    )
    with pytest.raises(ValueError, match="discrete and continuous"):
        compare_distributions(x, ["poisson", "gamma"])
    search = GridSearchCV(
        DistributionMLE(), {"family": ["gamma", "exponential", "gaussian"]}, cv=4
    ).fit(x[:, None])
    assert search.best_params_["family"] == "gamma"
    held_out = np.arange(N) % 4 == 0
    model = DistributionMLE(family="gamma").fit(x[~held_out, None])
    reference = model.frozen_distributions()[0].logpdf(x[held_out]).mean()
    assert model.score(x[held_out, None]) == pytest.approx(reference, rel=1e-12)
