"""The Gaussian-mixture log-likelihood against direct computations.

References: scipy.stats.multivariate_normal densities combined with
scipy.special.logsumexp; numpy's weighted covariance (np.cov with aweights);
central finite differences; duplicated rows and split batches.
"""

import numpy as np
import pytest
from scipy import linalg, stats
from scipy.optimize import approx_fprime
from scipy.special import logsumexp

from skmle.models.base import Batch
from skmle.models.mixture import GaussianMixtureLogLikelihood
from skmle.models.mixture_stats import (
    COVARIANCE_TYPES,
    MixtureParams,
    covariances_from_cholesky,
    log_normalize,
    m_step,
    pack,
    precision_cholesky,
    precision_cholesky_from_precisions,
)

K, D = 3, 2


def dense_covariances(covariances, covariance_type, k=K, d=D):
    """Every component's (d, d) covariance from scikit-learn's layouts."""
    covariances = np.asarray(covariances)
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (k, d, d))
    if covariance_type == "diag":
        return covariances[:, :, None] * np.eye(d)
    return covariances[:, None, None] * np.eye(d)


def random_covariances(rng, covariance_type):
    if covariance_type == "full":
        A = rng.normal(size=(K, D, D))
        return A @ np.swapaxes(A, 1, 2) + 0.5 * np.eye(D)
    if covariance_type == "tied":
        A = rng.normal(size=(D, D))
        return A @ A.T + 0.5 * np.eye(D)
    if covariance_type == "diag":
        return rng.uniform(0.3, 2.0, size=(K, D))
    return rng.uniform(0.3, 2.0, size=K)


@pytest.fixture(params=COVARIANCE_TYPES)
def case(request):
    """A model, weighted data and parameters (with their named values)."""
    covariance_type = request.param
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(30, D)) + c for c in ([0, 0], [3, 1], [-1, 4])])
    weights = rng.integers(0, 4, size=X.shape[0]).astype(float)
    covariances = random_covariances(rng, covariance_type)
    params = MixtureParams(
        np.array([0.2, 0.5, 0.3]),
        rng.normal(size=(K, D)) * 2,
        precision_cholesky(covariances, covariance_type),
    )
    model = GaussianMixtureLogLikelihood(K, D, covariance_type, location=X.mean(axis=0))
    return model, Batch(X, None, weights), params, covariances


def scipy_log_prob(X, params, covariances, covariance_type):
    """log pi_k + log N(x_i; mu_k, Sigma_k) with scipy.stats, shape (n, K)."""
    dense = dense_covariances(covariances, covariance_type)
    return np.column_stack(
        [
            np.log(params.weights[k])
            + stats.multivariate_normal(params.means[k], dense[k]).logpdf(X)
            for k in range(K)
        ]
    )


def test_loglik_obs_equals_scipy(case):
    model, batch, params, covariances = case
    theta = pack(params, model.covariance_type)
    expected = logsumexp(
        scipy_log_prob(batch.X, params, covariances, model.covariance_type), axis=1
    )
    np.testing.assert_allclose(model.loglik_obs(theta, batch), expected, rtol=1e-12)
    assert model.loglik(theta, batch) == pytest.approx(
        batch.sample_weight @ expected, rel=1e-12
    )


def test_responsibilities_equal_scipy(case):
    model, batch, params, covariances = case
    theta = pack(params, model.covariance_type)
    log_prob = scipy_log_prob(batch.X, params, covariances, model.covariance_type)
    log_norm, resp = model.log_responsibilities(theta, batch.X)
    np.testing.assert_allclose(log_norm, logsumexp(log_prob, axis=1), rtol=1e-12)
    np.testing.assert_allclose(
        resp, np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True)), atol=1e-13
    )
    np.testing.assert_allclose(
        model.weighted_log_prob(theta, batch.X), log_prob, rtol=1e-12
    )


def test_e_step_statistics_equal_numpy_weighted_moments(case):
    model, batch, params, covariances = case
    theta = pack(params, model.covariance_type)
    log_prob = scipy_log_prob(batch.X, params, covariances, model.covariance_type)
    resp = np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))
    stats_ = model.e_step(theta, batch)
    assert stats_.loglik == pytest.approx(
        batch.sample_weight @ logsumexp(log_prob, axis=1), rel=1e-12
    )
    for k in range(K):
        w = batch.sample_weight * resp[:, k]
        assert stats_.weight[k] == pytest.approx(w.sum(), rel=1e-12)
        np.testing.assert_allclose(
            stats_.mean[k], np.average(batch.X, 0, w), rtol=1e-12
        )
        scatter = np.cov(batch.X, rowvar=False, aweights=w, bias=True) * w.sum()
        if model.covariance_type in ("diag", "spherical"):
            scatter = np.diag(scatter)
        np.testing.assert_allclose(stats_.scatter[k], scatter, rtol=1e-10, atol=1e-12)


