"""Least-absolute-deviation solvers against the primal LP solved by scipy's HiGHS."""

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from skmle.optim import lad
from skmle.optim.lad import (
    band_sums,
    banded_lad,
    check_sums,
    float_from_key,
    irls_sums,
    key_bucket,
    key_histogram,
    least_absolute_deviations,
    select_by_passes,
    sortable_keys,
    subgradient_lad,
    subgradient_lad_by_sums,
    subgradient_sums,
    weighted_median,
)


def primal_lp_optimum(X, y, w):
    """min sum w (u + v) s.t. X b + u - v = y, u, v >= 0: an independent formulation."""
    n, p = X.shape
    cost = np.concatenate([np.zeros(p), w, w])
    A_eq = sparse.hstack([X, sparse.eye(n), -sparse.eye(n)], format="csc")
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    result = linprog(cost, A_eq=A_eq, b_eq=y, bounds=bounds, method="highs")
    assert result.status == 0
    return result.fun


def regression_data(rng, n, p, outliers=0.05):
    X = np.column_stack([rng.normal(size=(n, p - 1)), np.ones(n)])
    y = X @ rng.normal(size=p) + rng.laplace(size=n)
    mask = rng.random(n) < outliers
    y[mask] += rng.normal(0.0, 30.0, mask.sum())
    return X, y


@pytest.mark.parametrize("n, p", [(40, 3), (300, 6)])
def test_direct_lp_reaches_the_primal_optimum(n, p):
    rng = np.random.default_rng(n)
    X, y = regression_data(rng, n, p)
    w = rng.integers(0, 4, size=n).astype(float)
    result = least_absolute_deviations(X, y, w)
    assert result.method == "lp"
    optimum = primal_lp_optimum(X, y, w)
    assert result.objective == pytest.approx(w @ np.abs(y - X @ result.coef))
    assert result.objective <= optimum * (1 + 1e-9)


def test_banded_lp_is_exact_and_widens_the_band_when_needed(monkeypatch):
    rng = np.random.default_rng(10)
    X, y = regression_data(rng, 1500, 5)
    w = rng.uniform(0.5, 2.0, size=1500)
    monkeypatch.setattr(lad.exact, "DIRECT_ROWS", 100)
    result = least_absolute_deviations(X, y, w)
    assert result.method == "irls+band lp"
    optimum = primal_lp_optimum(X, y, w)
    assert result.objective <= optimum * (1 + 1e-9)
    # A single IRLS step leaves the fit far off: signs flip and the band must grow.
    monkeypatch.setattr(lad.exact, "IRLS_MAX_ITER", 1)
    coarse = least_absolute_deviations(X, y, w)
    assert coarse.objective <= optimum * (1 + 1e-9)
    assert coarse.n_iter >= 3


def test_zero_weight_rows_are_ignored():
    rng = np.random.default_rng(11)
    X, y = regression_data(rng, 60, 3)
    w = np.ones(60)
    w[::3] = 0.0
    y_changed = y.copy()
    y_changed[::3] = 1e6
    a = least_absolute_deviations(X, y, w)
    b = least_absolute_deviations(X, y_changed, w)
    np.testing.assert_allclose(a.coef, b.coef)


def test_weighted_median():
    values = np.array([3.0, 1.0, 2.0, 10.0])
    assert weighted_median(values, np.ones(4)) == 2.0
    assert weighted_median(values, np.array([1.0, 1.0, 1.0, 5.0])) == 10.0
    assert weighted_median(values, np.array([0.0, 0.0, 1.0, 0.0])) == 2.0


def test_subgradient_approaches_the_optimum():
    rng = np.random.default_rng(12)
    X1, y = regression_data(rng, 400, 4)
    X = X1[:, :-1] * np.array([0.1, 1.0, 30.0])  # very different feature scales
    w = np.ones(400)
    optimum = primal_lp_optimum(X1, y, w) / 400
    result, coef, intercept = subgradient_lad(X, y, w, max_iter=3000, tol=0.0)
    mean_abs = np.mean(np.abs(y - X @ coef - intercept))
    assert -result.value == pytest.approx(mean_abs, rel=1e-12)
    assert mean_abs <= optimum * (1 + 1e-4)
    assert np.all(np.diff(result.history) >= 0)  # best value so far
    assert result.history.shape == (result.n_iter + 1,)


