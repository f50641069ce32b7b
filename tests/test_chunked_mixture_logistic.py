"""EMGaussianMixture and LogisticGD on skmle.chunked data (a memmap read in chunks).

References: the same estimator fitted on the array in memory (tested elsewhere
against scikit-learn and statsmodels), and statsmodels' Logit.
"""

import numpy as np
import pytest
import statsmodels.api as sm

import skmle.estimators.mixture as mixture_module
from skmle import EMGaussianMixture, LogisticGD, chunked


def to_memmap(path, values):
    array = np.lib.format.open_memmap(
        path, mode="w+", dtype=values.dtype, shape=values.shape
    )
    array[:] = values
    array.flush()
    return np.load(path, mmap_mode="r")


@pytest.fixture
def blobs(tmp_path):
    rng = np.random.default_rng(0)
    X = np.vstack(
        [
            rng.normal(size=(600, 2)),
            rng.normal(size=(500, 2)) * 0.5 + [5.0, 1e4],
        ]
    )
    weights = rng.integers(0, 4, size=X.shape[0]).astype(float)
    return to_memmap(tmp_path / "X.npy", X), weights


def explicit_start(covariance_type):
    means = np.array([[0.5, 1e4 - 1.0], [4.0, 1e4 + 1.0]])
    precisions = {
        "full": np.stack([np.eye(2)] * 2),
        "diag": np.ones((2, 2)),
        "spherical": np.ones(2),
        "tied": np.eye(2),
    }[covariance_type]
    return {
        "weights_init": [0.5, 0.5],
        "means_init": means,
        "precisions_init": precisions,
    }


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_mixture_on_chunks_equals_the_in_memory_fit(blobs, covariance_type):
    X, weights = blobs
    options = dict(n_components=2, covariance_type=covariance_type, tol=1e-10)
    options.update(explicit_start(covariance_type))
    reference = EMGaussianMixture(**options).fit(np.array(X), sample_weight=weights)
    model = EMGaussianMixture(**options).fit(
        chunked(X, chunk_size=257), sample_weight=weights
    )
    assert model.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(model.means_, reference.means_, rtol=1e-8)
    np.testing.assert_allclose(model.covariances_, reference.covariances_, rtol=1e-8)
    np.testing.assert_allclose(model.weights_, reference.weights_, rtol=1e-8)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-8)
    # The centring point is the weighted mean of all rows, not of the first ones.
    np.testing.assert_allclose(
        model.model_.location, np.average(X, axis=0, weights=weights), rtol=1e-12
    )
    np.testing.assert_allclose(
        model.score_samples(chunked(X, chunk_size=300)),
        reference.score_samples(np.array(X)),
        rtol=1e-9,
    )


def test_mixture_kmeans_start_from_a_sample_of_rows(blobs, monkeypatch):
    X, weights = blobs
    reference = EMGaussianMixture(2, random_state=0).fit(np.array(X), weights)
    # Fewer rows than the sample size: the start is the in-memory one.
    model = EMGaussianMixture(2, random_state=0).fit(chunked(X, 300), weights)
    np.testing.assert_allclose(model.means_, reference.means_, rtol=1e-8)
    # More rows: k-means runs on a random sample; the blobs are found all the same.
    monkeypatch.setattr(mixture_module, "INIT_SAMPLE_ROWS", 100)
    sampled = EMGaussianMixture(2, random_state=0).fit(chunked(X, 300), weights)
    order = np.argsort(sampled.means_[:, 0])
    expected = reference.means_[np.argsort(reference.means_[:, 0])]
    np.testing.assert_allclose(sampled.means_[order], expected, rtol=1e-6)
    assert sampled.converged_
    for init in ["k-means++", "random_from_data", "random"]:
        fitted = EMGaussianMixture(2, init_params=init, random_state=0)
        fitted.fit(chunked(X, 300), weights)
        assert np.isfinite(fitted.loglik_)


def test_mixture_needs_enough_rows_with_weight(blobs):
    X, _ = blobs
    weights = np.zeros(X.shape[0])
    weights[700] = 1.0
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        EMGaussianMixture(2).fit(chunked(X, 300), sample_weight=weights)


@pytest.fixture
def logistic_data(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 3))
    y = (X @ [1.0, -0.5, 0.25] + rng.logistic(size=1500) > 0).astype(int)
    order = np.argsort(y, kind="stable")  # the first chunks hold only class 0
    return to_memmap(tmp_path / "X.npy", X[order]), y[order]


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_logistic_on_chunks_reaches_the_statsmodels_maximum(logistic_data, solver):
    X, y = logistic_data
    labels = np.array(["neg", "pos"])[y]
    reference = sm.Logit(y, sm.add_constant(np.array(X))).fit(disp=0)
    model = LogisticGD(solver=solver, tol=1e-9).fit(chunked(X, chunk_size=200), labels)
    np.testing.assert_array_equal(model.classes_, ["neg", "pos"])
    np.testing.assert_allclose(model.coef_[0], reference.params[1:], rtol=1e-6)
    assert model.loglik_ == pytest.approx(reference.llf, rel=1e-10)
    if solver == "newton":
        np.testing.assert_allclose(model.coef_se_[0], reference.bse[1:], rtol=1e-6)
    np.testing.assert_array_equal(
        model.predict(chunked(X, chunk_size=333)), model.predict(np.array(X))
    )


def test_logistic_on_chunks_multinomial_equals_in_memory(logistic_data):
    X, y = logistic_data
    y3 = y + (np.asarray(X)[:, 2] > 0.5)
    weights = np.random.default_rng(0).integers(0, 3, size=y.shape[0]).astype(float)
    reference = LogisticGD().fit(np.array(X), y3, weights)
    model = LogisticGD().fit(chunked(X, chunk_size=128), y3, weights)
    np.testing.assert_allclose(model.theta_, reference.theta_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(model.coef_se_, reference.coef_se_, rtol=1e-8)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-12)


def test_logistic_on_chunks_checks_classes_over_all_rows(logistic_data):
    X, y = logistic_data
    with pytest.raises(ValueError, match="only one class"):
        LogisticGD().fit(chunked(X, chunk_size=200), np.zeros_like(y))
    weights = (y == 0).astype(float)  # class 1 is present but has no weight
    with pytest.raises(ValueError, match="positive total sample weight"):
        LogisticGD().fit(chunked(X, chunk_size=200), y, weights)
