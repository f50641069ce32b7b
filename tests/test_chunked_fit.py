"""Estimators fitted on ``skmle.chunked`` memmaps equal the in-memory fit.

References: NumPy's weighted moments, SciPy's log-density, and the same estimator
fitted on the in-memory array.
"""

import numpy as np
import pytest
from scipy import stats

from skmle import GaussianMLE, chunked

COVARIANCE_TYPES = ["full", "diag", "spherical"]
CHUNK_SIZES = [7, 37, 250, 10_000]
N_SAMPLES = 600


def to_memmap(path, values, dtype=np.float64):
    mapped = np.lib.format.open_memmap(
        path, mode="w+", dtype=dtype, shape=np.shape(values)
    )
    mapped[:] = values
    mapped.flush()
    return np.load(path, mmap_mode="r")


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(4)
    mixing = np.array([[1.5, 0.0, 0.0], [0.4, 0.8, 0.0], [-0.2, 0.3, 0.6]])
    X = rng.standard_normal((N_SAMPLES, 3)) @ mixing.T + np.array([3.0, -1.0, 20.0])
    weights = rng.integers(0, 4, size=N_SAMPLES).astype(float)
    return (
        X,
        weights,
        to_memmap(tmp_path / "X.npy", X),
        to_memmap(tmp_path / "w.npy", weights),
    )


def numpy_covariance(X, covariance_type, weights=None):
    cov = np.cov(X, rowvar=False, bias=True, aweights=weights)
    if covariance_type == "diag":
        return np.diag(cov)
    if covariance_type == "spherical":
        return float(np.mean(np.diag(cov)))
    return cov


def assert_same_fit(model, reference, rtol=1e-8):
    np.testing.assert_allclose(model.mean_, reference.mean_, rtol=rtol)
    np.testing.assert_allclose(model.covariance_, reference.covariance_, rtol=rtol)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=rtol)
    assert model.n_samples_seen_ == reference.n_samples_seen_


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_closed_form_on_a_chunked_memmap(data, covariance_type, chunk_size):
    X, weights, X_map, w_map = data
    model = GaussianMLE(covariance_type=covariance_type, reg_covar=0)
    model.fit(chunked(X_map, chunk_size), sample_weight=w_map)
    reference = GaussianMLE(covariance_type=covariance_type, reg_covar=0)
    reference.fit(X, sample_weight=weights)
    assert_same_fit(model, reference, rtol=1e-10)
    np.testing.assert_allclose(
        model.mean_, np.average(X, axis=0, weights=weights), rtol=1e-12
    )
    np.testing.assert_allclose(
        model.covariance_, numpy_covariance(X, covariance_type, weights), rtol=1e-10
    )
    assert model.n_features_in_ == 3
    assert type(model.mean_) is np.ndarray


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gradient_solvers_on_a_chunked_memmap(data, covariance_type, solver):
    X, weights, X_map, w_map = data
    options = {"covariance_type": covariance_type, "solver": solver, "tol": 1e-9}
    model = GaussianMLE(**options).fit(chunked(X_map, 97), sample_weight=w_map)
    reference = GaussianMLE(**options).fit(X, sample_weight=weights)
    assert model.converged_
    assert_same_fit(model, reference, rtol=1e-7)
    closed_form = GaussianMLE(covariance_type=covariance_type).fit(
        X, sample_weight=weights
    )
    np.testing.assert_allclose(
        model.covariance_,
        closed_form.covariance_,
        rtol=1e-7,
        atol=1e-7 * np.max(closed_form.covariance_),
    )


def test_float32_memmap_and_unit_weights(data, tmp_path):
    X = data[0]
    X32 = to_memmap(tmp_path / "X32.npy", X, dtype=np.float32)
    model = GaussianMLE(reg_covar=0).fit(chunked(X32, 64))
    reference = GaussianMLE(reg_covar=0).fit(np.asarray(X32))
    assert_same_fit(model, reference, rtol=1e-6)
    np.testing.assert_allclose(
        model.mean_, np.asarray(X32, dtype=np.float64).mean(axis=0), rtol=1e-6
    )


def test_scoring_a_chunked_memmap(data):
    X, weights, X_map, w_map = data
    model = GaussianMLE().fit(X)
    expected = stats.multivariate_normal(model.mean_, model.covariance_).logpdf(X)
    scores = model.score_samples(chunked(X_map, 77))
    assert type(scores) is np.ndarray and scores.shape == (N_SAMPLES,)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert model.log_likelihood(chunked(X_map, 77), sample_weight=w_map) == (
        pytest.approx(weights @ expected, rel=1e-12)
    )
    assert model.aic(chunked(X_map, 600)) == pytest.approx(
        -2 * expected.sum() + 2 * model._n_parameters(), rel=1e-12
    )


def test_bad_chunks_raise_the_in_memory_errors(data):
    X, weights, _, _ = data
    X = X.copy()
    X[550, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN") as in_memory:
        GaussianMLE().fit(X)
    with pytest.raises(ValueError, match="Input X contains NaN") as by_chunks:
        GaussianMLE().fit(chunked(X, 100))
    assert str(by_chunks.value) == str(in_memory.value)
    negative = weights.copy()
    negative[599] = -2.0
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        GaussianMLE().fit(chunked(data[0], 100), sample_weight=negative)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GaussianMLE().fit(chunked(data[0], 100), sample_weight=weights[:10])
    with pytest.raises(ValueError, match="sample weights sum to zero"):
        GaussianMLE().fit(chunked(data[0], 100), sample_weight=np.zeros(N_SAMPLES))
    with pytest.raises(ValueError, match="Expected 2D array"):
        GaussianMLE().fit(chunked(data[0][:, 0], 100))
    model = GaussianMLE().fit(data[0])
    with pytest.raises(ValueError, match="X has 2 features"):
        model.score_samples(chunked(data[0][:, :2], 100))


def test_zero_weight_chunks_are_allowed(data):
    X, weights, X_map, _ = data
    weights = weights.copy()
    weights[:200] = 0.0  # the first two chunks weigh nothing
    model = GaussianMLE(reg_covar=0).fit(chunked(X_map, 100), sample_weight=weights)
    np.testing.assert_allclose(
        model.mean_, np.average(X, axis=0, weights=weights), rtol=1e-12
    )
    assert model.n_samples_seen_ == weights.sum()


class CountingRows:
    """An array-like that records the row slices read from it."""

    def __init__(self, X):
        self.X, self.shape, self.dtype, self.reads = X, X.shape, X.dtype, []

    def __getitem__(self, rows):
        self.reads.append((rows.start or 0, rows.stop))
        return self.X[rows]


def test_the_closed_form_reads_each_chunk_once(data):
    X = data[0]
    rows = CountingRows(X)
    model = GaussianMLE(reg_covar=0).fit(chunked(rows, 250))
    # The first rows for the model's shapes, then one pass over the three chunks.
    assert rows.reads == [(0, 16), (0, 250), (250, 500), (500, 600)]
    np.testing.assert_allclose(model.mean_, X.mean(axis=0), rtol=1e-12)
