"""``params_cov_``, ``aic_``/``bic_`` and ``cov_type`` against statsmodels.

statsmodels is the independent reference: its OLS and Logit with
``cov_type="HC0"``, ``"HC1"`` and ``"cluster"`` on its own bundled data (Longley,
Spector, Grunfeld). Measured agreement (relative, largest over the parameters):
Longley HC0/HC1 standard errors 9e-11 (covariance 9e-10; skmle's errors are
1e-12 from the exact rational-arithmetic answer, statsmodels' 9e-11), Spector
Logit nonrobust and HC0 3e-13 (covariance 5e-12), Grunfeld cluster by firm 4e-15
(OLS) and 2e-11 (Logit).
"""

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmle import (
    EMGaussianMixture,
    GaussianMLE,
    LaplaceRegressor,
    LinearGaussianRegressor,
    LogisticGD,
    chunked,
)

sm = pytest.importorskip("statsmodels.api")

RTOL = 1e-8


def _longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


def _spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


def _grunfeld():
    data = sm.datasets.grunfeld.load_pandas().data
    X = data[["value", "capital"]].to_numpy(float)
    return X, data["invest"].to_numpy(float), data["firm"].to_numpy(str)


def _ols(X, y, **fit):
    return sm.OLS(y, sm.add_constant(X, prepend=True)).fit(**fit)


def _logit(X, y, **fit):
    return sm.Logit(y, sm.add_constant(X, prepend=True)).fit(
        disp=0, method="newton", tol=1e-12, **fit
    )


def _assert_matches(model, reference, factor=1.0):
    """skmle's covariance of [intercept, coef] equals the reference's
    ``cov_params()`` (constant first, as skmle reports it) times ``factor``."""
    expected = np.asarray(reference.cov_params()) * factor
    np.testing.assert_allclose(model.params_cov_, expected, rtol=1e-7)
    se = np.concatenate([np.ravel(model.intercept_se_), np.ravel(model.coef_se_)])
    np.testing.assert_allclose(se, np.asarray(reference.bse) * np.sqrt(factor), RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(model.params_cov_)), se, rtol=1e-14)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_ols_sandwich_matches_statsmodels_on_longley(cov_type):
    X, y = _longley()
    model = LinearGaussianRegressor(cov_type=cov_type).fit(X, y)
    _assert_matches(model, _ols(X, y, cov_type=cov_type))
    assert model.summary().stats["covariance"] == cov_type


def test_ols_sandwich_without_intercept_matches_statsmodels():
    X, y = _longley()
    model = LinearGaussianRegressor(cov_type="HC1", fit_intercept=False).fit(X, y)
    reference = sm.OLS(y, X).fit(cov_type="HC1")
    np.testing.assert_allclose(model.params_cov_, reference.cov_params(), rtol=1e-7)
    np.testing.assert_allclose(model.coef_se_, reference.bse, rtol=RTOL)


def test_ols_nonrobust_is_statsmodels_with_the_mle_scale():
    X, y = _longley()
    n, p = X.shape[0], X.shape[1] + 1
    model = LinearGaussianRegressor().fit(X, y)
    _assert_matches(model, _ols(X, y), factor=(n - p) / n)
    assert model.summary().stats["covariance"] == "nonrobust"


@pytest.mark.parametrize(
    ("cov_type", "solver"),
    [("nonrobust", "newton"), ("HC0", "newton"), ("HC0", "lbfgs")],
)
def test_logit_matches_statsmodels_on_spector(cov_type, solver):
    X, y = _spector()
    model = LogisticGD(cov_type=cov_type, solver=solver, tol=1e-10).fit(X, y)
    _assert_matches(model, _logit(X, y, cov_type=cov_type))


def test_logit_hc1_is_hc0_times_n_over_n_minus_p():
    """statsmodels' Logit applies no correction for "HC1" (its HC1 equals its
    HC0); skmle's HC1 is n/(n - p) times HC0, as for OLS and as in glum."""
    X, y = _spector()
    n, p = X.shape[0], X.shape[1] + 1
    hc0 = _logit(X, y, cov_type="HC0")
    np.testing.assert_allclose(_logit(X, y, cov_type="HC1").bse, hc0.bse, rtol=1e-14)
    model = LogisticGD(cov_type="HC1", tol=1e-10).fit(X, y)
    _assert_matches(model, hc0, factor=n / (n - p))


def test_cluster_matches_statsmodels_on_grunfeld():
    X, y, firm = _grunfeld()
    model = LinearGaussianRegressor(cov_type="cluster").fit(X, y, groups=firm)
    _assert_matches(model, _ols(X, y, cov_type="cluster", cov_kwds={"groups": firm}))
    high = (y > np.median(y)).astype(float)
    model = LogisticGD(cov_type="cluster", tol=1e-10).fit(X / 1e3, high, groups=firm)
    reference = _logit(X / 1e3, high, cov_type="cluster", cov_kwds={"groups": firm})
    _assert_matches(model, reference)
    assert model.summary().stats["covariance"] == "cluster"


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "cluster"])
def test_integer_weights_are_repeated_rows(cov_type):
    X, y, firm = _grunfeld()
    w = np.random.default_rng(0).integers(1, 4, size=y.shape[0])
    rows = np.repeat(np.arange(y.shape[0]), w)
    kwds = {"groups": firm[rows]} if cov_type == "cluster" else {}
    reference = _ols(X[rows], y[rows], cov_type=cov_type, cov_kwds=kwds or None)
    groups = firm if cov_type == "cluster" else None
    model = LinearGaussianRegressor(cov_type=cov_type).fit(
        X, y, sample_weight=w, groups=groups
    )
    _assert_matches(model, reference)


