"""The linear-Gaussian log-likelihood and the least-squares helpers, against references."""

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import approx_fprime

from skmle.models import linear_moments
from skmle.models.base import Batch
from skmle.models.linear import LinearMoments, WeightedSums, centred_cross_products
from skmle.models.linear_gaussian import (
    LinearGaussianLogLikelihood,
    inverse_from_factor,
    min_norm_from_normal_equations,
    min_norm_least_squares,
    solve_normal_equations,
)


def data(rng, n=30, d=3):
    X = rng.normal(size=(n, d)) + 1.5
    y = X @ rng.normal(size=d) + 0.7 + rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loglik_obs_is_the_normal_logpdf(fit_intercept):
    rng = np.random.default_rng(0)
    X, y = data(rng)
    model = LinearGaussianLogLikelihood(3, fit_intercept)
    theta = rng.normal(size=model.n_params)
    coef = theta[:3]
    intercept = theta[3] if fit_intercept else 0.0
    expected = stats.norm.logpdf(y, loc=X @ coef + intercept, scale=np.exp(theta[-1]))
    batch = Batch(X, y, np.ones(len(y)))
    np.testing.assert_allclose(model.loglik_obs(theta, batch), expected, rtol=1e-12)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    assert model.loglik(theta, Batch(X, y, weights)) == pytest.approx(
        weights @ expected, rel=1e-12
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_and_hessian_match_finite_differences(fit_intercept):
    rng = np.random.default_rng(1)
    X, y = data(rng)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    batch = Batch(X, y, weights)
    model = LinearGaussianLogLikelihood(3, fit_intercept)
    theta = 0.5 * rng.normal(size=model.n_params)
    value, grad = model.loglik_grad(theta, batch)
    assert value == pytest.approx(model.loglik(theta, batch), rel=1e-12)
    numeric = approx_fprime(theta, lambda t: model.loglik(t, batch), 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5 * abs(numeric).max())
    hessian = model.hessian(theta, batch)
    numeric_h = approx_fprime(theta, lambda t: model.loglik_grad(t, batch)[1], 1e-6)
    np.testing.assert_allclose(hessian, hessian.T)
    np.testing.assert_allclose(
        hessian, numeric_h, rtol=1e-4, atol=1e-5 * abs(numeric_h).max()
    )


def test_weight_two_equals_a_duplicated_row_and_batches_add_up():
    rng = np.random.default_rng(2)
    X, y = data(rng)
    model = LinearGaussianLogLikelihood(3)
    theta = rng.normal(size=model.n_params)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    repeated = Batch(
        X.repeat(weights.astype(int), axis=0),
        y.repeat(weights.astype(int)),
        np.ones(int(weights.sum())),
    )
    value, grad = model.loglik_grad(theta, Batch(X, y, weights))
    value_r, grad_r = model.loglik_grad(theta, repeated)
    assert value == pytest.approx(value_r, rel=1e-12)
    np.testing.assert_allclose(grad, grad_r, rtol=1e-10)
    first, second = (
        Batch(X[:10], y[:10], weights[:10]),
        Batch(X[10:], y[10:], weights[10:]),
    )
    parts = [model.loglik_grad(theta, b) for b in (first, second)]
    assert parts[0][0] + parts[1][0] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(parts[0][1] + parts[1][1], grad, rtol=1e-10)


def test_extreme_log_scale_gives_minus_infinity_without_overflow():
    rng = np.random.default_rng(3)
    X, y = data(rng)
    model = LinearGaussianLogLikelihood(3)
    batch = Batch(X, y, np.ones(len(y)))
    for log_scale in (-800.0, 800.0):
        theta = np.append(np.zeros(4), log_scale)
        assert model.loglik(theta, batch) == -np.inf
        value, grad = model.loglik_grad(theta, batch)
        assert value == -np.inf and np.all(np.isfinite(grad))


def test_centred_cross_products_block_by_block(monkeypatch):
    rng = np.random.default_rng(4)
    X, y = data(rng, n=50)
    X += 1e4  # large means: centring first avoids cancellation
    weights = rng.integers(0, 4, size=50).astype(float)
    monkeypatch.setattr(linear_moments, "BLOCK_ROWS", 7)
    batch = Batch(X, y, weights)
    x_mean, y_mean = WeightedSums.from_batch(batch).means()
    gram, cross = centred_cross_products(batch, x_mean, y_mean)
    np.testing.assert_allclose(x_mean, np.average(X, axis=0, weights=weights))
    centred = X - np.average(X, axis=0, weights=weights)
    np.testing.assert_allclose(gram, centred.T @ np.diag(weights) @ centred, rtol=1e-9)
    np.testing.assert_allclose(
        cross, centred.T @ (weights * (y - np.average(y, weights=weights))), rtol=1e-9
    )


def test_normal_equations_match_lstsq_and_invert():
    rng = np.random.default_rng(5)
    X, y = data(rng, n=200, d=5)
    gram, cross = X.T @ X, X.T @ y
    coef, factor = solve_normal_equations(gram, cross)
    np.testing.assert_allclose(coef, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)
    np.testing.assert_allclose(
        inverse_from_factor(factor), np.linalg.inv(gram), rtol=1e-9
    )


def test_normal_equations_decline_singular_and_ill_conditioned():
    rng = np.random.default_rng(6)
    X, y = data(rng, n=100, d=3)
    constant = np.column_stack([X, np.zeros(100)])
    assert solve_normal_equations(constant.T @ constant, constant.T @ y) is None
    collinear = np.column_stack([X, X[:, 0] + X[:, 1]])
    assert solve_normal_equations(collinear.T @ collinear, collinear.T @ y) is None
    nearly = np.column_stack([X, X[:, 0] + 1e-6 * rng.normal(size=100)])
    assert solve_normal_equations(nearly.T @ nearly, nearly.T @ y) is None


def test_min_norm_least_squares_is_the_pseudoinverse_solution():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(6, 10))  # more columns than rows
    y = rng.normal(size=6)
    weights = np.array([1.0, 2.0, 0.0, 3.0, 1.0, 1.0])
    coef = min_norm_least_squares(X, y, weights)
    keep = weights > 0
    np.testing.assert_allclose(coef, np.linalg.pinv(X[keep]) @ y[keep], rtol=1e-9)
    counts = weights.astype(int)
    repeated = min_norm_least_squares(
        X.repeat(counts, axis=0), y.repeat(counts), np.ones(counts.sum())
    )
    np.testing.assert_allclose(coef, repeated, rtol=1e-9)


