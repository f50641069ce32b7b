"""Equivariance of the exact regression solvers (issue 12), as hypothesis properties.

Least squares and least absolute deviations are equivariant: shifting column j of
X by c moves only the intercept (by -c w_j), scaling it by a divides only w_j by
a, and y -> a y + c maps the fit to a (w, b) + (0, c) with the noise scale times
|a|. Each property fits the transformed data and compares it with the law
applied to the fit of the original data, which is itself checked against an
independent reference (statsmodels' OLS, or the primal LP solved by HiGHS).

The generic solvers (gd, lbfgs, newton of LinearGaussianRegressor) are not
tested here. Offsets reach 1e9 and scales 1e-6..1e6; a shift c of a column of
spread s rounds it to eps |c| / s relative, so the tolerances grow with that.
"""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from skmle import LaplaceRegressor, LinearGaussianRegressor

EPS = np.finfo(float).eps
N_SAMPLES = 60

offsets = st.one_of(
    st.just(0.0), st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
)
log_scales = st.floats(-6.0, 6.0)
settings_ = settings(max_examples=25, deadline=None)


def base_data(seed, kind):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_SAMPLES, 2)) * [1.0, 2.0] + [0.5, -1.0]
    noise = (
        rng.normal(size=N_SAMPLES)
        if kind == "gaussian"
        else rng.laplace(size=N_SAMPLES)
    )
    return X, X @ [1.5, -0.7] + 2.0 + noise


def lad_optimum(X, y):
    """Minimal sum |r| from the primal LP (coefficients free, u, v >= 0)."""
    n = len(y)
    X1 = np.column_stack([X, np.ones(n)])
    p = X1.shape[1]
    result = linprog(
        np.concatenate([np.zeros(p), np.ones(2 * n)]),
        A_eq=sparse.hstack([X1, sparse.eye(n), -sparse.eye(n)], format="csc"),
        b_eq=y,
        bounds=[(None, None)] * p + [(0, None)] * (2 * n),
        method="highs",
    )
    return result.fun


def transform(X, y, column, x_shift, x_log_scale, y_shift, y_log_scale):
    """The transformed data and the law mapping (coef, intercept) to the new fit."""
    a_x, a_y = 10.0**x_log_scale, 10.0**y_log_scale
    X_new = X.copy()
    X_new[:, column] = X[:, column] * a_x + x_shift
    y_new = y * a_y + y_shift

    def law(coef, intercept):
        coef_new = coef * a_y
        coef_new[column] /= a_x
        return coef_new, intercept * a_y + y_shift - x_shift * coef_new[column]

    # Rounding of the shifted values, relative to the spread they carry.
    spread_x = a_x * np.std(X[:, column])
    spread_y = a_y * np.std(y)
    rounding = EPS * (abs(x_shift) / spread_x + abs(y_shift) / spread_y)
    return X_new, y_new, law, a_y, rounding


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no floor, no singular Gram
        return model.fit(X, y)


def assert_fit_follows_the_law(model, base, X_new, y_new, law, rtol):
    coef, intercept = law(base.coef_.copy(), base.intercept_)
    scale = np.max(np.abs(coef)) + abs(intercept - np.mean(y_new))
    np.testing.assert_allclose(model.coef_, coef, rtol=rtol, atol=rtol * scale)
    # Predictions on the new data are the mapped predictions: intercept included.
    expected = X_new @ coef + intercept
    spread = np.std(y_new)
    np.testing.assert_allclose(model.predict(X_new), expected, atol=rtol * spread * 10)


@settings_
@given(
    seed=st.integers(0, 2**16),
    column=st.integers(0, 1),
    x_shift=offsets,
    x_log_scale=log_scales,
    y_shift=offsets,
    y_log_scale=log_scales,
)
def test_least_squares_is_equivariant(
    seed, column, x_shift, x_log_scale, y_shift, y_log_scale
):
    X, y = base_data(seed, "gaussian")
    base = LinearGaussianRegressor().fit(X, y)
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(base.coef_, ols.params[1:], rtol=1e-10)
    X_new, y_new, law, a_y, rounding = transform(
        X, y, column, x_shift, x_log_scale, y_shift, y_log_scale
    )
    assume(rounding < 1e-6)
    model = fit_quietly(LinearGaussianRegressor(), X_new, y_new)
    rtol = 1e-9 + 100 * rounding
    assert_fit_follows_the_law(model, base, X_new, y_new, law, rtol)
    assert model.sigma2_ == pytest.approx(base.sigma2_ * a_y**2, rel=rtol)
    np.testing.assert_allclose(
        model.coef_se_, np.abs(law(base.coef_se_.copy(), 0.0)[0]), rtol=rtol
    )
    assert model.loglik_ == pytest.approx(
        base.loglik_ - N_SAMPLES * np.log(a_y), rel=rtol, abs=rtol * N_SAMPLES
    )


@settings_
@given(
    seed=st.integers(0, 2**16),
    column=st.integers(0, 1),
    x_shift=offsets,
    x_log_scale=log_scales,
    y_shift=offsets,
    y_log_scale=log_scales,
)
def test_least_absolute_deviations_lp_is_equivariant(
    seed, column, x_shift, x_log_scale, y_shift, y_log_scale
):
    X, y = base_data(seed, "laplace")
    base = LaplaceRegressor().fit(X, y)
    optimum = lad_optimum(X, y)
    assert np.sum(np.abs(y - base.predict(X))) <= optimum * (1 + 1e-9)
    X_new, y_new, law, a_y, rounding = transform(
        X, y, column, x_shift, x_log_scale, y_shift, y_log_scale
    )
    assume(rounding < 1e-7)
    model = fit_quietly(LaplaceRegressor(), X_new, y_new)
    rtol = 1e-7 + 1e3 * rounding
    assert_fit_follows_the_law(model, base, X_new, y_new, law, rtol)
    assert model.scale_ == pytest.approx(base.scale_ * a_y, rel=rtol)
    assert model.converged_


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    column=st.integers(0, 1),
    x_shift=offsets,
    x_log_scale=log_scales,
    y_shift=offsets,
    y_log_scale=log_scales,
)
def test_least_absolute_deviations_gd_is_equivariant_to_its_tolerance(
    seed, column, x_shift, x_log_scale, y_shift, y_log_scale
):
    X, y = base_data(seed, "laplace")
    optimum = lad_optimum(X, y)
    X_new, y_new, _, a_y, rounding = transform(
        X, y, column, x_shift, x_log_scale, y_shift, y_log_scale
    )
    assume(rounding < 1e-7)
    tol = 1e-4
    model = fit_quietly(
        LaplaceRegressor(solver="gd", tol=tol, max_iter=5000), X_new, y_new
    )
    assert model.converged_
    # Certified within tol of the optimum, which scales with |a_y| and ignores shifts.
    value = np.sum(np.abs(y_new - model.predict(X_new)))
    assert value <= optimum * a_y * (1 + tol) * (1 + 1e3 * rounding)
    assert value >= optimum * a_y * (1 - 1e3 * rounding - 1e-9)
