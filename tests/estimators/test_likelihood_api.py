"""The public likelihood methods every estimator inherits (LikelihoodFunctionMixin)."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skmle import (
    EMGaussianMixture,
    GaussianMLE,
    LaplaceRegressor,
    LinearGaussianRegressor,
    LogisticGD,
)


def data(kind, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    if kind == "regression":
        return X, X @ [1.0, -0.5, 2.0] + 0.3 + rng.normal(size=120)
    if kind == "classification":
        return X, (X[:, 0] + rng.normal(size=120) > 0).astype(int)
    return X, None


ESTIMATORS = [
    (GaussianMLE(), "density"),
    (GaussianMLE(covariance_type="diag", solver="newton"), "density"),
    (LinearGaussianRegressor(), "regression"),
    (LaplaceRegressor(), "regression"),
    (LogisticGD(), "classification"),
    (LogisticGD(alpha=1.0), "classification"),
    (EMGaussianMixture(n_components=2, random_state=0), "density"),
]
IDS = [f"{type(e).__name__}-{i}" for i, (e, _) in enumerate(ESTIMATORS)]


def fitted(estimator, kind):
    X, y = data(kind)
    return clone(estimator).fit(X, y), X, y


@pytest.mark.parametrize("estimator, kind", ESTIMATORS, ids=IDS)
def test_the_function_at_the_fit_is_the_training_loglik(estimator, kind):
    model, X, y = fitted(estimator, kind)
    function = model.loglik_function(X, y)
    assert function.model.n_params == model.theta_.size
    assert function.total_weight == pytest.approx(X.shape[0])
    assert function.loglik(model.theta_) == pytest.approx(model.loglik_, rel=1e-12)
    value, grad = function.value_and_grad(model.theta_)
    assert value == pytest.approx(function.value(model.theta_), rel=1e-12)
    assert grad.shape == model.theta_.shape


@pytest.mark.parametrize("estimator, kind", ESTIMATORS, ids=IDS)
def test_the_methods_leave_the_estimator_unchanged(estimator, kind):
    model, X, y = fitted(estimator, kind)
    state = {k: v for k, v in vars(model).items()}
    theta = model.theta_.copy()
    extra = np.random.default_rng(1).normal(size=(X.shape[0], 1))
    other = np.hstack([X, extra])  # one more column: a different model
    model.loglik_function(other, y)
    model.initial_params(other, y)
    model.param_blocks()
    model.param_names()
    assert vars(model).keys() == state.keys()
    assert all(vars(model)[k] is v for k, v in state.items())
    assert np.array_equal(model.theta_, theta)


@pytest.mark.parametrize("estimator, kind", ESTIMATORS, ids=IDS)
def test_initial_params_is_a_point_of_the_function(estimator, kind):
    X, y = data(kind)
    estimator = clone(estimator)
    start = estimator.initial_params(X, y)
    function = estimator.loglik_function(X, y)
    assert start.shape == (function.model.n_params,)
    assert np.isfinite(function.value(start))
    assert not hasattr(estimator, "n_features_in_")


@pytest.mark.parametrize("estimator, kind", ESTIMATORS, ids=IDS)
def test_names_and_blocks_are_the_summary_rows(estimator, kind):
    model, _, _ = fitted(estimator, kind)
    names = model.param_names()
    blocks = model.param_blocks()
    rows = model.summary().rows
    assert names == [row.name for row in rows]
    # GaussianMLE's covariance entries are reported but are not entries of theta_
    derived = [name for name in names if name.startswith("covariance")]
    assert sum(idx.size for idx in blocks.values()) == len(names) - len(derived)
    for name, idx in blocks.items():
        assert idx.dtype.kind == "i"
        assert np.all((0 <= idx) & (idx < model.theta_.size))
        assert np.size(getattr(model, f"{name}_se_")) == idx.size


@pytest.mark.parametrize(
    "estimator, kind",
    [ESTIMATORS[0], ESTIMATORS[2], ESTIMATORS[4]],
    ids=[IDS[0], IDS[2], IDS[4]],
)
def test_blocks_locate_the_reported_parameters_in_theta(estimator, kind):
    model, _, _ = fitted(estimator, kind)
    for name, idx in model.param_blocks().items():
        assert np.allclose(model.theta_[idx], np.ravel(getattr(model, f"{name}_")))


def test_param_names_take_feature_names():
    model, _, _ = fitted(LinearGaussianRegressor(), "regression")
    assert model.param_names(["a", "b", "c"]) == ["intercept", "a", "b", "c"]
    with pytest.raises(ValueError, match="3 names"):
        model.param_names(["a"])


def test_names_and_blocks_need_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        GaussianMLE().param_names()
    with pytest.raises(NotFittedError):
        GaussianMLE().param_blocks()
