"""The regressors fitted on ``skmle.chunked`` memmaps equal the in-memory fit.

References: NumPy's least squares, the least-absolute-deviation optimum of the
primal LP (scipy's HiGHS), SciPy's log-densities, and the same estimator fitted
on the in-memory arrays.
"""

import warnings

import numpy as np
import pytest
from scipy import sparse, stats
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning

from skmle import LaplaceRegressor, LinearGaussianRegressor, chunked

N_SAMPLES = 1500
CHUNK_SIZES = [7, 250, 1499, 10_000]


def to_memmap(path, values):
    mapped = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float64, shape=np.shape(values)
    )
    mapped[:] = values
    mapped.flush()
    return np.load(path, mmap_mode="r")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(30)
    X = rng.normal(size=(N_SAMPLES, 3)) * [1.0, 3.0, 0.5] + [5.0, -2.0, 40.0]
    y = X @ [1.5, -0.7, 2.0] + 4.0 + rng.laplace(size=N_SAMPLES)
    y[rng.random(N_SAMPLES) < 0.03] += 30.0  # outliers
    weights = rng.integers(0, 4, size=N_SAMPLES).astype(float)
    path = tmp_path_factory.mktemp("chunked-regression")
    return (
        X,
        y,
        weights,
        to_memmap(path / "X.npy", X),
        to_memmap(path / "y.npy", y),
        to_memmap(path / "w.npy", weights),
    )


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


def assert_same_fit(model, reference, rtol):
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=rtol)
    assert model.intercept_ == pytest.approx(reference.intercept_, rel=rtol)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=rtol)
    np.testing.assert_allclose(model.coef_se_, reference.coef_se_, rtol=rtol)
    assert model.intercept_se_ == pytest.approx(reference.intercept_se_, rel=rtol)
    assert model.n_samples_seen_ == reference.n_samples_seen_
    assert type(model.coef_) is np.ndarray and model.n_features_in_ == 3


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_gaussian_closed_form_on_a_chunked_memmap(data, chunk_size):
    X, y, weights, X_map, y_map, w_map = data
    model = LinearGaussianRegressor().fit(chunked(X_map, chunk_size), y_map, w_map)
    reference = LinearGaussianRegressor().fit(X, y, sample_weight=weights)
    assert_same_fit(model, reference, rtol=1e-10)
    root = np.sqrt(weights)
    X1 = np.column_stack([X, np.ones(N_SAMPLES)])
    solution = np.linalg.lstsq(X1 * root[:, None], y * root, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, solution[:3], rtol=1e-10)
    rss = weights @ (y - X1 @ solution) ** 2
    assert model.sigma2_ == pytest.approx(rss / weights.sum(), rel=1e-10)


@pytest.mark.parametrize("chunk_size", [37, 1499])
def test_laplace_lp_on_a_chunked_memmap_reaches_the_exact_optimum(
    data, chunk_size, capsys
):
    X, y, weights, X_map, y_map, w_map = data
    model = LaplaceRegressor(verbose=1)
    model.fit(chunked(X_map, chunk_size), y_map, w_map)
    assert "irls+band lp" in capsys.readouterr().out  # only a band was gathered
    reference = LaplaceRegressor().fit(X, y, sample_weight=weights)
    assert_same_fit(model, reference, rtol=1e-8)
    objective = weights @ np.abs(y - model.predict(X))
    assert objective <= lad_optimum(X, y, weights) * (1 + 1e-9)
    assert model.scale_ == pytest.approx(objective / weights.sum(), rel=1e-12)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_gaussian_gradient_solvers_on_a_chunked_memmap(data, solver):
    X, y, weights, X_map, y_map, w_map = data
    options = {"solver": solver, "tol": 1e-9}
    model = LinearGaussianRegressor(**options)
    model.fit(chunked(X_map, 400), y_map, sample_weight=w_map)
    reference = LinearGaussianRegressor(**options).fit(X, y, sample_weight=weights)
    closed = LinearGaussianRegressor().fit(X, y, sample_weight=weights)
    assert model.converged_
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-12)
    assert model.loglik_ == pytest.approx(closed.loglik_, rel=1e-10)
    np.testing.assert_allclose(model.coef_, closed.coef_, rtol=1e-5)


