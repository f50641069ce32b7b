"""The logistic log-likelihoods against scipy.stats, finite differences and duplicates."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import softmax

from skmle.models.base import Batch
from skmle.models.logistic import (
    CHUNK_ROWS,
    LogisticLogLikelihood,
    eta_terms,
    loglik_obs_from_eta,
)
from skmle.models.logistic_objective import LogisticObjective

CASES = [
    pytest.param(2, True, 0.0, id="binary"),
    pytest.param(2, False, 0.7, id="binary-no-intercept-prior"),
    pytest.param(3, True, 0.0, id="multinomial"),
    pytest.param(4, False, 1.3, id="multinomial-no-intercept-prior"),
]


def make_batch(n_classes, n=40, d=3, seed=0, weights=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, n_classes, size=n)
    w = rng.uniform(0.5, 2.0, size=n) if weights else np.ones(n)
    return Batch(X, y, w)


def random_theta(model, seed=1):
    return np.random.default_rng(seed).normal(scale=0.5, size=model.n_params)


def scores(model, theta, X):
    """Linear scores computed independently of the model's layout code."""
    W = theta.reshape(model.n_rows, model.row_size)
    X_aug = np.column_stack([X, np.ones(len(X))]) if model.fit_intercept else X
    return X_aug @ W.T


def mean_objective(model, batch, theta):
    prior = model.log_prior(theta, batch.total_weight)[0]
    return (model.loglik(theta, batch) + prior) / batch.total_weight


@pytest.mark.parametrize(("n_classes", "fit_intercept", "alpha"), CASES)
def test_loglik_obs_matches_scipy(n_classes, fit_intercept, alpha):
    batch = make_batch(n_classes)
    model = LogisticLogLikelihood(3, n_classes, fit_intercept, alpha)
    theta = random_theta(model)
    eta = scores(model, theta, batch.X)
    if n_classes == 2:
        p1 = 1.0 / (1.0 + np.exp(-eta[:, 0]))
        expected = stats.bernoulli.logpmf(batch.y, p1)
    else:
        probs = softmax(eta, axis=1)
        onehot = np.eye(n_classes)[batch.y]
        expected = np.array(
            [
                stats.multinomial.logpmf(o, 1, p)
                for o, p in zip(onehot, probs, strict=True)
            ]
        )
    np.testing.assert_allclose(model.loglik_obs(theta, batch), expected, rtol=1e-12)
    np.testing.assert_allclose(
        model.loglik(theta, batch), batch.sample_weight @ expected, rtol=1e-12
    )


@pytest.mark.parametrize(("n_classes", "fit_intercept", "alpha"), CASES)
def test_gradient_and_hessian_match_finite_differences(n_classes, fit_intercept, alpha):
    batch = make_batch(n_classes)
    model = LogisticLogLikelihood(3, n_classes, fit_intercept, alpha)
    objective = LogisticObjective(model, [batch])
    theta = random_theta(model)
    h = 1e-6
    eye = np.eye(theta.size)
    numeric_grad = np.array(
        [
            (
                mean_objective(model, batch, theta + h * e)
                - mean_objective(model, batch, theta - h * e)
            )
            / (2 * h)
            for e in eye
        ]
    )
    _, grad = objective.value_and_grad(theta)
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-6, atol=1e-9)
    numeric_hess = np.array(
        [
            (
                objective.value_and_grad(theta + h * e)[1]
                - objective.value_and_grad(theta - h * e)[1]
            )
            / (2 * h)
            for e in eye
        ]
    )
    np.testing.assert_allclose(objective.hessian(theta), numeric_hess, atol=1e-7)


