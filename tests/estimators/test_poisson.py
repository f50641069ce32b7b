"""``PoissonMLERegressor`` against statsmodels' ``GLM(family=Poisson(),
offset=...)``, scikit-learn's ``PoissonRegressor(alpha=0,
solver="newton-cholesky")`` and glum's ``GeneralizedLinearRegressor(
family="poisson", alpha=0)``, on statsmodels' randhie (doctor visits ``mdvis``),
cpunish (executions by state) and simulated data with an exposure.

Measured agreement (relative, largest over the parameters): statsmodels GLM on
randhie coefficients 1e-14, standard errors 3e-13, log-likelihood and deviance
to rounding; cpunish (17 rows, poorly conditioned) coefficients 9e-9, standard
errors 8e-11; with an offset 5e-11; HC0/HC1/cluster standard errors 6e-13 to
9e-13; scikit-learn's newton-cholesky and glum's IRLS coefficients 1e-14 on
randhie (glum with an offset 5e-11), at the same log-likelihood.
"""

import warnings

import dask.array as da
import numpy as np
import pytest
import sklearn
from scipy import stats
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmle import PoissonMLERegressor, chunked
from skmle.estimators.logistic_outcome import PerfectSeparationWarning

sm = pytest.importorskip("statsmodels.api")


def _randhie():
    data = sm.datasets.randhie.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


def _cpunish():
    data = sm.datasets.cpunish.load_pandas()
    X = data.exog.copy()
    X["INCOME"] = np.log(X["INCOME"])
    return X.to_numpy(float), data.endog.to_numpy(float)


def _exposure_data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    exposure = rng.uniform(0.5, 3.0, size=n)
    y = rng.poisson(exposure * np.exp(0.2 + X @ [0.3, -0.2, 0.1, 0.0]))
    return X, y.astype(float), np.log(exposure)


def _glm(X, y, offset=None, freq_weights=None, **fit):
    design = sm.add_constant(X, prepend=False)
    model = sm.GLM(
        y,
        design,
        family=sm.families.Poisson(),
        offset=offset,
        freq_weights=freq_weights,
    )
    return model.fit(tol=1e-13, **fit)


def _params(model):
    return np.r_[model.coef_, model.intercept_]


def _errors(model):
    return np.r_[model.coef_se_, model.intercept_se_]


@pytest.mark.slow
@pytest.mark.parametrize("data", [_randhie, _cpunish])
def test_real_data_equal_statsmodels_glm(data):
    X, y = data()
    model = PoissonMLERegressor().fit(X, y)
    reference = _glm(X, y)
    np.testing.assert_allclose(_params(model), reference.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(_errors(model), reference.bse, rtol=1e-8)
    assert model.loglik_ == pytest.approx(reference.llf, rel=1e-10)
    assert model.deviance_ == pytest.approx(reference.deviance, rel=1e-8)
    assert model.aic_ == pytest.approx(reference.aic, rel=1e-10)
    assert model.converged_


def test_offset_at_fit_and_predict_equals_statsmodels():
    X, y, offset = _exposure_data()
    model = PoissonMLERegressor().fit(X, y, offset=offset)
    reference = _glm(X, y, offset)
    np.testing.assert_allclose(_params(model), reference.params, rtol=1e-8)
    np.testing.assert_allclose(_errors(model), reference.bse, rtol=1e-8)
    assert model.loglik_ == pytest.approx(reference.llf, rel=1e-12)
    design = sm.add_constant(X[:50], prepend=False)
    expected = reference.predict(design, offset=offset[:50])
    np.testing.assert_allclose(
        model.predict(X[:50], offset=offset[:50]), expected, rtol=1e-9
    )
    assert model.log_likelihood(X, y, offset=offset) == pytest.approx(
        reference.llf, rel=1e-12
    )
    assert model.deviance(X, y, offset=offset) == pytest.approx(
        reference.deviance, rel=1e-8
    )
    dist = model.predict_dist(X[:5], offset=offset[:5])
    np.testing.assert_allclose(
        dist.pmf(y[:5]), stats.poisson.pmf(y[:5], expected[:5]), rtol=1e-9
    )


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "cluster"])
def test_robust_covariances_equal_statsmodels(cov_type):
    """statsmodels' GLM applies no small-sample factor for "HC1" (it equals its
    "HC0"): skmle's is :math:`n/(n-p)` times it."""
    X, y, offset = _exposure_data(800, seed=3)
    groups = np.arange(y.shape[0]) % 37
    kwds = {"cov_kwds": {"groups": groups}} if cov_type == "cluster" else {}
    reference = _glm(X, y, offset, cov_type=cov_type.replace("HC1", "HC0"), **kwds)
    factor = 800 / (800 - 5) if cov_type == "HC1" else 1.0
    model = PoissonMLERegressor(cov_type=cov_type).fit(
        X, y, offset=offset, groups=groups if cov_type == "cluster" else None
    )
    np.testing.assert_allclose(
        _errors(model), np.sqrt(factor) * reference.bse, rtol=1e-8
    )
    # params_cov_ is in the order of param_names(): the intercept first.
    order = np.r_[X.shape[1], np.arange(X.shape[1])]
    expected = factor * np.asarray(reference.cov_params())[np.ix_(order, order)]
    np.testing.assert_allclose(model.params_cov_, expected, rtol=1e-8, atol=1e-14)