# -- moments merged chunk by chunk -------------------------------------------------------
def weighted_reference(X, y, w):
    """Moments by NumPy's weighted averages on all rows at once."""
    x_mean = np.average(X, axis=0, weights=w)
    y_mean = np.average(y, weights=w)
    Xc, yc = X - x_mean, y - y_mean
    return x_mean, y_mean, (Xc * w[:, None]).T @ Xc, Xc.T @ (w * yc), w @ yc**2


@pytest.mark.parametrize("cuts", [[], [1], [7, 8, 30], [13, 13, 40]])
def test_moments_merged_by_chunks_equal_numpy_on_all_rows(cuts):
    rng = np.random.default_rng(8)
    X, y = data(rng, n=50)
    X += 1e6  # means far from zero: raw sums of squares would lose ~12 digits
    y += 1e6
    w = rng.integers(0, 4, size=50).astype(float)
    w[13:30] = 0.0  # a chunk of zero weight
    parts = [
        LinearMoments.from_batch(Batch(X[rows], y[rows], w[rows]))
        for rows in np.split(np.arange(50), cuts)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    x_mean, y_mean, xx, xy, yy = weighted_reference(X, y, w)
    assert merged.weight == w.sum()
    np.testing.assert_allclose(merged.x_mean, x_mean, rtol=1e-14)
    assert merged.y_mean == pytest.approx(y_mean, rel=1e-14)
    # The means carry a rounding of 1e6 * eps each; relative to the spread that is
    # ~1e-10 (raw sums of squares would have lost 1e12 * eps ~ 1e-4).
    scale = np.max(np.abs(xx))
    np.testing.assert_allclose(merged.xx, xx, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(merged.xy, xy, rtol=1e-9, atol=1e-9 * np.max(abs(xy)))
    assert merged.yy == pytest.approx(yy, rel=1e-9)


def test_normal_equations_with_and_without_intercept():
    rng = np.random.default_rng(9)
    X, y = data(rng, n=40)
    w = rng.uniform(0.5, 2.0, size=40)
    moments = LinearMoments.from_batch(Batch(X[:15], y[:15], w[:15]))
    moments = moments + LinearMoments.from_batch(Batch(X[15:], y[15:], w[15:]))
    gram, cross, square = moments.normal_equations(fit_intercept=False)
    np.testing.assert_allclose(gram, X.T @ (X * w[:, None]), rtol=1e-12)
    np.testing.assert_allclose(cross, X.T @ (w * y), rtol=1e-12)
    assert square == pytest.approx(w @ y**2, rel=1e-12)
    _, _, xx, xy, yy = weighted_reference(X, y, w)
    gram, cross, square = moments.normal_equations(fit_intercept=True)
    np.testing.assert_allclose(gram, xx, rtol=1e-12)
    np.testing.assert_allclose(cross, xy, rtol=1e-12)
    assert square == pytest.approx(yy, rel=1e-12)


def test_a_chunk_of_zero_weight_has_zero_moments():
    X, y = data(np.random.default_rng(10), n=5)
    empty = LinearMoments.from_batch(Batch(X, y, np.zeros(5)))
    assert empty.weight == 0.0 and not np.any(empty.xx)
    full = LinearMoments.from_batch(Batch(X, y, np.ones(5)))
    assert (empty + full) is full and (full + empty) is full


def test_min_norm_from_normal_equations_is_the_pseudoinverse_solution():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(6, 10))  # more columns than rows: rank 6
    y = rng.normal(size=6)
    coef = min_norm_from_normal_equations(X.T @ X, X.T @ y)
    np.testing.assert_allclose(coef, np.linalg.pinv(X) @ y, rtol=1e-8)
    collinear = np.column_stack([X[:, :3], X[:, 0] - X[:, 1]])
    coef = min_norm_from_normal_equations(collinear.T @ collinear, collinear.T @ y)
    np.testing.assert_allclose(coef, np.linalg.pinv(collinear) @ y, rtol=1e-8)
    assert not np.any(min_norm_from_normal_equations(np.zeros((2, 2)), np.zeros(2)))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_scores_are_per_row_differences_of_loglik_obs(fit_intercept):
    rng = np.random.default_rng(6)
    X, y = data(rng)
    weights = rng.integers(0, 4, size=len(y)).astype(float)
    batch = Batch(X, y, weights)
    model = LinearGaussianLogLikelihood(3, fit_intercept)
    theta = 0.5 * rng.normal(size=model.n_params)
    scores = model.scores(theta, batch)
    assert scores.shape == (len(y), model.n_params)
    step = 1e-6
    numeric = np.column_stack(
        [
            (
                model.loglik_obs(theta + step * e, batch)
                - model.loglik_obs(theta - step * e, batch)
            )
            / (2 * step)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(scores, numeric, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        weights @ scores, model.loglik_grad(theta, batch)[1], rtol=1e-10
    )


def test_capabilities_and_the_profile_in_the_scale():
    model = LinearGaussianLogLikelihood(3)
    assert model.capabilities == {
        "linear_predictor",
        "scores",
        "hessian",
        "closed_form",
    }
    rng = np.random.default_rng(7)
    X, y = data(rng)
    weights = rng.integers(1, 4, size=len(y)).astype(float)
    batch = Batch(X, y, weights)
    coef, intercept = rng.normal(size=3), 0.2
    mean = model.residual_sum(coef, intercept, batch) / weights.sum()
    sigma = model.scale_from(mean)
    theta = model.pack(coef, intercept, np.log(sigma))
    assert model.mean_loglik(mean, sigma) == pytest.approx(
        model.loglik(theta, batch) / weights.sum(), rel=1e-12
    )
    assert model.loglik_grad(theta, batch)[1][-1] == pytest.approx(0.0, abs=1e-9)