def test_subgradient_stops_when_the_best_value_stalls():
    rng = np.random.default_rng(13)
    X1, y = regression_data(rng, 200, 3)
    w = np.ones(200)
    result, _, _ = subgradient_lad(X1[:, :-1], y, w, max_iter=100_000, tol=1e-6)
    assert result.converged and result.n_iter < 100_000
    optimum = primal_lp_optimum(X1, y, w) / 200
    assert -result.value <= optimum * (1 + 1e-3)


# -- rows reached only through sums over chunks ---------------------------------------------
class ChunkPasses:
    """LADPasses over a list of row chunks, adding each chunk's sums."""

    def __init__(self, X, y, w, n_chunks):
        self.chunks = list(
            zip(
                np.array_split(X, n_chunks),
                np.array_split(y, n_chunks),
                np.array_split(w, n_chunks),
                strict=True,
            )
        )

    def irls_system(self, coef, floor):
        parts = [irls_sums(X, y, w, coef, floor) for X, y, w in self.chunks]
        return tuple(sum(values) for values in zip(*parts, strict=True))

    def threshold(self, coef, n_rows):
        def histogram(prefix, level):
            parts = [
                key_histogram(np.abs(y - X @ coef), (w > 0) * 1.0, prefix, level)
                for X, y, w in self.chunks
            ]
            return tuple(sum(values) for values in zip(*parts, strict=True))

        return select_by_passes(histogram, None, n_rows)

    def band(self, coef, threshold):
        parts = [band_sums(X, y, w, coef, threshold) for X, y, w in self.chunks]
        X, y, w, rhs = zip(*parts, strict=True)
        return (
            np.concatenate([x[0] for x in X]),
            np.concatenate([v[0] for v in y]),
            np.concatenate([v[0] for v in w]),
            sum(rhs),
        )

    def check(self, coef, threshold, candidate):
        parts = [
            check_sums(X, y, w, coef, threshold, candidate) for X, y, w in self.chunks
        ]
        n_flipped = sum(p[0] for p in parts)
        reach = np.concatenate([p[1][0] for p in parts])
        return n_flipped, float(np.max(reach, initial=0.0)), sum(p[2] for p in parts)

    def all_rows(self):
        keep = [w > 0 for _, _, w in self.chunks]
        return tuple(
            np.concatenate(
                [part[i][k] for part, k in zip(self.chunks, keep, strict=True)]
            )
            for i in range(3)
        )


def test_sortable_keys_order_like_the_floats_and_invert():
    values = np.array([3.5, -0.0, 0.0, -2.0, 1e-300, -1e300, np.inf, -np.inf, 7.0])
    keys = sortable_keys(values)
    assert np.all(np.diff(keys[np.argsort(values, kind="stable")].astype(float)) >= 0)
    order = np.argsort(keys, kind="stable")
    assert np.all(np.diff(values[order]) >= 0)
    for value, key in zip(values, keys, strict=True):
        assert float_from_key(int(key)) == value


def chunk_histogram(chunks, prefix, level):
    parts = [key_histogram(v, m, prefix, level) for v, m in chunks]
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


def chunk_gather(chunks, prefix, level):
    rows = [key_bucket(v, m, prefix, level) for v, m in chunks]
    return (
        np.concatenate([v[r] for (v, _), r in zip(chunks, rows, strict=True)]),
        np.concatenate([m[r] for (_, m), r in zip(chunks, rows, strict=True)]),
    )


@pytest.mark.parametrize("max_gather", [0, 3, 10_000])
@pytest.mark.parametrize("ties", [False, True])
def test_select_by_passes_is_the_weighted_median(max_gather, ties):
    rng = np.random.default_rng(14)
    values = rng.normal(size=1001) * 10.0 ** rng.integers(-5, 5, size=1001)
    if ties:
        values = rng.integers(-3, 3, size=1001).astype(float)
    weights = rng.integers(0, 4, size=1001).astype(float)
    chunks = list(
        zip(np.array_split(values, 7), np.array_split(weights, 7), strict=True)
    )
    median = select_by_passes(
        lambda p, lv: chunk_histogram(chunks, p, lv),
        lambda p, lv: chunk_gather(chunks, p, lv),
        0.5 * weights.sum(),
        max_gather=max_gather,
    )
    # Reference: the lower median of the rows repeated by their integer weights.
    repeated = np.sort(np.repeat(values, weights.astype(int)))
    assert median == repeated[int(np.ceil(len(repeated) / 2)) - 1]
    assert median == weighted_median(values, weights)


