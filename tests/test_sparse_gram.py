"""The sparse weighted Gram matrix against numpy's dense product, for every route."""

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from sklearn.preprocessing import OneHotEncoder

from skmle import _sparse_gram
from skmle._sparse_gram import (
    canonical_csr,
    pair_gram,
    pair_route_pays,
    product_gram,
    sparse_gram,
)
from skmle._sparse_groups import grouped_gram, one_hot_groups

ROUTES = {"pair": pair_gram, "product": product_gram}


def dense_reference(X, factor):
    """X^T diag(f) X by numpy on the dense matrix (independent of the routes)."""
    A = X.toarray()
    return A.T @ (factor[:, None] * A)


def assert_gram(G, X, factor, symmetric=True):
    """Equal to the dense product to 1e-12 (relative to its largest entry), and
    exactly symmetric (scipy's product route is only to rounding)."""
    reference = dense_reference(X, factor)
    scale = max(np.abs(reference).max(), 1.0)
    np.testing.assert_allclose(G, reference, rtol=0, atol=1e-12 * scale)
    if symmetric:
        np.testing.assert_array_equal(G, G.T)
    else:
        np.testing.assert_allclose(G, G.T, rtol=0, atol=1e-14 * scale)


def random_csr(n, d, density, seed):
    rng = np.random.default_rng(seed)
    X = sp.random_array((n, d), density=density, format="csr", rng=rng)
    X.data = rng.standard_normal(X.nnz)
    return X


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "shape, density", [((300, 40), 0.1), ((50, 7), 0.6), ((200, 1), 0.5)]
)
def test_every_route_equals_the_dense_product(route, shape, density):
    X = random_csr(*shape, density, seed=1)
    factor = np.random.default_rng(2).standard_normal(shape[0])  # any sign
    G = ROUTES[route](canonical_csr(X), factor)
    assert_gram(G, X, factor, symmetric=route != "product")


@pytest.mark.parametrize("route", ROUTES)
def test_empty_rows_a_dense_row_and_no_rows(route):
    X = sp.lil_array((6, 5))
    X[1, :] = np.arange(1.0, 6.0)  # a dense row
    X[4, 3] = -2.0  # rows 0, 2, 3, 5 empty
    X = sp.csr_array(X)
    factor = np.array([1.0, 0.5, 3.0, 1.0, -2.0, 1.0])
    assert_gram(ROUTES[route](canonical_csr(X), factor), X, factor)
    empty = sp.csr_array((0, 4))
    assert_gram(ROUTES[route](empty, np.zeros(0)), empty, np.zeros(0))


@pytest.fixture
def no_small_route(monkeypatch):
    """:func:`sparse_gram` routes the small test matrices as large ones."""
    monkeypatch.setattr(_sparse_gram, "SMALL_PRODUCTS", 0)


def test_duplicates_unsorted_indices_int64_csc_and_float32(no_small_route):
    # Row 0 holds column 2 twice (they sum) and its columns out of order.
    indptr = np.array([0, 4, 6], dtype=np.int64)
    indices = np.array([3, 2, 0, 2, 1, 0], dtype=np.int64)
    data = np.array([1.0, 2.0, -1.0, 0.5, 4.0, 3.0])
    X = sp.csr_array((data, indices, indptr), shape=(2, 4))
    assert not X.has_canonical_format
    factor = np.array([0.7, 1.3])
    assert_gram(sparse_gram(X, factor), X, factor)
    assert_gram(sparse_gram(X.tocsc(), factor), X, factor)
    assert_gram(sparse_gram(X.astype(np.float32), factor), X, factor)
    assert not X.has_canonical_format  # the caller's matrix is not changed


def test_one_hot_real_data(no_small_route):
    """Indicators of statsmodels' anes96 categories: the numpy route equals the
    dense product."""
    data = sm.datasets.anes96.load_pandas().data
    codes = data[["TVnews", "educ", "income", "age", "popul"]].astype(int)
    X = OneHotEncoder(drop="first").fit_transform(codes)
    factor = np.random.default_rng(0).random(X.shape[0])
    assert pair_route_pays(canonical_csr(X))
    assert_gram(sparse_gram(X, factor), X, factor)


def test_unequal_rows_take_the_product_route(monkeypatch, no_small_route):
    X = sp.lil_array((400, 60))
    X[0, :] = 1.0  # one dense row, the others one nonzero each
    X[np.arange(1, 400), np.arange(1, 400) % 60] = 2.0
    X = sp.csr_array(X)
    assert not pair_route_pays(X)
    monkeypatch.setattr(_sparse_gram, "pair_gram", None)  # must not be called
    factor = np.linspace(0.1, 1.0, 400)
    assert_gram(sparse_gram(X, factor), X, factor, symmetric=False)