def test_m_step_follows_the_formulas(case):
    model, batch, params, _ = case
    reg = 0.1
    stats_ = model.e_step(pack(params, model.covariance_type), batch)
    new, covariances = m_step(stats_, model.covariance_type, reg)
    nk = stats_.weight + 10 * np.finfo(float).eps
    np.testing.assert_allclose(new.weights, nk / nk.sum(), rtol=1e-14)
    np.testing.assert_allclose(new.means, stats_.mean, rtol=1e-14)
    full = stats_.scatter / nk.reshape(-1, *[1] * (stats_.scatter.ndim - 1))
    expected = {
        "full": lambda: full + reg * np.eye(D),
        "tied": lambda: stats_.scatter.sum(0) / nk.sum() + reg * np.eye(D),
        "diag": lambda: full + reg,
        "spherical": lambda: (full + reg).mean(axis=1),
    }[model.covariance_type]()
    np.testing.assert_allclose(covariances, expected, rtol=1e-13)
    np.testing.assert_allclose(
        covariances_from_cholesky(new.precisions_cholesky, model.covariance_type),
        expected,
        rtol=1e-10,
    )


def test_weight_two_equals_a_duplicated_row(case):
    model, batch, params, _ = case
    theta = pack(params, model.covariance_type)
    keep = batch.sample_weight > 0
    repeated = Batch(
        np.repeat(batch.X, batch.sample_weight.astype(int), axis=0),
        None,
        np.ones(int(batch.sample_weight.sum())),
    )
    weighted, plain = model.e_step(theta, batch), model.e_step(theta, repeated)
    assert weighted.loglik == pytest.approx(plain.loglik, rel=1e-12)
    for name in ("weight", "mean", "scatter"):
        np.testing.assert_allclose(
            getattr(weighted, name), getattr(plain, name), rtol=1e-10
        )
    assert keep.sum() < batch.X.shape[0]  # the case has zero weights


def test_statistics_of_split_batches_add_up(case):
    model, batch, params, _ = case
    theta = pack(params, model.covariance_type)
    whole = model.e_step(theta, batch)
    halves = [
        Batch(batch.X[part], None, batch.sample_weight[part])
        for part in (slice(0, 37), slice(37, None))
    ]
    merged = model.e_step(theta, halves[0]) + model.e_step(theta, halves[1])
    model.chunk_rows = 7  # many chunks inside one batch, merged the same way
    chunked = model.e_step(theta, batch)
    for other in (merged, chunked):
        assert other.loglik == pytest.approx(whole.loglik, rel=1e-12)
        for name in ("weight", "mean", "scatter"):
            np.testing.assert_allclose(
                getattr(other, name), getattr(whole, name), rtol=1e-11
            )


def test_gradient_matches_central_differences(case):
    model, batch, params, _ = case
    theta = pack(params, model.covariance_type)
    value, grad = model.loglik_grad(theta, batch)
    numeric = approx_fprime(theta, lambda t: model.loglik(t, batch), 1e-6)
    assert value == pytest.approx(model.loglik(theta, batch), rel=1e-12)
    np.testing.assert_allclose(
        grad, numeric, rtol=1e-4, atol=1e-4 * np.abs(numeric).max()
    )


def test_observed_information_is_minus_the_hessian(case):
    """Second differences of a scipy.stats log-likelihood in (pi_1..pi_{K-1}, mu)."""
    model, batch, params, covariances = case
    theta = pack(params, model.covariance_type)
    ct = model.covariance_type

    def loglik(phi):
        weights = np.append(phi[: K - 1], 1 - phi[: K - 1].sum())
        means = phi[K - 1 :].reshape(K, D)
        p = MixtureParams(weights, means, params.precisions_cholesky)
        log_prob = scipy_log_prob(batch.X, p, covariances, ct)
        return batch.sample_weight @ logsumexp(log_prob, axis=1)

    phi = np.concatenate([params.weights[: K - 1], params.means.ravel()])
    h = 1e-4
    hessian = np.empty((phi.size, phi.size))
    for i in range(phi.size):
        for j in range(i, phi.size):
            e_i, e_j = np.eye(phi.size)[i] * h, np.eye(phi.size)[j] * h
            hessian[i, j] = hessian[j, i] = (
                loglik(phi + e_i + e_j)
                - loglik(phi + e_i - e_j)
                - loglik(phi - e_i + e_j)
                + loglik(phi - e_i - e_j)
            ) / (4 * h * h)
    parts = model.information_parts(theta, batch)
    information = model.observed_information(theta, parts)
    np.testing.assert_allclose(
        information, -hessian, rtol=1e-5, atol=1e-5 * np.abs(hessian).max()
    )


