import numpy as np
import pytest
from scipy import stats

from skmle.models.base import Batch
from skmle.models.gaussian import (
    COVARIANCE_TYPES,
    GaussianLogLikelihood,
    covariance_from_theta,
    pack,
    unpack,
)
from skmle.models.gaussian_moments import (
    Moments,
    check_representable,
    loglik_from_moments,
    minimal_regularisation,
)
from skmle.models.precision import precision_factor

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


# -- regularisation as a log-prior, and the factor of the covariance ------------------
def central_difference(function, theta, eps=1e-6):
    grad = np.empty_like(theta)
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = eps
        grad[j] = (function(theta + step) - function(theta - step)) / (2 * eps)
    return grad


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_prior_gradient_and_diagonal_hessian_match_differences(covariance_type):
    reg = np.array([0.1, 0.5, 2.0, 0.0])
    model = GaussianLogLikelihood(4, covariance_type, reg_covar=reg)
    theta = pack(np.zeros(4), covariance_of(covariance_type), covariance_type)
    theta = theta + 0.1 * rng.normal(size=theta.size)
    value, grad, hess = model.log_prior(theta, 7.0)
    prior = lambda t: model.log_prior(t, 7.0)[0]  # noqa: E731
    np.testing.assert_allclose(grad, central_difference(prior, theta), atol=1e-7)
    dense_hess = np.array(
        [
            central_difference(lambda t, j=j: model.log_prior(t, 7.0)[1][j], theta)
            for j in range(theta.size)
        ]
    )
    np.testing.assert_allclose(np.asarray(hess), dense_hess, atol=1e-6)
    # the closed form of the prior: -W/2 sum_j reg_j (Sigma^-1)_jj
    cov = dense(covariance_from_theta(theta, 4, covariance_type))
    assert value == pytest.approx(-3.5 * reg @ np.diag(np.linalg.inv(cov)), rel=1e-12)
    # it adds to a dense matrix as np.diag would, without being one
    base = rng.normal(size=(theta.size, theta.size))
    np.testing.assert_array_equal(base + hess, base + np.diag(hess.diagonal))
    np.testing.assert_array_equal(hess + base, base + np.diag(hess.diagonal))


def test_without_regularisation_the_prior_allocates_no_square_array():
    model = GaussianLogLikelihood(2000, "full")  # 2,003,000 parameters
    value, grad, hess = model.log_prior(np.zeros(model.n_params), 10.0)
    assert value == 0.0 and not np.any(grad)
    assert hess.diagonal.shape == (model.n_params,)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_regularised_maximum_is_the_moments_plus_reg(covariance_type):
    # The gradient of log-likelihood + log-prior vanishes at S/W + diag(reg).
    X = rng.normal(size=(60, 4)) * [1.0, 3.0, 0.1, 10.0]
    reg = np.array([0.2, 0.0, 0.01, 3.0])
    kind = "full" if covariance_type == "full" else "diag"
    moments = Moments.from_data(X, None, kind)
    model = GaussianLogLikelihood(4, covariance_type, reg_covar=reg)
    theta = pack(
        moments.mean, moments.covariance(covariance_type, reg), covariance_type
    )
    _, grad = model.loglik_grad(theta, Batch.from_arrays(X))
    grad = grad + model.log_prior(theta, 60.0)[1]
    np.testing.assert_allclose(grad / 60.0, 0.0, atol=1e-10)


