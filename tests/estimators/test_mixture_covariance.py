"""EMGaussianMixture's ``cov_type`` sandwiches against an independent
computation: per-row scores and the Hessian by finite differences (statsmodels'
``numdiff``) of the mixture's log-density written with ``scipy.stats``, in the
weights and means with the covariances held at their estimates."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp
from sklearn.datasets import load_iris
from statsmodels.tools.numdiff import approx_fprime, approx_hess3

from skmle import EMGaussianMixture, chunked

K = 2


@pytest.fixture(scope="module")
def iris():
    data = load_iris()
    return data.data[:, [0, 2]], data.target  # sepal and petal length


def log_density(phi, X, covariances):
    """log sum_k pi_k N(x; mu_k, Sigma_k), phi = (pi_1..pi_{K-1}, mu_1..mu_K)."""
    d = X.shape[1]
    weights = np.append(phi[: K - 1], 1.0 - np.sum(phi[: K - 1]))
    means = phi[K - 1 :].reshape(K, d)
    parts = [
        np.log(weights[k])
        + stats.multivariate_normal(means[k], covariances[k]).logpdf(X)
        for k in range(K)
    ]
    return logsumexp(np.column_stack(parts), axis=1)


def independent_covariance(model, X, groups=None, meat=True):
    phi = np.concatenate([model.weights_[: K - 1], model.means_.ravel()])
    covariances = model.covariances_
    hessian = approx_hess3(phi, lambda p: log_density(p, X, covariances).sum())
    bread = np.linalg.inv(-hessian)
    if meat:
        scores = approx_fprime(phi, lambda p: log_density(p, X, covariances))
        if groups is not None:
            _, codes = np.unique(groups, return_inverse=True)
            sums = np.zeros((codes.max() + 1, phi.size))
            np.add.at(sums, codes, scores)
            scores = sums
        bread = bread @ scores.T @ scores @ bread
    # the reported weights are pi_1..pi_K, pi_K = 1 - sum of the others
    J = np.insert(np.eye(phi.size), K - 1, 0.0, axis=0)
    J[K - 1, : K - 1] = -1.0
    return J @ bread @ J.T


def assert_covariance_close(actual, expected, tol):
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    np.testing.assert_allclose(actual / scale, expected / scale, rtol=0, atol=tol)


def fit(X, **params):
    return EMGaussianMixture(K, random_state=0, tol=1e-10, max_iter=1000, **params)


def test_nonrobust_is_the_inverse_finite_difference_hessian(iris):
    X, _ = iris
    model = fit(X).fit(X)
    expected = independent_covariance(model, X, meat=False)
    assert_covariance_close(model.params_cov_, expected, 1e-5)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_hc_is_the_finite_difference_sandwich(iris, cov_type):
    X, _ = iris
    model = fit(X, cov_type=cov_type).fit(X)
    expected = independent_covariance(model, X)
    n, p = X.shape[0], K - 1 + K * X.shape[1]
    factor = n / (n - p) if cov_type == "HC1" else 1.0
    assert_covariance_close(model.params_cov_, expected * factor, 1e-5)
    assert model.summary().stats["covariance"] == cov_type
    plain = fit(X).fit(X)
    np.testing.assert_allclose(model.means_, plain.means_)  # only the errors change


def test_cluster_is_the_finite_difference_sandwich_of_group_sums(iris):
    X, _ = iris
    # twelve interleaved clusters (by species, each component's mean scores would
    # sum to zero within every cluster: a singular meat)
    groups = np.arange(X.shape[0]) % 12
    model = fit(X, cov_type="cluster").fit(X, groups=groups)
    expected = independent_covariance(model, X, groups=groups)
    n, G, p = X.shape[0], 12, K - 1 + K * X.shape[1]
    factor = G / (G - 1) * (n - 1) / (n - p)
    assert_covariance_close(model.params_cov_, expected * factor, 1e-5)


def test_the_sandwich_on_chunks_equals_the_sandwich_in_memory(iris):
    X, _ = iris
    whole = fit(X, cov_type="HC1").fit(X)
    pieces = fit(X, cov_type="HC1").fit(chunked(X, chunk_size=40))
    np.testing.assert_allclose(pieces.params_cov_, whole.params_cov_, rtol=1e-8)


def test_groups_need_cov_type_cluster(iris):
    X, species = iris
    with pytest.raises(ValueError, match="groups"):
        EMGaussianMixture(K).fit(X, groups=species)
    with pytest.raises(ValueError, match="groups"):
        EMGaussianMixture(K, cov_type="cluster").fit(X)