def test_small_products_take_scipys_route(monkeypatch):
    X = random_csr(100, 30, 0.2, seed=3)
    assert _sparse_gram.products(X) < _sparse_gram.SMALL_PRODUCTS
    monkeypatch.setattr(_sparse_gram, "pair_gram", None)  # must not be called
    factor = np.ones(100)
    assert_gram(sparse_gram(X, factor), X, factor, symmetric=False)


def test_logistic_fit_on_the_pair_route_matches_statsmodels(no_small_route):
    """LogisticGD on one-hot rows (statsmodels' Fair data) with every Gram on the
    large-rows route: statsmodels' Logit on the dense design."""
    from skmle import LogisticGD

    data = sm.datasets.fair.load_pandas().data
    X = OneHotEncoder(drop="first").fit_transform(data[["religious", "educ"]])
    y = (data["affairs"] > 0).to_numpy().astype(int)
    ref = sm.Logit(y, sm.add_constant(X.toarray())).fit(method="newton", disp=0)
    fit = LogisticGD(tol=1e-10).fit(X, y)
    np.testing.assert_allclose(np.r_[fit.intercept_, fit.coef_[0]], ref.params, 1e-8)
    np.testing.assert_allclose(fit.loglik_, ref.llf, 1e-12)
    se = np.r_[fit.intercept_se_, fit.coef_se_[0]]
    np.testing.assert_allclose(se, ref.bse, 1e-6)


def test_blocks_in_parallel_threads_sum_to_the_whole():
    """Two blocks of rows in the process's threads (as the in-memory objectives
    run them), their Grams summed: the dense product of all rows."""
    from skmle._threads import thread_map

    X = random_csr(2_000, 30, 0.2, seed=4)
    factor = np.random.default_rng(5).random(2_000)
    halves = [slice(0, 1_000), slice(1_000, 2_000)]
    parts = thread_map(lambda rows: pair_gram(X[rows], factor[rows]), halves)
    assert_gram(parts[0] + parts[1], X, factor)


# -- the grouped route: one-hot column groups -----------------------------------------
def assert_groups_hold_one_nonzero_per_row(X, starts):
    group = np.searchsorted(starts, X.indices, side="right") - 1
    row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    pairs = row * len(starts) + group
    assert np.unique(pairs).size == pairs.size


@pytest.mark.parametrize("drop", [None, "first"])
def test_one_hot_anes96_takes_the_grouped_route(monkeypatch, no_small_route, drop):
    """statsmodels' anes96 categories one-hot encoded (with and without a
    dropped reference level, which shifts the nonzeros' positions in the rows):
    the groups found hold one nonzero of each row, and the Gram equals the dense
    product with the other routes disabled."""
    data = sm.datasets.anes96.load_pandas().data
    codes = data[["TVnews", "educ", "income", "age", "popul"]].astype(int)
    X = canonical_csr(OneHotEncoder(drop=drop).fit_transform(codes))
    starts = one_hot_groups(X)
    assert starts is not None and starts.size <= 5
    assert_groups_hold_one_nonzero_per_row(X, starts)
    monkeypatch.setattr(_sparse_gram, "pair_gram", None)  # must not be called
    monkeypatch.setattr(_sparse_gram, "product_gram", None)
    factor = np.random.default_rng(0).standard_normal(X.shape[0])
    assert_gram(sparse_gram(X, factor), X, factor)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grouped_gram_on_any_groups_it_finds(seed):
    """Random sparse rows (values of any sign, empty rows): whatever groups
    one_hot_groups finds hold one nonzero per row, and the grouped Gram is the
    dense product, chunk boundaries included."""
    X = random_csr(3_000, 30, 0.03, seed=seed)
    starts = one_hot_groups(canonical_csr(X))
    assert starts is not None
    assert_groups_hold_one_nonzero_per_row(canonical_csr(X), starts)
    factor = np.random.default_rng(seed).standard_normal(3_000)
    assert_gram(grouped_gram(canonical_csr(X), factor, starts), X, factor)


def test_grouped_gram_crosses_its_row_chunks(monkeypatch):
    from skmle import _sparse_groups

    monkeypatch.setattr(_sparse_groups, "ROWS_PER_CHUNK", 7)
    X = canonical_csr(random_csr(50, 12, 0.2, seed=5))
    starts = one_hot_groups(X)
    factor = np.linspace(-1.0, 2.0, 50)
    assert_gram(grouped_gram(X, factor, starts), X, factor)


def test_too_many_groups_leave_the_grouped_route():
    X = canonical_csr(random_csr(400, 300, 0.5, seed=6))  # dense rows
    assert one_hot_groups(X) is None
