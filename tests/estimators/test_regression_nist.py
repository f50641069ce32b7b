"""The regressors on NIST StRD reference data sets, against their certified values.

Filip (degree-10 polynomial, the hardest linear least-squares set: the centred,
unit-norm design still has condition number 4e9) and Longley (six collinear
economic series) from NIST's linear regression suite, and SmLs09 (one-way ANOVA
with 13 constant leading digits in y) from its ANOVA suite. The files in
tests/data carry NIST's certified values in their headers; the values are typed
in again here. NIST's standard deviations divide the residual sum of squares by
n - p, the maximum-likelihood ones by n.
"""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import statsmodels.api as sm

from skmle import LinearGaussianRegressor, chunked

DATA = Path(__file__).resolve().parent.parent / "data"

FILIP_COEF = np.array(
    [
        -1467.4896142298,
        -2772.17959193342,
        -2316.37108160893,
        -1127.97394098372,
        -354.478233703349,
        -75.1242017393757,
        -10.8753180355343,
        -1.06221498588947,
        -0.0670191154593408,
        -0.00246781078275479,
        -4.02962525080404e-05,
    ]
)
FILIP_SE = np.array(
    [
        298.084530995537,
        559.77986547495,
        466.477572127796,
        227.204274477751,
        71.6478660875927,
        15.28971787474,
        2.23691159816033,
        0.221624321934227,
        0.0142363763154724,
        0.000535617408889821,
        8.96632837373868e-06,
    ]
)
FILIP_R2 = 0.99672741618562
FILIP_RSS = 0.000795851382172941

LONGLEY_COEF = np.array(
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


def correct_digits(estimate, certified):
    """-log10 of the relative error, the smallest over the entries."""
    estimate, certified = np.atleast_1d(estimate), np.atleast_1d(certified)
    return float(np.min(-np.log10(np.abs(estimate - certified) / np.abs(certified))))


def filip():
    data = np.loadtxt(DATA / "nist_filip.csv", delimiter=",", skiprows=8)
    y, x = data[:, 0], data[:, 1]
    assert y.shape == (82,)
    return np.column_stack([x**k for k in range(1, 11)]), y


@pytest.mark.parametrize("storage", ["memory", "chunked", "dask"])
def test_filip_coefficients_errors_and_r2_to_seven_digits(storage):
    X, y = filip()
    data = {
        "memory": X,
        "chunked": chunked(X, 25),
        "dask": da.from_array(X, chunks=(30, 10)),
    }[storage]
    target = y if storage != "dask" else da.from_array(y, chunks=30)
    model = LinearGaussianRegressor().fit(data, target)
    assert model.solver_route_ == "Householder QR"
    estimates = np.append(model.intercept_, model.coef_)
    assert correct_digits(estimates, FILIP_COEF) >= 7.0
    n, p = X.shape[0], X.shape[1] + 1
    errors = np.append(model.intercept_se_, model.coef_se_)
    assert correct_digits(errors, FILIP_SE * np.sqrt((n - p) / n)) >= 7.0
    assert correct_digits(model.score(X, y), FILIP_R2) >= 7.0
    assert correct_digits(model.sigma2_, FILIP_RSS / n) >= 7.0


def test_filip_weights_equal_repeated_rows():
    X, y = filip()
    weights = np.tile([1.0, 2.0], 41)
    weighted = LinearGaussianRegressor().fit(X, y, sample_weight=weights)
    counts = weights.astype(int)
    repeated = LinearGaussianRegressor().fit(X.repeat(counts, axis=0), y.repeat(counts))
    wls = sm.WLS(y, sm.add_constant(X), weights=weights).fit(method="qr")
    np.testing.assert_allclose(weighted.coef_, wls.params[1:], rtol=1e-5)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6)


@pytest.mark.parametrize("solver_route", ["Cholesky", "Householder QR"])
def test_longley_to_ten_digits(solver_route, monkeypatch):
    longley = sm.datasets.longley.load_pandas()
    X, y = longley.exog.to_numpy(), longley.endog.to_numpy()
    if solver_route != "Cholesky":
        # Force the QR route, as if the condition test had declined.
        from skmle.estimators import least_squares

        monkeypatch.setattr(least_squares, "solve_normal_equations", lambda *a: None)
    model = LinearGaussianRegressor().fit(X, y)
    assert model.solver_route_ == solver_route
    estimates = np.append(model.intercept_, model.coef_)
    assert correct_digits(estimates, LONGLEY_COEF) >= 10.0


# -- SmLs09: 13 constant leading digits -------------------------------------------------
SMLS09_RESIDUAL_SD = 0.1
SMLS09_R2 = 0.470712773465067
SMLS09_RSS = 180.0


def smls09():
    data = np.loadtxt(DATA / "SmLs09.dat", skiprows=60)
    treatment, y = data[:, 0].astype(int), data[:, 1]
    assert y.shape == (18009,)
    return (treatment[:, None] == np.arange(1, 10)).astype(float), y


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_smls09_anova_keeps_its_scale(fit_intercept, recwarn):
    X, y = smls09()
    model = LinearGaussianRegressor(fit_intercept=fit_intercept).fit(X, y)
    assert not any("passes through" in str(w.message) for w in recwarn)
    n, k = X.shape
    # y = 1e12 + 0.4 is stored to 6e-5: exact arithmetic on the stored values
    # gets the residual SD and R^2 to 4.57 and 4.45 digits; the fit gets 4.56
    # and 4.45 with an intercept, 4.28 and 4.65 without (its normal equations
    # carry the raw sums, 2e15, to 0.25).
    residual_sd = np.sqrt(model.sigma2_ * n / (n - k))
    assert correct_digits(residual_sd, SMLS09_RESIDUAL_SD) > 4.0
    assert correct_digits(model.score(X, y), SMLS09_R2) > 4.0
    loglik = -0.5 * n * (np.log(2 * np.pi * SMLS09_RSS / n) + 1)
    assert model.loglik_ == pytest.approx(loglik, rel=1e-4)