def test_select_by_passes_without_gather_bounds_a_count_quantile():
    rng = np.random.default_rng(15)
    values = np.abs(rng.standard_cauchy(size=5000))
    values[:10] = 0.0
    ones = np.ones(5000)
    chunks = list(zip(np.array_split(values, 4), np.array_split(ones, 4), strict=True))
    for k in (1, 10, 11, 400, 5000):
        t = select_by_passes(lambda p, lv: chunk_histogram(chunks, p, lv), None, k)
        exact = np.sort(values)[k - 1]
        assert np.count_nonzero(values <= t) >= k
        assert exact <= t <= exact * (1 + 2.0**-10) or (exact == 0 and t < 1e-300)


@pytest.mark.parametrize("irls_max_iter", [1, 20])
def test_banded_lad_over_chunks_is_exact(monkeypatch, irls_max_iter):
    rng = np.random.default_rng(16)
    X, y = regression_data(rng, 3000, 4)
    w = rng.integers(0, 3, size=3000).astype(float)
    monkeypatch.setattr(lad.exact, "IRLS_MAX_ITER", irls_max_iter)
    passes = ChunkPasses(X, y, w, n_chunks=9)
    result = banded_lad(passes, 4)
    assert result.method == "irls+band lp"
    assert result.objective == pytest.approx(w @ np.abs(y - X @ result.coef))
    keep = w > 0
    optimum = primal_lp_optimum(X[keep], y[keep], w[keep])
    assert result.objective <= optimum * (1 + 1e-9)
    in_memory = least_absolute_deviations(X, y, w)
    np.testing.assert_allclose(result.coef, in_memory.coef, rtol=1e-8)
    if irls_max_iter == 1:  # least squares is far off: signs flip, the band grows
        assert result.n_iter >= 3


def test_banded_lad_on_few_rows_solves_one_lp():
    rng = np.random.default_rng(17)
    X, y = regression_data(rng, 300, 3)
    result = banded_lad(ChunkPasses(X, y, np.ones(300), n_chunks=4), 3)
    assert result.method == "lp"
    assert result.objective <= primal_lp_optimum(X, y, np.ones(300)) * (1 + 1e-9)


def test_subgradient_by_sums_over_chunks_follows_the_in_memory_iterates():
    rng = np.random.default_rng(18)
    X1, y = regression_data(rng, 500, 4)
    X, w = X1[:, :-1] * [1.0, 5.0, 0.2] + 3.0, rng.uniform(0.5, 2.0, size=500)
    _, coef, intercept = subgradient_lad(X, y, w, max_iter=300, tol=0.0)

    def sums(coef, intercept):
        parts = [
            subgradient_sums(Xc, yc, wc, coef, intercept)
            for Xc, yc, wc in zip(
                np.array_split(X, 6),
                np.array_split(y, 6),
                np.array_split(w, 6),
                strict=True,
            )
        ]
        return tuple(sum(values) for values in zip(*parts, strict=True))

    x_mean = np.average(X, axis=0, weights=w)
    x_scale = np.sqrt(np.average((X - x_mean) ** 2, axis=0, weights=w))
    start = (np.zeros(3), weighted_median(y, w))
    result, coef_c, intercept_c = subgradient_lad_by_sums(
        sums, x_mean, x_scale, w.sum(), start, max_iter=300, tol=0.0
    )
    np.testing.assert_allclose(coef_c, coef, rtol=1e-8)
    assert intercept_c == pytest.approx(intercept, rel=1e-8)
    optimum = primal_lp_optimum(X1, y, w) / w.sum()
    assert -result.value == pytest.approx(
        np.average(np.abs(y - X @ coef_c - intercept_c), weights=w), rel=1e-12
    )
    assert -result.value <= optimum * (1 + 1e-2)


