"""GaussianMLE's standard errors of every estimated parameter (the mean and the
covariance entries) and its ``cov_type`` sandwiches, against an independent
computation: finite differences (statsmodels' ``numdiff``) of
``scipy.stats.multivariate_normal.logpdf`` in the reported parameterisation."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.numdiff import approx_fprime, approx_hess3

from skmle import GaussianMLE, chunked


@pytest.fixture(scope="module")
def grunfeld():
    """statsmodels' Grunfeld investment data: three skewed, heteroskedastic
    columns and the firms (clusters)."""
    data = sm.datasets.grunfeld.load_pandas().data
    X = data[["invest", "value", "capital"]].to_numpy(float) / 100.0
    return X, data["firm"].to_numpy(str)


def sigma_of(params, d, covariance_type):
    """The covariance of the reported parameters (after the d means)."""
    entries = params[d:]
    if covariance_type == "full":
        sigma = np.zeros((d, d))
        sigma[np.tril_indices(d)] = entries
        return sigma + np.tril(sigma, -1).T
    if covariance_type == "diag":
        return np.diag(entries)
    return np.eye(d) * entries[0]


def loglik_rows(params, X, covariance_type, reg=0.0):
    d = X.shape[1]
    sigma = sigma_of(params, d, covariance_type)
    logpdf = stats.multivariate_normal(params[:d], sigma).logpdf(X)
    # the log-prior of reg_covar, -reg/2 tr(Sigma^-1) per unit of weight
    return np.atleast_1d(logpdf) - 0.5 * reg * np.trace(np.linalg.inv(sigma))


def assert_covariance_close(actual, expected, tol):
    """Equal relative to the scale of each entry, sqrt(V_ii V_jj) (the finite
    differences leave noise of that relative size where the truth is 0)."""
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    np.testing.assert_allclose(actual / scale, expected / scale, rtol=0, atol=tol)


def reported(model):
    """The estimates in the order of param_names: the mean, then the entries."""
    return np.array([row.estimate for row in model.summary().rows])


def fd_information(model, X, covariance_type, reg=0.0):
    params = reported(model)
    hessian = approx_hess3(
        params, lambda p: loglik_rows(p, X, covariance_type, reg).sum()
    )
    return -hessian, params


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_standard_errors_are_the_inverse_finite_difference_hessian(
    grunfeld, covariance_type
):
    X, _ = grunfeld
    model = GaussianMLE(covariance_type=covariance_type).fit(X)
    information, _ = fd_information(model, X, covariance_type)
    expected = np.linalg.inv(information)
    assert_covariance_close(model.params_cov_, expected, 2e-5)
    se = np.array([row.std_err for row in model.summary().rows])
    np.testing.assert_allclose(se, np.sqrt(np.diag(expected)), rtol=1e-5)
    d = X.shape[1]
    np.testing.assert_allclose(model.mean_se_, se[:d], rtol=1e-14)
    assert np.shape(model.covariance_se_) == np.shape(model.covariance_)


def test_every_parameter_is_in_the_summary_named_and_ordered(grunfeld):
    X, _ = grunfeld
    model = GaussianMLE().fit(X)
    names = model.param_names(["i", "v", "c"])
    assert names == [
        "mean[i]",
        "mean[v]",
        "mean[c]",
        "covariance[i,i]",
        "covariance[v,i]",
        "covariance[v,v]",
        "covariance[c,i]",
        "covariance[c,v]",
        "covariance[c,c]",
    ]
    reference = np.cov(X, rowvar=False, bias=True)
    np.testing.assert_allclose(reported(model)[3:], reference[np.tril_indices(3)])
    # a symmetric matrix of standard errors, (s_ii s_jj + s_ij^2) / n off the diagonal
    se = model.covariance_se_
    np.testing.assert_allclose(se, se.T)
    n = X.shape[0]
    expected = np.sqrt((reference[1, 1] * reference[0, 0] + reference[1, 0] ** 2) / n)
    assert se[1, 0] == pytest.approx(expected, rel=1e-13)
    assert model.param_blocks().keys() == {"mean"}  # the entries are not in theta_


def test_the_regularised_estimate_has_the_posterior_curvature(grunfeld):
    X, _ = grunfeld
    reg = 0.5
    model = GaussianMLE(reg_covar=reg).fit(X)
    information, _ = fd_information(model, X, "full", reg=reg)
    assert_covariance_close(model.params_cov_, np.linalg.inv(information), 2e-5)


def test_the_gradient_solvers_report_the_same_errors(grunfeld):
    X, _ = grunfeld
    exact = GaussianMLE().fit(X)
    ascent = GaussianMLE(solver="newton", tol=1e-10).fit(X)
    np.testing.assert_allclose(ascent.params_cov_, exact.params_cov_, rtol=1e-7)


def independent_sandwich(model, X, covariance_type, groups=None):
    """H^-1 (S^T S) H^-1 from finite-difference per-row scores S and the
    finite-difference Hessian H, the rows' scores summed within groups."""
    information, params = fd_information(model, X, covariance_type)
    scores = approx_fprime(params, lambda p: loglik_rows(p, X, covariance_type))
    if groups is not None:
        labels, codes = np.unique(groups, return_inverse=True)
        sums = np.zeros((labels.size, scores.shape[1]))
        np.add.at(sums, codes, scores)
        scores = sums
    bread = np.linalg.inv(information)
    return bread @ scores.T @ scores @ bread


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_hc0_and_hc1_are_the_finite_difference_sandwich(grunfeld, covariance_type):
    X, _ = grunfeld
    hc0 = GaussianMLE(covariance_type=covariance_type, cov_type="HC0").fit(X)
    expected = independent_sandwich(hc0, X, covariance_type)
    assert_covariance_close(hc0.params_cov_, expected, 1e-4)
    hc1 = GaussianMLE(covariance_type=covariance_type, cov_type="HC1").fit(X)
    n, p = X.shape[0], expected.shape[0]
    assert_covariance_close(hc1.params_cov_, expected * n / (n - p), 1e-4)
    assert hc1.summary().stats["covariance"] == "HC1"
    # heavy tails: the robust errors of the variances are far from the closed form
    plain = GaussianMLE(covariance_type=covariance_type).fit(X)
    d = X.shape[1]
    assert np.all(hc0.summary().std_errors[d:] > 1.3 * plain.summary().std_errors[d:])


