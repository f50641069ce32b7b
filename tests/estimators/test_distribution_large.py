"""DistributionMLE on chunked and Dask data equals the in-memory fit; the weighted
median against numpy."""

import dask.array as da
import numpy as np
import pytest

from skmle import DistributionMLE, chunked
from skmle.estimators.distribution_solve import weighted_median
from skmle.models.distributions.base import softplus

RNG = np.random.default_rng(11)
N = 2000
X = np.column_stack(
    [
        RNG.gamma(2.0, 1.5, N),
        RNG.weibull(1.4, N) * 3.0,
        RNG.standard_t(4.0, N) + 2.0,
        RNG.laplace(-1.0, 0.5, N),
        RNG.poisson(4.0, N),
        RNG.normal(1e6, 1.0, N),
    ]
)
FAMILIES = ["gamma", "weibull", "t", "laplace", "poisson", "gaussian"]
WEIGHTS = RNG.integers(0, 4, N).astype(float)


def sum_over(parts):
    def sum_batches(function):
        total = None
        for batch in parts:
            value = function(batch)
            total = (
                value
                if total is None
                else total + value
                if not isinstance(value, tuple)
                else tuple(a + b for a, b in zip(total, value, strict=True))
            )
        return total

    return sum_batches


def assert_same_fit(model, reference):
    np.testing.assert_allclose(model.theta_, reference.theta_, rtol=1e-10, atol=1e-12)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-12)
    for name in reference.param_blocks():
        np.testing.assert_allclose(
            getattr(model, f"{name}_se_"), getattr(reference, f"{name}_se_"), rtol=1e-8
        )


@pytest.fixture(scope="module")
def reference():
    return DistributionMLE(family=FAMILIES).fit(X, sample_weight=WEIGHTS)


def test_chunked_equals_in_memory(reference):
    model = DistributionMLE(family=FAMILIES).fit(chunked(X, 97), sample_weight=WEIGHTS)
    assert_same_fit(model, reference)
    # a weight of 0 drops the row: the median of the rows kept, repeated by weight
    kept = np.repeat(X[:, 3], WEIGHTS.astype(int))
    assert reference.loc_[1] == np.median(kept)
    assert reference.mu_[0] == pytest.approx(
        np.average(X[:, 5], weights=WEIGHTS), rel=1e-15
    )


@pytest.mark.slow
def test_dask_equals_in_memory(client):
    # every pass over the rows is a round trip to the workers: few columns
    columns, families = [1, 3, 4], ["weibull", "laplace", "poisson"]
    reference = DistributionMLE(family=families).fit(
        X[:, columns], sample_weight=WEIGHTS
    )
    dX = da.from_array(X[:, columns], chunks=(700, 3))
    dw = da.from_array(WEIGHTS, chunks=700)
    model = DistributionMLE(family=families).fit(dX, sample_weight=dw)
    assert_same_fit(model, reference)
    np.testing.assert_allclose(
        model.score_samples(dX).compute(),
        reference.score_samples(X[:, columns]),
        rtol=1e-12,
    )


def batches(x, w, size):
    return [
        type("B", (), {"X": x[i : i + size], "sample_weight": w[i : i + size]})
        for i in range(0, x.shape[0], size)
    ]


@pytest.mark.parametrize("n", [1, 2, 7, 100_001, 300_000])
def test_weighted_median_is_numpys(n):
    x = RNG.normal(size=(n, 1))
    x[: n // 3] = 0.25  # many ties
    size = 5000 if n < 300_000 else n  # one batch of several blocks
    parts = batches(x, np.ones(n), size)
    assert weighted_median(sum_over(parts), 0, float(n)) == np.median(x)
    w = RNG.integers(1, 4, n).astype(float)
    expected = np.median(np.repeat(x[:, 0], w.astype(int)))
    assert weighted_median(sum_over(batches(x, w, size)), 0, float(w.sum())) == expected


def test_softplus_is_log1p_exp():
    z = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    np.testing.assert_allclose(
        softplus(z),
        [0.0, np.log1p(np.exp(-3.0)), np.log(2), np.log1p(np.exp(2.0)), 800.0],
    )


def test_many_rows_summed_in_blocks_equal_scipy():
    from scipy import stats

    rows = 200_000  # more than one block of skmle.models.distributions.model
    x = np.column_stack([RNG.gamma(2.0, 1.5, rows), RNG.weibull(1.4, rows) * 3.0])
    model = DistributionMLE(family=["gamma", "weibull"]).fit(x)
    shape, _, scale = stats.gamma.fit(x[:, 0], floc=0)
    np.testing.assert_allclose(
        [model.shape_[0], model.scale_[0]], [shape, scale], rtol=1e-7
    )
    k, _, lam = stats.weibull_min.fit(x[:, 1], floc=0)
    np.testing.assert_allclose([model.shape_[1], model.scale_[1]], [k, lam], rtol=1e-4)
    reference = (
        stats.gamma(shape, scale=scale).logpdf(x[:, 0]).sum()
        + stats.weibull_min(model.shape_[1], scale=model.scale_[1])
        .logpdf(x[:, 1])
        .sum()
    )
    assert model.loglik_ == pytest.approx(reference, rel=1e-10)
