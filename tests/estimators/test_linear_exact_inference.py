"""``LinearGaussianRegressor(inference="exact")`` against statsmodels' OLS and NIST.

statsmodels' ``OLS().fit()`` is the exact small-sample inference of the Gaussian
linear model (unbiased scale RSS/(n - p), Student's t with n - p degrees of
freedom); NIST StRD certifies the standard deviations of Longley's and Filip's
estimates with the same scale. Measured agreement (relative, largest over the
parameters) against statsmodels: Longley bse 2e-13, t 3e-12, p-values 2e-12,
conf_int 6e-13 with an intercept (2e-11, 8e-11, 8e-11, 1e-10 without: there
statsmodels is the closer of the two to the exact rational answer); against
NIST's certified values Longley's bse to 12.3 digits and Filip's to 7.8 (on all
three stores; statsmodels' pinv drops a column of Filip and gets none); frequency
weights against OLS on repeated rows 9e-13, GLM with freq_weights 7e-13 (its
p-values 2e-11), WLS with the weights summing to n 4e-13.
"""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from skmle import LinearGaussianRegressor, chunked

DATA = Path(__file__).resolve().parent.parent / "data"
RTOL = 1e-8

# NIST StRD Longley, certified standard deviations of B0..B6 (s^2 = RSS/(n - p)).
LONGLEY_SE = np.array(
    [
        890420.383607373,
        84.9149257747669,
        0.334910077722432e-01,
        0.488399681651699,
        0.214274163161675,
        0.226073200069370,
        455.478499142212,
    ]
)


def correct_digits(estimate, certified):
    estimate, certified = np.atleast_1d(estimate), np.atleast_1d(certified)
    return float(np.min(-np.log10(np.abs(estimate - certified) / np.abs(certified))))


def longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


def filip():
    lines = (DATA / "nist_filip.csv").read_text().splitlines()
    certified_se = np.array([float(v) for v in lines[5].lstrip("#").split()])
    data = np.loadtxt(DATA / "nist_filip.csv", delimiter=",", skiprows=8)
    y, x = data[:, 0], data[:, 1]
    return np.column_stack([x**k for k in range(1, 11)]), y, certified_se


def in_model_order(values, names, model):
    """``values`` labelled ``names`` (a vector or a square matrix) reordered to
    ``model.param_names()``, the order of its summary and ``params_cov_``."""
    index = [list(names).index(name) for name in model.param_names()]
    values = np.asarray(values)
    return values[np.ix_(index, index)] if values.ndim == 2 else values[index]


def labels(n_features, fit_intercept=True):
    """statsmodels' parameters with the constant appended last."""
    return [f"x{j}" for j in range(n_features)] + ["intercept"] * fit_intercept


def table(model):
    """estimates, se, t, p and intervals of the summary, constant last."""
    summary = model.summary(alpha=0.1)
    return summary, summary.std_errors, summary.z, summary.p_values, summary.conf_int


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_longley_equals_statsmodels_ols(fit_intercept):
    X, y = longley()
    design = sm.add_constant(X, prepend=False) if fit_intercept else X
    reference = sm.OLS(y, design).fit()
    model = LinearGaussianRegressor(inference="exact", fit_intercept=fit_intercept).fit(
        X, y
    )
    summary, se, t, p, ci = table(model)
    names = labels(X.shape[1], fit_intercept)
    assert summary.df_resid == reference.df_resid == model.df_resid_
    np.testing.assert_allclose(se, in_model_order(reference.bse, names, model), RTOL)
    np.testing.assert_allclose(t, in_model_order(reference.tvalues, names, model), RTOL)
    np.testing.assert_allclose(p, in_model_order(reference.pvalues, names, model), RTOL)
    limits = np.asarray(reference.conf_int(alpha=0.1))
    order = [names.index(name) for name in model.param_names()]
    np.testing.assert_allclose(ci, limits[order], rtol=RTOL)
    np.testing.assert_allclose(
        model.params_cov_, in_model_order(reference.cov_params(), names, model), 1e-7
    )
    assert " t " in str(summary) and "P>|t|" in str(summary)


def test_longley_and_filip_errors_are_nists_certified_values():
    X, y = longley()
    model = LinearGaussianRegressor(inference="exact").fit(X, y)
    assert correct_digits(np.r_[model.intercept_se_, model.coef_se_], LONGLEY_SE) > 12
    X, y, certified = filip()
    for data in (X, chunked(X, 25), da.from_array(X, chunks=(30, 10))):
        target = da.from_array(y, chunks=30) if isinstance(data, da.Array) else y
        model = LinearGaussianRegressor(inference="exact").fit(data, target)
        assert correct_digits(np.r_[model.intercept_se_, model.coef_se_], certified) > 7


