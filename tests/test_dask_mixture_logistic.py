"""EMGaussianMixture and LogisticGD on Dask arrays, on a real LocalCluster.

References: the same estimators fitted in memory (tested elsewhere against
scikit-learn and statsmodels). The cluster (three worker processes on loopback)
is started and closed by a module fixture.
"""

import os
import signal
from functools import partial

import dask.array as da
import numpy as np
import pytest

from skmle import EMGaussianMixture, LogisticGD
from skmle.estimators.logistic import PerfectSeparationWarning

pytestmark = pytest.mark.slow  # a cluster of processes takes seconds to start

CHUNKINGS = [(700, 300, 1000), (1, 999, 1000)]


@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=3,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            memory_limit="768MiB",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = np.vstack(
        [rng.normal(size=(1200, 3)), rng.normal(size=(800, 3)) * 0.5 + [3, 1, 50]]
    )
    weights = rng.integers(0, 4, size=X.shape[0]).astype(float)
    y = (X[:, 0] - X[:, 1] + rng.logistic(size=X.shape[0]) > 1).astype(int)
    y3 = np.array(["a", "b", "c"])[y + (X[:, 2] > 20)]
    return X, weights, y, y3


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_mixture_on_dask_equals_in_memory(dask_client, data, covariance_type, chunks):
    X, weights, _, _ = data
    start = {
        "weights_init": [0.5, 0.5],
        "means_init": [[0.0, 0.0, 1.0], [2.0, 2.0, 40.0]],
        "precisions_init": (
            np.stack([np.eye(3)] * 2) if covariance_type == "full" else np.ones((2, 3))
        ),
    }
    options = dict(n_components=2, covariance_type=covariance_type, tol=1e-5)
    reference = EMGaussianMixture(**options, **start).fit(X, sample_weight=weights)
    dX = da.from_array(X, chunks=(chunks, 3))
    dw = da.from_array(weights, chunks=chunks)
    model = EMGaussianMixture(**options, **start).fit(dX, sample_weight=dw)
    assert model.n_iter_ == reference.n_iter_
    for name in ["weights_", "means_", "covariances_", "means_se_"]:
        np.testing.assert_allclose(
            getattr(model, name), getattr(reference, name), rtol=1e-8
        )
        assert type(getattr(model, name)) is np.ndarray
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-8)
    for method in ["predict", "predict_proba", "score_samples"]:
        out = getattr(model, method)(dX)
        assert isinstance(out, da.Array)
        np.testing.assert_allclose(
            out.compute(), getattr(reference, method)(X), rtol=1e-9, atol=1e-12
        )


def test_mixture_kmeans_start_on_dask(dask_client, data):
    X, weights, _, _ = data
    reference = EMGaussianMixture(2, random_state=0).fit(X, sample_weight=weights)
    dX = da.from_array(X, chunks=(500, 3))
    model = EMGaussianMixture(2, random_state=0).fit(dX, sample_weight=weights)
    np.testing.assert_allclose(model.means_, reference.means_, rtol=1e-8)


@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_logistic_on_dask_equals_in_memory(dask_client, data, chunks):
    X, weights, y, y3 = data
    dX = da.from_array(X, chunks=(chunks, 3))
    for labels in [y, y3]:
        reference = LogisticGD().fit(X, labels, weights)
        dy = da.from_array(labels, chunks=chunks)
        model = LogisticGD().fit(dX, dy, da.from_array(weights, chunks=chunks))
        np.testing.assert_array_equal(model.classes_, reference.classes_)
        np.testing.assert_allclose(
            model.theta_, reference.theta_, rtol=1e-8, atol=1e-12
        )
        np.testing.assert_allclose(model.coef_se_, reference.coef_se_, rtol=1e-8)
        assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-12)
        assert model.log_likelihood(dX, dy) == pytest.approx(
            reference.log_likelihood(X, labels), rel=1e-12
        )
        for method in ["decision_function", "predict_proba", "predict_log_proba"]:
            out = getattr(model, method)(dX)
            assert isinstance(out, da.Array)
            np.testing.assert_allclose(
                out.compute(), getattr(reference, method)(X), rtol=1e-9, atol=1e-12
            )
        predicted = model.predict(dX)
        assert isinstance(predicted, da.Array)
        np.testing.assert_array_equal(predicted.compute(), reference.predict(X))


def test_logistic_lbfgs_on_dask_reaches_the_same_optimum(dask_client, data):
    X, _, y, _ = data
    reference = LogisticGD().fit(X, y)
    model = LogisticGD(solver="lbfgs", tol=1e-7).fit(
        da.from_array(X, chunks=(600, 3)), y
    )
    np.testing.assert_allclose(model.theta_, reference.theta_, rtol=1e-5)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-9)


def test_separable_classes_on_dask_warn(dask_client, data):
    X, _, _, _ = data
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(PerfectSeparationWarning):
        model = LogisticGD().fit(da.from_array(X, chunks=(600, 3)), y)
    assert np.all(np.isnan(model.coef_se_))
    np.testing.assert_array_equal(model.predict(X), y)


# -- a worker killed in the middle of a fit ---------------------------------------------
def kill_a_worker(client) -> str:
    """SIGKILL the worker process holding the most data; return its address."""
    address = max(client.has_what().items(), key=lambda item: len(item[1]))[0]
    pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    return address


@pytest.mark.parametrize("estimator", ["mixture", "logistic"])
def test_fit_survives_a_worker_killed_between_iterations(
    dask_client, data, monkeypatch, estimator
):
    X, weights, y, _ = data
    killed = []

    def print_iteration(self, total_weight):
        def callback(iteration, theta, value):
            if iteration == 1 and not killed:
                killed.append(kill_a_worker(dask_client))

        return callback

    if estimator == "mixture":
        make = partial(
            EMGaussianMixture,
            n_components=2,
            weights_init=[0.5, 0.5],
            means_init=[[0.0, 0.0, 1.0], [2.0, 2.0, 40.0]],
            precisions_init=np.stack([np.eye(3)] * 2),
            tol=1e-5,
        )
        labels = None
    else:
        make, labels = partial(LogisticGD, tol=1e-10), y
    # Patched on the client only: the workers never call it.
    monkeypatch.setattr(type(make()), "_print_iteration", print_iteration)
    dX = da.from_array(X, chunks=(250, 3))
    model = make(verbose=2).fit(dX, labels, sample_weight=weights)
    assert killed, "the callback did not run"
    reference = make().fit(X, labels, sample_weight=weights)
    np.testing.assert_allclose(model.theta_, reference.theta_, rtol=1e-8, atol=1e-12)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-10)
