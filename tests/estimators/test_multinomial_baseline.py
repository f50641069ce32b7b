"""``LogisticGD.baseline_coef``: the multinomial coefficients against a baseline
class, equal to statsmodels' ``MNLogit`` on its anes96 data (party identification
on logpopul, selfLR, age, educ, income, as in statsmodels' documentation).

Measured agreement (relative, largest over the 36 parameters): params 1.2e-10,
bse 5e-11 (nonrobust) and 1e-10 (HC0); covariance, each entry's error relative
to the product of the two standard errors, 9e-11 (nonrobust) and 2e-10 (HC0).
"""

import numpy as np
import pytest

from skmle import LogisticGD

sm = pytest.importorskip("statsmodels.api")

FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]


@pytest.fixture(scope="module")
def anes96():
    data = sm.datasets.anes96.load_pandas().data
    return data[FEATURES], data["PID"].astype(int)


def _mnlogit(X, y, **fit):
    return sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(
        disp=0, method="newton", tol=1e-12, maxiter=100, **fit
    )


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_baseline_coefficients_are_statsmodels_mnlogit(anes96, cov_type):
    X, y = anes96
    model = LogisticGD(tol=1e-10, cov_type=cov_type).fit(X, y)
    reference = _mnlogit(X, y, cov_type=cov_type)
    result = model.baseline_coef()
    assert result.baseline == 0
    assert list(result.classes) == [1, 2, 3, 4, 5, 6]
    # MNLogit's params: one column per class, the constant last (prepend=False).
    params = np.asarray(reference.params)
    np.testing.assert_allclose(result.coef, params[:-1].T, rtol=1e-6)
    np.testing.assert_allclose(result.intercept, params[-1], rtol=1e-6)
    bse = np.asarray(reference.bse)
    np.testing.assert_allclose(result.coef_se, bse[:-1].T, rtol=1e-6)
    np.testing.assert_allclose(result.intercept_se, bse[-1], rtol=1e-6)
    cov = reference.cov_params().to_numpy()
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    np.testing.assert_allclose(result.params_cov / scale, cov / scale, atol=1e-8)
    expected_names = [f"{k}:{f}" for k, f in reference.cov_params().index]
    assert result.names == [n.replace(":const", ":intercept") for n in expected_names]


def test_another_baseline_is_a_refit_of_statsmodels_on_relabelled_classes(anes96):
    X, y = anes96
    model = LogisticGD(tol=1e-10).fit(X, y)
    result = model.baseline_coef(baseline=3)
    # MNLogit takes the lowest label as its baseline: relabel 3 to -1.
    reference = _mnlogit(X, y.where(y != 3, -1))
    params, bse = np.asarray(reference.params), np.asarray(reference.bse)
    np.testing.assert_allclose(result.coef, params[:-1].T, rtol=1e-6)
    np.testing.assert_allclose(result.coef_se, bse[:-1].T, rtol=1e-6)
    np.testing.assert_allclose(result.intercept_se, bse[-1], rtol=1e-6)
    assert list(result.classes) == [0, 1, 2, 4, 5, 6]


def test_binary_baseline_is_the_coefficients_or_their_negation():
    data = sm.datasets.spector.load_pandas()
    model = LogisticGD(tol=1e-10).fit(data.exog, data.endog)
    reference = sm.Logit(data.endog, sm.add_constant(data.exog, prepend=False)).fit(
        disp=0, method="newton", tol=1e-12
    )
    same = model.baseline_coef()
    np.testing.assert_allclose(same.params, reference.params, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(same.params_cov)), reference.bse, 1e-8)
    flipped = model.baseline_coef(baseline=1.0)
    np.testing.assert_allclose(flipped.params, -np.asarray(reference.params), 1e-8)
    assert flipped.names[0] == "0.0:GPA"
    with pytest.raises(ValueError, match="not one of the classes"):
        model.baseline_coef(baseline=7)
