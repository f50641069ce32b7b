"""LogisticGD against statsmodels Logit/MNLogit and scikit-learn LogisticRegression."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmle import LogisticGD, check_gradient
from skmle.estimators.logistic import PerfectSeparationWarning

SOLVERS = ["newton", "lbfgs", "gd"]
TIGHT = {"newton": 1e-10, "lbfgs": 1e-9, "gd": 1e-8}


def binary_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5]
    eta = X @ [0.8, -0.4, 1.5] - 0.3
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    return X, y


def multiclass_data(n=450, seed=1, n_classes=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    W = rng.normal(size=(n_classes, 3))
    logits = X @ W.T + rng.normal(size=n_classes) * 0.3
    u = rng.random((n, 1))
    cumulative = np.cumsum(np.exp(log_softmax(logits, axis=1)), axis=1)
    y = (u > cumulative).sum(axis=1)
    return X, np.minimum(y, n_classes - 1)


def separable_data():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(-3, 0.5, (30, 2)), rng.normal(3, 0.5, (30, 2))])
    return X, np.repeat([0, 1], 30)


def mnlogit_sum_to_zero(result, n_classes, n_features):
    """statsmodels' reference-class parameters and covariance mapped to our layout.

    statsmodels: exog [1, x], class 0 the reference (beta_0 = 0), params of shape
    (p, K-1), covariance ordered class by class. Ours: rows per class summing to
    zero, intercept last: W_k = beta_k - mean_j beta_j.
    """
    p = n_features + 1
    beta = np.vstack([np.zeros(p), np.asarray(result.params).T])  # (K, p)
    order = [*range(1, p), 0]  # intercept last
    W = (beta - beta.mean(axis=0))[:, order]
    # the same linear map on the stacked vector of free parameters
    free_to_beta = np.vstack(
        [np.zeros((p, (n_classes - 1) * p)), np.eye((n_classes - 1) * p)]
    )
    centre = np.kron(np.eye(n_classes) - 1.0 / n_classes, np.eye(p))
    reorder = np.kron(np.eye(n_classes), np.eye(p)[order])
    A = reorder @ centre @ free_to_beta
    covariance = A @ np.asarray(result.cov_params()) @ A.T
    return W, np.sqrt(np.diag(covariance)).reshape(n_classes, p)


# -- against independent references ----------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_binary_matches_statsmodels_logit(fit_intercept):
    X, y = binary_data()
    model = LogisticGD(fit_intercept=fit_intercept, tol=1e-10).fit(X, y)
    exog = sm.add_constant(X) if fit_intercept else X
    reference = sm.Logit(y, exog).fit(disp=0, method="newton", tol=1e-12)
    params, bse = np.asarray(reference.params), np.asarray(reference.bse)
    if fit_intercept:
        assert_allclose(model.intercept_, [params[0]], rtol=1e-7)
        assert_allclose(model.intercept_se_, [bse[0]], rtol=1e-7)
        params, bse = params[1:], bse[1:]
    else:
        assert_array_equal(model.intercept_, [0.0])
        assert_array_equal(model.intercept_se_, [0.0])
    assert model.coef_.shape == (1, 3)
    assert_allclose(model.coef_[0], params, rtol=1e-7)
    assert_allclose(model.coef_se_[0], bse, rtol=1e-7)
    assert_allclose(model.loglik_, reference.llf, rtol=1e-12)
    assert_allclose(model.aic(X, y), reference.aic, rtol=1e-12)
    assert_allclose(model.bic(X, y), reference.bic, rtol=1e-12)
    assert_allclose(model.predict_proba(X)[:, 1], reference.predict(exog), rtol=1e-7)
    assert model.converged_


@pytest.mark.parametrize(("tol", "rtol"), [(1e-6, 2e-5), (1e-10, 1e-8)])
def test_large_fit_standard_errors_match_statsmodels(tol, rtol):
    # 40,000 rows: the first Newton steps use information from sampled rows
    # (and the rows are summed in several threads); the standard errors must
    # still come from the exact information at the maximum. The default tol
    # (gradient 1e-6) leaves the parameters about 1e-5 from the maximum.
    X, y = binary_data(n=40_000, seed=5)
    model = LogisticGD(tol=tol).fit(X, y)
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    params, bse = np.asarray(reference.params), np.asarray(reference.bse)
    assert_allclose(model.loglik_, reference.llf, rtol=1e-10)
    assert_allclose(model.coef_[0], params[1:], rtol=rtol)
    assert_allclose(model.intercept_, params[:1], rtol=rtol)
    assert_allclose(model.intercept_se_, bse[:1], rtol=rtol)
    assert_allclose(model.coef_se_[0], bse[1:], rtol=rtol)


def test_multinomial_matches_sklearn_unpenalised():
    X, y = multiclass_data()
    model = LogisticGD(tol=1e-10).fit(X, y)
    # newton-cholesky: lbfgs stops a little short of the maximum (1e-11 lower)
    reference = LogisticRegression(
        C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y)
    assert model.coef_.shape == (3, 3) and model.intercept_.shape == (3,)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X), rtol=1e-6)
    expected = np.sum(np.log(reference.predict_proba(X))[np.arange(len(y)), y])
    assert_allclose(model.loglik_, expected, rtol=1e-10)
    # canonical parameters: coefficients and intercepts sum to zero over classes
    assert_allclose(model.coef_.sum(axis=0), 0.0, atol=1e-10)
    assert_allclose(model.intercept_.sum(), 0.0, atol=1e-10)


def test_multinomial_standard_errors_match_statsmodels_mnlogit():
    X, y = multiclass_data()
    model = LogisticGD(tol=1e-10).fit(X, y)
    reference = sm.MNLogit(y, sm.add_constant(X)).fit(
        disp=0, method="newton", tol=1e-12
    )
    W, se = mnlogit_sum_to_zero(reference, 3, 3)
    assert_allclose(model.coef_, W[:, :3], rtol=1e-6)
    assert_allclose(model.intercept_, W[:, 3], rtol=1e-6)
    assert_allclose(model.coef_se_, se[:, :3], rtol=1e-6)
    assert_allclose(model.intercept_se_, se[:, 3], rtol=1e-6)
    assert_allclose(model.loglik_, reference.llf, rtol=1e-12)
    assert_allclose(model.aic(X, y), reference.aic, rtol=1e-12)  # 2 x 4 parameters


@pytest.mark.parametrize("data", [binary_data, multiclass_data])
def test_penalised_matches_sklearn_with_c_one_over_alpha(data):
    X, y = data()
    model = LogisticGD(alpha=2.5, tol=1e-10).fit(X, y)
    reference = LogisticRegression(C=1 / 2.5, tol=1e-12, max_iter=10_000).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=1e-6)
    assert_allclose(model.intercept_, reference.intercept_, rtol=1e-6, atol=1e-9)
    # loglik_ is the likelihood alone; the history holds the penalised objective
    penalty = 0.5 * 2.5 * np.sum(model.coef_**2)
    assert_allclose(model.loglik_history_[-1], model.loglik_ - penalty, rtol=1e-12)


# -- solvers, weights, gradients --------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("data", [binary_data, multiclass_data])
def test_every_solver_reaches_the_same_maximum(data, alpha):
    X, y = data(n=200)
    X = StandardScaler().fit_transform(X)
    fits = {
        solver: LogisticGD(
            solver=solver, alpha=alpha, tol=TIGHT[solver], max_iter=20_000
        ).fit(X, y)
        for solver in SOLVERS
    }
    reference = fits["newton"]
    for solver, fit in fits.items():
        assert fit.converged_, solver
        assert_allclose(
            fit.theta_, reference.theta_, rtol=1e-5, atol=1e-7, err_msg=solver
        )
        assert_allclose(
            fit.loglik_history_[-1],
            reference.loglik_history_[-1],
            rtol=1e-10,
            err_msg=solver,
        )


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("data", [binary_data, multiclass_data])
def test_sample_weight_equals_repeated_rows(data, solver):
    X, y = data(n=150)
    X = StandardScaler().fit_transform(X)
    weights = np.random.default_rng(3).integers(0, 4, size=len(y))
    kwargs = {"solver": solver, "tol": TIGHT[solver], "max_iter": 20_000}
    weighted = LogisticGD(**kwargs).fit(X, y, sample_weight=weights)
    repeated = LogisticGD(**kwargs).fit(
        np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    rtol = 1e-9 if solver == "newton" else 1e-5
    assert_allclose(weighted.theta_, repeated.theta_, rtol=rtol, atol=1e-8)
    assert_allclose(weighted.loglik_, repeated.loglik_, rtol=1e-9)
    assert weighted.n_samples_seen_ == repeated.n_samples_seen_ == weights.sum()


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("data", [binary_data, multiclass_data])
def test_check_gradient(data, alpha):
    X, y = data(n=100)
    assert check_gradient(LogisticGD(alpha=alpha), X, y, random_state=0) < 1e-6


def test_threaded_sums_equal_serial_sums():
    # More than MIN_ROWS_PER_THREAD rows per thread: the sums run in two threads.
    X, y = binary_data(n=40_000, seed=4)
    serial = LogisticGD()
    serial_objective = serial._objective_for_data(X, y)
    serial_objective.__init__(serial.model_, serial_objective.batches, n_threads=1)
    threaded = LogisticGD()
    threaded_objective = threaded._objective_for_data(X, y)
    threaded_objective.__init__(
        threaded.model_, threaded_objective.batches, n_threads=2
    )
    assert len(threaded_objective._blocks) == 2 and len(serial_objective._blocks) == 1
    theta = np.array([0.5, -0.2, 1.0, 0.1])
    eta = serial_objective.predictor(theta)
    assert_allclose(threaded_objective.predictor(theta), eta, rtol=1e-14)
    for a, b in zip(
        threaded_objective.information_at(eta)[:3],
        serial_objective.information_at(eta)[:3],
        strict=True,
    ):
        assert_allclose(a, b, rtol=1e-11)
    assert_allclose(
        threaded_objective.value_and_grad(theta)[1],
        serial_objective.value_and_grad(theta)[1],
        rtol=1e-11,
    )


# -- separation and extreme scores ---------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_separable_data_warns_and_returns_finite_coefficients(solver):
    X, y = separable_data()
    with pytest.warns(PerfectSeparationWarning, match="alpha > 0"):
        model = LogisticGD(solver=solver).fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert not model.converged_
    assert_array_equal(model.predict(X), y)
    assert np.all(np.isnan(model.coef_se_))
    # the log-likelihood approaches its supremum 0 while the coefficients grow
    assert -len(y) * np.log(2) < model.loglik_ < 0


def test_separable_multinomial_and_penalty():
    X, y = separable_data()
    X3 = np.vstack([X, [[0.0, 8.0], [0.5, 8.5], [-0.5, 7.5]]])
    y3 = np.append(y, [2, 2, 2])
    with pytest.warns(PerfectSeparationWarning):
        model = LogisticGD().fit(X3, y3)
    assert_array_equal(model.predict(X3), y3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # alpha > 0: a unique maximum, no warning
        penalised = LogisticGD(alpha=1.0).fit(X3, y3)
    assert penalised.converged_
    assert np.all(np.isfinite(penalised.coef_se_))


def test_extreme_scores_do_not_overflow():
    # Scores of about 1e4 (pytest turns numpy's overflow RuntimeWarning into errors).
    X, y = binary_data()
    model = LogisticGD(tol=1e-10).fit(X * 1e4, y)  # coefficients scale down by 1e4
    base = LogisticGD(tol=1e-10).fit(X, y)
    assert_allclose(model.coef_ * 1e4, base.coef_, rtol=1e-7)
    far = np.array([[1e4, 0.0, 0.0], [-1e4, 0.0, 0.0]])
    eta = base.decision_function(far)
    assert np.all(np.abs(eta) > 1e3)
    log_proba = base.predict_log_proba(far)
    assert np.all(np.isfinite(log_proba))
    # log P(losing class) is minus the score: no -inf from log(0)
    assert_allclose(log_proba[[0, 1], [0, 1]], -np.abs(eta), rtol=1e-12)
    assert_allclose(base.predict_proba(far).sum(axis=1), 1.0)
    multi = LogisticGD().fit(*multiclass_data())
    assert np.all(np.isfinite(multi.predict_log_proba(far * 10)))


def test_collinear_features_give_the_minimum_norm_fit():
    X, y = binary_data()
    doubled = np.column_stack([X[:, 0], X])  # column 0 twice
    with pytest.warns(UserWarning, match="singular"):
        model = LogisticGD().fit(doubled, y)
    single = LogisticGD().fit(X, y)
    assert_allclose(model.coef_[0, :2], single.coef_[0, 0] / 2, rtol=1e-7)
    assert_allclose(model.predict_proba(doubled), single.predict_proba(X), rtol=1e-9)
    assert np.all(np.isnan(model.coef_se_))


# -- the scikit-learn surface ----------------------------------------------------------
def test_string_labels_and_prediction_outputs():
    X, y = multiclass_data()
    labels = np.array(["cat", "dog", "emu"])[y]
    model = LogisticGD().fit(X, labels)
    assert_array_equal(model.classes_, ["cat", "dog", "emu"])
    proba = model.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-12)
    assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert model.decision_function(X).shape == (len(y), 3)
    binary = LogisticGD().fit(*binary_data())
    X2, y2 = binary_data()
    named = LogisticGD().fit(X2, np.where(y2 == 1, "yes", "no"))
    assert binary.decision_function(X2).shape == (len(y2),)
    assert_allclose(named.coef_, binary.coef_)
    assert_array_equal(named.predict(X2) == "yes", binary.predict(X2) == 1)
    assert model.score(X, labels) == np.mean(model.predict(X) == labels)


def test_log_likelihood_on_new_data():
    X, y = multiclass_data()
    model = LogisticGD().fit(X, y)
    assert_allclose(model.log_likelihood(X, y), model.loglik_, rtol=1e-12)
    expected = np.sum(model.predict_log_proba(X[:50])[np.arange(50), y[:50]])
    assert_allclose(model.log_likelihood(X[:50], y[:50]), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="not seen in fit"):
        model.log_likelihood(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="needs the class labels"):
        model.log_likelihood(X)


def test_bad_input_raises_clear_errors():
    X, y = binary_data()
    with pytest.raises(ValueError, match="only one class"):
        LogisticGD().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="class"):
        LogisticGD().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticGD().fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match="NaN"):
        LogisticGD().fit(np.where(X > 2, np.nan, X), y)


def test_summary_dataframe_and_multinomial_labels():
    X, y = binary_data()
    frame = pd.DataFrame(X, columns=["age", "dose", "weight"])
    text = str(LogisticGD().fit(frame, y).summary())
    for name in ("age", "dose", "weight", "intercept", "log-likelihood"):
        assert name in text
    assert text.startswith("LogisticGD maximum likelihood estimates")
    assert "prior precision" not in text
    Xm, ym = multiclass_data()
    text = str(LogisticGD().fit(Xm, np.array(["a", "b", "c"])[ym]).summary())
    assert "b:x1" in text and "c:intercept" in text


def test_summary_with_a_prior_says_maximum_a_posteriori():
    X, y = binary_data()
    summary = LogisticGD(alpha=2.5).fit(X, y).summary()
    assert summary.title == "LogisticGD maximum a posteriori estimates"
    assert summary.stats["prior precision alpha"] == 2.5


def test_warm_start_continues_from_the_fit():
    X, y = binary_data()
    model = LogisticGD(warm_start=True, tol=1e-10).fit(X, y)
    theta = model.theta_.copy()
    model.fit(X, y)
    assert model.n_iter_ == 0
    assert_array_equal(model.theta_, theta)


def test_max_iter_warns_convergence():
    X, y = binary_data()
    with pytest.warns(ConvergenceWarning, match="max_iter=2") as record:
        model = LogisticGD(solver="gd", max_iter=2).fit(X, y)
    assert not any(isinstance(w.message, PerfectSeparationWarning) for w in record)
    assert not model.converged_ and model.n_iter_ == 2
    assert model.loglik_history_.shape == (3,)


def test_verbose_prints_iterations(capsys):
    LogisticGD(verbose=2).fit(*binary_data())
    out = capsys.readouterr().out
    assert "iter    1" in out and "converged=True" in out


def test_clone_pickle_and_grid_search():
    X, y = binary_data()
    model = LogisticGD(alpha=0.1).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert clone(model).get_params() == model.get_params()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticGD()),
        {"logisticgd__alpha": [0.0, 1.0, 100.0]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["logisticgd__alpha"] in (0.0, 1.0)
