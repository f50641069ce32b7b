"""``NegativeBinomialRegressor`` against statsmodels' discrete
``NegativeBinomial(loglike_method="nb2")`` on randhie (doctor visits ``mdvis``)
and on simulated data with an exposure.

statsmodels is fitted with ``method="newton"`` to its own tight tolerance: its
default BFGS stops about 1e-5 (relative) short of the maximum on randhie, where
skmle's log-likelihood is higher by 2e-7. Measured agreement with the Newton
fit (relative, largest over the parameters): randhie params including alpha
1e-8, standard errors 1e-9, log-likelihood 2e-16; with an offset 2e-13 and
1e-14; HC0 and cluster standard errors 1e-13. Against the default BFGS fit:
params 1e-4, standard errors 4e-6, log-likelihood higher by 2e-7 (5e-12).
"""

import dask.array as da
import numpy as np
import pytest
from scipy import stats

from skmle import NegativeBinomialRegressor, chunked

sm = pytest.importorskip("statsmodels.api")


def _randhie():
    data = sm.datasets.randhie.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


def _exposure_data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    exposure = rng.uniform(0.5, 3.0, size=n)
    mu = exposure * np.exp(0.5 + X @ [0.3, -0.2, 0.1])
    y = rng.negative_binomial(1 / 0.7, 1 / (1 + 0.7 * mu))
    return X, y.astype(float), np.log(exposure)


def _statsmodels(X, y, offset=None, **fit):
    design = sm.add_constant(X, prepend=False)
    model = sm.NegativeBinomial(y, design, loglike_method="nb2", offset=offset)
    return model.fit(method="newton", maxiter=100, tol=1e-14, disp=0, **fit)


def _params(model):
    return np.r_[model.coef_, model.intercept_, model.alpha_]


def _errors(model):
    return np.r_[model.coef_se_, model.intercept_se_, model.alpha_se_]


@pytest.mark.slow
def test_randhie_equals_statsmodels_nb2():
    X, y = _randhie()
    model = NegativeBinomialRegressor().fit(X, y)
    reference = _statsmodels(X, y)
    np.testing.assert_allclose(_params(model), reference.params, rtol=1e-6)
    np.testing.assert_allclose(_errors(model), reference.bse, rtol=1e-6)
    assert model.loglik_ == pytest.approx(reference.llf, rel=1e-10)
    assert model.aic_ == pytest.approx(reference.aic, rel=1e-10)
    assert model.bic_ == pytest.approx(reference.bic, rel=1e-10)
    default = sm.NegativeBinomial(
        y, sm.add_constant(X, prepend=False), loglike_method="nb2"
    ).fit(disp=0, maxiter=1000)
    assert model.loglik_ >= default.llf
    assert model.summary().stats["covariance"] == "nonrobust"


def test_offset_equals_statsmodels_and_predict_dist_is_scipy_nbinom():
    X, y, offset = _exposure_data()
    model = NegativeBinomialRegressor().fit(X, y, offset=offset)
    reference = _statsmodels(X, y, offset)
    np.testing.assert_allclose(_params(model), reference.params, rtol=1e-6)
    np.testing.assert_allclose(_errors(model), reference.bse, rtol=1e-6)
    assert model.loglik_ == pytest.approx(reference.llf, rel=1e-10)
    mu = reference.predict(sm.add_constant(X[:20], prepend=False), offset=offset[:20])
    np.testing.assert_allclose(model.predict(X[:20], offset=offset[:20]), mu, rtol=1e-8)
    alpha = reference.params[-1]
    expected = stats.nbinom.logpmf(y[:20], 1 / alpha, 1 / (1 + alpha * mu))
    dist = model.predict_dist(X[:20], offset=offset[:20])
    np.testing.assert_allclose(dist.logpmf(y[:20]), expected, rtol=1e-7)
    assert model.log_likelihood(X, y, offset=offset) == pytest.approx(
        reference.llf, rel=1e-10
    )


@pytest.mark.parametrize("cov_type", ["HC0", "cluster"])
def test_robust_covariances_equal_statsmodels(cov_type):
    X, y, offset = _exposure_data(900, seed=4)
    groups = np.arange(900) % 23
    kwds = {"cov_kwds": {"groups": groups}} if cov_type == "cluster" else {}
    reference = _statsmodels(X, y, offset, cov_type=cov_type, **kwds)
    model = NegativeBinomialRegressor(cov_type=cov_type).fit(
        X, y, offset=offset, groups=groups if cov_type == "cluster" else None
    )
    np.testing.assert_allclose(_errors(model), reference.bse, rtol=1e-6)