def test_sklearn_and_glum_agree_at_the_same_maximum():
    glum = pytest.importorskip("glum")
    from sklearn.linear_model import PoissonRegressor

    X, y = _randhie()
    model = PoissonMLERegressor().fit(X, y)
    theirs = PoissonRegressor(
        alpha=0, solver="newton-cholesky", tol=1e-12, max_iter=100
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, theirs.coef_, rtol=1e-6, atol=1e-8)
    ours = glum.GeneralizedLinearRegressor(
        family="poisson", alpha=0, gradient_tol=1e-12
    )
    ours.fit(X, y)
    np.testing.assert_allclose(model.coef_, ours.coef_, rtol=1e-6, atol=1e-8)
    eta = X @ ours.coef_ + ours.intercept_
    their_loglik = stats.poisson.logpmf(y, np.exp(eta)).sum()
    assert model.loglik_ >= their_loglik - 1e-9 * abs(their_loglik)


def test_sample_weight_two_is_a_duplicated_row_and_every_solver_agrees():
    X, y, offset = _exposure_data(400, seed=5)
    w = np.random.default_rng(0).integers(0, 3, size=y.shape[0]).astype(float)
    weighted = PoissonMLERegressor().fit(X, y, sample_weight=w, offset=offset)
    rows = np.repeat(np.arange(y.shape[0]), w.astype(int))
    repeated = PoissonMLERegressor().fit(X[rows], y[rows], offset=offset[rows])
    np.testing.assert_allclose(_params(weighted), _params(repeated), rtol=1e-10)
    np.testing.assert_allclose(_errors(weighted), _errors(repeated), rtol=1e-9)
    reference = _glm(X, y, offset, freq_weights=w)
    np.testing.assert_allclose(_params(weighted), reference.params, rtol=1e-8)
    for solver in ("lbfgs", "gd"):
        other = PoissonMLERegressor(solver=solver, tol=1e-9, max_iter=5000)
        other.fit(X, y, sample_weight=w, offset=offset)
        np.testing.assert_allclose(
            _params(other), reference.params, rtol=1e-5, atol=1e-7
        )


@pytest.mark.parametrize("kind", ["chunked", "dask"])
def test_chunked_and_dask_fits_with_an_offset_equal_the_in_memory_fit(kind):
    X, y, offset = _exposure_data(1000, seed=7)
    groups = np.arange(1000) % 13
    if kind == "chunked":
        data, off, grp = chunked(X, 128), offset, groups
    else:
        data = da.from_array(X, chunks=(150, 4))
        off, grp = da.from_array(offset, chunks=150), da.from_array(groups, chunks=150)
    whole = PoissonMLERegressor(cov_type="cluster").fit(
        X, y, offset=offset, groups=groups
    )
    pieces = PoissonMLERegressor(cov_type="cluster").fit(
        data, y, offset=off, groups=grp
    )
    np.testing.assert_allclose(_params(pieces), _params(whole), rtol=1e-10)
    np.testing.assert_allclose(pieces.params_cov_, whole.params_cov_, rtol=1e-9)
    assert pieces.loglik_ == pytest.approx(whole.loglik_, rel=1e-12)
    assert pieces.log_likelihood(data, y, offset=off) == pytest.approx(
        whole.loglik_, rel=1e-12
    )


