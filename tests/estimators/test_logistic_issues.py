"""LogisticGD (solver="newton") on issues 12 and 13, against independent references.

Precision by default (statsmodels' Spector data), features of any offset and
scale (timestamps), quasi-complete separation, classifier targets, the
partial_fit schedule, and the cost of the multinomial information.
"""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy.special import log_softmax
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, SGDClassifier

from skmle import LogisticGD, chunked
from skmle.estimators.logistic import PerfectSeparationWarning
from skmle.models.logistic import LogisticLogLikelihood
from skmle.models.logistic_objective import LogisticObjective


def significant_digits(a, b):
    return float(np.min(-np.log10(np.abs(np.subtract(a, b)) / np.abs(b))))


def spector():
    data = sm.datasets.spector.load_pandas().data
    return data[["GPA", "TUCE", "PSI"]].to_numpy(), data["GRADE"].to_numpy()


def test_default_fit_has_ten_digits_on_spector():
    X, y = spector()
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-14)
    model = LogisticGD().fit(X, y)
    params = np.r_[reference.params[1:], reference.params[0]]
    assert significant_digits(np.r_[model.coef_[0], model.intercept_], params) >= 10
    bse = np.r_[reference.bse[1:], reference.bse[0]]
    assert significant_digits(np.r_[model.coef_se_[0], model.intercept_se_], bse) >= 10
    assert model.converged_


def timestamp_data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 3.15e7, n) + 1.7e9
    z = (t - t.mean()) / t.std()
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * z - 0.3)))).astype(int)
    return t, y


def test_unix_timestamps_reach_the_maximum():
    t, y = timestamp_data()
    z = (t - t.mean()) / t.std()
    reference = sm.Logit(y, sm.add_constant(z)).fit(disp=0, tol=1e-14)
    coef = reference.params[1] / t.std()
    intercept = reference.params[0] - coef * t.mean()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no collinearity warning
        model = LogisticGD().fit(t[:, None], y)
    assert model.converged_
    assert_allclose(model.coef_[0, 0], coef, rtol=1e-10)
    assert_allclose(model.intercept_[0], intercept, rtol=1e-10)
    assert_allclose(model.coef_se_[0, 0], reference.bse[1] / t.std(), rtol=1e-8)
    assert_allclose(model.loglik_, reference.llf, rtol=1e-12)


@pytest.mark.parametrize(("shift", "scale"), [(1e6, 1.0), (0.0, 1e-6), (0.0, 1e6)])
def test_shifted_and_scaled_features(shift, scale):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 3))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.3])))).astype(int)
    Xt = X * scale + shift
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticGD().fit(Xt, y)
    assert model.converged_ and model.n_iter_ > 0
    # the standardised reference: coefficients of X, divided by the scale
    standard = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-14)
    assert_allclose(model.coef_[0] * scale, standard.params[1:], rtol=1e-8)
    # (statsmodels on the raw features is the failure this guards against)
    assert_allclose(model.loglik_, standard.llf, rtol=1e-10)


def test_collinear_columns_still_warn_after_centring():
    rng = np.random.default_rng(4)
    x = rng.normal(size=500) + 1e6
    X = np.column_stack([x, 2 * x - 1e6])  # exactly collinear with the intercept
    y = (rng.random(500) < 0.5).astype(int)
    with pytest.warns(UserWarning, match="singular"):
        model = LogisticGD().fit(X, y)
    assert np.all(np.isnan(model.coef_se_))


def quasi_separated_iris():
    X, y = load_iris(return_X_y=True)
    length = X[:, 2]
    # versicolor up to petal length 4.8, virginica from 4.8: ties on the boundary
    keep = ((y == 1) & (length <= 4.8)) | ((y == 2) & (length >= 4.8))
    return X[keep][:, [2, 1]], (y[keep] == 2).astype(int)


@pytest.mark.parametrize("storage", ["memory", "chunked"])
def test_quasi_complete_separation_is_reported(storage):
    X, y = quasi_separated_iris()
    # statsmodels' diagnostic: fitted probabilities of 0 or 1 at its last iterate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0, maxiter=100)
    fitted = reference.predict(sm.add_constant(X))
    assert np.mean(np.abs(y - fitted) < 1e-4) > 0.1
    data = X if storage == "memory" else chunked(X, chunk_size=16)
    with pytest.warns(PerfectSeparationWarning, match="quasi-completely separable"):
        model = LogisticGD().fit(data, y)
    assert not model.converged_
    assert np.all(np.isnan(model.coef_se_)) and np.all(np.isnan(model.intercept_se_))
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("target", [1, 2])
def test_iris_one_against_rest_with_a_maximum_is_not_flagged(target):
    X, y = load_iris(return_X_y=True)
    y = (y == target).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticGD().fit(X, y)
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-10, maxiter=100)
    assert model.converged_
    assert_allclose(model.coef_[0], reference.params[1:], rtol=1e-7)
    assert_allclose(model.coef_se_[0], reference.bse[1:], rtol=1e-6)


