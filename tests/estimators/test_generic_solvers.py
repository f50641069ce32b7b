"""The generic solvers (gd, lbfgs, newton) reach the maximum on badly conditioned
data, and ``converged_`` is True only where skmle's rule holds.

References are certified values (NIST StRD Longley and Filip) and statsmodels'
fits on standardised columns, never skmle's own output.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skmle import GaussianMLE, LinearGaussianRegressor, LogisticGD

DATA = Path(__file__).resolve().parents[1] / "data"
SOLVERS = ["newton", "lbfgs", "gd"]

# NIST StRD certified values for Longley (TOTEMP on the six regressors).
LONGLEY_CERTIFIED = np.array(
    [
        -3482258.63459582,
        15.0618722713733,
        -0.358191792925910e-01,
        -2.02022980381683,
        -1.03322686717359,
        -0.511041056535807e-01,
        1829.15146461355,
    ]
)
LONGLEY_RSS = 836424.055505915


def correct_digits(estimate, reference) -> float:
    """The smallest number of correct significant digits over the entries."""
    estimate, reference = np.ravel(estimate), np.ravel(reference)
    relative = np.abs(estimate - reference) / np.abs(reference)
    return float(np.min(-np.log10(relative + 1e-17)))


def longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog.to_numpy(), data.endog.to_numpy()


def filip():
    path = DATA / "nist_filip.csv"
    lines = path.read_text().splitlines()
    certified = np.array([float(v) for v in lines[3].lstrip("#").split()])
    table = np.loadtxt(path, delimiter=",", skiprows=8)
    y, x = table[:, 0], table[:, 1]
    return np.vander(x, 11, increasing=True)[:, 1:], y, certified


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("tol", [None, 1e-10])
def test_longley_every_solver_reaches_the_certified_values_to_its_tol(solver, tol):
    # The rule bounds the gradient in coordinates of unit curvature per unit of
    # weight, so the distance to the maximum is at most about sqrt(n p) * tol
    # standard errors.
    X, y = longley()
    kwargs = {} if tol is None else {"tol": tol}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = LinearGaussianRegressor(solver=solver, max_iter=20_000, **kwargs)
        fit.fit(X, y)
    assert fit.converged_
    n, p = X.shape[0], X.shape[1] + 2
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    errors = ols.bse * np.sqrt((n - p + 1) / n)  # the MLE's standard errors
    estimate = np.r_[fit.intercept_, fit.coef_]
    distance = np.max(np.abs(estimate - LONGLEY_CERTIFIED) / errors)
    assert distance <= 10 * np.sqrt(n * p) * fit.tol
    assert correct_digits(estimate, LONGLEY_CERTIFIED) >= 8
    maximum = -n / 2 * (np.log(2 * np.pi * LONGLEY_RSS / n) + 1)
    assert_allclose(fit.loglik_, maximum, rtol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_filip_generic_solvers_get_seven_digits(solver):
    # A degree-10 polynomial: the scaled normal equations are singular to double
    # precision, so only a rotation of the design (tall-skinny QR) keeps digits.
    X, y, certified = filip()
    fit = LinearGaussianRegressor(solver=solver, max_iter=20_000).fit(X, y)
    assert fit.converged_
    assert correct_digits(np.r_[fit.intercept_, fit.coef_], certified) >= 7


def timestamps(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 3.15e7, n) + 1.7e9
    z = (t - t.mean()) / t.std()
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + 1.2 * z)))).astype(int)
    return t, y


@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_logistic_on_unix_timestamps(solver):
    t, y = timestamps()
    z = (t - t.mean()) / t.std()
    ref = sm.Logit(y, sm.add_constant(z)).fit(disp=0, tol=1e-14)
    coef = ref.params[1] / t.std()
    intercept = ref.params[0] - coef * t.mean()
    fit = LogisticGD(solver=solver, max_iter=5000).fit(t[:, None], y)
    assert fit.converged_
    assert_allclose(fit.loglik_, ref.llf, rtol=1e-11)
    assert_allclose(fit.coef_.ravel(), [coef], rtol=1e-6)
    assert_allclose(fit.intercept_, [intercept], rtol=1e-6)


@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
@pytest.mark.parametrize("shift, scale", [(2174.0, 1.0), (0.0, 1e-6), (1e6, 1.0)])
def test_logistic_shifted_or_scaled_features(solver, shift, scale):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 2))
    y = (rng.uniform(size=1000) < 1 / (1 + np.exp(-X @ [1.0, -1.0]))).astype(int)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-14)
    fit = LogisticGD(solver=solver).fit(X * scale + shift, y)
    assert fit.converged_
    assert_allclose(fit.loglik_, ref.llf, rtol=1e-10)
    assert_allclose(fit.coef_.ravel() * scale, ref.params[1:], rtol=1e-5)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
@pytest.mark.parametrize("shift, scale", [(1e9, 1.0), (0.0, 1e-6), (0.0, 1e6)])
def test_gaussian_generic_solvers_on_badly_scaled_data(
    solver, covariance_type, shift, scale
):
    rng = np.random.default_rng(0)
    cov = [[2.0, 0.6, 0.1], [0.6, 1.0, 0.2], [0.1, 0.2, 0.5]]
    X = rng.multivariate_normal([1.0, -2.0, 0.5], cov, size=300) * scale + shift
    fit = GaussianMLE(
        solver=solver, covariance_type=covariance_type, reg_covar=0.0, tol=1e-9
    ).fit(X)
    assert fit.converged_
    expected = np.cov(X, rowvar=False, bias=True)
    if covariance_type == "diag":
        expected = np.diag(expected)
    assert_allclose(fit.covariance_, expected, rtol=1e-6, atol=1e-6 * scale**2)
    assert_allclose(fit.mean_, X.mean(axis=0), rtol=1e-13, atol=1e-6 * scale)


@pytest.mark.parametrize("solver", SOLVERS)
def test_collinear_columns_give_the_minimum_norm_solution(solver):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    X = np.c_[X, X[:, 0] + 2 * X[:, 1], np.full(100, 5.0)]
    y = X[:, :3] @ [1.0, -2.0, 0.5] + rng.normal(size=100)
    centred = X - X.mean(axis=0)
    coef = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SEs undefined: collinear
        fit = LinearGaussianRegressor(solver=solver, tol=1e-10).fit(X, y)
    assert_allclose(fit.coef_, coef, atol=1e-7)
    assert_allclose(fit.intercept_, y.mean() - X.mean(axis=0) @ coef, atol=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
def test_stopped_early_is_not_converged(solver):
    X, y = longley()
    with pytest.warns(ConvergenceWarning, match="stopping rule does not hold"):
        fit = LinearGaussianRegressor(solver=solver, max_iter=1).fit(X, y)
    assert not fit.converged_
    assert fit.n_iter_ == 1


def test_warning_names_the_gradient_and_tol():
    X, y = longley()
    with pytest.warns(ConvergenceWarning, match=r"largest gradient component .* > tol"):
        LinearGaussianRegressor(solver="gd", max_iter=3).fit(X, y)