def test_offset_routes_through_a_pipeline_and_cross_validate():
    X, y, offset = _exposure_data(600, seed=9)
    groups = np.arange(600) % 5
    with sklearn.config_context(enable_metadata_routing=True):
        regressor = (
            PoissonMLERegressor()
            .set_fit_request(offset=True, sample_weight=False, groups=False)
            .set_predict_request(offset=True)
            .set_score_request(offset=True)
        )
        pipe = Pipeline([("scale", StandardScaler()), ("poisson", regressor)])
        pipe.fit(X, y, offset=offset)
        direct = PoissonMLERegressor().fit(
            StandardScaler().fit_transform(X), y, offset=offset
        )
        np.testing.assert_allclose(pipe[-1].coef_, direct.coef_, rtol=1e-10)
        np.testing.assert_allclose(
            pipe.predict(X, offset=offset),
            direct.predict(StandardScaler().fit(X).transform(X), offset=offset),
            rtol=1e-10,
        )
        scores = cross_validate(
            pipe, X, y, cv=GroupKFold(3), params={"offset": offset, "groups": groups}
        )["test_score"]
    for k, (train, test) in enumerate(GroupKFold(3).split(X, y, groups)):
        scaler = StandardScaler().fit(X[train])
        reference = _glm(scaler.transform(X[train]), y[train], offset[train])
        mu = reference.predict(
            sm.add_constant(
                scaler.transform(X[test]), prepend=False, has_constant="add"
            ),
            offset=offset[test],
        )
        null = np.full(test.size, y[test].mean())
        family = sm.families.Poisson()
        d2 = 1 - family.deviance(y[test], mu) / family.deviance(y[test], null)
        assert scores[k] == pytest.approx(d2, rel=1e-8)


def test_a_category_without_counts_warns_that_no_maximum_exists():
    X, y, _ = _exposure_data(300, seed=11)
    dummy = (np.arange(300) % 10 == 0).astype(float)
    y[dummy == 1] = 0.0
    with pytest.warns(PerfectSeparationWarning, match="no maximum likelihood estimate"):
        model = PoissonMLERegressor().fit(np.column_stack([X, dummy]), y)
    assert not model.converged_
    assert np.isnan(model.coef_se_).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PoissonMLERegressor().fit(X, y)


def test_bad_input_raises_a_clear_value_error():
    X, y, offset = _exposure_data(50)
    with pytest.raises(ValueError, match="non-negative counts"):
        PoissonMLERegressor().fit(X, -y)
    with pytest.raises(ValueError, match="offset must be one number per sample"):
        PoissonMLERegressor().fit(X, y, offset=offset[:10])


def test_check_gradient_and_information_criteria():
    from skmle import NegativeBinomialRegressor, check_gradient

    X, y, _ = _exposure_data(200, seed=2)
    for estimator in (PoissonMLERegressor(), NegativeBinomialRegressor()):
        assert check_gradient(estimator, X, y, random_state=0) < 1e-6
        model = estimator.fit(X, y)
        k = model.theta_.size
        assert model.aic(X, y) == pytest.approx(-2 * model.loglik_ + 2 * k, rel=1e-12)
        assert model.bic_ == pytest.approx(-2 * model.loglik_ + k * np.log(200))


@pytest.mark.parametrize("shift", [1e3, 1e6])
def test_a_shifted_feature_gives_the_same_fit_in_centred_coordinates(shift):
    """A feature whose mean is far from zero against its spread (timestamps)
    makes the information of [x, 1] nearly singular; the Newton fit works on
    x - c. Reference: the fit of the unshifted features (the same model, the
    intercept moved by -shift * coef) and statsmodels' GLM on the shifted ones."""
    X, y, offset = _exposure_data(2000, seed=13)
    plain = PoissonMLERegressor().fit(X, y, offset=offset)
    model = PoissonMLERegressor().fit(X + shift, y, offset=offset)
    assert model.converged_
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-8)
    intercept = plain.intercept_ - shift * plain.coef_.sum()
    assert model.intercept_ == pytest.approx(intercept, rel=1e-8, abs=1e-8)
    assert model.loglik_ == pytest.approx(plain.loglik_, rel=1e-12)
    np.testing.assert_allclose(model.coef_se_, plain.coef_se_, rtol=1e-7)
    reference = _glm(X + shift, y, offset)
    np.testing.assert_allclose(model.coef_se_, reference.bse[:-1], rtol=1e-6)
    pieces = PoissonMLERegressor().fit(chunked(X + shift, 300), y, offset=offset)
    np.testing.assert_allclose(_params(pieces), _params(model), rtol=1e-10)