def test_complete_separation_still_stops_separating():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(PerfectSeparationWarning, match="linearly separable"):
        model = LogisticGD().fit(X, y)
    np.testing.assert_array_equal(model.predict(X), y)


def test_continuous_target_is_a_value_error_at_once():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LogisticGD().fit(X, rng.normal(size=50))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, rng.normal(size=50))


def test_fit_resets_the_partial_fit_schedule():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + rng.logistic(size=200) > 0).astype(int)
    model = LogisticGD()
    for _ in range(5):
        model.partial_fit(X, y, classes=[0, 1])
    model.fit(X, y)
    assert not hasattr(model, "t_") and not hasattr(model, "initial_step_size_")
    fitted = model.theta_.copy()
    model.partial_fit(X, y)
    assert model.t_ == 1
    # one step from the fit, with the step size of a first call
    fresh = LogisticGD().partial_fit(X, y, classes=[0, 1])
    assert_allclose(model.initial_step_size_, fresh.initial_step_size_)
    assert not np.array_equal(model.theta_, fitted)


def test_zero_weight_batch_raises_as_sgdclassifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    y = np.repeat([0, 1], 10)
    reference = SGDClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError) as expected:
        reference.partial_fit(X, y, sample_weight=np.zeros(20))
    model = LogisticGD().partial_fit(X, y, classes=[0, 1])
    theta, t = model.theta_.copy(), model.t_
    with pytest.raises(ValueError, match=str(expected.value)):
        model.partial_fit(X, y, sample_weight=np.zeros(20))
    assert model.t_ == t
    np.testing.assert_array_equal(model.theta_, theta)


def test_penalised_lbfgs_objective_never_builds_the_dense_prior():
    # 10 classes x 500 features: 5,010 parameters; a dense prior Hessian would
    # be 200 MB. The objective's value and gradient match a direct formula.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 500))
    y = np.arange(50) % 10
    model = LogisticLogLikelihood(500, 10, True, alpha=2.0)
    objective = LogisticObjective(model, [type_batch(X, y)])
    theta = rng.normal(size=model.n_params) * 0.01
    value, grad = objective.value_and_grad(theta)
    W = theta.reshape(10, 501)
    eta = X @ W[:, :500].T + W[:, 500]
    loglik = log_softmax(eta, axis=1)[np.arange(50), y].sum()
    prior = -1.0 * np.sum(W[:, :500] ** 2)
    assert_allclose(value, (loglik + prior) / 50, rtol=1e-12)
    h = 1e-6
    e = np.zeros(model.n_params)
    e[3] = h
    numeric = (objective.value(theta + e) - objective.value(theta - e)) / (2 * h)
    assert_allclose(grad[3], numeric, rtol=1e-6)


def type_batch(X, y):
    from skmle.models.base import Batch

    return Batch(X, y, np.ones(len(y)))


def multinomial_data(n_classes, n_features, n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    W = rng.standard_normal((n_classes, n_features)) * 1.5 / np.sqrt(n_features)
    P = np.exp(log_softmax(X @ W.T, axis=1))
    y = (rng.random((n, 1)) > np.cumsum(P, axis=1)).sum(axis=1)
    return X, np.minimum(y, n_classes - 1)


def test_ten_classes_many_features_matches_sklearn():
    X, y = multinomial_data(6, 20, 2000)
    model = LogisticGD().fit(X, y)
    reference = LogisticRegression(
        C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=100
    ).fit(X, y)
    expected = np.log(reference.predict_proba(X))[np.arange(len(y)), y].sum()
    assert model.converged_
    assert_allclose(model.loglik_, expected, rtol=1e-10)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-7)
    assert np.all(np.isfinite(model.coef_se_))


def test_newton_with_a_constant_column_beside_one_in_large_units():
    # The information is singular (the constant column duplicates the intercept)
    # and one feature has a variance of 1e11: the minimum-norm Newton step must
    # be taken in Jacobi-scaled coordinates, or it leaves out every direction but
    # the large one and stops short of the maximum (it reported convergence at
    # a log-likelihood 0.15 below statsmodels').
    rng = np.random.default_rng(0)
    base = rng.standard_normal((60, 2))
    X = np.column_stack([np.full(60, 0.5), base[:, 0] * 13.0 + 5.0, base[:, 1] * 7e5])
    score = base @ [1.0, -0.7] + rng.standard_normal(60)
    y = np.searchsorted(np.quantile(score, [1 / 3, 2 / 3]), score)
    reference = sm.MNLogit(y, sm.add_constant(X[:, 1:])).fit(
        disp=0, method="newton", maxiter=100, tol=1e-12
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # singular information
        fit = LogisticGD().fit(X, y)
    assert fit.converged_
    assert_allclose(fit.loglik_, reference.llf, rtol=1e-10)
    assert_allclose(fit.coef_[:, 0], 0.0, atol=1e-12)  # the minimum-norm share
