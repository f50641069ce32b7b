"""LaplaceRegressor on scipy.sparse X (issue 20, item 1): the dense fit, statsmodels'
QuantReg on the densified data and an independent LP on the densified data.

The references: (1) the dense fit; (2) statsmodels' ``QuantReg(q=0.5)`` (IRLS,
``p_tol=1e-14``: some 9 digits of the optimum, its default ``vcov="robust"`` is
``cov_type="HC0"``); (3) the LAD optimum by HiGHS on the primal or dual LP over
every row (:func:`scipy.optimize.linprog`), by LP duality the least weighted sum of
absolute residuals; (4) the closed form :math:`\\hat s^2 (X_1^\\top W X_1)^{-1}`.

Where the optimum is a single point (engel; ccard with its binary OWNRENT column,
which the dual certificate below proves) any exact solver gives it. One-hot
designs of discrete responses (randhie, co2's months) have a flat edge of optima
(a level's median is an interval when its rows are even in number), and the
sparse fit returns the same point of it as the dense one: both give HiGHS the
same numbers (columns scaled by powers of two and not centred, see
:class:`~skmle.optim.lad.LADScaling`) and read residuals that are zero to
rounding as zero (:func:`~skmle.optim.lad.sparse_rows.settled_residuals`).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from scipy.optimize import linprog
from sklearn.preprocessing import OneHotEncoder

import skmle
from skmle import LaplaceRegressor
from skmle.optim import lad

COV_TYPES = ["nonrobust", "HC0", "HC1", "cluster"]


def agree(fitted, reference, rtol=1e-10):
    np.testing.assert_allclose(fitted, reference, rtol=rtol, atol=rtol)


def params(model):
    """``[intercept, coef]``, statsmodels' order with ``add_constant``."""
    return np.r_[model.intercept_, model.coef_]


def standard_errors(model):
    if not model.fit_intercept:
        return model.coef_se_
    return np.r_[model.intercept_se_, model.coef_se_]


@pytest.fixture(scope="module")
def engel():
    data = sm.datasets.engel.load_pandas().data
    return sp.csr_array(data[["income"]].to_numpy()), data["foodexp"].to_numpy()


@pytest.fixture(scope="module")
def ccard():
    """Credit card expenditure on age, income and the binary OWNRENT."""
    data = sm.datasets.ccard.load_pandas().data
    X = sp.csr_array(data[["AGE", "INCOME", "OWNRENT"]].to_numpy())
    return X, data["AVGEXP"].to_numpy()


@pytest.fixture(scope="module")
def randhie():
    """RAND health insurance: coinsurance rate and physical limitation one-hot
    (5 and 11 levels), four binary columns and the disease index; 20,190 rows,
    so the banded LP starts from an exact fit on a sample."""
    data = sm.datasets.randhie.load_pandas().data
    levels = data[["lncoins", "physlm"]].round(6)
    onehot = OneHotEncoder(drop="first", sparse_output=True).fit_transform(levels)
    numeric = data[["idp", "hlthg", "hlthf", "hlthp", "disea"]].to_numpy()
    X = sp.csr_array(sp.hstack([onehot, sp.csr_array(numeric)], format="csr"))
    groups = np.digitize(data["disea"], [5, 10, 15, 20, 30])
    return X, np.log1p(data["mdvis"].to_numpy()), groups


@pytest.fixture(scope="module")
def co2():
    """Mauna Loa CO2, weekly: month dummies and a quadratic trend (2,225 rows:
    the banded LP around IRLS)."""
    data = sm.datasets.co2.load_pandas().data.dropna()
    years = (data.index.year + data.index.day_of_year / 365.25 - 1958).to_numpy()
    month = pd.DataFrame({"month": data.index.month})
    onehot = OneHotEncoder(drop="first", sparse_output=True).fit_transform(month)
    trend = sp.csr_array(np.column_stack([years, years**2 / 10]))
    return sp.csr_array(sp.hstack([onehot, trend], format="csr")), data[
        "co2"
    ].to_numpy()


def with_constant(X):
    return sm.add_constant(X.toarray(), has_constant="add")


