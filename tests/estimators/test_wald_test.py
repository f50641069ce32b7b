"""``wald_test`` and ``f_test`` against statsmodels' ``wald_test(use_f=False)`` and
``f_test`` on its bundled data.

skmle's default covariance of the Gaussian linear model is the MLE's (scale
RSS/n), so the Longley comparison hands statsmodels its ``cov_params()`` times
(n - p)/n; with ``cov_type="HC0"`` both use the same definition. Measured
agreement (relative, statistic / p-value): Longley chi2 1e-12 / 2e-11 (MLE
scale) and 7e-11 / 1.5e-9 (HC0, p = 1e-12), F 1e-12 / 4e-12; Spector Logit 1.5e-13
/ 1e-13 (nonrobust and HC0, chi2 and F); Grunfeld OLS clustered by firm 2e-14 /
9e-13; anes96 MNLogit 2e-12 / 2e-11; ``inference="exact"`` (unbiased scale, F
by default) against ``f_test`` 1e-12 / 3e-12, with HC0/HC1 (``use_t=True``) 7e-11
/ 2e-10
(restrictions on the baseline-class coefficients written on skmle's symmetric
ones).
"""

import numpy as np
import pytest
from scipy import stats

from skmle import LinearGaussianRegressor, LogisticGD

sm = pytest.importorskip("statsmodels.api")

RTOL = 1e-8
PVALUE_RTOL = 1e-7  # a tiny p-value multiplies the statistic's relative error by W/2


def _longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog, data.endog


def _spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog


def _ols(X, y, **fit):
    # The constant first, as skmle's param_names() order it.
    return sm.OLS(y, sm.add_constant(X)).fit(**fit)


def _assert_same_test(result, reference, distribution="chi2"):
    assert result.distribution == distribution
    assert result.statistic == pytest.approx(float(reference.statistic), rel=RTOL)
    assert result.pvalue == pytest.approx(float(reference.pvalue), rel=PVALUE_RTOL)
    # statsmodels' chi2 result keeps its degrees of freedom in df_denom.
    df = reference.df_num if distribution == "F" else reference.df_denom
    assert result.df == pytest.approx(float(df))


# GNP = 0 and UNEMP = ARMED, in the order of param_names (the intercept first).
LONGLEY_R = np.array(
    [[0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, -1, 0, 0]],
    dtype=float,
)


def test_longley_wald_test_is_statsmodels_with_the_mle_scale():
    X, y = _longley()
    n, p = X.shape[0], X.shape[1] + 1
    model = LinearGaussianRegressor().fit(X, y)
    reference = _ols(X, y)
    expected = reference.wald_test(
        LONGLEY_R, cov_p=reference.cov_params() * (n - p) / n, use_f=False, scalar=True
    )
    _assert_same_test(model.wald_test(LONGLEY_R), expected)
    by_names = model.wald_test("GNP = 0, UNEMP = ARMED")
    assert by_names.statistic == pytest.approx(expected.statistic, rel=RTOL)
    # The F form: statsmodels' f_test with df_resid = n - p.
    f_expected = reference.f_test(LONGLEY_R, cov_p=reference.cov_params() * (n - p) / n)
    f_result = model.f_test(LONGLEY_R)
    _assert_same_test(f_result, f_expected, "F")
    assert f_result.df_denom == reference.df_resid


def test_longley_hc0_wald_test_is_statsmodels_hc0():
    X, y = _longley()
    model = LinearGaussianRegressor(cov_type="HC0").fit(X, y)
    expected = _ols(X, y, cov_type="HC0").wald_test(LONGLEY_R, use_f=False, scalar=True)
    _assert_same_test(model.wald_test(["GNP", "UNEMP - ARMED = 0"]), expected)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_spector_logit_wald_and_f_tests_are_statsmodels(cov_type):
    X, y = _spector()
    model = LogisticGD(tol=1e-10, cov_type=cov_type).fit(X, y)
    reference = sm.Logit(y, sm.add_constant(X)).fit(
        disp=0, method="newton", tol=1e-12, cov_type=cov_type
    )
    assert model.param_names() == ["intercept", "GPA", "TUCE", "PSI"]
    R = np.array([[0, 0, 1, 0], [0, 1, 0, -2]], dtype=float)
    q = np.array([0.0, 0.5])
    expected = reference.wald_test((R, q), use_f=False, scalar=True)
    _assert_same_test(model.wald_test(R, q), expected)
    assert model.wald_test((R, q)).statistic == model.wald_test(R, q).statistic
    by_names = model.wald_test("TUCE = 0, GPA - 2*PSI = 0.5")
    assert by_names.statistic == pytest.approx(expected.statistic, rel=RTOL)
    _assert_same_test(model.f_test(R, q), reference.f_test((R, q)), "F")


