"""Least-absolute-deviation solvers against the primal LP solved by scipy's HiGHS."""

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from skmle.optim import lad
from skmle.optim.lad import (
    least_absolute_deviations,
    subgradient_lad,
    weighted_median,
)


def primal_lp_optimum(X, y, w):
    """min sum w (u + v) s.t. X b + u - v = y, u, v >= 0: an independent formulation."""
    n, p = X.shape
    cost = np.concatenate([np.zeros(p), w, w])
    A_eq = sparse.hstack([X, sparse.eye(n), -sparse.eye(n)], format="csc")
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    result = linprog(cost, A_eq=A_eq, b_eq=y, bounds=bounds, method="highs")
    assert result.status == 0
    return result.fun


def regression_data(rng, n, p, outliers=0.05):
    X = np.column_stack([rng.normal(size=(n, p - 1)), np.ones(n)])
    y = X @ rng.normal(size=p) + rng.laplace(size=n)
    mask = rng.random(n) < outliers
    y[mask] += rng.normal(0.0, 30.0, mask.sum())
    return X, y


@pytest.mark.parametrize("n, p", [(40, 3), (300, 6)])
def test_direct_lp_reaches_the_primal_optimum(n, p):
    rng = np.random.default_rng(n)
    X, y = regression_data(rng, n, p)
    w = rng.integers(0, 4, size=n).astype(float)
    result = least_absolute_deviations(X, y, w)
    assert result.method == "lp"
    optimum = primal_lp_optimum(X, y, w)
    assert result.objective == pytest.approx(w @ np.abs(y - X @ result.coef))
    assert result.objective <= optimum * (1 + 1e-9)


def test_banded_lp_is_exact_and_widens_the_band_when_needed(monkeypatch):
    rng = np.random.default_rng(10)
    X, y = regression_data(rng, 1500, 5)
    w = rng.uniform(0.5, 2.0, size=1500)
    monkeypatch.setattr(lad, "DIRECT_ROWS", 100)
    result = least_absolute_deviations(X, y, w)
    assert result.method == "irls+band lp"
    optimum = primal_lp_optimum(X, y, w)
    assert result.objective <= optimum * (1 + 1e-9)
    # A single IRLS step leaves the fit far off: signs flip and the band must grow.
    monkeypatch.setattr(lad, "IRLS_MAX_ITER", 1)
    coarse = least_absolute_deviations(X, y, w)
    assert coarse.objective <= optimum * (1 + 1e-9)
    assert coarse.n_iter >= 3


def test_zero_weight_rows_are_ignored():
    rng = np.random.default_rng(11)
    X, y = regression_data(rng, 60, 3)
    w = np.ones(60)
    w[::3] = 0.0
    y_changed = y.copy()
    y_changed[::3] = 1e6
    a = least_absolute_deviations(X, y, w)
    b = least_absolute_deviations(X, y_changed, w)
    np.testing.assert_allclose(a.coef, b.coef)


def test_weighted_median():
    values = np.array([3.0, 1.0, 2.0, 10.0])
    assert weighted_median(values, np.ones(4)) == 2.0
    assert weighted_median(values, np.array([1.0, 1.0, 1.0, 5.0])) == 10.0
    assert weighted_median(values, np.array([0.0, 0.0, 1.0, 0.0])) == 2.0


def test_subgradient_approaches_the_optimum():
    rng = np.random.default_rng(12)
    X1, y = regression_data(rng, 400, 4)
    X = X1[:, :-1] * np.array([0.1, 1.0, 30.0])  # very different feature scales
    w = np.ones(400)
    optimum = primal_lp_optimum(X1, y, w) / 400
    result, coef, intercept = subgradient_lad(X, y, w, max_iter=3000, tol=0.0)
    mean_abs = np.mean(np.abs(y - X @ coef - intercept))
    assert -result.value == pytest.approx(mean_abs, rel=1e-12)
    assert mean_abs <= optimum * (1 + 1e-4)
    assert np.all(np.diff(result.history) >= 0)  # best value so far
    assert result.history.shape == (result.n_iter + 1,)


def test_subgradient_stops_when_the_best_value_stalls():
    rng = np.random.default_rng(13)
    X1, y = regression_data(rng, 200, 3)
    w = np.ones(200)
    result, _, _ = subgradient_lad(X1[:, :-1], y, w, max_iter=100_000, tol=1e-6)
    assert result.converged and result.n_iter < 100_000
    optimum = primal_lp_optimum(X1, y, w) / 200
    assert -result.value <= optimum * (1 + 1e-3)