def test_precision_factor_inverts_badly_scaled_covariances():
    scales = np.array([1e-6, 1.0, 1e6, 3.0])
    cov = SPD * np.outer(scales, scales)
    factor = precision_factor(cov, "full")
    assert np.allclose(factor, np.tril(factor))
    # R R^T Sigma = I, in correlation units (entry ij scaled by s_i / s_j)
    product = factor @ factor.T @ cov * scales[:, None] / scales[None, :]
    np.testing.assert_allclose(product, np.eye(4), atol=1e-12)
    # the lower Cholesky factor of the precision D^-1 P D^-1 is D^-1 chol(P)
    expected = np.linalg.cholesky(np.linalg.inv(SPD))
    np.testing.assert_allclose(factor * scales[:, None], expected, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precision_factor_rejects_singular_covariances(covariance_type):
    X = rng.normal(size=(40, 3))
    X = np.column_stack([X, X[:, 0] - 2 * X[:, 1]])
    cov = np.cov(X, rowvar=False, bias=True)
    if covariance_type == "full":
        with pytest.raises(np.linalg.LinAlgError):
            precision_factor(cov, "full")
    with pytest.raises(np.linalg.LinAlgError):
        precision_factor(np.array([1.0, 0.0, 2.0]), "diag")


def test_minimal_regularisation_is_relative_and_small():
    X = rng.normal(size=(40, 3)) * [1e-5, 1.0, 1e5]
    X = np.column_stack([X, X[:, 0] * 1e5 + X[:, 2] * 1e-5, np.full(40, 7.0)])
    moments = Moments.from_data(X, None, "full")
    reg, cov, factor = minimal_regularisation(moments, "full")
    variances = X.var(axis=0)
    variances[4] = variances[:4].mean()
    tau = reg / variances
    np.testing.assert_allclose(tau, tau[0], rtol=1e-12)  # one factor for all
    assert 0 < tau[0] < 1e-9
    np.testing.assert_allclose(cov, np.cov(X, rowvar=False, bias=True) + np.diag(reg))
    std = np.sqrt(np.diag(cov))
    product = factor @ factor.T @ cov * std[:, None] / std[None, :]
    # (cond ~ 1 / tau: only a loose check of the inverse is possible)
    np.testing.assert_allclose(product, np.eye(5), atol=1e-3)
    # diag: only the constant feature needs it
    diag_moments = Moments.from_data(X, None, "diag")
    reg, cov, _ = minimal_regularisation(diag_moments, "diag")
    assert np.all(reg[:4] == 0) and reg[4] > 0
    # no scale at all
    assert minimal_regularisation(Moments.from_data(np.ones((3, 2))), "full") is None


@pytest.mark.parametrize("factor", [1e153, 1e-140])
def test_moments_of_extreme_scales_are_exact(factor):
    # scatters near 1e306 and 1e-280: large and small, but still normal numbers
    X = 0.3 * rng.normal(size=(30, 3))
    w = rng.uniform(0, 2, size=30)
    for kind in ("full", "diag"):
        moments = Moments.from_data(X * factor, w, kind)
        reference = Moments.from_data(X, w, kind)
        np.testing.assert_allclose(moments.mean, reference.mean * factor, rtol=1e-14)
        np.testing.assert_allclose(
            moments.scatter / factor / factor, reference.scatter, rtol=1e-13
        )


def test_moments_that_underflow_are_flagged_and_a_value_error():
    tiny = Moments.from_data(rng.normal(size=(30, 2)) * 1e-170)
    np.testing.assert_array_equal(tiny.underflow, [True, True])
    with pytest.raises(ValueError, match="underflow"):
        check_representable(tiny)
    # a batch whose spread underflows inside data whose spread does not: fine
    wide = Moments.from_data(rng.normal(size=(30, 2)) + np.array([5.0, -3.0]))
    merged = tiny + wide
    np.testing.assert_array_equal(merged.underflow, [True, True])
    check_representable(merged)
    # a constant feature does not underflow: it is constant
    constant = Moments.from_data(np.column_stack([np.full(10, 3.0), np.arange(10.0)]))
    assert constant.underflow is None or not np.any(constant.underflow)
    check_representable(constant)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scores_match_central_differences_of_loglik_obs(covariance_type):
    data = np.random.default_rng(3)
    X = data.normal(size=(25, 4)) @ A + 1.5
    weights = data.integers(0, 4, size=X.shape[0]).astype(float)
    batch = Batch(X, None, weights)
    model = GaussianLogLikelihood(4, covariance_type)
    theta = 0.3 * data.standard_normal(model.n_params)
    scores = model.scores(theta, batch)
    assert scores.shape == (X.shape[0], model.n_params)
    step = 1e-6
    numeric = np.empty_like(scores)
    for j in range(theta.size):
        forward, backward = theta.copy(), theta.copy()
        forward[j] += step
        backward[j] -= step
        numeric[:, j] = (
            model.loglik_obs(forward, batch) - model.loglik_obs(backward, batch)
        ) / (2 * step)
    np.testing.assert_allclose(scores, numeric, rtol=1e-6, atol=1e-6)
    _, grad = model.loglik_grad(theta, batch)
    np.testing.assert_allclose(weights @ scores, grad, rtol=1e-10, atol=1e-10)
    assert {"scores", "hessian", "closed_form"} <= model.capabilities