def test_cluster_is_the_finite_difference_sandwich_of_group_sums(grunfeld):
    X, firm = grunfeld
    model = GaussianMLE(covariance_type="diag", cov_type="cluster").fit(X, groups=firm)
    expected = independent_sandwich(model, X, "diag", groups=firm)
    n, G, p = X.shape[0], np.unique(firm).size, expected.shape[0]
    factor = G / (G - 1) * (n - 1) / (n - p)
    assert_covariance_close(model.params_cov_, expected * factor, 1e-4)


def test_the_sandwich_on_chunks_equals_the_sandwich_in_memory(grunfeld):
    X, _ = grunfeld
    whole = GaussianMLE(cov_type="HC1").fit(X)
    pieces = GaussianMLE(cov_type="HC1").fit(chunked(X, chunk_size=37))
    np.testing.assert_allclose(pieces.params_cov_, whole.params_cov_, rtol=1e-10)


def test_cov_type_errors_are_value_errors(grunfeld):
    X, firm = grunfeld
    with pytest.raises(ValueError, match="partial_fit keeps the moments"):
        GaussianMLE(cov_type="HC0").partial_fit(X)
    with pytest.raises(ValueError, match="groups"):
        GaussianMLE(cov_type="cluster").fit(X)
    with pytest.raises(ValueError, match="groups"):
        GaussianMLE().fit(X, groups=firm)
    with pytest.warns(UserWarning, match="more observations"):
        few = GaussianMLE(cov_type="HC1").fit(X[:8])
    assert np.isnan(few.params_cov_).all() and np.isnan(few.mean_se_).all()
