"""Single-precision informations that only steer Newton's steps.

References: the closed form :math:`\\tilde X^\\top \\mathrm{diag}(f) \\tilde X` in
double precision, and statsmodels' ``Logit`` for the optimum and standard errors.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy.special import expit

import skmle.optim.newton_single as newton_single
from skmle import LogisticGD
from skmle.models.logistic_information import weighted_gram
from skmle.models.logistic_objective import SINGLE_FROM_ROWS, LogisticObjective


def closed_form_gram(X, factor):
    Xt = np.hstack([X, np.ones((len(X), 1))])
    return Xt.T @ (factor[:, None] * Xt)


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_single_precision_gram_is_within_a_millionth(scale):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 7)) * scale
    factor = rng.random(3000)
    expected = closed_form_gram(X, factor)
    scratch = np.empty(X.shape, dtype=np.float32)
    single = weighted_gram(X, factor, True, scratch, nonnegative=True)
    assert single.dtype == np.float64
    # Relative to the diagonal's size: each entry is a float32 sum of 3000 terms.
    size = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    assert np.max(np.abs(single - expected) / size) < 1e-6
    double = weighted_gram(X, factor, True, np.empty(X.shape), nonnegative=True)
    assert np.max(np.abs(double - expected) / size) < 1e-13


def logistic_data(n, d, seed=0, collinear=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if collinear:
        X[:, 1] = X[:, 0] + 1e-3 * rng.standard_normal(n)
    coef = rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < expit(X @ coef + 0.3)).astype(int)
    return X, y


def record_precision(monkeypatch):
    """Whether each Newton system of the solver was single precision."""
    calls = []
    for name in ("newton_system", "newton_system_along"):
        original = getattr(LogisticObjective, name)

        def spy(self, *args, _original=original, **kwargs):
            calls.append(kwargs.get("single", False))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(LogisticObjective, name, spy)
    return calls


def logit(X, y):
    return sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-10, disp=0)


def assert_matches_logit(model, reference):
    # In standard errors (two near-collinear columns have large ones).
    params = np.r_[model.intercept_, model.coef_.ravel()]
    bse = np.r_[model.intercept_se_, model.coef_se_.ravel()]
    assert np.max(np.abs(params - reference.params) / reference.bse) < 1e-8
    assert_allclose(bse, reference.bse, rtol=1e-9)


def test_steering_informations_are_single_and_the_last_is_exact(monkeypatch):
    X, y = logistic_data(40_000, 8)
    calls = record_precision(monkeypatch)
    model = LogisticGD().fit(X, y)
    assert model.converged_
    assert any(calls), calls  # the quadratic phase's steps were steered in single
    assert not calls[-1], calls  # the returned point's information is exact
    assert_matches_logit(model, logit(X, y))


def test_ill_conditioned_information_stays_double(monkeypatch):
    X, y = logistic_data(40_000, 6, collinear=True)
    calls = record_precision(monkeypatch)
    model = LogisticGD().fit(X, y)
    assert model.converged_
    assert not any(calls), calls
    assert_matches_logit(model, logit(X, y))


def test_few_rows_stay_double(monkeypatch):
    X, y = logistic_data(SINGLE_FROM_ROWS - 1, 5)
    calls = record_precision(monkeypatch)
    LogisticGD().fit(X, y)
    assert calls and not any(calls)


def test_a_wrongly_predicted_last_point_recomputes_the_information(monkeypatch):
    # Never predict that the next point is the last (and no stop on tol): the
    # fit then stops at a point whose information was single, and the standard
    # errors must come from an exact one computed there.
    monkeypatch.setattr(newton_single, "LAST_MARGIN", 0.0)
    X, y = logistic_data(40_000, 8, seed=1)
    calls = record_precision(monkeypatch)
    model = LogisticGD(tol=1e-15).fit(X, y)
    assert model.converged_
    assert calls[-1], calls  # the solver's last Newton system was single
    # The standard errors agree with Logit's to 1e-9: not from that information
    # (2e-8 off when it is used), but from an exact one computed there.
    assert_matches_logit(model, logit(X, y))


def test_timestamps_and_extreme_scales_with_single_steering(monkeypatch):
    # Unix timestamps (1.7e9 plus a year of seconds), a column of scale 1e-6
    # and one of 1e6: centred and Jacobi-scaled, the information is well
    # conditioned, so single precision steers; the answer is still the MLE of
    # statsmodels' Logit on standardised columns, mapped back.
    rng = np.random.default_rng(5)
    n = 60_000
    X = np.column_stack(
        [
            1.7e9 + rng.uniform(0, 3.15e7, n),
            rng.standard_normal(n) * 1e-6,
            rng.standard_normal(n) * 1e6,
        ]
    )
    score = (X[:, 0] - X[:, 0].mean()) * 8e-8 + X[:, 1] * 5e5 + X[:, 2] * 3e-7
    y = (rng.random(n) < expit(score - 0.2)).astype(int)
    calls = record_precision(monkeypatch)
    model = LogisticGD().fit(X, y)
    assert model.converged_ and any(calls)
    mean, spread = X.mean(axis=0), X.std(axis=0)
    reference = logit((X - mean) / spread, y)
    assert_allclose(model.coef_.ravel(), reference.params[1:] / spread, rtol=1e-10)
    assert_allclose(model.coef_se_.ravel(), reference.bse[1:] / spread, rtol=1e-9)
