"""Fits on Dask arrays, on a real ``dask.distributed`` cluster of worker processes.

The references are NumPy's weighted moments, SciPy's log-density and the same
estimator fitted in memory. One module-scoped LocalCluster (three worker processes
on loopback, the ``client`` fixture of conftest.py) serves every test; two tests
kill a worker in the middle of a fit.
"""

import os
import signal
import threading
import time

import dask
import dask.array as da
import numpy as np
import pytest
from scipy import stats

from skmle import GaussianMLE
from skmle.data.dask import DaskBatches, current_client

pytestmark = pytest.mark.slow  # a cluster of processes takes seconds to start

COVARIANCE_TYPES = ["full", "diag", "spherical"]
N_SAMPLES = 2000
CHUNKINGS = {
    "even": 500,
    "uneven": (700, 300, 1000),
    "one-row-block": (1, 999, 1000),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    mixing = np.array([[2.0, 0.0, 0.0], [0.7, 1.0, 0.0], [-0.4, 0.3, 0.5]])
    X = rng.standard_normal((N_SAMPLES, 3)) @ mixing.T + np.array([1.0, -2.0, 10.0])
    weights = rng.integers(0, 4, size=N_SAMPLES).astype(float)
    return X, weights


def numpy_covariance(X, covariance_type, weights):
    cov = np.cov(X, rowvar=False, bias=True, aweights=weights)
    if covariance_type == "diag":
        return np.diag(cov)
    if covariance_type == "spherical":
        return float(np.mean(np.diag(cov)))
    return cov


def dense(cov, d):
    cov = np.asarray(cov, dtype=float)
    return cov if cov.ndim == 2 else np.diag(np.broadcast_to(cov, (d,)))


def assert_same_fit(model, reference, rtol=1e-8):
    """Equal fits; the covariance to ``rtol`` of its largest entry (normwise), as an
    iterative solver leaves off-diagonal entries near 0 with that absolute error."""
    np.testing.assert_allclose(model.mean_, reference.mean_, rtol=rtol)
    np.testing.assert_allclose(
        model.covariance_,
        reference.covariance_,
        rtol=rtol,
        atol=rtol * np.abs(reference.covariance_).max(),
    )
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=rtol)
    assert model.n_samples_seen_ == pytest.approx(reference.n_samples_seen_, rel=1e-14)


def worker_pid(client, address):
    return client.run(os.getpid, workers=[address])[address]


def kill_a_worker(client) -> str:
    """SIGKILL the worker process holding the most data; return its address."""
    address = max(client.has_what().items(), key=lambda item: len(item[1]))[0]
    os.kill(worker_pid(client, address), signal.SIGKILL)
    return address


def assert_worker_gone(client, address, timeout=60.0):
    """The scheduler has dropped the killed worker (its nanny starts a new one)."""
    deadline = time.monotonic() + timeout
    while address in client.scheduler_info()["workers"]:
        assert time.monotonic() < deadline, f"worker {address} is still registered"
        time.sleep(0.1)


# -- fits equal the in-memory fit and NumPy's moments ----------------------------------
@pytest.mark.parametrize("chunks", sorted(CHUNKINGS))
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_closed_form_on_dask_equals_in_memory_fit(
    client, data, covariance_type, chunks
):
    X, weights = data
    dX = da.from_array(X, chunks=(CHUNKINGS[chunks], 3))
    dw = da.from_array(weights, chunks=CHUNKINGS[chunks])
    model = GaussianMLE(covariance_type=covariance_type, reg_covar=0)
    model.fit(dX, sample_weight=dw)
    reference = GaussianMLE(covariance_type=covariance_type, reg_covar=0)
    reference.fit(X, sample_weight=weights)
    assert_same_fit(model, reference)
    np.testing.assert_allclose(
        model.mean_, np.average(X, axis=0, weights=weights), rtol=1e-12
    )
    np.testing.assert_allclose(
        model.covariance_, numpy_covariance(X, covariance_type, weights), rtol=1e-10
    )
    assert type(model.mean_) is np.ndarray
    assert model.n_features_in_ == 3
    assert not hasattr(model, "feature_names_in_")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lbfgs_on_dask_reaches_the_in_memory_optimum(client, data, covariance_type):
    X, weights = data
    dX = da.from_array(X, chunks=(CHUNKINGS["uneven"], 3))
    model = GaussianMLE(covariance_type=covariance_type, solver="lbfgs", tol=1e-10)
    model.fit(dX, sample_weight=weights)  # NumPy weights are split like X's rows
    reference = GaussianMLE(covariance_type=covariance_type, solver="lbfgs", tol=1e-10)
    reference.fit(X, sample_weight=weights)
    assert model.converged_
    assert_same_fit(model, reference)
    expected = numpy_covariance(X, covariance_type, weights)
    np.testing.assert_allclose(
        model.covariance_, expected, rtol=1e-8, atol=1e-8 * np.max(expected)
    )
    assert model.loglik_history_.shape == (model.n_iter_ + 1,)


def test_blocks_split_across_columns_and_unit_weights(client, data):
    X, _ = data
    model = GaussianMLE(reg_covar=0).fit(da.from_array(X, chunks=(600, 2)))
    np.testing.assert_allclose(model.mean_, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        model.covariance_, np.cov(X, rowvar=False, bias=True), rtol=1e-10
    )
    assert model.n_samples_seen_ == N_SAMPLES