def test_default_stays_the_likelihoods_and_estimates_do_not_move():
    X, y = longley()
    n, p = X.shape[0], X.shape[1] + 1
    mle = LinearGaussianRegressor().fit(X, y)
    exact = LinearGaussianRegressor(inference="exact").fit(X, y)
    np.testing.assert_array_equal(mle.coef_, exact.coef_)
    assert mle.sigma2_ == exact.sigma2_ and mle.loglik_ == exact.loglik_
    np.testing.assert_allclose(exact.coef_se_, mle.coef_se_ * np.sqrt(n / (n - p)))
    assert mle.summary().df_resid is None
    z = mle.summary()
    np.testing.assert_allclose(z.p_values, 2 * stats.norm.sf(np.abs(z.z)))


def test_frequency_weights_are_repeated_rows_glm_freq_weights_and_scaled_wls():
    X, y = longley()
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 4, size=y.shape[0])
    design = sm.add_constant(X, prepend=False)
    model = LinearGaussianRegressor(inference="exact").fit(X, y, sample_weight=counts)
    se = np.r_[model.coef_se_, model.intercept_se_]
    repeated = sm.OLS(y.repeat(counts), design.repeat(counts, axis=0)).fit()
    np.testing.assert_allclose(se, repeated.bse, rtol=RTOL)
    assert model.df_resid_ == repeated.df_resid
    names = labels(X.shape[1])
    np.testing.assert_allclose(
        model.summary().p_values, in_model_order(repeated.pvalues, names, model), RTOL
    )
    # Real weights: GLM's freq_weights (df_resid = sum(w) - p) with t tests.
    weights = rng.uniform(0.5, 3.0, size=y.shape[0])
    model = LinearGaussianRegressor(inference="exact").fit(X, y, sample_weight=weights)
    glm = sm.GLM(y, design, freq_weights=weights).fit(use_t=True)
    np.testing.assert_allclose(
        np.r_[model.coef_se_, model.intercept_se_], glm.bse, RTOL
    )
    np.testing.assert_allclose(
        model.summary().p_values, in_model_order(glm.pvalues, names, model), RTOL
    )
    # WLS reads precisions: equal once the weights sum to n.
    scaled = weights * y.shape[0] / weights.sum()
    wls = sm.WLS(y, design, weights=scaled).fit()
    model = LinearGaussianRegressor(inference="exact").fit(X, y, sample_weight=scaled)
    np.testing.assert_allclose(
        np.r_[model.coef_se_, model.intercept_se_], wls.bse, RTOL
    )


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_with_a_sandwich_exact_changes_nothing_and_tests_stay_normal(cov_type):
    """As statsmodels' OLS.fit(cov_type=...), whose use_t is False by default."""
    X, y = longley()
    reference = sm.OLS(y, sm.add_constant(X, prepend=False)).fit(cov_type=cov_type)
    assert not reference.use_t
    model = LinearGaussianRegressor(inference="exact", cov_type=cov_type).fit(X, y)
    summary = model.summary()
    assert summary.df_resid is None
    names = labels(X.shape[1])
    np.testing.assert_allclose(
        summary.std_errors, in_model_order(reference.bse, names, model), RTOL
    )
    np.testing.assert_allclose(
        summary.p_values, in_model_order(reference.pvalues, names, model), RTOL
    )


def test_partial_fit_gives_the_exact_inference_of_fit():
    X, y = longley()
    whole = LinearGaussianRegressor(inference="exact").fit(X, y)
    stream = LinearGaussianRegressor(inference="exact")
    for rows in (slice(0, 10), slice(10, None)):
        stream.partial_fit(X[rows], y[rows])
    reference = sm.OLS(y, sm.add_constant(X, prepend=False)).fit()
    np.testing.assert_allclose(
        np.r_[stream.coef_se_, stream.intercept_se_], reference.bse, rtol=1e-6
    )
    assert stream.df_resid_ == whole.df_resid_ == 9.0


def test_no_residual_degrees_of_freedom_gives_nan_with_a_warning():
    X = np.array([[0.0], [1.0]])
    y = np.array([1.0, 2.5])
    with pytest.warns(UserWarning):
        model = LinearGaussianRegressor(inference="exact").fit(X, y)
    assert model.df_resid_ == 0.0
    assert np.isnan(model.coef_se_).all()
    assert model.summary().df_resid is None


def test_invalid_inference_is_refused():
    with pytest.raises(ValueError, match="inference"):
        LinearGaussianRegressor(inference="t").fit(*longley())