def primal_lad(design, y, w):
    """The LAD coefficients by HiGHS on the primal min sum w (u + v),
    design b + u - v = y (sparse constraints)."""
    n, p = design.shape
    equality = sp.hstack(
        [sp.csr_array(design), sp.eye_array(n), -sp.eye_array(n)], format="csc"
    )
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    cost = np.r_[np.zeros(p), w, w]
    solution = linprog(cost, A_eq=equality, b_eq=y, bounds=bounds, method="highs")
    assert solution.status == 0
    return solution.x[:p]


def lad_value(design, y, w):
    """min sum w |y - design b| by LP duality: HiGHS on max y'd, design'd = 0,
    |d| <= w."""
    result = linprog(
        -y,
        A_eq=design.T,
        b_eq=np.zeros(design.shape[1]),
        bounds=np.column_stack([-w, w]),
        method="highs",
    )
    assert result.status == 0
    return -result.fun


def dual_margin(design, y, w, beta):
    """The largest :math:`|d_i| / w_i` of the basic rows (the p smallest
    residuals) in the dual solution :math:`B^\\top d_B = -\\sum_N w_i
    \\mathrm{sign}(r_i) x_i`: below 1, the optimum is a single point."""
    r = y - design @ beta
    order = np.argsort(np.abs(r))
    basic, others = order[: design.shape[1]], order[design.shape[1] :]
    assert np.sum(np.abs(r) < 1e-9 * np.abs(y).max()) == design.shape[1]
    rhs = -design[others].T @ (w[others] * np.sign(r[others]))
    return float(np.max(np.abs(np.linalg.solve(design[basic].T, rhs)) / w[basic]))


def fit_pair(X, y, fmt="csr", **options):
    fit_options = {
        k: options.pop(k) for k in ("sample_weight", "groups") if k in options
    }
    sparse = LaplaceRegressor(**options).fit(X.asformat(fmt), y, **fit_options)
    dense = LaplaceRegressor(**options).fit(X.toarray(), y, **fit_options)
    return sparse, dense


def assert_same_fit(sparse, dense, rtol=1e-10):
    agree(sparse.loglik_, dense.loglik_, 1e-12)
    agree(sparse.scale_, dense.scale_, rtol)
    agree(sparse.coef_, dense.coef_, rtol)
    agree(sparse.intercept_, dense.intercept_, rtol)
    agree(standard_errors(sparse), standard_errors(dense), rtol)
    assert str(sparse.summary()) == str(dense.summary())


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_engel_sparse_equals_dense_quantreg_and_the_lp(engel, fmt, cov_type):
    X, y = engel
    groups = np.arange(len(y)) % 20 if cov_type == "cluster" else None
    options = {"groups": groups} if groups is not None else {}
    sparse, dense = fit_pair(X, y, fmt, cov_type=cov_type, **options)
    assert_same_fit(sparse, dense)
    design = with_constant(X)
    agree(params(sparse), primal_lad(design, y, np.ones(len(y))), 1e-12)
    ref = sm.QuantReg(y, design).fit(q=0.5, p_tol=1e-14)
    agree(params(sparse), ref.params, 1e-8)
    if cov_type == "HC0":  # QuantReg's default vcov="robust", kernel "epa"
        agree(standard_errors(sparse), ref.bse, 1e-8)
    if cov_type == "nonrobust":
        closed = sparse.scale_**2 * np.linalg.inv(design.T @ design)
        agree(standard_errors(sparse), np.sqrt(np.diag(closed)), 1e-12)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_a_binary_column_and_sample_weights(ccard, fmt):
    """A unique optimum with a 0/1 column: QuantReg; integer weights: the
    weighted primal LP, and the dense weighted fit."""
    X, y = ccard
    w = np.arange(len(y)) % 3 + 1.0
    design = with_constant(X)
    assert dual_margin(design, y, w, primal_lad(design, y, w)) < 1 - 1e-3
    sparse, dense = fit_pair(X, y, fmt, cov_type="HC0")
    assert_same_fit(sparse, dense)
    ref = sm.QuantReg(y, design).fit(q=0.5, p_tol=1e-14)
    agree(params(sparse), ref.params, 1e-7)
    agree(standard_errors(sparse), ref.bse, 1e-7)
    sparse, dense = fit_pair(X, y, fmt, sample_weight=w)
    assert_same_fit(sparse, dense)
    agree(params(sparse), primal_lad(design, y, w), 1e-10)
    agree(sparse.scale_ * w.sum(), lad_value(design, y, w), 1e-10)
    for cov_type in ("HC0", "HC1"):
        sparse, dense = fit_pair(X, y, fmt, sample_weight=w, cov_type=cov_type)
        assert_same_fit(sparse, dense)


