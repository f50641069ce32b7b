"""Badly scaled data read in chunks: the same answers as the well-scaled fit.

The reference is scikit-learn's QuantileRegressor (HiGHS on the primal LP) and
statsmodels' OLS on the well-scaled data, mapped by equivariance.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import QuantileRegressor

from skmle import LaplaceRegressor, LinearGaussianRegressor, chunked


def data(n):
    rng = np.random.default_rng(50)
    X = rng.normal(size=(n, 2))
    return X, X @ [1.0, -2.0] + 3.0 + rng.laplace(size=n)


@pytest.mark.parametrize("n", [300, 3000])  # one LP, and IRLS plus the banded LP
@pytest.mark.parametrize(
    "case", ["weights 1e20", "y 1e150", "X + 1e10", "weights 1e-12"]
)
def test_chunked_laplace_on_badly_scaled_data(case, n):
    X, y = data(n)
    reference = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    coef, intercept = reference.coef_, reference.intercept_
    weights = None
    if case == "weights 1e20":
        weights = np.full(n, 1e20)
    elif case == "weights 1e-12":
        weights = np.full(n, 1e-12)
    elif case == "y 1e150":
        y, coef, intercept = y * 1e150, coef * 1e150, intercept * 1e150
    else:
        X, intercept = X + 1e10, intercept - 1e10 * coef.sum()
    model = LaplaceRegressor().fit(chunked(X, 700), y, sample_weight=weights)
    rtol = 1e-5 if case == "X + 1e10" else 1e-7
    np.testing.assert_allclose(model.coef_, coef, rtol=rtol)
    assert model.intercept_ == pytest.approx(intercept, rel=rtol)
    assert model.converged_


def test_chunked_gaussian_ignores_an_offset_in_y():
    X, y = data(2000)
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    model = LinearGaussianRegressor().fit(chunked(X, 300), y + 1.7e9)
    assert model.sigma2_ == pytest.approx(ols.ssr / 2000, rel=1e-5)
    np.testing.assert_allclose(model.coef_, ols.params[1:], rtol=1e-6)
