"""The Laplace-regression log-likelihood against scipy.stats and finite differences."""

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import approx_fprime

from skmle.models.base import Batch
from skmle.models.laplace import LaplaceLogLikelihood


def data(rng, n=30, d=3):
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) - 0.4 + rng.laplace(size=n)
    return X, y


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loglik_obs_is_the_laplace_logpdf(fit_intercept):
    rng = np.random.default_rng(0)
    X, y = data(rng)
    model = LaplaceLogLikelihood(3, fit_intercept)
    theta = rng.normal(size=model.n_params)
    intercept = theta[3] if fit_intercept else 0.0
    expected = stats.laplace.logpdf(
        y, loc=X @ theta[:3] + intercept, scale=np.exp(theta[-1])
    )
    batch = Batch(X, y, np.ones(len(y)))
    np.testing.assert_allclose(model.loglik_obs(theta, batch), expected, rtol=1e-12)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    assert model.loglik(theta, Batch(X, y, weights)) == pytest.approx(
        weights @ expected, rel=1e-12
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_finite_differences_away_from_kinks(fit_intercept):
    rng = np.random.default_rng(1)
    X, y = data(rng)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    batch = Batch(X, y, weights)
    model = LaplaceLogLikelihood(3, fit_intercept)
    theta = 0.3 * rng.normal(size=model.n_params)
    residuals = y - model.linear_predictor(theta, X)
    assert np.min(np.abs(residuals)) > 1e-4  # steps of 1e-7 cross no kink
    value, grad = model.loglik_grad(theta, batch)
    assert value == pytest.approx(model.loglik(theta, batch), rel=1e-12)
    numeric = approx_fprime(theta, lambda t: model.loglik(t, batch), 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6 * abs(numeric).max())


def test_gradient_in_log_scale_vanishes_at_the_mean_absolute_residual():
    rng = np.random.default_rng(2)
    X, y = data(rng)
    model = LaplaceLogLikelihood(3)
    batch = Batch(X, y, np.ones(len(y)))
    coef = rng.normal(size=3)
    mean_abs = np.mean(np.abs(y - X @ coef - 0.1))
    theta = model.pack(coef, 0.1, np.log(mean_abs))
    assert model.loglik_grad(theta, batch)[1][-1] == pytest.approx(0.0, abs=1e-10)


def test_weight_two_equals_a_duplicated_row_and_batches_add_up():
    rng = np.random.default_rng(3)
    X, y = data(rng)
    model = LaplaceLogLikelihood(3)
    theta = rng.normal(size=model.n_params)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    counts = weights.astype(int)
    repeated = Batch(X.repeat(counts, axis=0), y.repeat(counts), np.ones(counts.sum()))
    value, grad = model.loglik_grad(theta, Batch(X, y, weights))
    value_r, grad_r = model.loglik_grad(theta, repeated)
    assert value == pytest.approx(value_r, rel=1e-12)
    np.testing.assert_allclose(grad, grad_r, rtol=1e-10)
    halves = [Batch(X[s], y[s], weights[s]) for s in (slice(0, 9), slice(9, None))]
    parts = [model.loglik_grad(theta, b) for b in halves]
    assert parts[0][0] + parts[1][0] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(parts[0][1] + parts[1][1], grad, rtol=1e-10)


def test_no_hessian():
    assert not LaplaceLogLikelihood(2).has_hessian


def central_difference_rows(model, theta, batch, step=1e-6):
    """Per-row central differences of ``loglik_obs``, shape (n_rows, n_params)."""
    columns = []
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        up, down = (
            model.loglik_obs(theta + e, batch),
            model.loglik_obs(theta - e, batch),
        )
        columns.append((up - down) / (2 * step))
    return np.column_stack(columns)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_scores_are_per_row_differences_of_loglik_obs_away_from_kinks(fit_intercept):
    rng = np.random.default_rng(4)
    X, y = data(rng)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    batch = Batch(X, y, weights)
    model = LaplaceLogLikelihood(3, fit_intercept)
    theta = 0.3 * rng.normal(size=model.n_params)
    residuals = y - model.linear_predictor(theta, X)
    assert np.min(np.abs(residuals)) > 1e-4  # steps of 1e-6 cross no kink
    scores = model.scores(theta, batch)
    assert scores.shape == (len(y), model.n_params)
    numeric = central_difference_rows(model, theta, batch)
    np.testing.assert_allclose(scores, numeric, rtol=1e-6, atol=1e-8)
    # sign(r) x / s in the coefficients, and the weighted sum is the gradient
    s = np.exp(theta[-1])
    np.testing.assert_allclose(scores[:, :3], np.sign(residuals)[:, None] * X / s)
    np.testing.assert_allclose(
        weights @ scores, model.loglik_grad(theta, batch)[1], rtol=1e-12
    )


def test_capabilities_and_the_profile_in_the_scale():
    model = LaplaceLogLikelihood(3)
    assert model.capabilities == {"linear_predictor", "scores"}
    rng = np.random.default_rng(5)
    X, y = data(rng)
    weights = rng.integers(1, 4, size=len(y)).astype(float)
    batch = Batch(X, y, weights)
    coef, intercept = rng.normal(size=3), 0.2
    mean = model.residual_sum(coef, intercept, batch) / weights.sum()
    scale = model.scale_from(mean)
    theta = model.pack(coef, intercept, np.log(scale))
    assert model.mean_loglik(mean, scale) == pytest.approx(
        model.loglik(theta, batch) / weights.sum(), rel=1e-12
    )
    assert model.loglik_grad(theta, batch)[1][-1] == pytest.approx(0.0, abs=1e-10)
