"""Solving with an information matrix: against SciPy's solve and the pseudo-inverse."""

import numpy as np
from numpy.testing import assert_allclose
from scipy import linalg

from skmle._linalg import scaled_cholesky, solve_information


def test_solve_information_positive_definite():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(6, 6))
    matrix = A @ A.T + np.eye(6)
    rhs = rng.normal(size=6)
    assert_allclose(
        solve_information(matrix, rhs), linalg.solve(matrix, rhs), rtol=1e-12
    )


def test_solve_information_badly_scaled():
    # M = D C D with C a well-conditioned correlation matrix and D scales a million
    # apart (features in different units): cond(M) is about 1e24, yet with the
    # Jacobi scaling the solve is as accurate as one with C.
    rng = np.random.default_rng(3)
    A = rng.normal(size=(30, 4))
    C = np.corrcoef(A.T)
    scales = np.array([1e-6, 1.0, 1e3, 1e6])
    b = rng.normal(size=4)
    expected = linalg.solve(C, b) / scales
    x = solve_information(scales[:, None] * C * scales, scales * b)
    assert_allclose(x, expected, rtol=1e-12)


def test_solve_information_singular_gives_minimum_norm():
    # More columns than rows: the Gram matrix is singular, the right-hand side is
    # in its range, and the answer is the minimum-norm solution (pseudo-inverse).
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 9))
    matrix = X.T @ X
    rhs = X.T @ rng.normal(size=5)
    x = solve_information(matrix, rhs)
    assert_allclose(x, np.linalg.pinv(matrix) @ rhs, rtol=1e-8, atol=1e-12)
    assert_allclose(matrix @ x, rhs, rtol=1e-9, atol=1e-12)
    assert_allclose(solve_information(np.zeros((3, 3)), np.zeros(3)), 0.0)


def test_scaled_cholesky_factors_the_jacobi_scaled_matrix():
    rng = np.random.default_rng(5)
    A = rng.normal(size=(20, 3)) * np.array([1e-4, 1.0, 1e5])
    matrix = A.T @ A
    factor, scale = scaled_cholesky(matrix)
    d = np.sqrt(np.diag(matrix))
    assert_allclose(scale, 1.0 / d, rtol=1e-14)
    assert_allclose(factor @ factor.T, matrix / np.outer(d, d), rtol=1e-12, atol=1e-14)
    # The reference solve in the units of C, where it is well conditioned.
    rhs = rng.normal(size=3)
    solved = scale * linalg.cho_solve((factor, True), scale * rhs)
    expected = linalg.solve(matrix / np.outer(d, d), rhs / d) / d
    assert_allclose(solved, expected, rtol=1e-10)


def test_scaled_cholesky_is_none_when_singular():
    X = np.random.default_rng(6).normal(size=(10, 2))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])  # collinear columns
    assert scaled_cholesky(X.T @ X) is None
    assert scaled_cholesky(-np.eye(2)) is None
