"""Every store of rows meets the same protocol with the same answers."""

import dask.array as da
import numpy as np
import pytest

from skmle.data import Batch, ChunkedBatches, InMemoryRows, Rows, chunked


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((37, 3))
    y = rng.integers(0, 2, 37)
    w = rng.uniform(0.5, 2.0, 37)
    return X, y, w


def stores(X, y, w):
    yield InMemoryRows([Batch(X, y, w)])
    yield InMemoryRows([Batch(X[:10], y[:10], w[:10]), Batch(X[10:], y[10:], w[10:])])
    yield ChunkedBatches(chunked(X, chunk_size=8), y, w)


def test_every_store_is_rows_and_sums_alike(arrays):
    X, y, w = arrays
    for rows in stores(X, y, w):
        assert isinstance(rows, Rows)
        assert rows.n_rows == 37
        assert rows.total_weight == pytest.approx(w.sum(), rel=1e-14)
        np.testing.assert_allclose(rows.map_sum(lambda b: b.sample_weight @ b.X), w @ X)
        head = rows.head(5)
        np.testing.assert_array_equal(head.X, X[:5])
        np.testing.assert_array_equal(head.sample_weight, w[:5])


def test_sample_is_uniform_without_replacement_and_the_same_in_every_store(arrays):
    X, y, w = arrays
    expected = np.sort(
        np.random.default_rng(3).choice(37, size=12, replace=False, shuffle=False)
    )
    for rows in stores(X, y, w):
        sample = rows.sample(12, random_state=3)
        np.testing.assert_array_equal(sample.X, X[expected])
        np.testing.assert_array_equal(sample.y, y[expected])
        np.testing.assert_array_equal(sample.sample_weight, w[expected])
        every = rows.sample(100, random_state=3)
        np.testing.assert_array_equal(every.X, X)


def test_dask_store_meets_the_protocol(arrays):
    from skmle.data.dask import DaskBatches

    X, y, w = arrays
    rows = DaskBatches(da.from_array(X, chunks=(9, 3)), y, w, persist=False)
    assert isinstance(rows, Rows)
    assert rows.n_rows == 37
    assert rows.total_weight == pytest.approx(w.sum(), rel=1e-14)
    np.testing.assert_allclose(rows.map_sum(lambda b: b.sample_weight @ b.X), w @ X)
    expected = np.sort(
        np.random.default_rng(3).choice(37, size=12, replace=False, shuffle=False)
    )
    np.testing.assert_array_equal(rows.sample(12, random_state=3).X, X[expected])


def test_prepared_parts_are_made_once_in_memory_and_per_pass_when_read_in_pieces(
    arrays,
):
    X, y, w = arrays
    calls = []

    def prepare(batch):
        calls.append(batch.X.shape[0])
        return batch.X * 2.0, batch.sample_weight

    def per_part(part):
        return part[1] @ part[0]

    for rows, per_pass in [
        (
            InMemoryRows(
                [Batch(X[:10], y[:10], w[:10]), Batch(X[10:], y[10:], w[10:])]
            ),
            0,
        ),
        (ChunkedBatches(chunked(X, chunk_size=8), y, w), 5),
    ]:
        calls.clear()
        parts = rows.prepared(prepare)
        made = len(calls)
        for _ in range(3):
            np.testing.assert_allclose(parts.map_sum(per_part), 2.0 * w @ X)
        assert len(calls) == made + 3 * per_pass
