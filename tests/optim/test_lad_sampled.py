"""The banded LAD solver started from an exact fit on a sample (issue 19).

The reference is the optimum of the dual LP :math:`\\max y^\\top d` subject to
:math:`X^\\top d = 0`, :math:`|d_i| \\le w_i`, solved directly on every row by
scipy's HiGHS (by LP duality its value is the least sum of weighted absolute
residuals); optima may be several points, so objectives are compared, not
coefficients, except between stores of the same rows (the same path).
"""

import dask
import dask.array as da
import numpy as np
import pytest
from scipy.optimize import linprog

from skmle import LaplaceRegressor, chunked
from skmle.optim import lad
from skmle.optim.lad import banded_lad, least_absolute_deviations

SHAPES = ("laplace", "t(1.5)", "one-sided outliers")


def lad_optimum(X, y, w):
    """The optimum by LP duality: HiGHS on the dual over all rows."""
    keep = w > 0
    X, y, w = X[keep], y[keep], w[keep]
    result = linprog(
        -y,
        A_eq=X.T,
        b_eq=np.zeros(X.shape[1]),
        bounds=np.column_stack([-w, w]),
        method="highs",
    )
    assert result.status == 0
    return -result.fun


def shaped_data(shape, n, p, seed):
    """A design with an intercept column and errors of one of the issue's shapes."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.standard_normal((n, p - 1)), np.ones(n)])
    if shape == "laplace":
        noise = rng.laplace(size=n)
    elif shape == "t(1.5)":
        noise = rng.standard_t(1.5, size=n)
    else:
        noise = rng.laplace(size=n) + 50.0 * (rng.random(n) < 0.05)
    return X, X @ rng.standard_normal(p) + noise


def assert_exact(result, X, y, w):
    assert result.objective == pytest.approx(w @ np.abs(y - X @ result.coef))
    assert result.objective <= lad_optimum(X, y, w) * (1 + 1e-9)


@pytest.fixture
def small_sample_path(monkeypatch):
    """The sample path on a few thousand rows (and a direct LP on 100)."""
    monkeypatch.setattr(lad.exact, "DIRECT_ROWS", 100)
    monkeypatch.setattr(lad.exact, "SAMPLE_ROWS", 500)


@pytest.mark.parametrize("shape", SHAPES)
def test_small_data_of_each_shape(shape, small_sample_path):
    X, y = shaped_data(shape, 3000, 4, seed=1)
    w = np.ones(3000)
    result = least_absolute_deviations(X, y, w)
    assert result.method == "sample+band lp"
    assert_exact(result, X, y, w)


@pytest.mark.parametrize("shape", SHAPES)
def test_medium_data_of_each_shape(shape):
    X, y = shaped_data(shape, 12_000, 8, seed=2)
    w = np.ones(12_000)
    result = least_absolute_deviations(X, y, w)
    assert result.method == "sample+band lp"
    assert_exact(result, X, y, w)


def test_high_leverage_rows_that_pull_the_fit(small_sample_path):
    """Rows far out in X, on another plane: the sample rarely holds them, their
    residuals at the sample's fit are off by much, and their bands are wide."""
    X, y = shaped_data("laplace", 4000, 4, seed=3)
    rng = np.random.default_rng(4)
    far = rng.choice(4000, size=12, replace=False)
    X[far, :3] *= 300.0
    y[far] = X[far] @ np.array([5.0, -5.0, 5.0, 0.0])
    w = np.ones(4000)
    assert_exact(least_absolute_deviations(X, y, w), X, y, w)


def test_weights_zero_and_uneven(small_sample_path):
    X, y = shaped_data("one-sided outliers", 4000, 4, seed=5)
    rng = np.random.default_rng(6)
    w = rng.integers(0, 4, size=4000) * rng.uniform(0.5, 2.0, size=4000)
    result = least_absolute_deviations(X, y, w)
    assert result.method == "sample+band lp"
    assert_exact(result, X, y, w)


def test_a_narrow_band_is_repaired_and_widened(small_sample_path, monkeypatch):
    """Bands far too narrow: folded rows flip (repaired when few, the band doubled
    when many); the answer is still exact."""
    X, y = shaped_data("t(1.5)", 3000, 4, seed=7)
    w = np.ones(3000)
    wide = least_absolute_deviations(X, y, w)
    monkeypatch.setattr(lad.exact, "BAND_WIDTH", 0.05)
    narrow = least_absolute_deviations(X, y, w)
    assert narrow.n_iter > wide.n_iter
    assert_exact(narrow, X, y, w)


def test_badly_scaled_rows_on_the_sample_path(small_sample_path):
    """Issue 13's cases (an offset of 3e9, weights of 1e20, values of 1e-100) on the
    sample path: the optimum maps by equivariance."""
    X, y = shaped_data("one-sided outliers", 3000, 3, seed=8)
    w = np.random.default_rng(9).uniform(0.5, 2.0, size=3000)
    far = least_absolute_deviations(
        X * [1e6, 1e-6, 5.0] + [3e9, 0.0, 0.0], y * 1e-100, w * 1e20
    )
    assert far.method == "sample+band lp"
    assert far.objective == pytest.approx(lad_optimum(X, y, w) * 1e-80, rel=1e-6)


