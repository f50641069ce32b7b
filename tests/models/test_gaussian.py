import numpy as np
import pytest
from scipy import stats

from skmle.models.base import Batch
from skmle.models.gaussian import (
    COVARIANCE_TYPES,
    GaussianLogLikelihood,
    Moments,
    covariance_from_theta,
    loglik_from_moments,
    pack,
    unpack,
)

rng = np.random.default_rng(1)
A = rng.normal(size=(4, 4))
SPD = A @ A.T + 4 * np.eye(4)


def covariance_of(covariance_type):
    return {"full": SPD, "diag": np.diag(SPD).copy(), "spherical": 2.5}[covariance_type]


def dense(covariance, d=4):
    covariance = np.asarray(covariance, dtype=float)
    if covariance.ndim == 2:
        return covariance
    return np.diag(np.broadcast_to(covariance, (d,)))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pack_unpack_round_trip(covariance_type):
    mean = np.array([1.0, -2.0, 0.5, 3.0])
    cov = covariance_of(covariance_type)
    theta = pack(mean, cov, covariance_type)
    np.testing.assert_allclose(theta[:4], mean)
    np.testing.assert_allclose(covariance_from_theta(theta, 4, covariance_type), cov)
    _, prec_chol = unpack(theta, 4, covariance_type)
    if covariance_type == "full":
        assert np.allclose(prec_chol, np.tril(prec_chol))
        np.testing.assert_allclose(prec_chol @ prec_chol.T, np.linalg.inv(SPD))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_loglik_obs_equals_scipy_logpdf(covariance_type):
    mean = np.array([1.0, -2.0, 0.5, 3.0])
    cov = covariance_of(covariance_type)
    X = rng.normal(size=(30, 4)) * 2
    model = GaussianLogLikelihood(4, covariance_type)
    theta = pack(mean, cov, covariance_type)
    expected = stats.multivariate_normal(mean, dense(cov)).logpdf(X)
    np.testing.assert_allclose(model.loglik_obs(theta, Batch.from_arrays(X)), expected)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_merged_moments_equal_the_moments_of_all_rows(covariance_type):
    X = rng.normal(size=(100, 4)) + 5.0
    w = rng.uniform(0, 3, size=100)
    merged = Moments.from_data(X[:30], w[:30], covariance_type) + Moments.from_data(
        X[30:], w[30:], covariance_type
    )
    mean = np.average(X, axis=0, weights=w)
    scatter = ((X - mean) * w[:, None]).T @ (X - mean)
    if covariance_type == "diag":
        scatter = np.diag(scatter)
    assert merged.weight == pytest.approx(w.sum())
    np.testing.assert_allclose(merged.mean, mean, rtol=1e-13)
    np.testing.assert_allclose(merged.scatter, scatter, rtol=1e-11)


def test_merge_keeps_precision_where_raw_sums_of_squares_lose_it():
    # Variance 1e-4 around an offset of 1e8: sum x^2 - n mean^2 cancels
    # catastrophically in double precision; the merge of centred moments does not.
    x = 1e8 + 1e-2 * rng.standard_normal((10_000, 1))
    exact = np.var(x - 1e8)
    chunks = np.array_split(x, 17)
    moments = Moments.from_data(chunks[0], None, "diag")
    for chunk in chunks[1:]:
        moments = moments + Moments.from_data(chunk, None, "diag")
    naive = (np.sum(x**2) - x.size * np.mean(x) ** 2) / x.size
    assert moments.covariance("diag")[0] == pytest.approx(exact, rel=1e-6)
    assert abs(naive - exact) > 100 * abs(moments.covariance("diag")[0] - exact)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_loglik_from_moments_equals_the_sum_over_rows(covariance_type):
    X = rng.normal(size=(50, 4))
    w = rng.integers(0, 3, size=50).astype(float)
    kind = "full" if covariance_type == "full" else "diag"
    moments = Moments.from_data(X, w, kind)
    mean = np.array([0.1, 0.2, -0.3, 0.0])
    cov = covariance_of(covariance_type)
    model = GaussianLogLikelihood(4, covariance_type)
    direct = model.loglik(pack(mean, cov, covariance_type), Batch(X, None, w))
    assert loglik_from_moments(moments, mean, cov, covariance_type) == pytest.approx(
        direct, rel=1e-12
    )
