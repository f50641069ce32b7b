"""The regressors fitted on Dask arrays, on a real ``dask.distributed`` cluster.

The references are NumPy's least squares, the least-absolute-deviation optimum of
the primal LP (scipy's HiGHS), SciPy's log-densities, and the same estimator
fitted in memory. One module-scoped LocalCluster (three worker processes on
loopback, the ``client`` fixture of conftest.py) serves every test; one test
kills a worker in the middle of a fit.
"""

import os
import signal
import time
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from scipy import sparse, stats
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning

import skmle.optim.lad.exact
from skmle import LaplaceRegressor, LinearGaussianRegressor
from skmle.data.dask import current_client

pytestmark = pytest.mark.slow  # a cluster of processes takes seconds to start

N_SAMPLES = 2000
CHUNKINGS = {
    "even": 500,
    "uneven": (700, 300, 1000),
    "one-row-block": (1, 999, 1000),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(40)
    X = rng.normal(size=(N_SAMPLES, 3)) * [1.0, 3.0, 0.5] + [5.0, -2.0, 40.0]
    y = X @ [1.5, -0.7, 2.0] + 4.0 + rng.laplace(size=N_SAMPLES)
    y[rng.random(N_SAMPLES) < 0.03] += 30.0  # outliers
    weights = rng.integers(0, 4, size=N_SAMPLES).astype(float)
    return X, y, weights


def on_dask(chunks, *arrays):
    return [
        da.from_array(a, chunks=(chunks, *a.shape[1:]) if a.ndim > 1 else chunks)
        for a in arrays
    ]


def lad_optimum(X, y, w):
    """Minimal sum w |r| from the primal LP (coefficients free, u, v >= 0)."""
    n = len(y)
    X1 = np.column_stack([X, np.ones(n)])
    p = X1.shape[1]
    result = linprog(
        np.concatenate([np.zeros(p), w, w]),
        A_eq=sparse.hstack([X1, sparse.eye(n), -sparse.eye(n)], format="csc"),
        b_eq=y,
        bounds=[(None, None)] * p + [(0, None)] * (2 * n),
        method="highs",
    )
    return result.fun


def assert_same_fit(model, reference, rtol=1e-8):
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=rtol)
    assert model.intercept_ == pytest.approx(reference.intercept_, rel=rtol)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=rtol)
    np.testing.assert_allclose(model.coef_se_, reference.coef_se_, rtol=rtol)
    if reference.fit_intercept:
        assert model.intercept_se_ == pytest.approx(reference.intercept_se_, rel=rtol)
    assert model.n_samples_seen_ == pytest.approx(reference.n_samples_seen_, rel=1e-14)
    assert type(model.coef_) is np.ndarray and model.n_features_in_ == 3


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


def test_sandwich_covariance_on_dask_equals_in_memory(client, data):
    """The meat of cov_type="HC1" is summed on the workers (sum_batches)."""
    X, y, weights = data
    dX, dy, dw = on_dask(CHUNKINGS[sorted(CHUNKINGS)[0]], X, y, weights)
    model = LinearGaussianRegressor(cov_type="HC1").fit(dX, dy, sample_weight=dw)
    reference = LinearGaussianRegressor(cov_type="HC1").fit(X, y, sample_weight=weights)
    assert_same_fit(model, reference)
    np.testing.assert_allclose(model.params_cov_, reference.params_cov_, rtol=1e-8)


# -- exact solvers: equal to the in-memory fit and to the references --------------------
@pytest.mark.parametrize("chunks", sorted(CHUNKINGS))
def test_gaussian_closed_form_on_dask_equals_in_memory_fit(client, data, chunks):
    X, y, weights = data
    dX, dy, dw = on_dask(CHUNKINGS[chunks], X, y, weights)
    model = LinearGaussianRegressor().fit(dX, dy, sample_weight=dw)
    reference = LinearGaussianRegressor().fit(X, y, sample_weight=weights)
    assert_same_fit(model, reference)
    root = np.sqrt(weights)
    X1 = np.column_stack([X, np.ones(N_SAMPLES)])
    solution = np.linalg.lstsq(X1 * root[:, None], y * root, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, solution[:3], rtol=1e-10)
    assert model.intercept_ == pytest.approx(solution[3], rel=1e-10)
    rss = weights @ (y - X1 @ solution) ** 2
    assert model.sigma2_ == pytest.approx(rss / weights.sum(), rel=1e-10)


@pytest.mark.parametrize("chunks", sorted(CHUNKINGS))
def test_laplace_lp_on_dask_equals_in_memory_fit(client, data, chunks):
    X, y, weights = data
    dX, dy, dw = on_dask(CHUNKINGS[chunks], X, y, weights)
    model = LaplaceRegressor().fit(dX, dy, sample_weight=dw)
    reference = LaplaceRegressor().fit(X, y, sample_weight=weights)
    assert_same_fit(model, reference)
    objective = weights @ np.abs(y - X @ model.coef_ - model.intercept_)
    assert objective <= lad_optimum(X, y, weights) * (1 + 1e-9)
    assert model.scale_ == pytest.approx(objective / weights.sum(), rel=1e-12)


