"""DistributionMLE checks its values in the pass that sums its statistics: every
bad value (NaN, infinity, outside the support), wherever it sits in a long
column, with or without weights (even a zero weight), in memory or chunked,
raises the ValueError of scikit-learn's ``assert_all_finite`` or of the support."""

import numpy as np
import pytest

from skmle import DistributionMLE, chunked

N = 200_000  # several blocks of BLOCK_ROWS rows: the bad value is in a later one
RNG = np.random.default_rng(11)
GOOD = {
    "exponential": RNG.exponential(2.0, N),
    "gamma": RNG.gamma(2.5, 1.3, N),
    "beta": RNG.beta(2.0, 5.0, N),
    "lognormal": RNG.lognormal(0.3, 0.8, N),
    "weibull": RNG.weibull(1.7, N),
    "gaussian": RNG.normal(1.0, 2.0, N),
    "poisson": RNG.poisson(3.0, N).astype(float),
    "bernoulli": (RNG.random(N) < 0.3).astype(float),
    "geometric": RNG.geometric(0.3, N).astype(float),
    "binomial": RNG.binomial(7, 0.4, N).astype(float),
    "laplace": RNG.laplace(1.0, 2.0, N),
    "t": RNG.standard_t(5.0, N),
}
OUTSIDE = {
    "exponential": [-1e-300],
    "gamma": [0.0, -2.0],
    "beta": [0.0, 1.0, 1.5],
    "lognormal": [0.0, -1.0],
    "weibull": [0.0],
    "poisson": [-1.0, 2.5],
    "bernoulli": [0.5, 2.0],
    "geometric": [0.0, 1.5],
    "binomial": [8.0, -1.0, 0.5],
}
SUPPORT = {
    "exponential": "non-negative",
    "gamma": "positive",
    "beta": "strictly between 0 and 1",
    "lognormal": "positive",
    "weibull": "positive",
    "poisson": "non-negative integers",
    "bernoulli": "values 0 or 1",
    "geometric": "integers from 1",
    "binomial": "integers from 0 to n_trials",
}


def fit(family, x, **kwargs):
    options = {"n_trials": 7} if family == "binomial" else {}
    return DistributionMLE(family=family, **options).fit(x[:, None], **kwargs)


def with_value(family, value, row=150_001):
    x = GOOD[family].copy()
    x[row] = value
    return x


@pytest.mark.parametrize("family", sorted(GOOD))
@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")],
)
def test_nan_and_infinity(family, value, message):
    x = with_value(family, value)
    with pytest.raises(ValueError, match=message):
        fit(family, x)
    weights = np.ones(N)
    weights[150_001] = 0.0  # a zero weight does not hide the value
    with pytest.raises(ValueError, match=message):
        fit(family, x, sample_weight=weights)


@pytest.mark.parametrize("family", sorted(OUTSIDE))
def test_outside_the_support(family):
    for value in OUTSIDE[family]:
        with pytest.raises(ValueError, match=SUPPORT[family]):
            fit(family, with_value(family, value))
        weights = np.full(N, 2.0)
        weights[150_001] = 0.0
        with pytest.raises(ValueError, match=SUPPORT[family]):
            fit(family, with_value(family, value), sample_weight=weights)
        with pytest.raises(ValueError, match=SUPPORT[family]):
            options = {"n_trials": 7} if family == "binomial" else {}
            DistributionMLE(family=family, **options).fit(
                chunked(with_value(family, value)[:, None], 30_000)
            )


def test_partial_fit_checks_every_call():
    model = DistributionMLE(family="gamma").partial_fit(GOOD["gamma"][:1000, None])
    before = model.theta_.copy()
    with pytest.raises(ValueError, match="positive"):
        model.partial_fit(np.array([[1.0], [-1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        model.partial_fit(np.array([[1.0], [np.nan]]))
    np.testing.assert_array_equal(model.theta_, before)
    model.partial_fit(GOOD["gamma"][1000:2000, None])
    whole = DistributionMLE(family="gamma").fit(GOOD["gamma"][:2000, None])
    np.testing.assert_allclose(model.theta_, whole.theta_, rtol=1e-10)
