"""LaplaceRegressor's ``cov_type`` against statsmodels' QuantReg on engel.

QuantReg solves median regression by iteratively reweighted least squares, which
stops near the optimum (its default ``p_tol=1e-6`` leaves the intercept 1e-7 from
it, ``p_tol=1e-14`` 5e-9), and its standard errors depend on the residuals at its
estimate. The references are therefore (1) QuantReg with ``p_tol=1e-14``, (2)
statsmodels' own pieces (``hall_sheather``, its Epanechnikov kernel,
``np.percentile`` and its ``vcov="robust"`` formula) evaluated at the exact LAD
optimum found by an independent LP (:func:`scipy.optimize.linprog` on the primal).
Measured (relative): coefficients 7e-16 from that LP; HC0 standard errors 8.3e-10
from (1) (1.0e-8 from QuantReg's defaults) and 4e-15 (covariance) from (2).
"""

import dask.array as da
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import linprog
from statsmodels.regression import quantile_regression as qr

from skmle import LaplaceRegressor, chunked


def engel():
    data = sm.datasets.engel.load_pandas().data
    return data[["income"]].to_numpy(float), data["foodexp"].to_numpy(float)


def exact_lad(design, y):
    """The LAD optimum by the primal LP min sum(u + v), design b + u - v = y."""
    n, p = design.shape
    cost = np.r_[np.zeros(p), np.ones(2 * n)]
    equality = np.hstack([design, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    solution = linprog(cost, A_eq=equality, b_eq=y, bounds=bounds, method="highs")
    return solution.x[:p]


def statsmodels_robust_covariance(design, y, beta):
    """statsmodels' QuantReg vcov="robust" at q = 0.5, evaluated at ``beta``."""
    n = len(y)
    e = y - design @ beta
    iqr = np.percentile(e, 75) - np.percentile(e, 25)
    h = qr.hall_sheather(n, 0.5)
    h = min(np.std(y), iqr / 1.34) * (stats.norm.ppf(0.5 + h) - stats.norm.ppf(0.5 - h))
    density = np.sum(qr.kernels["epa"](e / h)) / (n * h)
    d = np.where(e > 0, (0.5 / density) ** 2, (0.5 / density) ** 2)
    bread = np.linalg.inv(design.T @ design)
    return bread @ (design.T * d) @ design @ bread, density, h


def in_model_order(values, names, model):
    """``values`` labelled ``names`` (a vector or a square matrix) reordered to
    ``model.param_names()``, the order of its summary and ``params_cov_``."""
    index = [list(names).index(name) for name in model.param_names()]
    values = np.asarray(values)
    return values[np.ix_(index, index)] if values.ndim == 2 else values[index]


NAMES = ["x0", "intercept"]  # the design [income, 1]


def test_the_engel_optimum_is_unique_and_equals_an_independent_lp():
    X, y = engel()
    design = np.column_stack([X, np.ones(len(y))])
    model = LaplaceRegressor().fit(X, y)
    beta = np.r_[model.coef_, model.intercept_]
    np.testing.assert_allclose(beta, exact_lad(design, y), rtol=1e-12)
    # Unique: p residuals are zero, and the dual values of those basic rows,
    # which solve B^T d = -sum_{others} sign(r) x, lie strictly inside (-1, 1).
    r = y - design @ beta
    basic = np.argsort(np.abs(r))[:2]
    others = np.setdiff1d(np.arange(len(y)), basic)
    dual = np.linalg.solve(design[basic].T, -design[others].T @ np.sign(r[others]))
    assert np.all(np.abs(dual) < 1 - 1e-3)


def test_hc0_equals_quantreg():
    X, y = engel()
    design = sm.add_constant(X)
    reference = sm.QuantReg(y, design).fit(q=0.5, p_tol=1e-14, max_iter=5000)
    model = LaplaceRegressor(cov_type="HC0").fit(X, y)
    se = np.r_[model.intercept_se_, model.coef_se_]
    np.testing.assert_allclose(se, reference.bse, rtol=1e-8)
    assert model.median_density_ == pytest.approx(1 / reference.sparsity, rel=1e-8)
    assert model.bandwidth_ == pytest.approx(reference.bandwidth, rel=1e-8)
    assert model.summary().stats["covariance"] == "HC0"
    # The finding: the Laplace model's errors are 29% smaller here.
    default = LaplaceRegressor().fit(X, y)
    assert default.coef_se_[0] / model.coef_se_[0] == pytest.approx(0.714, abs=0.01)


def test_hc0_is_statsmodels_formula_at_the_exact_optimum():
    X, y = engel()
    design = np.column_stack([X, np.ones(len(y))])
    covariance, density, bandwidth = statsmodels_robust_covariance(
        design, y, exact_lad(design, y)
    )
    model = LaplaceRegressor(cov_type="HC0").fit(X, y)
    np.testing.assert_allclose(
        model.params_cov_, in_model_order(covariance, NAMES, model), rtol=1e-10
    )
    assert model.median_density_ == pytest.approx(density, rel=1e-12)
    assert model.bandwidth_ == pytest.approx(bandwidth, rel=1e-12)


def test_hc1_and_cluster_corrections():
    X, y = engel()
    n, p = len(y), 2
    hc0 = LaplaceRegressor(cov_type="HC0").fit(X, y)
    hc1 = LaplaceRegressor(cov_type="HC1").fit(X, y)
    np.testing.assert_allclose(hc1.params_cov_, hc0.params_cov_ * n / (n - p), 1e-12)
    groups = np.arange(n) % 7
    model = LaplaceRegressor(cov_type="cluster").fit(X, y, groups=groups)
    design = np.column_stack([X, np.ones(n)])
    beta = np.r_[model.coef_, model.intercept_]
    # psi(r) = 1/2 - 1{r < 0}; the rows the fit passes through count as zero.
    r = y - design @ beta
    psi = np.where(r < -1e-9, -0.5, 0.5)
    sums = np.array([design[groups == g].T @ psi[groups == g] for g in range(7)])
    bread = np.linalg.inv(hc0.median_density_ * design.T @ design)
    expected = bread @ sums.T @ sums @ bread * (7 / 6) * (n - 1) / (n - p)
    np.testing.assert_allclose(
        model.params_cov_, in_model_order(expected, NAMES, model), rtol=1e-10
    )


def test_integer_weights_are_repeated_rows():
    X, y = engel()
    counts = np.random.default_rng(1).integers(1, 4, size=len(y))
    weighted = LaplaceRegressor(cov_type="HC0").fit(X, y, sample_weight=counts)
    repeated = LaplaceRegressor(cov_type="HC0").fit(
        X.repeat(counts, axis=0), y.repeat(counts)
    )
    np.testing.assert_allclose(weighted.params_cov_, repeated.params_cov_, rtol=1e-9)
    assert weighted.bandwidth_ == pytest.approx(repeated.bandwidth_, rel=1e-12)


def test_dask_and_chunked_data_give_the_in_memory_covariance():
    X, y = engel()
    expected = LaplaceRegressor(cov_type="HC1").fit(X, y).params_cov_
    for data, target in (
        (chunked(X, 50), y),
        (da.from_array(X, chunks=(60, 1)), da.from_array(y, chunks=60)),
    ):
        model = LaplaceRegressor(cov_type="HC1").fit(data, target)
        np.testing.assert_allclose(model.params_cov_, expected, rtol=1e-9)


def test_an_interpolating_fit_has_no_density_and_nan_errors():
    X = np.arange(5.0)[:, None]
    with pytest.warns(UserWarning):
        model = LaplaceRegressor(cov_type="HC0").fit(X, 2 * X[:, 0] + 1)
    assert np.isnan(model.coef_se_).all()