def test_weights_every_solver_and_pieces_reach_the_same_maximum():
    X, y, offset = _exposure_data(600, seed=6)
    w = np.random.default_rng(1).integers(0, 3, size=600).astype(float)
    model = NegativeBinomialRegressor().fit(X, y, sample_weight=w, offset=offset)
    rows = np.repeat(np.arange(600), w.astype(int))
    reference = _statsmodels(X[rows], y[rows], offset[rows])
    np.testing.assert_allclose(_params(model), reference.params, rtol=1e-6)
    np.testing.assert_allclose(_errors(model), reference.bse, rtol=1e-6)
    lbfgs = NegativeBinomialRegressor(solver="lbfgs", tol=1e-9, max_iter=2000)
    lbfgs.fit(X, y, sample_weight=w, offset=offset)
    np.testing.assert_allclose(_params(lbfgs), reference.params, rtol=1e-5)
    for data, off in [
        (chunked(X, 100), offset),
        (da.from_array(X, chunks=(130, 3)), da.from_array(offset, chunks=130)),
    ]:
        pieces = NegativeBinomialRegressor().fit(data, y, sample_weight=w, offset=off)
        np.testing.assert_allclose(_params(pieces), _params(model), rtol=1e-9)
        np.testing.assert_allclose(_errors(pieces), _errors(model), rtol=1e-8)


def test_a_shifted_feature_gives_the_same_fit_and_errors():
    """Reference: the fit of the unshifted features (the same model, the
    intercept moved by -shift * coef); the information is taken in centred
    coordinates, so the standard errors keep their digits."""
    X, y, offset = _exposure_data(1000, seed=8)
    plain = NegativeBinomialRegressor(cov_type="HC0").fit(X, y, offset=offset)
    model = NegativeBinomialRegressor(cov_type="HC0").fit(X + 1e6, y, offset=offset)
    assert model.converged_
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-8)
    assert model.alpha_ == pytest.approx(plain.alpha_, rel=1e-8)
    np.testing.assert_allclose(model.coef_se_, plain.coef_se_, rtol=1e-8)
    assert model.alpha_se_ == pytest.approx(plain.alpha_se_, rel=1e-8)


# -- the Poisson limit: alpha -> 0 --------------------------------------------------
def _cpunish():
    data = sm.datasets.cpunish.load_pandas()
    X = data.exog.copy()
    X["INCOME"] = np.log(X["INCOME"])
    return X.to_numpy(float), data.endog.to_numpy(float)


def _nb_loglik_by_sums(X, y, coef, intercept, alpha):
    """NB2's log-likelihood for integer counts, with log Gamma(y + r) / Gamma(r)
    as the exact sum of log(r + j) over j < y (``math.fsum``), free of the
    cancellation near the Poisson limit."""
    import math

    eta = X @ coef + intercept
    r = 1.0 / alpha
    total = []
    for yi, ei in zip(y, eta, strict=True):
        gammas = math.fsum(math.log1p(alpha * j) for j in range(int(yi)))
        mu = math.exp(ei)
        total.append(
            gammas - math.lgamma(yi + 1) + yi * ei - (yi + r) * math.log1p(alpha * mu)
        )
    return math.fsum(total)


def test_underdispersed_counts_reach_the_poisson_fit_and_say_so():
    """On cpunish (17 states' executions) the NB2 likelihood rises towards
    alpha = 0; the fit used to report a positive log-likelihood (+60.6) from
    rounding noise in log Gamma(y + 1/alpha) - log Gamma(1/alpha)."""
    from skmle import PoissonMLERegressor

    X, y = _cpunish()
    with pytest.warns(UserWarning, match="lower bound 0"):
        model = NegativeBinomialRegressor().fit(X, y)
    poisson = sm.GLM(y, sm.add_constant(X, prepend=False),
                     family=sm.families.Poisson()).fit(tol=1e-14)  # fmt: skip
    assert model.converged_
    assert model.loglik_ == pytest.approx(poisson.llf, rel=1e-12)
    np.testing.assert_allclose(
        np.r_[model.coef_, model.intercept_], poisson.params, rtol=1e-6
    )
    ours = PoissonMLERegressor().fit(X, y)
    np.testing.assert_allclose(model.coef_se_, ours.coef_se_, rtol=1e-6)


@pytest.mark.parametrize("log_alpha", [-1.0, -12.0, -25.0, -40.0])
def test_loglik_and_dispersion_score_near_the_poisson_limit(log_alpha):
    X, y = _cpunish()
    poisson = sm.GLM(y, sm.add_constant(X, prepend=False),
                     family=sm.families.Poisson()).fit(tol=1e-14)  # fmt: skip
    coef, intercept = poisson.params[:-1], poisson.params[-1]
    function = NegativeBinomialRegressor().loglik_function(X, y)
    theta = np.r_[coef, intercept, log_alpha]
    alpha = np.exp(log_alpha)
    expected = _nb_loglik_by_sums(X, y, coef, intercept, alpha)
    assert function.loglik(theta) == pytest.approx(expected, rel=1e-12)
    # The score in log alpha against a central difference of the exact sums.
    h = 1e-3
    numeric = (
        _nb_loglik_by_sums(X, y, coef, intercept, alpha * np.exp(h))
        - _nb_loglik_by_sums(X, y, coef, intercept, alpha * np.exp(-h))
    ) / (2 * h)
    _, grad = function.value_and_grad(theta)
    score = grad[-1] * function.total_weight
    assert score == pytest.approx(numeric, rel=1e-5, abs=1e-12)