def test_lad_scaling_maps_the_optimum_back():
    rng = np.random.default_rng(40)
    X, y = regression_data(rng, 80, 3)
    w = rng.uniform(0.5, 2.0, size=80)
    X_far, y_far, w_far = X * [1e6, 1e-6, 5.0] + [3e9, 0.0, 0.0], y * 1e-100, w * 1e20
    result = least_absolute_deviations(X_far, y_far, w_far)
    # The last column (ones) became 5s: the intercept is divided by 5 and absorbs
    # the shift of the first column.
    optimum = primal_lp_optimum(X, y, w)
    assert result.objective == pytest.approx(optimum * 1e-80, rel=1e-6)
    scaling = lad.LADScaling.from_arrays(X_far, y_far, w_far)
    rows, target, weights = scaling.rows(X_far, y_far, w_far)
    # Scales are powers of two (exact divisions) within a factor sqrt(2) of the
    # spreads; only the column far from zero (3e9 +- 1e6) is centred.
    assert np.allclose(rows[:, 2], 1.0) and 0.7 < np.mean(weights) < 1.42
    assert np.all(np.log2(scaling.x_scale[:2]) % 1 == 0)
    assert abs(rows[:, 0] @ weights) < 1e-6 * len(target)
    assert scaling.x_shift[1] == 0.0 and 0.7 < np.sqrt(np.mean(rows[:, 1] ** 2)) < 1.42


def test_an_uncertified_lp_solution_is_rejected():
    rng = np.random.default_rng(41)
    X, y = regression_data(rng, 30, 2)
    w = np.ones(30)
    coef = lad.exact._dual_lp(X, y, w, np.zeros(2))
    assert coef is not None
    result = linprog(-y, A_eq=X.T, b_eq=np.zeros(2), bounds=(-1, 1), method="highs")
    assert lad.exact._certified(X, y, w, np.zeros(2), result.x, coef)
    assert not lad.exact._certified(X, y, w, np.zeros(2), result.x, coef + 0.1)
    assert not lad.exact._certified(X, y, w, np.zeros(2), 2.0 * result.x, coef)


def test_the_duality_gap_bounds_the_distance_to_the_optimum():
    rng = np.random.default_rng(42)
    X, y = regression_data(rng, 200, 3)
    w = rng.uniform(0.5, 2.0, size=200)
    optimum = primal_lp_optimum(X, y, w)
    exact = least_absolute_deviations(X, y, w).coef
    passes = lad.passes._ArrayPasses(X, y, w)
    assert lad.relative_duality_gap(passes, exact, 6) <= 1e-9
    for size in (1e-4, 1e-2):
        coef = exact + size * rng.normal(size=3)
        value = w @ np.abs(y - X @ coef)
        gap = lad.relative_duality_gap(passes, coef, 6)
        assert value - optimum <= gap * value * (1 + 1e-9) + 1e-12
    # Far from the optimum the signs outside the band are wrong: no certificate.
    assert lad.relative_duality_gap(passes, exact + 10.0, 6) == np.inf


def test_summed_passes_over_parts_with_a_rows_callback_are_exact():
    """The solver sees a sum over parts and ``rows(part)``: nothing of a model."""
    rng = np.random.default_rng(30)
    X, y = regression_data(rng, 3000, 4)
    w = rng.integers(0, 3, size=3000).astype(float)
    splits = (np.array_split(X, 7), np.array_split(y, 7), np.array_split(w, 7))
    parts = list(zip(*splits, strict=True))

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

    scaling = lad.LADScaling.from_arrays(X[w > 0], y[w > 0], w[w > 0])
    passes = lad.SummedPasses(sum_parts, lambda part: part, scaling)
    scaled = banded_lad(passes, 4)
    coef = scaling.coef(scaled.coef)
    np.testing.assert_allclose(coef, least_absolute_deviations(X, y, w).coef, rtol=1e-8)
    median = lad.weighted_median_by_passes(sum_parts, lambda part: part, w.sum())
    assert median == weighted_median(y, w)
    spread, n_rows = lad.response_spread(sum_parts, lambda part: part, median)
    assert spread == pytest.approx(w @ np.abs(y - median), rel=1e-12)
    assert n_rows == np.count_nonzero(w > 0)