def test_without_intercept_on_dask(client, data):
    X, y, weights = data
    dX, dy = on_dask(CHUNKINGS["uneven"], X, y)
    for Estimator in (LinearGaussianRegressor, LaplaceRegressor):
        model = Estimator(fit_intercept=False).fit(dX, dy, sample_weight=weights)
        reference = Estimator(fit_intercept=False).fit(X, y, sample_weight=weights)
        assert_same_fit(model, reference)
        assert model.intercept_ == 0.0


# -- iterative solvers: the same optimum, or the same iterates ---------------------------
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_gaussian_gradient_solvers_on_dask_reach_the_closed_form(client, data, solver):
    X, y, weights = data
    dX, dy = on_dask(CHUNKINGS["uneven"], X, y)
    model = LinearGaussianRegressor(solver=solver, tol=1e-9)
    model.fit(dX, dy, sample_weight=weights)
    closed = LinearGaussianRegressor().fit(X, y, sample_weight=weights)
    assert model.converged_
    assert model.loglik_ == pytest.approx(closed.loglik_, rel=1e-10)
    np.testing.assert_allclose(model.coef_, closed.coef_, rtol=1e-5)
    assert model.loglik_history_.shape == (model.n_iter_ + 1,)


def test_laplace_gd_on_dask_follows_the_in_memory_iterates(client, data):
    X, y, weights = data
    dX, dy, dw = on_dask(CHUNKINGS["one-row-block"], X, y, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LaplaceRegressor(solver="gd", max_iter=40).fit(dX, dy, dw)
        reference = LaplaceRegressor(solver="gd", max_iter=40).fit(X, y, weights)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8)
    np.testing.assert_allclose(
        model.loglik_history_, reference.loglik_history_, rtol=1e-10
    )


# -- prediction and scores on Dask arrays --------------------------------------------------
def test_prediction_on_dask_is_a_dask_array(client, data):
    X, y, weights = data
    dX, dy, dw = on_dask(CHUNKINGS["uneven"], X, y, weights)
    model = LaplaceRegressor().fit(X, y)
    mean = X @ model.coef_ + model.intercept_
    predicted = model.predict(dX)
    assert isinstance(predicted, da.Array)
    assert predicted.chunks == (CHUNKINGS["uneven"],)
    np.testing.assert_allclose(predicted.compute(), mean, rtol=1e-14)
    interval = model.predict_interval(dX, alpha=0.2)
    assert isinstance(interval, da.Array) and interval.shape == (N_SAMPLES, 2)
    expected = np.column_stack(stats.laplace.interval(0.8, mean, model.scale_))
    np.testing.assert_allclose(interval.compute(), expected, rtol=1e-12)
    logpdf = stats.laplace.logpdf(y, mean, model.scale_)
    assert model.log_likelihood(dX, dy, sample_weight=dw) == pytest.approx(
        weights @ logpdf, rel=1e-12
    )
    with pytest.raises(ValueError, match="alpha"):
        model.predict_interval(dX, alpha=2.0)
    with pytest.raises(ValueError, match="X has 2 features"):
        model.predict(dX[:, :2])


def test_nan_in_a_late_block_of_y_raises_the_in_memory_error(client, data):
    X, y, _ = data
    y = y.copy()
    y[1900] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN") as in_memory:
        LaplaceRegressor().fit(X, y)
    with pytest.raises(ValueError, match="Input y contains NaN") as on_cluster:
        LaplaceRegressor().fit(*on_dask(500, X, y))
    assert str(on_cluster.value) == str(in_memory.value)


def test_fit_without_a_client_uses_the_local_scheduler(data):
    X, y, weights = data
    dX, dy = on_dask(CHUNKINGS["uneven"], X, y)
    with dask.config.set(scheduler="threads"):
        assert current_client() is None
        model = LaplaceRegressor().fit(dX, dy, sample_weight=weights)
    assert_same_fit(model, LaplaceRegressor().fit(X, y, sample_weight=weights))


# -- a worker killed in the middle of a fit ---------------------------------------------
def test_laplace_fit_survives_a_worker_killed_before_its_band_lp(
    client, data, monkeypatch
):
    X, y, weights = data
    killed = []
    dual_lp = skmle.optim.lad.exact._dual_lp

    def kill_then_solve(*args):
        if not killed:
            killed.append(kill_a_worker(client))
        return dual_lp(*args)

    # Patched on the client only, where the LP runs; the passes after it (the
    # check of the folded rows, the scale) need the killed worker's batches.
    monkeypatch.setattr(skmle.optim.lad.exact, "_dual_lp", kill_then_solve)
    dX, dy, dw = on_dask(250, X, y, weights)
    model = LaplaceRegressor().fit(dX, dy, sample_weight=dw)
    assert killed, "the band LP did not run"
    assert_same_fit(model, LaplaceRegressor().fit(X, y, sample_weight=weights))
    assert_worker_gone(client, killed[0])
