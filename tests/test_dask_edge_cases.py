"""Dask arrays at the edges (issue 13, item 4): empty row blocks, no rows at all, and
a cluster that loses its last worker.

References: the same estimator fitted in memory on the same rows (NumPy), and the
error an empty ndarray raises.
"""

import time

import dask
import dask.array as da
import numpy as np
import pytest

from skmle import (
    EMGaussianMixture,
    GaussianMLE,
    LaplaceRegressor,
    LinearGaussianRegressor,
    LogisticGD,
    chunked,
)
from skmle.data.dask import DaskBatches, NoWorkersError


def make_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2)) * [1.0, 3.0] + [0.0, 5.0]
    y = X @ [1.5, -0.5] + 2.0 + rng.laplace(size=3000)
    return X, y


def estimators():
    """Each estimator with its default solver, and the target it is fitted to; the
    mixture from a full explicit start (with ``means_init`` alone, its weights and
    covariances would come from a random k-means partition)."""
    y = make_data()[1]
    labels = (y > np.median(y)).astype(int)
    centres = np.array([[-1.0, 2.0], [1.0, 8.0]])
    return {
        "gaussian": (GaussianMLE(), None),
        "linear": (LinearGaussianRegressor(), y),
        "laplace": (LaplaceRegressor(), y),
        "logistic": (LogisticGD(), labels),
        "mixture": (
            EMGaussianMixture(
                2,
                weights_init=[0.5, 0.5],
                means_init=centres,
                precisions_init=np.stack([np.eye(2), np.eye(2)]),
            ),
            None,
        ),
    }


FITTED = {
    "gaussian": ["mean_", "covariance_"],
    "linear": ["coef_", "intercept_", "sigma2_"],
    "laplace": ["coef_", "intercept_", "scale_"],
    "logistic": ["coef_", "intercept_"],
    "mixture": ["weights_", "means_", "covariances_"],
}


def filtered_sorted(X, y):
    """What filtering sorted data gives: leading and middle blocks with no rows.

    ``X`` is sorted by its first column and cut into blocks of 500 rows; keeping
    the rows with first column above its 40% quantile empties the first blocks,
    and a second filter empties one in the middle. ``compute_chunk_sizes()`` then
    makes the (now known) sizes, zeros included, the row chunks.
    """
    order = np.argsort(X[:, 0])
    X, y = X[order], None if y is None else y[order]
    keep = X[:, 0] > np.quantile(X[:, 0], 0.4)
    keep[2000:2500] = False
    dX = da.from_array(X, chunks=(500, 2))
    dy = None if y is None else da.from_array(y, chunks=500)
    dX = dX[da.from_array(keep, chunks=500)].compute_chunk_sizes()
    if dy is not None:
        dy = dy[da.from_array(keep, chunks=500)].compute_chunk_sizes()
    return dX, dy, X[keep], None if y is None else y[keep]


def fit(model, X, y):
    return model.fit(X) if y is None else model.fit(X, y)


def assert_same_fit(name, model, reference):
    for attribute in FITTED[name]:
        np.testing.assert_allclose(
            getattr(model, attribute),
            getattr(reference, attribute),
            rtol=1e-7,
            atol=1e-9,
            err_msg=attribute,
        )
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-9)


@pytest.mark.parametrize("name", sorted(FITTED))
def test_empty_row_blocks_are_skipped(name):
    from sklearn.base import clone

    model, target = estimators()[name]
    X, _ = make_data()
    dX, dy, X_kept, y_kept = filtered_sorted(X, target)
    assert 0 in dX.chunks[0] and dX.chunks[0][0] == 0
    with dask.config.set(scheduler="threads"):
        fitted = fit(clone(model), dX, dy)
        reference = fit(clone(model), X_kept, y_kept)
        assert_same_fit(name, fitted, reference)
        loglik = fitted.log_likelihood(dX, dy)
        assert loglik == pytest.approx(reference.log_likelihood(X_kept, y_kept))
        # A row-wise method gives no rows for an empty block, not an error.
        method = "score_samples" if target is None else "predict"
        rows = getattr(fitted, method)(dX)
        assert rows.chunks[0] == dX.chunks[0]
        np.testing.assert_allclose(
            rows.compute(), getattr(reference, method)(X_kept), rtol=1e-9
        )