def test_no_intercept_and_the_subgradient_solver(engel):
    X, y = engel
    sparse, dense = fit_pair(X, y, fit_intercept=False)
    assert_same_fit(sparse, dense)
    agree(sparse.coef_, primal_lad(X.toarray(), y, np.ones(len(y))), 1e-12)
    options = {"solver": "gd", "max_iter": 5000, "tol": 1e-7}
    sparse, dense = fit_pair(X, y, **options)
    assert sparse.converged_ and dense.converged_
    # The same iterates up to the rounding of sparse and dense products.
    agree(sparse.coef_, dense.coef_, 1e-9)
    agree(sparse.loglik_, dense.loglik_, 1e-12)
    optimum = lad_value(with_constant(X), y, np.ones(len(y)))
    assert abs(sparse.scale_ * len(y) - optimum) <= 1e-7 * optimum
    # Started at its optimum, the first certificate (after 50 steps) stops it.
    warm = LaplaceRegressor(warm_start=True, **options).fit(X, y)
    first = warm.loglik_
    warm.fit(X, y)
    assert warm.converged_ and warm.n_iter_ <= 50
    assert warm.loglik_ >= first - 1e-12 * abs(first)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_onehot_banded_lp_equals_dense_and_reaches_the_optimum(co2, cov_type):
    """2,225 rows: IRLS, a band and its LP; the optimum's value equals the LP's
    over every row, and the point of its flat edge is the dense fit's."""
    X, y = co2
    years = np.floor(X[:, [-2]].toarray().ravel()).astype(int)
    groups = {"groups": years} if cov_type == "cluster" else {}
    sparse, dense = fit_pair(X, y, "csc", cov_type=cov_type, **groups)
    assert_same_fit(sparse, dense)
    agree(sparse.scale_ * len(y), lad_value(with_constant(X), y, np.ones(len(y))))


@pytest.mark.slow
def test_onehot_sampled_lp_in_memory_chunked_and_dask(randhie):
    """20,190 rows, the sample path; chunked and Dask sparse blocks give the
    in-memory sparse fit (the same sample, the same passes)."""
    X, y, groups = randhie
    sparse, dense = fit_pair(X, y, cov_type="HC0")
    assert_same_fit(sparse, dense)
    agree(
        sparse.scale_ * len(y),
        lad_value(sp.csr_array(with_constant(X)), y, np.ones(len(y))),
    )
    blocks = da.from_array(sp.csr_matrix(X), chunks=(5000, -1), asarray=False)
    for cov_type in ("HC1", "cluster"):
        reference = LaplaceRegressor(cov_type=cov_type).fit(
            X, y, groups=groups if cov_type == "cluster" else None
        )
        chunked = LaplaceRegressor(cov_type=cov_type).fit(
            skmle.chunked(X, 5000), y, groups=groups if cov_type == "cluster" else None
        )
        on_dask = LaplaceRegressor(cov_type=cov_type).fit(
            blocks,
            da.from_array(y, chunks=5000),
            groups=groups if cov_type == "cluster" else None,
        )
        for fitted in (chunked, on_dask):
            assert_same_fit(fitted, reference)


def test_the_lad_functions_take_sparse_designs(engel):
    """:func:`least_absolute_deviations` and :func:`subgradient_lad` on a CSR
    design: the primal LP's optimum (and its value by duality)."""
    X, y = engel
    w = np.ones(len(y))
    design = with_constant(X)
    exact = lad.least_absolute_deviations(sp.csr_array(design), y, w)
    agree(exact.coef, primal_lad(design, y, w), 1e-12)
    agree(exact.objective, lad_value(design, y, w), 1e-12)
    result, coef, intercept = lad.subgradient_lad(X, y, w, max_iter=5000, tol=1e-8)
    assert result.converged
    assert w @ np.abs(y - X @ coef - intercept) <= exact.objective * (1 + 1e-8)
