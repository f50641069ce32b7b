"""The multinomial information's BLAS routes and Newton's chord steps (reused information).

References: the per-row closed form of the information,
:math:`\\sum_i w_i (\\mathrm{diag}(p_i) - p_i p_i^\\top) \\otimes \\tilde x_i \\tilde x_i^\\top`,
and statsmodels' ``MNLogit`` for the optimum and standard errors.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy.special import softmax

import skmle.optim.newton_predictor as newton_predictor
import skmle.optim.newton_quasi_phase as newton_quasi_phase
from skmle import LogisticGD
from skmle.models.logistic_information import information_blocks


def closed_form(X, fit_intercept, weight, prob, classes):
    Xt = np.hstack([X, np.ones((len(X), 1))]) if fit_intercept else X
    P = prob[:, classes]
    total = 0.0
    for x, w, p in zip(Xt, weight, P, strict=True):
        total = total + w * np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x))
    return total


@pytest.mark.parametrize("n_features", [4, 70])  # product route, per-pair route
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_information_blocks_match_the_closed_form(n_features, fit_intercept):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, n_features))
    weight = rng.random(300)
    prob = softmax(rng.standard_normal((300, 4)), axis=1)
    classes = [1, 2, 3]
    info = information_blocks(
        X, fit_intercept, weight, prob, prob * (1 - prob), classes
    )
    expected = closed_form(X, fit_intercept, weight, prob, classes)
    assert_allclose(info, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_chord_steps_reach_the_mnlogit_optimum_and_standard_errors(monkeypatch):
    # 3 x 86 = 258 free parameters: above FREEZE_FROM, so the last steps reuse
    # an information; the fit must still stop at the maximum, with the exact
    # information there.
    rng = np.random.default_rng(0)
    n, d, K = 4000, 85, 4
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((K, d)) * 1.5 / np.sqrt(d)
    y = np.array([rng.choice(K, p=p) for p in softmax(X @ W.T, axis=1)])
    frozen = []
    original = newton_predictor.PredictorNewtonStep.newton_point

    def spy(self, theta, eta, exact=True, frozen_point=None, **kw):
        point = original(self, theta, eta, exact, kw.get("frozen", frozen_point))
        frozen.append(point.frozen)
        return point

    monkeypatch.setattr(newton_predictor.PredictorNewtonStep, "newton_point", spy)
    # Exact Newton steps from the start (no quasi-Newton phase, which this
    # size would otherwise take: tests/optim/test_newton_quasi.py).
    monkeypatch.setattr(newton_quasi_phase, "QUASI_FROM", 10**9)
    model = LogisticGD().fit(X, y)
    assert any(frozen) and model.converged_
    reference = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton")
    assert_allclose(model.loglik_, reference.llf, rtol=1e-12)
    # statsmodels' class-0 contrasts: beta_k = W_k - W_0, intercept first
    coef = np.hstack([model.intercept_[:, None], model.coef_])
    assert_allclose((coef[1:] - coef[0]).T, reference.params, rtol=1e-7, atol=1e-9)
    # statsmodels' covariance of the contrasts, mapped to the sum-to-zero rows
    p = d + 1
    order = [*range(1, p), 0]  # intercept last
    free_to_beta = np.vstack([np.zeros((p, (K - 1) * p)), np.eye((K - 1) * p)])
    centre = np.kron(np.eye(K) - 1.0 / K, np.eye(p))
    A = np.kron(np.eye(K), np.eye(p)[order]) @ centre @ free_to_beta
    se = np.sqrt(np.diag(A @ np.asarray(reference.cov_params()) @ A.T)).reshape(K, p)
    assert_allclose(model.coef_se_, se[:, :d], rtol=1e-7)
    assert_allclose(model.intercept_se_, se[:, d], rtol=1e-7)