def test_dask_batches_skip_empty_blocks_but_keep_one_for_no_rows():
    X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=((0, 2, 0, 4, 0), (2,)))
    batches = DaskBatches(X)
    assert len(batches) == 2
    assert [b.X.shape[0] for b in batches.map(lambda b: b)] == [2, 4]
    assert float(batches.map_sum(lambda b: b.X.sum())) == 66.0
    assert len(DaskBatches(da.zeros((0, 2), chunks=5))) == 1


def empty_error(model, X, y):
    with pytest.raises(ValueError) as error:
        fit(model, X, y)
    return str(error.value)


@pytest.mark.parametrize(
    "name", ["gaussian", "linear", "laplace", "logistic", "mixture"]
)
def test_no_rows_raise_the_error_of_an_empty_ndarray(name):
    from sklearn.base import clone

    model, target = estimators()[name]
    X = np.zeros((0, 2))
    y = None if target is None else target[:0]
    expected = empty_error(clone(model), X, y)
    assert "0 sample(s)" in expected
    with dask.config.set(scheduler="threads"):
        dy = None if y is None else da.from_array(y)
        assert empty_error(clone(model), da.from_array(X), dy) == expected
    assert empty_error(clone(model), chunked(X), y) == expected


# -- a cluster that loses its last worker ---------------------------------------------
@pytest.fixture
def one_worker_cluster():
    """A cluster of one in-process worker (so no nanny to restart it)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        dask.config.set({"skmle.no-workers-timeout": 1.0}),
    ):
        yield cluster, client


def close_all_workers(cluster, client):
    for worker in list(cluster.workers.values()):
        client.sync(worker.close)
    deadline = time.monotonic() + 10
    while client.nthreads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.nthreads()


@pytest.mark.slow
def test_a_pass_after_the_last_worker_died_raises_instead_of_hanging(
    one_worker_cluster,
):
    cluster, client = one_worker_cluster
    X = np.random.default_rng(1).normal(size=(2000, 3))
    batches = DaskBatches(da.from_array(X, chunks=(500, 3)))
    np.testing.assert_allclose(batches.map_sum(lambda b: b.X.sum(axis=0)), X.sum(0))
    close_all_workers(cluster, client)
    start = time.monotonic()
    with pytest.raises(NoWorkersError, match="no workers for 1 s"):
        batches.map_sum(lambda b: b.X.sum(axis=0))
    assert time.monotonic() - start < 10


@pytest.mark.slow
def test_a_fit_whose_last_worker_dies_raises_instead_of_hanging(
    one_worker_cluster, monkeypatch
):
    cluster, client = one_worker_cluster
    X = np.random.default_rng(2).normal(size=(2000, 3))
    closed = []

    def print_iteration(self, total_weight):
        def callback(iteration, theta, value):
            if not closed:
                close_all_workers(cluster, client)
                closed.append(iteration)

        return callback

    monkeypatch.setattr(GaussianMLE, "_print_iteration", print_iteration)
    start = time.monotonic()
    with pytest.raises(NoWorkersError, match="Start workers"):
        GaussianMLE(solver="lbfgs", verbose=2).fit(da.from_array(X, chunks=(500, 3)))
    assert closed, "the callback did not run"
    assert time.monotonic() - start < 15


@pytest.mark.slow
def test_a_fit_on_a_cluster_without_workers_raises():
    from distributed import Client, LocalCluster

    X = da.from_array(np.ones((10, 2)), chunks=5)
    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster,
        Client(cluster),
        dask.config.set({"skmle.no-workers-timeout": 0.5}),
        pytest.raises(NoWorkersError, match="none was started"),
    ):
        LinearGaussianRegressor().fit(X, da.from_array(np.arange(10.0), chunks=5))
