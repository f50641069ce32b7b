"""Newton's quasi-Newton phase (preconditioned L-BFGS before one exact information).

References: statsmodels' ``MNLogit`` (optimum and standard errors) on its bundled
anes96 data, the BFGS secant condition, and the closed form of the information
at the intercept-only fit.
"""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

import skmle.models.logistic_precondition as logistic_precondition
import skmle.optim.newton_predictor as newton_predictor
import skmle.optim.newton_quasi_phase as newton_quasi_phase
import skmle.optim.quasi_newton as quasi_newton
from skmle import LogisticGD, chunked
from skmle.estimators.logistic import PerfectSeparationWarning
from skmle.models.logistic_objective import LogisticObjective
from skmle.optim.quasi_newton import QuasiNewtonDirections


def anes96():
    data = sm.datasets.anes96.load_pandas().data
    X = data[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy()
    return X, data["PID"].to_numpy().astype(int)


@pytest.fixture(scope="module")
def mnlogit():
    X, y = anes96()
    return sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-14)


@pytest.fixture
def points(monkeypatch):
    """Force the quasi-Newton phase (36 free parameters) and record every
    point's kind and every verdict of the stopping rule."""
    monkeypatch.setattr(newton_quasi_phase, "QUASI_FROM", 1)
    seen = {"quasi": [], "verdicts": []}
    rule = newton_predictor.PredictorNewtonStep.rule

    def spy(self, point):
        message = rule(self, point)
        seen["quasi"].append(point.quasi)
        if message is not None:
            seen["verdicts"].append((point.exact, point.quasi, point.frozen))
        return message

    monkeypatch.setattr(newton_predictor.PredictorNewtonStep, "rule", spy)
    return seen


def contrasts(model):
    """statsmodels' class-0 contrasts (intercept first) from skmle's rows."""
    coef = np.hstack([model.intercept_[:, None], model.coef_])
    return (coef[1:] - coef[0]).T


def contrast_se(model, reference):
    """statsmodels' covariance of the contrasts mapped to skmle's sum-to-zero
    rows (intercept last)."""
    K, d = model.coef_.shape
    p = d + 1
    order = [*range(1, p), 0]
    free_to_beta = np.vstack([np.zeros((p, (K - 1) * p)), np.eye((K - 1) * p)])
    centre = np.kron(np.eye(K) - 1.0 / K, np.eye(p))
    A = np.kron(np.eye(K), np.eye(p)[order]) @ centre @ free_to_beta
    cov = np.asarray(reference.cov_params())
    return np.sqrt(np.diag(A @ cov @ A.T)).reshape(K, p)


def assert_mnlogit(model, reference, rtol=1e-8):
    assert_allclose(model.loglik_, reference.llf, rtol=1e-13)
    # 8.2 significant digits at least on the smallest contrast (9.9 by exact
    # Newton steps alone); every standard error to 10.2
    params_rtol = 5 * rtol
    assert_allclose(contrasts(model), reference.params, rtol=params_rtol, atol=1e-10)
    se = contrast_se(model, reference)
    assert_allclose(model.coef_se_, se[:, :-1], rtol=rtol)
    assert_allclose(model.intercept_se_, se[:, -1], rtol=rtol)