def test_multinomial_sandwich_is_statsmodels_mnlogit_against_class_zero():
    """MNLogit's parameters are w_k - w_0 (k = 1..K-1): a linear map A of skmle's
    reported ones, so their covariance is A params_cov_ A^T."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 2))
    score = X @ [[1.0, -1.0, 0.5], [0.5, 0.5, -1.0]]
    y = np.argmax(score + rng.gumbel(size=(400, 3)), axis=1)
    model = LogisticGD(cov_type="HC0", tol=1e-10).fit(X, y)
    reference = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(
        disp=0, method="newton", tol=1e-12, cov_type="HC0"
    )
    K, d = 3, 2
    A = np.zeros(((K - 1) * (d + 1), K * d + K))
    for k in range(1, K):
        for j in range(d + 1):
            row = (k - 1) * (d + 1) + j
            # skmle reports the K intercepts first, then the K x d coefficients
            col_k = K + k * d + j if j < d else k
            col_0 = K + j if j < d else 0
            A[row, col_k], A[row, col_0] = 1.0, -1.0
    expected = np.asarray(reference.cov_params())
    np.testing.assert_allclose(A @ model.params_cov_ @ A.T, expected, rtol=1e-7)


def test_chunked_data_give_the_in_memory_sandwich():
    X, y = _longley()
    whole = LinearGaussianRegressor(cov_type="HC1").fit(X, y)
    pieces = LinearGaussianRegressor(cov_type="HC1").fit(chunked(X, 5), y)
    np.testing.assert_allclose(pieces.params_cov_, whole.params_cov_, rtol=1e-9)
    X, y = _spector()
    whole = LogisticGD(cov_type="HC0").fit(X, y)
    pieces = LogisticGD(cov_type="HC0").fit(chunked(X, 7), y)
    np.testing.assert_allclose(pieces.params_cov_, whole.params_cov_, rtol=1e-9)


def test_groups_route_through_a_pipeline_as_fit_metadata():
    X, y, firm = _grunfeld()
    with sklearn.config_context(enable_metadata_routing=True):
        regressor = LinearGaussianRegressor(cov_type="cluster")
        pipe = Pipeline(
            [
                ("scale", StandardScaler()),
                ("ols", regressor.set_fit_request(groups=True)),
            ]
        ).fit(X, y, groups=firm)
    scaled = StandardScaler().fit_transform(X)
    direct = LinearGaussianRegressor(cov_type="cluster").fit(scaled, y, groups=firm)
    np.testing.assert_allclose(pipe[-1].params_cov_, direct.params_cov_, rtol=1e-12)


@pytest.mark.parametrize(
    ("estimator", "kwargs", "match"),
    [
        (LinearGaussianRegressor(cov_type="HC3"), {}, "cov_type"),
        (LogisticGD(cov_type="robust"), {}, "cov_type"),
        (LinearGaussianRegressor(cov_type="cluster"), {}, "needs the cluster"),
        (LogisticGD(), {"groups": np.arange(32)}, "groups are used only by"),
        (LogisticGD(cov_type="cluster"), {"groups": np.arange(5)}, "one label per"),
    ],
)
def test_bad_cov_type_or_groups_raise_a_clear_value_error(estimator, kwargs, match):
    X, y = _spector()
    with pytest.raises(ValueError, match=match):
        estimator.fit(X, y, **kwargs)


def test_robust_partial_fit_is_refused():
    X, y, _ = _grunfeld()
    with pytest.raises(ValueError, match="partial_fit keeps only the moments"):
        LinearGaussianRegressor(cov_type="HC0").partial_fit(X, y)


@pytest.mark.filterwarnings("ignore:.*passes through every sample")
def test_an_undefined_correction_gives_nan_with_a_warning():
    X, y, _ = _grunfeld()
    with pytest.warns(UserWarning, match="at least two groups"):
        model = LinearGaussianRegressor(cov_type="cluster").fit(
            X, y, groups=np.zeros(y.shape[0])
        )
    assert np.isnan(model.params_cov_).all() and np.isnan(model.coef_se_).all()
    with pytest.warns(UserWarning, match="needs more observations"):
        model = LinearGaussianRegressor(cov_type="HC1").fit(X[:3], y[:3])
    assert np.isnan(model.intercept_se_)


def _fitted_estimators():
    X, y = _longley()
    Z = np.random.default_rng(0).normal(size=(60, 2))
    Xs, ys = _spector()
    return [
        (LinearGaussianRegressor().fit(X, y), X, y),
        (LaplaceRegressor().fit(X / 1e3, y), X / 1e3, y),
        (LogisticGD().fit(Xs, ys), Xs, ys),
        (GaussianMLE().fit(Z), Z, None),
        (EMGaussianMixture(n_components=2, random_state=0).fit(Z), Z, None),
    ]


@pytest.mark.parametrize("index", range(5))
def test_fitted_aic_bic_and_params_cov_for_every_estimator(index):
    model, X, y = _fitted_estimators()[index]
    np.testing.assert_allclose(model.aic_, model.aic(X, y), rtol=1e-10)
    np.testing.assert_allclose(model.bic_, model.bic(X, y), rtol=1e-10)
    names = model.param_names()
    assert model.params_cov_.shape == (len(names), len(names))
    row = model.summary().to_dict()["params"]
    np.testing.assert_allclose(
        np.sqrt(np.diag(model.params_cov_)), [r["std_err"] for r in row], rtol=1e-12
    )
    np.testing.assert_allclose(model.params_cov_, model.params_cov_.T, rtol=1e-12)
    assert not hasattr(type(model)(), "params_cov_")
