"""Property tests: the generic solvers' answers move with shifts and scales of the
data exactly as the mathematics says.

A shift :math:`a` and scale :math:`s` of column ``j`` of ``X`` leave the fitted
linear predictor unchanged (the coefficient becomes :math:`w_j / s`, the intercept
absorbs the shift); shifting ``y`` moves only the intercept, scaling it scales the
coefficients and lowers the log-likelihood by :math:`n \\log s`. The reference is
statsmodels (or NumPy), never skmle's own fit, on the shifted data shifted back:
a shift of 1e9 rounds away the last digits of the data, and the reference must see
the data the estimator saw.
"""

import warnings

import numpy as np
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skmle import GaussianMLE, LinearGaussianRegressor, LogisticGD

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
solvers = st.sampled_from(["newton", "lbfgs", "gd"])
# Offsets in units of the column's spread: an offset of 1e9 spreads leaves the
# data about seven significant digits.
shifts = st.one_of(st.just(0.0), st.floats(-1e9, 1e9))
log_scales = st.floats(-6.0, 6.0)
columns = st.integers(0, 2)

rng = np.random.default_rng(0)
X_BASE = rng.normal(size=(200, 3)) * [1.0, 3.0, 0.5] + [0.0, 5.0, -1.0]
Y_LINEAR = X_BASE @ [1.5, -0.5, 2.0] + 0.7 + rng.normal(size=200)
Y_BINARY = (
    rng.uniform(size=200) < 1 / (1 + np.exp(-(X_BASE @ [1.0, -0.3, 0.8] - 0.5)))
).astype(int)


def rounding(shift) -> float:
    """Rounding error of a column shifted by ``shift`` of its spreads, in units of
    its spread: what no solver can recover."""
    return float(np.finfo(float).eps * (abs(shift) + 1.0))


def transformed(column, shift, log_scale):
    """``X_BASE`` with one column scaled by ``10**log_scale`` and shifted by
    ``shift`` of its spreads, and the same column moved back."""
    shift = shift * 10.0**log_scale
    X = X_BASE.copy()
    X[:, column] = X[:, column] * 10.0**log_scale + shift
    back = X.copy()
    back[:, column] = (X[:, column] - shift) / 10.0**log_scale
    return X, back


@SETTINGS
@given(solvers, columns, shifts, log_scales, st.floats(-1e9, 1e9), log_scales)
def test_linear_gaussian_moves_with_x_and_y(
    solver, column, shift, log_scale, y_shift, y_log_scale
):
    X, X_back = transformed(column, shift, log_scale)
    y_scale = 10.0**y_log_scale
    y = Y_LINEAR * y_scale + y_shift
    ols = sm.OLS((y - y_shift) / y_scale, sm.add_constant(X_back)).fit()
    fit = LinearGaussianRegressor(solver=solver, max_iter=20_000).fit(X, y)
    assert fit.converged_
    n = len(y)
    noise = 100 * (rounding(shift) + rounding(y_shift / y_scale))
    loglik = ols.llf - n * np.log(y_scale)
    assert_allclose(fit.loglik_, loglik, rtol=1e-9 + n * noise)
    expected = ols.fittedvalues * y_scale + y_shift
    atol = (1e-6 + noise) * y_scale
    assert_allclose(fit.predict(X), expected, rtol=1e-9, atol=atol)
    coef = ols.params[1:] * y_scale
    coef[column] /= 10.0**log_scale
    assert_allclose(fit.coef_, coef, rtol=1e-6)


@SETTINGS
@given(st.sampled_from(["lbfgs", "gd"]), columns, shifts, log_scales)
def test_logistic_moves_with_x(solver, column, shift, log_scale):
    X, X_back = transformed(column, shift, log_scale)
    logit = sm.Logit(Y_BINARY, sm.add_constant(X_back)).fit(disp=0, tol=1e-14)
    fit = LogisticGD(solver=solver, max_iter=5000, tol=1e-9).fit(X, Y_BINARY)
    assert fit.converged_
    noise = 100 * rounding(shift)
    assert_allclose(fit.loglik_, logit.llf, rtol=1e-10 + len(X) * noise)
    probability = fit.predict_proba(X)[:, 1]
    assert_allclose(probability, logit.predict(), rtol=1e-6, atol=1e-8 + noise)
    coef = logit.params[1:].copy()
    coef[column] /= 10.0**log_scale
    assert_allclose(fit.coef_.ravel(), coef, rtol=1e-5)


@SETTINGS
@given(solvers, st.sampled_from(["full", "diag"]), columns, shifts, log_scales)
def test_gaussian_moves_with_x(solver, covariance_type, column, shift, log_scale):
    X, _ = transformed(column, shift, log_scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = GaussianMLE(
            solver=solver, covariance_type=covariance_type, reg_covar=0.0, tol=1e-9
        ).fit(X)
    assert fit.converged_
    spread = X.std(axis=0)
    expected = np.cov(X, rowvar=False, bias=True)
    if covariance_type == "diag":
        expected = np.diag(expected)
        relative = fit.covariance_ / spread**2
        assert_allclose(relative, expected / spread**2, rtol=1e-6, atol=1e-6)
    else:
        relative = fit.covariance_ / np.outer(spread, spread)
        assert_allclose(relative, expected / np.outer(spread, spread), atol=1e-6)
    atol = 1e-6 + 100 * rounding(shift)
    assert_allclose(fit.mean_ / spread, X.mean(axis=0) / spread, rtol=0, atol=atol)
