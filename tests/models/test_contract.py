"""The contract every model of the model layer keeps, checked against references.

Each case builds a model, a batch of data and a parameter vector. The checks are
independent of the model's own derivations: central finite differences, duplicated
rows, split batches.
"""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from skmle.models.base import Batch
from skmle.models.gaussian import GaussianLogLikelihood


def gaussian_case(covariance_type, reg_covar):
    def build(rng):
        X = rng.normal(size=(40, 3)) @ rng.normal(size=(3, 3)) + 2.0
        model = GaussianLogLikelihood(3, covariance_type, reg_covar)
        theta = 0.3 * rng.standard_normal(model.n_params)
        return model, X, None, theta

    return build


CASES = {
    f"gaussian-{ct}-reg{reg}": gaussian_case(ct, reg)
    for ct in ("full", "diag", "spherical")
    for reg in (0.0, 0.5)
}


@pytest.fixture(params=sorted(CASES))
def case(request):
    rng = np.random.default_rng(0)
    model, X, y, theta = CASES[request.param](rng)
    weights = rng.integers(0, 4, size=X.shape[0]).astype(float)
    return model, Batch(X, y, weights), theta


def objective(model, batch, theta):
    prior, _, _ = model.log_prior(theta, batch.total_weight)
    return model.loglik(theta, batch) + prior


def test_gradient_matches_central_differences(case):
    model, batch, theta = case
    value, grad = model.loglik_grad(theta, batch)
    _, prior_grad, _ = model.log_prior(theta, batch.total_weight)
    numeric = approx_fprime(theta, lambda t: objective(model, batch, t), 1e-6)
    assert value == pytest.approx(model.loglik(theta, batch), rel=1e-12)
    np.testing.assert_allclose(
        grad + prior_grad, numeric, rtol=1e-5, atol=1e-5 * np.abs(numeric).max()
    )


def test_hessian_matches_differences_of_the_gradient(case):
    model, batch, theta = case
    if not model.has_hessian:
        pytest.fail("every model in this list is expected to have a Hessian")

    def full_grad(t):
        return (
            model.loglik_grad(t, batch)[1] + model.log_prior(t, batch.total_weight)[1]
        )

    numeric = approx_fprime(theta, full_grad, 1e-6)
    analytic = (
        model.hessian(theta, batch) + model.log_prior(theta, batch.total_weight)[2]
    )
    np.testing.assert_allclose(analytic, analytic.T, atol=1e-9 * np.abs(analytic).max())
    np.testing.assert_allclose(
        analytic, numeric, rtol=1e-4, atol=1e-5 * np.abs(numeric).max()
    )


def test_weight_two_equals_a_duplicated_row(case):
    model, batch, theta = case
    repeats = batch.sample_weight.astype(int)
    repeated = Batch(
        np.repeat(batch.X, repeats, axis=0),
        None if batch.y is None else np.repeat(batch.y, repeats, axis=0),
        np.ones(repeats.sum()),
    )
    v_w, g_w = model.loglik_grad(theta, batch)
    v_r, g_r = model.loglik_grad(theta, repeated)
    assert v_w == pytest.approx(v_r, rel=1e-12)
    np.testing.assert_allclose(g_w, g_r, rtol=1e-10, atol=1e-10)


def test_chunk_sums_equal_the_whole(case):
    model, batch, theta = case
    cut = [7, 25]
    pieces = [
        Batch(
            X,
            None if batch.y is None else y,
            w,
        )
        for X, y, w in zip(
            np.split(batch.X, cut),
            np.split(batch.y if batch.y is not None else batch.X[:, 0], cut),
            np.split(batch.sample_weight, cut),
            strict=True,
        )
    ]
    whole_value, whole_grad = model.loglik_grad(theta, batch)
    sums = [model.loglik_grad(theta, p) for p in pieces]
    assert sum(v for v, _ in sums) == pytest.approx(whole_value, rel=1e-12)
    np.testing.assert_allclose(sum(g for _, g in sums), whole_grad, rtol=1e-10)
    if model.has_hessian:
        np.testing.assert_allclose(
            sum(model.hessian(theta, p) for p in pieces),
            model.hessian(theta, batch),
            rtol=1e-10,
            atol=1e-12,
        )