def test_fit_without_a_client_uses_the_local_scheduler(data):
    X, weights = data
    dX = da.from_array(X, chunks=(CHUNKINGS["uneven"], 3))
    with dask.config.set(scheduler="threads"):
        assert current_client() is None
        model = GaussianMLE(solver="lbfgs", tol=1e-10).fit(dX, sample_weight=weights)
    reference = GaussianMLE(solver="lbfgs", tol=1e-10).fit(X, sample_weight=weights)
    assert_same_fit(model, reference)


# -- validation per block, with the in-memory path's errors ------------------------------
def test_nan_in_a_late_block_raises_the_in_memory_error(client, data):
    X = data[0].copy()
    X[1500, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN") as in_memory:
        GaussianMLE().fit(X)
    with pytest.raises(ValueError, match="Input X contains NaN") as on_dask:
        GaussianMLE().fit(da.from_array(X, chunks=(400, 3)))
    assert str(on_dask.value) == str(in_memory.value)


def test_infinity_is_caught_without_a_client(data):
    X = data[0].copy()
    X[-1, 0] = np.inf
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match="infinity"):
        GaussianMLE().fit(da.from_array(X, chunks=(400, 3)))


def test_negative_weight_in_a_block_raises(client, data):
    X, weights = data
    weights = weights.copy()
    weights[1234] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        GaussianMLE().fit(
            da.from_array(X, chunks=(500, 3)), sample_weight=da.from_array(weights)
        )


def test_shape_errors_are_clear(client, data):
    X, weights = data
    dX = da.from_array(X, chunks=(500, 3))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GaussianMLE().fit(dX, sample_weight=weights[:-1])
    with pytest.raises(ValueError, match="Expected 2D array"):
        GaussianMLE().fit(da.from_array(X[:, 0], chunks=500))
    unknown = dX[da.from_array(X[:, 0] > 0, chunks=500)]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        GaussianMLE().fit(unknown)
    with pytest.raises(ValueError, match="sample weights sum to zero"):
        GaussianMLE().fit(dX, sample_weight=np.zeros(N_SAMPLES))


# -- prediction on Dask arrays returns Dask arrays ---------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_score_samples_on_dask_is_a_dask_array(client, data, covariance_type):
    X, _ = data
    model = GaussianMLE(covariance_type=covariance_type).fit(X)
    dX = da.from_array(X, chunks=(CHUNKINGS["uneven"], 3))
    scores = model.score_samples(dX)
    assert isinstance(scores, da.Array)
    assert scores.chunks == (CHUNKINGS["uneven"],)
    expected = stats.multivariate_normal(
        model.mean_, dense(model.covariance_, 3)
    ).logpdf(X)
    np.testing.assert_allclose(scores.compute(), expected, rtol=1e-12)
    assert model.score(dX) == pytest.approx(expected.mean(), rel=1e-12)
    assert model.log_likelihood(dX) == pytest.approx(expected.sum(), rel=1e-12)
    assert model.bic(dX) == pytest.approx(
        -2 * expected.sum() + model._n_parameters() * np.log(N_SAMPLES), rel=1e-12
    )


def test_score_samples_checks_the_number_of_features_at_once(client, data):
    model = GaussianMLE().fit(data[0])
    with pytest.raises(ValueError, match="X has 2 features"):
        model.score_samples(da.zeros((10, 2), chunks=5))


# -- a worker killed in the middle of a fit ---------------------------------------------
def test_fit_survives_a_worker_killed_between_iterations(client, data, monkeypatch):
    X, weights = data
    killed = []

    def print_iteration(self, total_weight):
        def callback(iteration, theta, value):
            if iteration == 1 and not killed:
                killed.append(kill_a_worker(client))

        return callback

    # Patched on the client only: the workers never call it.
    monkeypatch.setattr(GaussianMLE, "_print_iteration", print_iteration)
    dX = da.from_array(X, chunks=(250, 3))
    model = GaussianMLE(solver="lbfgs", tol=1e-10, verbose=2).fit(
        dX, sample_weight=weights
    )
    assert killed, "the callback did not run"
    reference = GaussianMLE(solver="lbfgs", tol=1e-10).fit(X, sample_weight=weights)
    assert model.converged_
    assert_same_fit(model, reference)
    assert_worker_gone(client, killed[0])


def test_a_pass_survives_a_worker_killed_while_it_runs(client, data):
    X, _ = data
    batches = DaskBatches(da.from_array(X, chunks=(200, 3)))
    assert batches.map_sum(lambda b: b.X.shape[0]) == N_SAMPLES  # persisted

    def slow_column_sums(batch):
        time.sleep(0.25)
        return batch.X.sum(axis=0)

    killed, kill_times = [], []

    def kill():
        killed.append(kill_a_worker(client))
        kill_times.append(time.monotonic())

    timer = threading.Timer(0.4, kill)
    timer.start()
    total = batches.map_sum(slow_column_sums)
    finished = time.monotonic()
    timer.join()
    assert killed and kill_times[0] < finished, "the worker died after the pass"
    np.testing.assert_allclose(total, X.sum(axis=0), rtol=1e-12)
    batches.close()
    assert_worker_gone(client, killed[0])
