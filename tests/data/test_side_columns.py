"""Row-aligned side columns (``offset``, ``groups``) follow the rows through every
store, and ``cov_type="cluster"`` works on chunked and Dask data.

References: the columns themselves (a store must hand back exactly the rows it
was given), and statsmodels' OLS with ``cov_type="cluster"`` on Grunfeld
(cluster by firm), which the chunked and Dask fits match as the in-memory one
does (1e-10 relative).
"""

import dask.array as da
import numpy as np
import pytest

from skmle import LinearGaussianRegressor, LogisticGD, chunked
from skmle.data import Batch, InMemoryRows, row_store
from skmle.data.chunked import arrays_to_batch

sm = pytest.importorskip("statsmodels.api")


def _whole(X, y, w):
    return arrays_to_batch(X, y, w)


def _chunk(X, y, w, check):
    return arrays_to_batch(X, y, w, check)


def _columns(n=23):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, rng.normal(size=n), rng.normal(size=n), rng.integers(0, 4, size=n)


def _gathered(rows):
    """(X, offset, groups) of every row, in order, from the store's batches."""
    parts = rows.map_sum(lambda b: [(b.X, b.offset, b.groups)])
    return [np.concatenate(column) for column in zip(*parts, strict=True)]


@pytest.mark.parametrize("kind", ["memory", "chunked", "dask"])
def test_offset_and_groups_follow_the_rows_in_every_store(kind):
    X, y, offset, groups = _columns()
    data = {
        "memory": X,
        "chunked": chunked(X, 5),
        "dask": da.from_array(X, chunks=(6, 2)),
    }[kind]
    side = {"offset": offset, "groups": groups}
    if kind == "dask":
        side = {k: da.from_array(v, chunks=7) for k, v in side.items()}
    rows = row_store(data, y, None, whole=_whole, chunk=_chunk, **side)
    got_X, got_offset, got_groups = _gathered(rows)
    np.testing.assert_array_equal(got_X, X)
    np.testing.assert_array_equal(got_offset, offset)
    np.testing.assert_array_equal(got_groups, groups)
    head = rows.head(4)
    np.testing.assert_array_equal(head.offset, offset[:4])
    np.testing.assert_array_equal(head.groups, groups[:4])
    sample = rows.sample(6, random_state=0)
    index = [np.flatnonzero((X == row).all(axis=1))[0] for row in sample.X]
    np.testing.assert_array_equal(sample.offset, offset[index])
    np.testing.assert_array_equal(sample.groups, groups[index])
    parts = rows.prepared(lambda b: b.offset).map_sum(lambda o: [o])
    np.testing.assert_array_equal(np.concatenate(parts), offset)


def test_resident_blocks_and_concatenation_keep_the_side_columns():
    X, y, offset, groups = _columns(40)
    halves = [
        Batch.from_arrays(X[s], y[s], None, offset[s], groups[s])
        for s in (slice(0, 17), slice(17, 40))
    ]
    rows = InMemoryRows(halves)
    blocks = rows.resident_blocks(3, min_rows=4)
    for block, where in blocks:
        np.testing.assert_array_equal(block.offset, offset[where])
        np.testing.assert_array_equal(block.groups, groups[where])
    np.testing.assert_array_equal(rows.head(30).offset, offset[:30])


def test_a_side_column_of_the_wrong_length_or_non_finite_is_refused():
    X, y, offset, groups = _columns()
    with pytest.raises(ValueError, match=r"offset must be one number per sample"):
        row_store(X, y, None, whole=_whole, chunk=_chunk, offset=offset[:-1])
    with pytest.raises(ValueError, match="NaN or infinity"):
        row_store(
            X,
            y,
            None,
            whole=_whole,
            chunk=_chunk,
            offset=np.full(offset.shape, -np.inf),
        )
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        row_store(chunked(X, 5), y, None, whole=_whole, chunk=_chunk, groups=groups[:3])


def _grunfeld():
    data = sm.datasets.grunfeld.load_pandas().data
    X = data[["value", "capital"]].to_numpy(float)
    return X, data["invest"].to_numpy(float), data["firm"].to_numpy()


@pytest.mark.parametrize("kind", ["chunked", "dask"])
def test_cluster_covariance_on_chunked_and_dask_data_equals_statsmodels(kind):
    X, y, firm = _grunfeld()
    reference = sm.OLS(y, sm.add_constant(X, prepend=False)).fit(
        cov_type="cluster", cov_kwds={"groups": firm}
    )
    if kind == "chunked":
        data, groups = chunked(X, 37), firm
    else:
        data = da.from_array(X, chunks=(41, 2))
        groups = da.from_array(firm, chunks=41)
    model = LinearGaussianRegressor(cov_type="cluster").fit(data, y, groups=groups)
    whole = LinearGaussianRegressor(cov_type="cluster").fit(X, y, groups=firm)
    expected = np.asarray(reference.bse)
    np.testing.assert_allclose(
        np.r_[model.coef_se_, model.intercept_se_], expected, rtol=1e-10
    )
    np.testing.assert_allclose(model.params_cov_, whole.params_cov_, rtol=1e-10)


def test_cluster_covariance_of_logistic_on_dask_equals_in_memory():
    X, y, firm = _grunfeld()
    high = (y > np.median(y)).astype(float)
    whole = LogisticGD(cov_type="cluster", tol=1e-10).fit(X / 1e3, high, groups=firm)
    pieces = LogisticGD(cov_type="cluster", tol=1e-10).fit(
        da.from_array(X / 1e3, chunks=(50, 2)), high, groups=firm
    )
    np.testing.assert_allclose(pieces.params_cov_, whole.params_cov_, rtol=1e-8)