def test_mnlogit_wald_test_on_baseline_coefficients_is_statsmodels():
    data = sm.datasets.anes96.load_pandas().data
    X = data[["logpopul", "selfLR", "age", "educ", "income"]]
    y = data["PID"].astype(int)
    model = LogisticGD(tol=1e-10).fit(X, y)
    reference = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(
        disp=0, method="newton", tol=1e-12, maxiter=100
    )
    # statsmodels' parameters: class after class (1..6), the constant last.
    index = list(reference.cov_params().index)
    R = np.zeros((3, len(index)))
    R[0, index.index(("1", "selfLR"))] = 1.0
    R[1, index.index(("2", "selfLR"))] = 1.0
    R[1, index.index(("1", "selfLR"))] = -1.0
    R[2, index.index(("3", "age"))] = 1.0
    expected = reference.wald_test(R, use_f=False, scalar=True)
    result = model.wald_test(
        "1:selfLR - 0:selfLR = 0, 2:selfLR = 1:selfLR, 3:age - 0:age = 0"
    )
    _assert_same_test(result, expected)


def test_chi2_p_value_is_scipy_and_a_single_restriction_is_the_squared_z():
    X, y = _spector()
    model = LogisticGD(tol=1e-10).fit(X, y)
    result = model.wald_test("PSI = 0")
    z = model.coef_[0, 2] / model.coef_se_[0, 2]  # PSI
    assert result.statistic == pytest.approx(z**2, rel=1e-12)
    assert result.pvalue == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    assert "chi2" in str(result)


@pytest.mark.parametrize(
    ("restrictions", "q", "match"),
    [
        ("GPA * PSI = 0", None, "linear"),
        ("nope = 0", None, "Cannot read"),
        ("GPA = 0", [1.0], "give q only"),
        (np.ones((1, 3)), None, "one column per parameter"),
        (np.eye(4)[[1]], [1.0, 2.0], "one value per restriction"),
        ("GPA = 0, 2*GPA = 0", None, "singular"),
    ],
)
def test_bad_restrictions_raise_a_clear_value_error(restrictions, q, match):
    X, y = _spector()
    model = LogisticGD(tol=1e-10).fit(X, y)
    with pytest.raises(ValueError, match=match):
        model.wald_test(restrictions, q)


def test_a_multinomial_restriction_on_the_flat_direction_is_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 1))
    y = np.argmax(X @ [[0.0, 1.0, -1.0]] + rng.gumbel(size=(200, 3)), axis=1)
    model = LogisticGD().fit(X, y)
    # The three sum-to-zero coefficients of x0 add up to zero identically.
    with pytest.raises(ValueError, match="singular"):
        model.wald_test("0:x0 = 0, 1:x0 = 0, 2:x0 = 0")


def test_cluster_wald_test_is_statsmodels_cluster_on_grunfeld():
    data = sm.datasets.grunfeld.load_pandas().data
    X, y = data[["value", "capital"]], data["invest"]
    groups = data["firm"].to_numpy(str)
    model = LinearGaussianRegressor(cov_type="cluster").fit(X, y, groups=groups)
    reference = sm.OLS(y, sm.add_constant(X, prepend=False)).fit(
        cov_type="cluster",
        cov_kwds={"groups": data["firm"].astype("category").cat.codes},
    )
    R = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, 0.0]])
    expected = reference.wald_test(R, use_f=False, scalar=True)
    _assert_same_test(model.wald_test("value = capital, capital = 0"), expected)


def test_exact_inference_gives_statsmodels_f_test_and_t_intervals_on_longley():
    X, y = _longley()
    model = LinearGaussianRegressor(inference="exact").fit(X, y)
    reference = _ols(X, y)
    result = model.wald_test(LONGLEY_R)  # the F form by default
    _assert_same_test(result, reference.f_test(LONGLEY_R), "F")
    assert result.df_denom == reference.df_resid
    chi2 = model.wald_test(LONGLEY_R, use_f=False)
    expected = reference.wald_test(LONGLEY_R, use_f=False, scalar=True)
    _assert_same_test(chi2, expected)
    np.testing.assert_allclose(model.conf_int(), reference.conf_int(), rtol=1e-8)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_f_test_with_a_sandwich_is_statsmodels_use_t(cov_type):
    X, y = _longley()
    model = LinearGaussianRegressor(inference="exact", cov_type=cov_type).fit(X, y)
    reference = _ols(X, y, cov_type=cov_type, use_t=True)
    _assert_same_test(model.f_test(LONGLEY_R), reference.f_test(LONGLEY_R), "F")
