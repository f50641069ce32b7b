"""Householder QR least squares against NumPy's SVD-based references."""

import numpy as np
import pytest

from skmle.models import qr_least_squares
from skmle.models.base import Batch
from skmle.models.qr_least_squares import (
    TriangularFactor,
    corrected_coef,
    gradient_sums,
    numerical_rank,
    solve_triangular_factor,
)


def centred_problem(X, y, w):
    x_mean = np.average(X, axis=0, weights=w)
    y_mean = np.average(y, weights=w)
    scale = np.sqrt(w @ (X - x_mean) ** 2)
    return x_mean, y_mean, np.where(scale > 0, scale, 1.0)


@pytest.mark.parametrize("cuts", [[], [1], [5, 6, 40]])
def test_merged_factors_reproduce_the_gram_matrix(cuts, monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)) + 100.0, rng.normal(size=60)
    w = rng.integers(0, 3, size=60).astype(float)
    monkeypatch.setattr(qr_least_squares, "BLOCK_ROWS", 7)
    x_mean, y_mean, scale = centred_problem(X, y, w)
    parts = [
        TriangularFactor.from_batch(Batch(X[r], y[r], w[r]), x_mean, y_mean, scale)
        for r in np.split(np.arange(60), cuts)
    ]
    factor = parts[0]
    for part in parts[1:]:
        factor = factor + part
    rows = np.sqrt(w)[:, None] * np.column_stack([(X - x_mean) / scale, y - y_mean])
    np.testing.assert_allclose(factor.r.T @ factor.r, rows.T @ rows, atol=1e-12)
    assert np.allclose(factor.r, np.triu(factor.r))


def test_full_rank_solution_and_inverse_match_numpy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4)) * [1.0, 1e3, 1e-3, 10.0]
    y = X @ [1.0, 2.0, 3.0, 4.0] + rng.normal(size=50)
    w = rng.uniform(0.5, 2.0, size=50)
    x_mean, y_mean, scale = centred_problem(X, y, w)
    batch = Batch(X, y, w)
    solution = solve_triangular_factor(
        TriangularFactor.from_batch(batch, x_mean, y_mean, scale), scale
    )
    root = np.sqrt(w)
    centred = (X - x_mean) * root[:, None]
    reference = np.linalg.lstsq(centred, (y - y_mean) * root, rcond=None)[0]
    np.testing.assert_allclose(solution.coef, reference, rtol=1e-10)
    inverse = np.linalg.inv(centred.T @ centred)
    np.testing.assert_allclose(solution.inverse_diagonal(), np.diag(inverse), rtol=1e-9)
    v = rng.normal(size=4)
    assert solution.quadratic_form(v) == pytest.approx(v @ inverse @ v, rel=1e-9)
    sums = gradient_sums(batch, x_mean, y_mean, solution.coef)
    coef, offset = corrected_coef(solution, sums, w.sum(), True)
    np.testing.assert_allclose(coef, reference, rtol=1e-10)
    assert abs(offset) < 1e-12


def test_rank_deficient_factor_gives_the_minimum_norm_solution():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    X = np.column_stack([X, 3.0 * X[:, 0] - X[:, 1], np.full(40, 5.0)])
    y = rng.normal(size=40)
    w = np.ones(40)
    x_mean, y_mean, scale = centred_problem(X, y, w)
    factor = TriangularFactor.from_batch(Batch(X, y, w), x_mean, y_mean, scale)
    solution = solve_triangular_factor(factor, scale)
    assert solution.rank == 2 and not solution.full_rank
    expected = np.linalg.pinv(X - x_mean) @ (y - y_mean)
    np.testing.assert_allclose(solution.coef, expected, rtol=1e-9, atol=1e-12)


def test_numerical_rank_is_relative():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(30, 4)))
    for factor in (1.0, 1e-150, 1e150):
        A = factor * q @ np.diag([1.0, 1e-3, 1e-9, 1e-15])
        r = np.linalg.qr(A, mode="r")
        assert numerical_rank(r) == 3 == np.linalg.matrix_rank(A, rtol=1e-13)
    assert numerical_rank(np.zeros((3, 3))) == 0
