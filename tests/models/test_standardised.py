"""Standardised coordinates: the same likelihood, a well-conditioned design."""

from itertools import pairwise

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmle.models.base import Batch
from skmle.models.linear_gaussian import LinearGaussianLogLikelihood
from skmle.models.objective import Objective
from skmle.models.qr_least_squares import TriangularFactor
from skmle.models.standardised import (
    StandardisedObjective,
    column_scaling,
    minimum_norm,
)


def data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1e6, 1.0, 1e-6] + [1.7e9, -3.0, 0.0]
    y = 1e9 + X @ [2e-6, 0.5, 3e6] + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    return X, y, w


def split(X, y, w, parts=3):
    bounds = np.linspace(0, len(y), parts + 1).astype(int)
    return [Batch(X[a:b], y[a:b], w[a:b]) for a, b in pairwise(bounds)]


@pytest.fixture
def setting():
    X, y, w = data()
    model = LinearGaussianLogLikelihood(3)
    objective = Objective(model, split(X, y, w))
    scaling = column_scaling(
        objective.sum_batches, model.linear_blocks(), 3, model.log_scale_index()
    )
    return X, y, w, model, objective, scaling


def test_standardised_columns_are_orthonormal(setting):
    X, y, w, _, _, scaling = setting
    Z = scaling.transform(Batch(X, y, w)).X
    gram = (Z * w[:, None]).T @ Z / w.sum()
    assert_allclose(Z.T @ w / w.sum(), 0.0, atol=1e-12)
    assert_allclose(gram, np.eye(3), atol=1e-10)


def test_tall_skinny_factor_of_batches_is_the_factor_of_all_rows():
    A = np.random.default_rng(2).normal(size=(100, 4))
    parts = [TriangularFactor.of_rows(A[i : i + 30]) for i in range(0, 100, 30)]
    R = sum(parts[1:], parts[0]).r
    assert_allclose(R.T @ R, A.T @ A, rtol=1e-12, atol=1e-12)


def test_map_is_invertible_and_keeps_the_likelihood(setting):
    *_, objective, scaling = setting
    theta = np.array([2e-6, 0.5, 3e6, 1e9 - 3.4e3, 0.1])
    phi = scaling.to_phi(theta)
    assert_allclose(scaling.to_theta(phi), theta, rtol=1e-12)
    standardised = StandardisedObjective(objective, scaling)
    # The likelihood of y is that of the standardised y plus the Jacobian term.
    expected = objective.value(theta)
    assert_allclose(standardised.value(phi) + scaling.value_offset, expected, rtol=1e-9)


def test_gradient_is_the_chain_rule(setting):
    *_, objective, scaling = setting
    standardised = StandardisedObjective(objective, scaling)
    phi = np.array([0.3, -0.2, 0.1, 0.05, 0.2])
    step = 1e-6
    numeric = [
        (standardised.value(phi + step * e) - standardised.value(phi - step * e))
        / (2 * step)
        for e in np.eye(5)
    ]
    assert_allclose(standardised.value_and_grad(phi)[1], numeric, rtol=1e-6, atol=1e-9)
    theta = scaling.to_theta(phi)
    mapped = scaling.gradient_to_phi(objective.value_and_grad(theta)[1])
    assert_allclose(mapped, numeric, rtol=1e-5, atol=1e-7)


def test_minimum_norm_on_collinear_coefficients():
    # coef[0] and coef[1] enter only through their sum; intercept fixed.
    blocks = [(np.array([0, 1]), 2)]
    direction = np.array([[1.0], [-1.0], [0.0], [0.0]])
    theta = np.array([3.0, 1.0, 0.5, 0.0])
    assert_allclose(minimum_norm(theta, direction, blocks), [2.0, 2.0, 0.5, 0.0])