def test_the_fold_of_a_flipped_row_is_undone():
    X = np.column_stack([np.arange(6.0), np.ones(6)])
    y = np.arange(6.0) + np.array([0, 0, 0, 0, 3.0, -3.0])
    fold = lad.Fold(np.array([1.0, 0.0]), 1.0)
    np.testing.assert_array_equal(
        lad.fold_signs(X, y, np.ones(6), fold), [0, 0, 0, 0, 1, -1]
    )
    # At a candidate y = 2 x, the row folded above (residual 3 at x = 4) is below.
    count, objective, *rows = lad.fold_check_sums(
        X, y, np.ones(6), fold, np.array([2.0, 0.0]), limit=5
    )
    assert count == 1 and objective == pytest.approx(np.abs(y - 2 * X[:, 0]).sum())
    np.testing.assert_array_equal(rows[0][0], X[[4]])
    repaired = fold.repairing(np.array([2.0, 0.0]))
    np.testing.assert_array_equal(
        lad.fold_signs(X, y, np.ones(6), repaired), [0, 0, 0, 0, 0, -1]
    )
    # Rows of a part with more flips than the limit are not gathered.
    assert lad.fold_check_sums(X, y, np.ones(6), fold, np.array([2.0, 0.0]), 0)[2][
        0
    ].shape == (0, 2)


def test_summed_passes_gather_the_same_band_as_arrays(small_sample_path):
    """Parts reached only through a sum: the same path, hence the same vertex."""
    X, y = shaped_data("one-sided outliers", 3000, 4, seed=10)
    w = np.random.default_rng(11).integers(0, 3, size=3000).astype(float)
    parts = list(zip(*(np.array_split(a, 7) for a in (X, y, w)), strict=True))

    def sum_parts(per_part):
        results = [per_part(part) for part in parts]
        total = results[0]
        for result in results[1:]:
            total = (
                tuple(a + b for a, b in zip(total, result, strict=True))
                if isinstance(total, tuple)
                else total + result
            )
        return total

    keep = w > 0

    def sample(n_rows):
        rows = lad.passes._ArrayPasses(X[keep], y[keep], w[keep]).sample(n_rows)
        return rows

    passes = lad.SummedPasses(sum_parts, lambda part: part, sample=sample)
    summed = banded_lad(passes, 4)
    in_memory = banded_lad(lad.passes._ArrayPasses(X[keep], y[keep], w[keep]), 4)
    assert summed.method == in_memory.method == "sample+band lp"
    np.testing.assert_allclose(summed.coef, in_memory.coef, rtol=1e-12)
    assert_exact(summed, X, y, w)


def test_chunked_and_dask_fits_equal_the_in_memory_fit(capsys):
    X1, y = shaped_data("one-sided outliers", 20_000, 6, seed=12)
    X = X1[:, :-1]
    w = np.random.default_rng(13).uniform(0.5, 2.0, size=20_000)
    reference = LaplaceRegressor(verbose=1).fit(X, y, sample_weight=w)
    assert "sample+band lp" in capsys.readouterr().out
    objective = w @ np.abs(y - reference.predict(X))
    assert objective <= lad_optimum(X1, y, w) * (1 + 1e-9)
    on_chunks = LaplaceRegressor().fit(chunked(X, 3001), y, sample_weight=w)
    with dask.config.set(scheduler="threads"):
        on_dask = LaplaceRegressor().fit(
            da.from_array(X, chunks=(4500, 5)),
            da.from_array(y, chunks=4500),
            sample_weight=da.from_array(w, chunks=4500),
        )
    for model in (on_chunks, on_dask):
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9)
        assert model.intercept_ == pytest.approx(reference.intercept_, rel=1e-9)
        assert model.scale_ == pytest.approx(reference.scale_, rel=1e-10)


def test_tied_responses_many_optimal_rows(small_sample_path):
    """Integer responses: many rows sit on the fit, the interior point leaves their
    signs open, and the vertex is still checked (objectives, not coefficients)."""
    X, y = shaped_data("laplace", 4000, 3, seed=14)
    X[:, :2] = np.round(X[:, :2])
    y = np.round(y)
    w = np.ones(4000)
    assert_exact(least_absolute_deviations(X, y, w), X, y, w)


def test_interior_point_settles_the_band_of_a_large_lp():
    """Above INTERIOR_ROWS the band LP starts from skmle's interior-point method;
    its vertex is the LP optimum."""
    X, y = shaped_data("t(1.5)", 3000, 5, seed=15)
    w = np.random.default_rng(16).uniform(0.5, 2.0, size=3000)
    coef = lad.interior.interior_point_lad(X, y, w, np.zeros(5))
    assert w @ np.abs(y - X @ coef) <= lad_optimum(X, y, w) * (1 + 1e-8)
    vertex = lad.interior.interior_then_vertex(
        X, y, w, np.zeros(5), lad.exact._vertex_lp
    )
    assert w @ np.abs(y - X @ vertex) <= lad_optimum(X, y, w) * (1 + 1e-12)
