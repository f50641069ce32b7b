"""The Poisson and NB2 models against independent references: scipy.stats'
``poisson.logpmf`` and ``nbinom.logpmf``, central finite differences of the
log-likelihood (gradient, scores) and of the gradient (Hessian), duplicated rows
for weights, and split batches; with an offset throughout."""

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import approx_fprime

from skmle.data import Batch
from skmle.models.negative_binomial import NegativeBinomialLogLikelihood
from skmle.models.poisson import (
    PoissonLogLikelihood,
    support_counts,
    unbounded_columns,
)


def _data(n=60, fit_intercept=True, kind="poisson"):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3))
    offset = rng.normal(scale=0.5, size=n)
    model_class = {"poisson": PoissonLogLikelihood, "nb": NegativeBinomialLogLikelihood}
    model = model_class[kind](3, fit_intercept)
    theta = 0.3 * rng.standard_normal(model.n_params)
    y = rng.poisson(np.exp(model.eta(theta, Batch.from_arrays(X, offset=offset))))
    weight = rng.integers(0, 4, size=n).astype(float)
    return model, Batch.from_arrays(X, y.astype(float), weight, offset), theta


CASES = [("poisson", True), ("poisson", False), ("nb", True), ("nb", False)]


def _reference_logpmf(model, batch, theta):
    mu = np.exp(model.eta(theta, batch))
    if isinstance(model, PoissonLogLikelihood):
        return stats.poisson.logpmf(batch.y, mu)
    r = np.exp(-theta[-1])
    return stats.nbinom.logpmf(batch.y, r, r / (r + mu))


@pytest.mark.parametrize(("kind", "fit_intercept"), CASES)
def test_loglik_is_the_scipy_stats_sum(kind, fit_intercept):
    model, batch, theta = _data(fit_intercept=fit_intercept, kind=kind)
    reference = _reference_logpmf(model, batch, theta)
    np.testing.assert_allclose(model.loglik_obs(theta, batch), reference, rtol=1e-12)
    assert model.loglik(theta, batch) == pytest.approx(
        batch.sample_weight @ reference, rel=1e-12
    )


@pytest.mark.parametrize(("kind", "fit_intercept"), CASES)
def test_gradient_scores_and_hessian_match_finite_differences(kind, fit_intercept):
    model, batch, theta = _data(fit_intercept=fit_intercept, kind=kind)
    value, grad = model.loglik_grad(theta, batch)
    numeric = approx_fprime(theta, lambda t: model.loglik(t, batch), 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5)
    assert value == pytest.approx(model.loglik(theta, batch), rel=1e-12)
    scores = model.scores(theta, batch)
    np.testing.assert_allclose(batch.sample_weight @ scores, grad, rtol=1e-10)
    row = batch.take(slice(5, 6))
    numeric_row = approx_fprime(theta, lambda t: model.loglik_obs(t, row)[0], 1e-7)
    np.testing.assert_allclose(scores[5], numeric_row, rtol=1e-5, atol=1e-6)
    hess = model.hessian(theta, batch)
    numeric_hess = np.array(
        [
            approx_fprime(theta, lambda t, j=j: model.loglik_grad(t, batch)[1][j], 1e-6)
            for j in range(model.n_params)
        ]
    )
    np.testing.assert_allclose(hess, numeric_hess, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12)


@pytest.mark.parametrize("kind", ["poisson", "nb"])
def test_weight_two_is_a_duplicated_row_and_chunks_add_up(kind):
    model, batch, theta = _data(kind=kind)
    keep = batch.sample_weight > 0
    repeat = batch.sample_weight[keep].astype(int)
    duplicated = Batch.from_arrays(
        np.repeat(batch.X[keep], repeat, axis=0),
        np.repeat(batch.y[keep], repeat),
        offset=np.repeat(batch.offset[keep], repeat),
    )
    for method in ("loglik_grad", "hessian"):
        whole = getattr(model, method)(theta, batch)
        again = getattr(model, method)(theta, duplicated)
        parts = [
            getattr(model, method)(theta, batch.take(s))
            for s in (slice(0, 25), slice(25, None))
        ]
        if method == "loglik_grad":
            whole, again = np.r_[whole[0], whole[1]], np.r_[again[0], again[1]]
            parts = [np.r_[p[0], p[1]] for p in parts]
        np.testing.assert_allclose(again, whole, rtol=1e-10)
        np.testing.assert_allclose(parts[0] + parts[1], whole, rtol=1e-10)


def test_poisson_newton_terms_equal_the_generic_methods():
    model, batch, theta = _data()
    eta = model.linear_predictor(theta, batch.X)  # without the offset
    loglik, grad, info = model.newton_terms(eta, batch)
    assert loglik == pytest.approx(model.loglik(theta, batch), rel=1e-12)
    np.testing.assert_allclose(grad, model.loglik_grad(theta, batch)[1], rtol=1e-10)
    np.testing.assert_allclose(-info, model.hessian(theta, batch), rtol=1e-10)
    step = np.random.default_rng(3).normal(size=model.n_params)
    step_eta = model.linear_predictor(step, batch.X) - model.linear_predictor(
        0 * step, batch.X
    )
    value, slope, curvature = model.line_terms(eta, step_eta, batch)
    line = lambda t: model.loglik(theta + t * step, batch)  # noqa: E731
    assert value == pytest.approx(line(0.0), rel=1e-12)
    assert slope == pytest.approx(
        approx_fprime([0.0], lambda t: line(t[0]), 1e-7)[0], rel=1e-5
    )
    assert curvature == pytest.approx(
        step @ model.hessian(theta, batch) @ step, rel=1e-10
    )


def test_a_column_seen_only_with_zero_counts_is_unbounded():
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.5, 1.0], [1.5, 0.0]])
    y = np.array([3.0, 0.0, 0.0, 1.0])
    counts = support_counts(Batch.from_arrays(X, y), fit_intercept=True)
    np.testing.assert_array_equal(unbounded_columns(counts), [1])
    y_all = np.array([3.0, 1.0, 0.0, 1.0])
    counts = support_counts(Batch.from_arrays(X, y_all), fit_intercept=True)
    assert unbounded_columns(counts).size == 0