@pytest.mark.parametrize("storage", ["memory", "chunked"])
def test_quasi_phase_reaches_mnlogit_with_one_exact_verdict(points, mnlogit, storage):
    X, y = anes96()
    data = X if storage == "memory" else chunked(X, chunk_size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticGD().fit(data, y)
    assert model.converged_
    assert sum(points["quasi"]) > 5  # the L-BFGS phase ran ...
    assert not points["quasi"][-1]  # ... and the last point was not one of it
    # the verdict came from the exact information at the returned point
    assert points["verdicts"] == [(True, False, False)]
    assert_mnlogit(model, mnlogit)
    assert model.loglik_history_.shape == (model.n_iter_ + 1,)
    assert np.all(np.diff(model.loglik_history_) >= -1e-9 * abs(model.loglik_))


def test_weights_on_the_quasi_phase_equal_duplicated_rows(points):
    X, y = anes96()
    weight = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    repeat = np.repeat(np.arange(len(y)), weight.astype(int))
    reference = sm.MNLogit(y[repeat], sm.add_constant(X[repeat])).fit(
        disp=0, method="newton", tol=1e-14
    )
    model = LogisticGD().fit(X, y, sample_weight=weight)
    assert model.converged_
    assert_allclose(model.loglik_, reference.llf, rtol=1e-13)
    assert_allclose(contrasts(model), reference.params, rtol=1e-8, atol=1e-10)


def test_stalled_quasi_phase_falls_back_to_exact_newton(points, mnlogit, monkeypatch):
    # No quasi-Newton step after the first raises the objective: the exact
    # Newton steps take over from the point reached.
    monkeypatch.setattr(
        newton_quasi_phase, "quasi_step", lambda *args, **kwargs: (None, False)
    )
    X, y = anes96()
    model = LogisticGD().fit(X, y)
    assert model.converged_ and points["quasi"][:2] == [True, True]
    assert all(exact for exact, _, _ in points["verdicts"])
    assert_mnlogit(model, mnlogit)


def test_step_limit_of_the_quasi_phase_falls_back(points, mnlogit, monkeypatch):
    monkeypatch.setattr(quasi_newton, "MAX_STEPS", 3)
    X, y = anes96()
    model = LogisticGD().fit(X, y)
    assert model.converged_ and sum(points["quasi"]) == 3
    assert_mnlogit(model, mnlogit)


def test_max_iter_inside_the_quasi_phase_is_not_converged(points, mnlogit):
    X, y = anes96()
    with pytest.warns(ConvergenceWarning):
        model = LogisticGD(max_iter=4).fit(X, y)
    assert not model.converged_ and model.n_iter_ == 4
    assert points["verdicts"] == []
    assert np.all(np.isfinite(model.coef_se_))
    assert model.loglik_ < mnlogit.llf


def test_warm_start_at_the_maximum_needs_no_quasi_phase(points, mnlogit):
    X, y = anes96()
    model = LogisticGD(warm_start=True).fit(X, y)
    points["quasi"].clear()
    model.fit(X, y)
    assert model.converged_ and model.n_iter_ <= 1
    assert not any(points["quasi"])
    assert_mnlogit(model, mnlogit)


def test_quasi_separation_is_still_reported(points):
    # Iris: setosa is separated from the other two species; no maximum.
    X, y = load_iris(return_X_y=True)
    with pytest.warns(PerfectSeparationWarning, match="quasi-completely separable"):
        model = LogisticGD().fit(X, y)
    assert not model.converged_ and any(points["quasi"])
    assert np.all(np.isnan(model.coef_se_))


def test_two_loop_direction_satisfies_the_secant_condition():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((6, 6))
    M = B @ B.T + 6 * np.eye(6)
    directions = QuasiNewtonDirections(M)
    g = rng.standard_normal(6)
    first, measure = directions.direction(g)
    assert_allclose(first, np.linalg.solve(M, g), rtol=1e-12)
    assert_allclose(measure, g @ np.linalg.solve(M, g), rtol=1e-12)
    H = rng.standard_normal((6, 6))
    H = H @ H.T + np.eye(6)  # a curvature the steps sample
    for _ in range(3):
        s = rng.standard_normal(6)
        directions.update(s, H @ s)
    # BFGS: the updated inverse maps the last gradient change to its step
    assert_allclose(directions.direction(H @ s)[0], s, rtol=1e-10)


def test_singular_preconditioner_is_refused():
    with pytest.raises(np.linalg.LinAlgError):
        QuasiNewtonDirections(np.ones((3, 3)))


@pytest.mark.parametrize("storage", ["memory", "chunked"])
def test_restart_on_a_sampled_information_reaches_mnlogit(
    points, mnlogit, monkeypatch, storage
):
    # 4 rows per free parameter: a 144-row sample of 944, so the phase
    # restarts on its information once the quasi-Newton decrement is small.
    monkeypatch.setattr(logistic_precondition, "SAMPLE_PER_PARAMETER", 4)
    asked = []
    original = LogisticObjective.sampled_preconditioner

    def spy(self, theta):
        matrix = original(self, theta)
        asked.append(matrix is not None)
        return matrix

    monkeypatch.setattr(LogisticObjective, "sampled_preconditioner", spy)
    X, y = anes96()
    data = X if storage == "memory" else chunked(X, chunk_size=300)
    model = LogisticGD().fit(data, y)
    assert asked == [True] and model.converged_
    assert points["verdicts"] == [(True, False, False)]
    assert_mnlogit(model, mnlogit)
