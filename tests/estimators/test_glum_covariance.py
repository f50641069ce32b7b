"""skmle's sandwich and cluster covariances against glum's ``covariance_matrix``.

glum's ``GeneralizedLinearRegressor(alpha=0).covariance_matrix(X, y,
robust=True)`` is :math:`H^{-1} G^\\top G H^{-1}` times :math:`N/(N - p)`,
:math:`N` the sum of the weights and :math:`p` the coefficients with the
intercept: skmle's ``"HC1"`` (glum has no uncorrected HC0); with ``clusters`` it
is :math:`\\frac{M}{M-1}\\frac{N-1}{N-p}` times the grouped sums, skmle's
``"cluster"`` (CRV1). ``expected_information`` chooses the Fisher or the
observed information for :math:`H`; for the canonical links here (normal with
identity, binomial with logit) they are one matrix, so both choices agree.
Without ``robust`` glum's normal covariance uses the Pearson dispersion with
``ddof=p`` and then multiplies by :math:`N/(N-p)` once more:
``LinearGaussianRegressor(inference="exact")`` (statsmodels' OLS) times
:math:`N/(N-p)`. The mapping holds
with unit weights; with other weights glum's scores carry :math:`w_i` (their
products :math:`w_i^2`: precision weights) where skmle's meat has :math:`w_i`
(frequency weights). glum's rows are ordered ``[intercept, coef]``. Measured
agreement (relative, largest entry, Grunfeld): normal HC1 2e-13, cluster 4e-15,
non-robust 5e-15; binomial HC1 4e-11 and cluster 5e-11 with either
``expected_information``.
"""

import numpy as np
import pytest
import statsmodels.api as sm

from skmle import LinearGaussianRegressor, LogisticGD

glum = pytest.importorskip("glum")


def grunfeld():
    data = sm.datasets.grunfeld.load_pandas().data
    X = data[["value", "capital"]].to_numpy(float) / 1e3
    firm = np.unique(data["firm"].to_numpy(str), return_inverse=True)[1]
    return X, data["invest"].to_numpy(float), firm


def glum_fit(family, X, y):
    return glum.GeneralizedLinearRegressor(
        family=family, alpha=0, gradient_tol=1e-12, max_iter=1000
    ).fit(X, y)


def in_model_order(matrix, model):
    """glum's covariance, ``[intercept, coef]``, in the order of
    ``model.param_names()`` (that of ``params_cov_``)."""
    names = ["intercept"] + [f"x{j}" for j in range(matrix.shape[0] - 1)]
    index = [names.index(name) for name in model.param_names()]
    return np.asarray(matrix)[np.ix_(index, index)]


@pytest.mark.parametrize("expected_information", [True, False])
def test_normal_robust_is_hc1_and_clusters_are_cluster(expected_information):
    X, y, firm = grunfeld()
    reference = glum_fit("normal", X, y)
    robust = reference.covariance_matrix(
        X, y, robust=True, expected_information=expected_information
    )
    model = LinearGaussianRegressor(cov_type="HC1").fit(X, y)
    np.testing.assert_allclose(
        model.params_cov_, in_model_order(robust, model), rtol=1e-8
    )
    clustered = reference.covariance_matrix(
        X, y, clusters=firm, expected_information=expected_information
    )
    model = LinearGaussianRegressor(cov_type="cluster").fit(X, y, groups=firm)
    np.testing.assert_allclose(
        model.params_cov_, in_model_order(clustered, model), rtol=1e-8
    )


def test_normal_nonrobust_is_the_exact_inference_times_n_over_n_minus_p():
    """glum's non-robust covariance is the inverse Fisher information at the
    Pearson dispersion RSS/(N - p), times N/(N - p) once more: statsmodels'
    OLS covariance (skmle's ``inference="exact"``) times N/(N - p)."""
    X, y, _ = grunfeld()
    n, p = len(y), X.shape[1] + 1
    reference = glum_fit("normal", X, y).covariance_matrix(X, y, robust=False)
    model = LinearGaussianRegressor(inference="exact").fit(X, y)
    np.testing.assert_allclose(
        model.params_cov_ * n / (n - p), in_model_order(reference, model), rtol=1e-8
    )


@pytest.mark.filterwarnings("ignore:Sigmoid function too close:UserWarning")
@pytest.mark.parametrize("expected_information", [True, False])
def test_binomial_robust_is_hc1_and_clusters_are_cluster(expected_information):
    X, y, firm = grunfeld()
    high = (y > np.median(y)).astype(float)
    reference = glum_fit("binomial", X, high)
    model = LogisticGD(cov_type="HC1", tol=1e-12).fit(X, high)
    np.testing.assert_allclose(
        np.r_[model.coef_.ravel(), model.intercept_],
        np.r_[reference.coef_, reference.intercept_],
        rtol=1e-7,
    )
    robust = reference.covariance_matrix(
        X, high, robust=True, expected_information=expected_information
    )
    np.testing.assert_allclose(
        model.params_cov_, in_model_order(robust, model), rtol=1e-8
    )
    clustered = reference.covariance_matrix(
        X, high, clusters=firm, expected_information=expected_information
    )
    model = LogisticGD(cov_type="cluster", tol=1e-12).fit(X, high, groups=firm)
    np.testing.assert_allclose(
        model.params_cov_, in_model_order(clustered, model), rtol=1e-8
    )