@pytest.mark.parametrize(("n_classes", "fit_intercept", "alpha"), CASES)
def test_weight_two_equals_duplicated_row(n_classes, fit_intercept, alpha):
    batch = make_batch(n_classes, weights=False)
    model = LogisticLogLikelihood(3, n_classes, fit_intercept, alpha)
    theta = random_theta(model)
    w = np.ones(len(batch.y))
    w[:5] = 2.0
    weighted = Batch(batch.X, batch.y, w)
    repeated = Batch(
        np.vstack([batch.X, batch.X[:5]]),
        np.concatenate([batch.y, batch.y[:5]]),
        np.ones(len(batch.y) + 5),
    )
    value_w, grad_w = model.loglik_grad(theta, weighted)
    value_r, grad_r = model.loglik_grad(theta, repeated)
    np.testing.assert_allclose(value_w, value_r, rtol=1e-12)
    np.testing.assert_allclose(grad_w, grad_r, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(
        model.hessian(theta, weighted), model.hessian(theta, repeated), rtol=1e-11
    )


@pytest.mark.parametrize(("n_classes", "fit_intercept", "alpha"), CASES)
def test_chunk_sums_equal_the_whole(n_classes, fit_intercept, alpha):
    batch = make_batch(n_classes, n=50)
    model = LogisticLogLikelihood(3, n_classes, fit_intercept, alpha)
    theta = random_theta(model)
    pieces = [
        Batch(batch.X[s], batch.y[s], batch.sample_weight[s])
        for s in (slice(0, 7), slice(7, 31), slice(31, 50))
    ]
    whole = LogisticObjective(model, [batch])
    chunked = LogisticObjective(model, pieces)
    np.testing.assert_allclose(chunked.value(theta), whole.value(theta), rtol=1e-13)
    np.testing.assert_allclose(
        chunked.value_and_grad(theta)[1], whole.value_and_grad(theta)[1], rtol=1e-12
    )
    eta = whole.predictor(theta)
    np.testing.assert_allclose(chunked.predictor(theta), eta, rtol=1e-14)
    a, b = chunked.information_at(eta), whole.information_at(eta)
    for x, z in zip(a[:3], b[:3], strict=True):
        np.testing.assert_allclose(x, z, rtol=1e-12)


@pytest.mark.parametrize(("n_classes", "fit_intercept", "alpha"), CASES)
def test_newton_terms_match_gradient_and_free_hessian(n_classes, fit_intercept, alpha):
    batch = make_batch(n_classes)
    model = LogisticLogLikelihood(3, n_classes, fit_intercept, alpha)
    theta = random_theta(model)
    eta = model.linear_predictor(theta, batch.X)
    loglik, grad, info, _ = model.newton_terms(eta, batch)
    expected_loglik, expected_grad = model.loglik_grad(theta, batch)
    np.testing.assert_allclose(loglik, expected_loglik, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-11, atol=1e-12)
    # Free coordinates: theta = B phi, so the information there is -B^T H B.
    basis = np.column_stack([model.from_free(e) for e in np.eye(model.n_free)])
    expected_info = -basis.T @ model.hessian(theta, batch) @ basis
    np.testing.assert_allclose(info, expected_info, rtol=1e-10, atol=1e-12)
    prior_hess = model.log_prior(theta, 1.0)[2]
    np.testing.assert_allclose(
        model.prior_information(), -basis.T @ prior_hess @ basis, atol=1e-14
    )


@pytest.mark.parametrize("n_classes", [3, 5])
def test_free_coordinates_are_centred_and_adjoint(n_classes):
    model = LogisticLogLikelihood(2, n_classes)
    rng = np.random.default_rng(0)
    phi = rng.normal(size=model.n_free)
    v = rng.normal(size=model.n_params)
    theta = model.from_free(phi)
    np.testing.assert_allclose(model.coef_matrix(theta).sum(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(theta @ v, phi @ model.to_free(v), rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_line_terms_match_finite_differences(n_classes):
    batch = make_batch(n_classes)
    model = LogisticLogLikelihood(3, n_classes, True, 0.4)
    objective = LogisticObjective(model, [batch])
    theta, direction = random_theta(model, 1), random_theta(model, 2)
    eta, step_eta = objective.predictor(theta), objective.predictor(direction)
    value, slope, curvature = objective.line_terms(theta, eta, direction, step_eta)

    def phi(t):
        return objective.value(theta + t * direction)

    h = 1e-4
    np.testing.assert_allclose(value, phi(0.0), rtol=1e-13)
    np.testing.assert_allclose(slope, (phi(h) - phi(-h)) / (2 * h), rtol=1e-7)
    np.testing.assert_allclose(
        curvature, (phi(h) - 2 * phi(0.0) + phi(-h)) / h**2, rtol=1e-5
    )
    np.testing.assert_allclose(
        objective.value_at(theta, eta), objective.value(theta), rtol=1e-14
    )


def test_extreme_scores_stay_finite_and_exact():
    # Scores of +-1e4 would overflow exp(); log space gives the exact limits.
    eta = np.array([-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4])
    for label in (0, 1):
        y = np.full(eta.size, label)
        loglik_obs, resid, _, curv = eta_terms(eta, y)
        own = eta if label == 1 else -eta
        # log sigma(z) = -log(1 + e^-z): about -e^-z for large z, z for very negative z
        expected = np.where(own > 0, -np.exp(-np.abs(own)), own - np.exp(-np.abs(own)))
        expected[eta == 0] = -np.log(2.0)
        np.testing.assert_allclose(loglik_obs, expected, rtol=1e-12)
        assert np.all(np.isfinite(resid)) and np.all(np.isfinite(curv))
        np.testing.assert_allclose(curv[[0, -1]], np.exp(-1e4), rtol=1e-12)
        np.testing.assert_allclose(loglik_obs_from_eta(eta, y), loglik_obs)
    multi = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]])
    loglik_obs, resid, prob, curv = eta_terms(multi, np.array([1, 2]))
    np.testing.assert_allclose(loglik_obs, [-1e4, 0.0])
    np.testing.assert_allclose(prob.sum(axis=1), 1.0)
    assert np.all(np.isfinite(curv)) and np.all(np.isfinite(resid))


def test_separation_test():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    model = LogisticLogLikelihood(1, 2)
    batch = Batch(X, np.array([0, 0, 1, 1]), np.ones(4))
    assert model.separates(model.linear_predictor(np.array([1.0, 0.0]), X), batch)
    assert not model.separates(model.linear_predictor(np.array([1.0, 1.5]), X), batch)
    # a misclassified row with zero weight does not count
    ignored = Batch(X, np.array([0, 1, 1, 1]), np.array([1.0, 0.0, 1.0, 1.0]))
    assert model.separates(model.linear_predictor(np.array([1.0, 0.0]), X), ignored)


def test_rejects_fewer_than_two_classes():
    with pytest.raises(ValueError, match="at least 2"):
        LogisticLogLikelihood(3, 1)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sampled_information_keeps_value_and_gradient_exact(n_classes):
    # 10 chunks of CHUNK_ROWS rows: exact=False sums the information over chunks
    # 0, 4 and 8 only, scaled by the weight ratio; nothing else changes.
    n = 10 * CHUNK_ROWS
    batch = make_batch(n_classes, n=n, d=4)
    model = LogisticLogLikelihood(4, n_classes, True, 0.0)
    theta = random_theta(model)
    eta = model.linear_predictor(theta, batch.X)
    loglik, grad, info, separated = model.newton_terms(eta, batch)
    a_loglik, a_grad, a_info, a_separated = model.newton_terms(eta, batch, exact=False)
    assert a_loglik == loglik and a_separated == separated
    np.testing.assert_array_equal(a_grad, grad)
    rows = np.concatenate(
        [np.arange(k * CHUNK_ROWS, (k + 1) * CHUNK_ROWS) for k in (0, 4, 8)]
    )
    sample = Batch(batch.X[rows], batch.y[rows], batch.sample_weight[rows])
    sampled_info = model.newton_terms(eta[rows], sample)[2]
    ratio = batch.sample_weight.sum() / sample.sample_weight.sum()
    np.testing.assert_allclose(a_info, ratio * sampled_info, rtol=1e-12)
    # An estimate of the whole: close, not equal (3/10 of i.i.d. rows).
    np.testing.assert_allclose(a_info, info, rtol=0.2, atol=0.05 * np.abs(info).max())
    assert not np.allclose(a_info, info, rtol=1e-6)


def test_sampled_information_on_one_chunk_is_exact():
    batch = make_batch(2, n=CHUNK_ROWS - 1)
    model = LogisticLogLikelihood(3, 2)
    eta = model.linear_predictor(random_theta(model), batch.X)
    np.testing.assert_array_equal(
        model.newton_terms(eta, batch, exact=False)[2],
        model.newton_terms(eta, batch)[2],
    )


def test_objective_keeps_only_exact_information():
    batch = make_batch(2, n=5 * CHUNK_ROWS)
    model = LogisticLogLikelihood(3, 2)
    objective = LogisticObjective(model, [batch])
    theta = random_theta(model)
    eta = objective.predictor(theta)
    objective.newton_system(theta, eta, exact=False)
    assert objective.information is None
    _, _, info, _ = objective.newton_system(theta, eta)
    np.testing.assert_array_equal(objective.information_theta, theta)
    np.testing.assert_allclose(objective.information / batch.total_weight, info)


def test_predictor_at_zero_coefficients_is_the_intercept():
    batch = make_batch(3, n=50)
    model = LogisticLogLikelihood(3, 3)
    objective = LogisticObjective(model, [batch])
    theta = np.zeros(model.n_params)
    model.coef_matrix(theta)[:, -1] = [0.5, -0.2, -0.3]
    assert np.any(theta)
    np.testing.assert_allclose(
        objective.predictor(theta), scores(model, theta, batch.X), rtol=1e-15
    )
