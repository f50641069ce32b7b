"""The Student-t regression log-likelihood against scipy.stats, numerical integration
and finite differences."""

import numpy as np
import pytest
from scipy import integrate, stats

from skmle.models.base import Batch
from skmle.models.student_t import DF_BOUNDS, StudentTLogLikelihood, log_normaliser

LAYOUTS = [(None, True), (None, False), (3.0, True), (0.7, False)]


def data(rng, n=40, d=3):
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) - 0.4 + rng.standard_t(3, size=n)
    return X, y


def point(model, rng):
    log_df = np.log(3.5) if model.df is None else None
    return model.pack(0.5 * rng.normal(size=3), 0.2, np.log(1.3), log_df)


def central_differences(function, theta, step=1e-6):
    columns = [
        (function(theta + step * e) - function(theta - step * e)) / (2 * step)
        for e in np.eye(theta.size)
    ]
    return np.array(columns).T


@pytest.mark.parametrize(("df", "fit_intercept"), LAYOUTS)
def test_loglik_obs_is_the_scipy_t_logpdf(df, fit_intercept):
    rng = np.random.default_rng(0)
    X, y = data(rng)
    model = StudentTLogLikelihood(3, fit_intercept, df)
    theta = point(model, rng)
    coef, intercept, log_scale = model.unpack(theta)
    nu = 3.5 if df is None else df
    expected = stats.t.logpdf(y, nu, loc=X @ coef + intercept, scale=np.exp(log_scale))
    batch = Batch(X, y, np.ones(len(y)))
    np.testing.assert_allclose(model.loglik_obs(theta, batch), expected, rtol=1e-12)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    assert model.loglik(theta, Batch(X, y, weights)) == pytest.approx(
        weights @ expected, rel=1e-12
    )
    assert model.n_params == 3 + fit_intercept + 1 + (df is None)


@pytest.mark.parametrize(("df", "fit_intercept"), LAYOUTS)
def test_gradient_hessian_and_scores_match_finite_differences(df, fit_intercept):
    rng = np.random.default_rng(1)
    X, y = data(rng)
    weights = rng.uniform(0.2, 2.0, size=len(y))
    batch = Batch(X, y, weights)
    model = StudentTLogLikelihood(3, fit_intercept, df)
    theta = point(model, rng)
    value, grad = model.loglik_grad(theta, batch)
    assert value == pytest.approx(model.loglik(theta, batch), rel=1e-13)
    numeric = central_differences(lambda t: np.array([model.loglik(t, batch)]), theta)
    np.testing.assert_allclose(grad, numeric[0], rtol=1e-6, atol=1e-7)
    hessian = model.hessian(theta, batch)
    numeric = central_differences(lambda t: model.loglik_grad(t, batch)[1], theta)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-14, atol=1e-14)
    scores = model.scores(theta, batch)
    per_row = central_differences(lambda t: model.loglik_obs(t, batch), theta)
    np.testing.assert_allclose(scores, per_row, rtol=1e-6, atol=1e-7)


def test_weight_two_is_a_repeated_row_and_chunks_add_up():
    rng = np.random.default_rng(2)
    X, y = data(rng)
    model = StudentTLogLikelihood(3)
    theta = point(model, rng)
    weights = np.ones(len(y))
    weights[0] = 2.0
    repeated = Batch(np.vstack([X, X[:1]]), np.append(y, y[0]), np.ones(len(y) + 1))
    weighted = Batch(X, y, weights)
    for method in (model.loglik, model.hessian):
        np.testing.assert_allclose(
            method(theta, weighted), method(theta, repeated), rtol=1e-12
        )
    halves = [Batch(X[:17], y[:17], weights[:17]), Batch(X[17:], y[17:], weights[17:])]
    total = sum(model.loglik_grad(theta, b)[1] for b in halves)
    np.testing.assert_allclose(total, model.loglik_grad(theta, weighted)[1], rtol=1e-12)


def test_the_normaliser_keeps_its_digits_for_large_df():
    # Against mpmath-free closed forms: df = 1 is Cauchy (-log pi), and for large
    # df the t tends to the normal (the series of log Gamma(x + 1/2) - log Gamma(x)):
    # log c(nu) = -log(2 pi)/2 - 1/(4 nu) + 1/(24 nu^3) + O(nu^-5).
    assert log_normaliser(1.0) == pytest.approx(-np.log(np.pi), rel=1e-15)
    for df in (1e3, 1e4):
        expected = -0.5 * np.log(2 * np.pi) - 1.0 / (4.0 * df) + 1.0 / (24.0 * df**3)
        assert log_normaliser(df) == pytest.approx(expected, abs=1e-12)


def test_e_step_weights_are_the_posterior_mean_precision():
    # e = s eps / sqrt(tau), tau ~ Gamma(nu/2, rate nu/2): E[tau | r] by quadrature.
    rng = np.random.default_rng(3)
    X, y = data(rng, n=5)
    model = StudentTLogLikelihood(3)
    theta = point(model, rng)
    nu, scale = 3.5, 1.3
    residuals = model.residuals(theta, Batch(X, y, np.ones(5)))
    prior = stats.gamma(nu / 2, scale=2 / nu)

    def joint(tau, r, power):
        return (
            tau**power * stats.norm.pdf(r, scale=scale / np.sqrt(tau)) * prior.pdf(tau)
        )

    expected = [
        integrate.quad(joint, 0, np.inf, args=(r, 1))[0]
        / integrate.quad(joint, 0, np.inf, args=(r, 0))[0]
        for r in residuals
    ]
    weights = model.em_weights(theta, Batch(X, y, np.ones(5)))
    np.testing.assert_allclose(weights, expected, rtol=1e-7)


def test_huge_residuals_and_df_outside_the_bounds():
    model = StudentTLogLikelihood(1)
    batch = Batch(np.zeros((3, 1)), np.array([1e120, -1e100, 0.5]), np.ones(3))
    theta = model.pack([0.0], 0.0, 0.0, np.log(2.0))
    hessian = model.hessian(theta, batch)
    assert np.all(np.isfinite(hessian))
    assert np.all(np.isfinite(model.scores(theta, batch)))
    for df in (DF_BOUNDS[0] / 2, DF_BOUNDS[1] * 2):
        outside = model.pack([0.0], 0.0, 0.0, np.log(df))
        assert model.loglik(outside, batch) == -np.inf