def test_gaussian_gd_on_a_chunked_memmap_follows_the_in_memory_iterates(data):
    X, y, weights, X_map, y_map, w_map = data
    options = {"solver": "gd", "max_iter": 30}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LinearGaussianRegressor(**options).fit(
            chunked(X_map, 400), y_map, w_map
        )
        reference = LinearGaussianRegressor(**options).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(
        model.loglik_history_, reference.loglik_history_, rtol=1e-10
    )
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8)


def test_laplace_gd_on_a_chunked_memmap_follows_the_in_memory_iterates(data):
    X, y, weights, X_map, y_map, w_map = data
    options = {"solver": "gd", "max_iter": 200}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LaplaceRegressor(**options).fit(chunked(X_map, 400), y_map, w_map)
        reference = LaplaceRegressor(**options).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-10)
    np.testing.assert_allclose(
        model.loglik_history_, reference.loglik_history_, rtol=1e-10
    )
    # The start is the weighted median of y, found without gathering y.
    exact = LaplaceRegressor().fit(X, y, sample_weight=weights)
    assert model.loglik_ <= exact.loglik_ and model.loglik_ > exact.loglik_ * 1.01


def test_without_intercept_on_a_chunked_memmap(data):
    X, y, weights, X_map, y_map, w_map = data
    for Estimator in (LinearGaussianRegressor, LaplaceRegressor):
        model = Estimator(fit_intercept=False)
        model.fit(chunked(X_map, 333), y_map, sample_weight=w_map)
        reference = Estimator(fit_intercept=False).fit(X, y, sample_weight=weights)
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8)
        assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-10)
        np.testing.assert_allclose(model.coef_se_, reference.coef_se_, rtol=1e-8)


def test_prediction_and_scores_on_a_chunked_memmap(data):
    X, y, _, X_map, y_map, w_map = data
    model = LinearGaussianRegressor().fit(X, y)
    mean = X @ model.coef_ + model.intercept_
    predicted = model.predict(chunked(X_map, 333))
    assert type(predicted) is np.ndarray
    np.testing.assert_allclose(predicted, mean, rtol=1e-14)
    sigma = np.sqrt(model.sigma2_)
    interval = model.predict_interval(chunked(X_map, 333), alpha=0.1)
    np.testing.assert_allclose(
        interval, np.column_stack(stats.norm.interval(0.9, mean, sigma)), rtol=1e-12
    )
    logpdf = stats.norm.logpdf(y, mean, sigma)
    assert model.log_likelihood(
        chunked(X_map, 100), y_map, sample_weight=w_map
    ) == pytest.approx(np.asarray(w_map) @ logpdf, rel=1e-12)
    assert model.bic(chunked(X_map, 1000), y_map) == pytest.approx(
        -2 * logpdf.sum() + 5 * np.log(N_SAMPLES), rel=1e-12
    )


class CountingRows:
    """An array-like that records the row slices read from it."""

    def __init__(self, X):
        self.X, self.shape, self.dtype, self.reads = X, X.shape, X.dtype, []

    def __getitem__(self, rows):
        self.reads.append((rows.start or 0, rows.stop))
        return self.X[rows]


def test_the_closed_form_reads_the_data_twice(data):
    X, y = data[0], data[1]
    rows = CountingRows(X)
    LinearGaussianRegressor().fit(chunked(rows, 600), y)
    # The first rows for the shapes; a pass for the moments, one for the RSS.
    chunks = [(0, 600), (600, 1200), (1200, 1500)]
    assert rows.reads == [(0, 16), *chunks, *chunks]


def test_rank_deficient_chunked_fit_is_the_minimum_norm_solution(data):
    X, y = data[0], data[1]
    X = np.column_stack([X, X[:, 0] - X[:, 1], np.full(N_SAMPLES, 2.0)])
    with pytest.warns(UserWarning, match="standard errors are set to NaN"):
        model = LinearGaussianRegressor().fit(chunked(X, 500), y)
    assert "minimum norm" in model.solver_route_
    centred = X - X.mean(axis=0)
    expected = np.linalg.pinv(centred) @ (y - y.mean())
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-7, atol=1e-9)
    assert np.all(np.isnan(model.coef_se_))