def test_pack_unpack_round_trip(case):
    model, _, params, _ = case
    back = model.unpack(pack(params, model.covariance_type))
    np.testing.assert_allclose(back.weights, params.weights, rtol=1e-15)
    np.testing.assert_array_equal(back.means, params.means)
    np.testing.assert_allclose(
        back.precisions_cholesky, params.precisions_cholesky, rtol=1e-14
    )
    assert model.n_params == pack(params, model.covariance_type).size


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_precision_cholesky_is_the_upper_factor_of_the_inverse(covariance_type):
    rng = np.random.default_rng(2)
    covariances = random_covariances(rng, covariance_type)
    chol = precision_cholesky(covariances, covariance_type)
    assert np.allclose(np.tril(chol, -1), 0.0)
    np.testing.assert_allclose(
        chol @ np.swapaxes(chol, -1, -2), np.linalg.inv(covariances), rtol=1e-12
    )
    from_precisions = precision_cholesky_from_precisions(
        np.linalg.inv(covariances), covariance_type
    )
    np.testing.assert_allclose(from_precisions, chol, rtol=1e-10)


def test_singular_covariance_raises_with_reg_covar_in_the_message():
    with pytest.raises(ValueError, match="reg_covar"):
        precision_cholesky(np.zeros((2, 2, 2)), "full", reg_covar=0.0)
    with pytest.raises(ValueError, match="reg_covar"):
        precision_cholesky(np.array([1.0, 0.0]), "spherical")


def test_log_normalize_equals_scipy_logsumexp_far_from_zero():
    rng = np.random.default_rng(3)
    log_prob = rng.normal(size=(4, 50)) * 50 - 1e5
    expected_norm = logsumexp(log_prob, axis=0)
    expected_probs = np.exp(log_prob - expected_norm)
    norm, probs = log_normalize(log_prob.copy())
    np.testing.assert_allclose(norm, expected_norm, rtol=1e-14)
    # Inputs near 1e5 carry an absolute rounding of ~1.5e-11 into the exponent.
    np.testing.assert_allclose(probs, expected_probs, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_large_offset_does_not_change_the_log_likelihood(covariance_type):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, D))
    params = MixtureParams(
        np.array([0.3, 0.7]),
        np.array([[0.0, 0.0], [1.0, -1.0]]),
        precision_cholesky(
            {
                "full": np.array([np.eye(D), 2 * np.eye(D)]),
                "tied": np.eye(D),
                "diag": np.ones((2, D)),
                "spherical": np.ones(2),
            }[covariance_type],
            covariance_type,
        ),
    )
    offset = 1e8
    shifted = MixtureParams(
        params.weights, params.means + offset, params.precisions_cholesky
    )
    model = GaussianMixtureLogLikelihood(2, D, covariance_type)
    far = GaussianMixtureLogLikelihood(
        2, D, covariance_type, location=(X + offset).mean(axis=0)
    )
    expected = model.loglik_obs(pack(params, covariance_type), Batch.from_arrays(X))
    got = far.loglik_obs(pack(shifted, covariance_type), Batch.from_arrays(X + offset))
    # The data themselves are rounded to ulp(1e8) ~ 1.5e-8 when shifted.
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_cholesky_factors_come_from_scipy_conventions():
    """U = L^{-T}: the inverse of scipy's lower factor, transposed."""
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    lower = linalg.cholesky(cov, lower=True)
    np.testing.assert_allclose(
        precision_cholesky(cov, "tied"), linalg.inv(lower).T, rtol=1e-14
    )


def central_difference_scores(model, theta, batch, step=1e-6):
    """Column j: the central difference of every row's loglik_obs in theta_j."""
    columns = []
    for j in range(theta.size):
        forward, backward = theta.copy(), theta.copy()
        forward[j] += step
        backward[j] -= step
        columns.append(
            (model.loglik_obs(forward, batch) - model.loglik_obs(backward, batch))
            / (2 * step)
        )
    return np.column_stack(columns)


def test_scores_match_central_differences_of_loglik_obs(case):
    model, batch, params, _ = case
    theta = pack(params, model.covariance_type)
    scores = model.scores(theta, batch)
    assert scores.shape == (batch.X.shape[0], model.n_params)
    numeric = central_difference_scores(model, theta, batch)
    np.testing.assert_allclose(scores, numeric, rtol=1e-6, atol=1e-6)
    _, grad = model.loglik_grad(theta, batch)
    np.testing.assert_allclose(
        batch.sample_weight @ scores, grad, rtol=1e-10, atol=1e-10
    )
    assert {"scores", "em_step"} <= model.capabilities
