"""A speculative Newton step whose predictor is formed inside its own pass
(``newton_system_along``).

References: the same Newton system computed the long way (the predictor
:math:`X d` first, then ``newton_system`` at ``theta + d``), and statsmodels'
``Logit`` for the optimum and standard errors.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy.special import expit, softmax

from skmle import LogisticGD
from skmle.data import Batch
from skmle.models.logistic import LogisticLogLikelihood
from skmle.models.logistic_objective import LogisticObjective


def objective_for(X, y, n_classes, center=None, n_threads=2):
    model = LogisticLogLikelihood(X.shape[1], n_classes, True, 0.0, center=center)
    batch = Batch(X, np.asarray(y), np.ones(X.shape[0]))
    return LogisticObjective(model, [batch], n_threads=n_threads)


def data(n, d, n_classes, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[:, 0] += offset
    W = rng.standard_normal((n_classes, d)) / np.sqrt(d)
    y = np.array([rng.choice(n_classes, p=p) for p in softmax(X @ W.T, axis=1)])
    return X, y


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("layout", ["dense", "centred", "sparse", "one block"])
@pytest.mark.parametrize("exact", [True, False, None])
def test_fused_system_equals_the_long_way(n_classes, layout, exact):
    offset = 1e6 if layout == "centred" else 0.0
    X, y = data(40_000, 5, n_classes, offset=offset)
    center = np.r_[1e6, np.zeros(4)] if layout == "centred" else None
    if layout == "sparse":
        X = sp.csr_array(np.where(np.abs(X) > 1.0, X, 0.0))
    objective = objective_for(
        X, y, n_classes, center, n_threads=1 if layout == "one block" else 2
    )
    rng = np.random.default_rng(1)
    theta = objective.model.from_free(rng.standard_normal(objective.model.n_free))
    theta *= 0.3
    direction = objective.model.from_free(rng.standard_normal(objective.model.n_free))
    direction *= 0.1
    eta = objective.predictor(theta)
    system, new_eta, step_eta = objective.newton_system_along(
        theta, eta, direction, exact=exact
    )
    expected_step = objective.predictor(direction)
    assert_allclose(step_eta, expected_step, rtol=1e-12, atol=1e-12)
    assert_allclose(new_eta, eta + expected_step, rtol=1e-12, atol=1e-12)
    expected = objective.newton_system(theta + direction, eta + expected_step, exact)
    for got, want in zip(system, expected, strict=True):
        assert_allclose(got, want, rtol=1e-11, atol=1e-14)


def test_a_fit_takes_fused_steps_and_reaches_the_logit_maximum(monkeypatch):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60_000, 6))
    y = (rng.random(60_000) < expit(X @ rng.standard_normal(6) / 2 + 0.2)).astype(int)
    calls = []
    original = LogisticObjective.newton_system_along

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LogisticObjective, "newton_system_along", spy)
    fused = LogisticGD().fit(X, y)
    assert calls, "no speculative step was fused"
    reference = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0)
    assert_allclose(fused.intercept_[0], reference.params[0], rtol=1e-10)
    assert_allclose(fused.coef_.ravel(), reference.params[1:], rtol=1e-10)
    assert_allclose(fused.coef_se_.ravel(), reference.bse[1:], rtol=1e-9)
    # The long way (no newton_system_along) reaches the same point.
    monkeypatch.setattr(LogisticObjective, "newton_system_along", None)
    long_way = LogisticGD().fit(X, y)
    assert long_way.n_iter_ == fused.n_iter_
    assert_allclose(long_way.coef_, fused.coef_, rtol=1e-12)
    assert_allclose(long_way.loglik_, fused.loglik_, rtol=1e-15)
