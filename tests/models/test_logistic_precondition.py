"""The Kronecker approximation of the multinomial information.

References: the per-row closed form of the information,
:math:`\\sum_i w_i (\\mathrm{diag}(p_i) - p_i p_i^\\top) \\otimes \\tilde x_i
\\tilde x_i^\\top` (equal to it where every row has the same probabilities), and
the mean of the class blocks times the Gram matrix elsewhere, written out.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import log_softmax, softmax

import skmle.models.logistic_precondition as logistic_precondition
from skmle.data import Batch
from skmle.models.logistic import LogisticLogLikelihood
from skmle.models.logistic_objective import LogisticObjective
from skmle.models.logistic_precondition import kronecker_information, kronecker_terms
from skmle.models.logistic_terms import eta_terms


def data(n=500, d=3, K=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + 5.0
    y = rng.integers(0, K, n)
    return X, y, rng.random(n) + 0.5


def design(X, model):
    X = X - (0.0 if model.center is None else model.center)
    return np.hstack([X, np.ones((len(X), 1))]) if model.fit_intercept else X


def per_row_information(X, weight, prob, model):
    Xt, P = design(X, model), prob[:, 1:]
    return sum(
        w * np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x))
        for x, w, p in zip(Xt, weight, P, strict=True)
    )


@pytest.mark.parametrize(
    "fit_intercept, centred", [(True, False), (True, True), (False, False)]
)
def test_exact_where_the_probabilities_are_constant(fit_intercept, centred):
    X, y, weight = data()
    center = X.mean(axis=0) if centred else None
    model = LogisticLogLikelihood(3, 4, fit_intercept, center=center)
    theta = np.zeros(model.n_params)
    if fit_intercept:
        model.coef_matrix(theta)[:, -1] = [0.3, -0.1, 0.5, -0.7]
    eta = model.linear_predictor(theta, X)
    A, gram = kronecker_terms(model, eta, Batch.from_arrays(X, y, weight))
    M = kronecker_information(A, gram, weight.sum())
    expected = per_row_information(X, weight, softmax(eta, axis=1), model)
    assert_allclose(M, expected, rtol=1e-11, atol=1e-11 * np.abs(expected).max())


def test_mean_class_block_times_the_gram_matrix_elsewhere():
    X, y, weight = data(seed=1)
    model = LogisticLogLikelihood(3, 4)
    theta = np.random.default_rng(2).standard_normal(model.n_params)
    eta = model.linear_predictor(theta, X)
    P = softmax(eta, axis=1)[:, 1:]
    A_bar = (
        sum(w * (np.diag(p) - np.outer(p, p)) for w, p in zip(weight, P, strict=True))
        / weight.sum()
    )
    Xt = design(X, model)
    expected = np.kron(A_bar, Xt.T @ (weight[:, None] * Xt))
    A, gram = kronecker_terms(model, eta, Batch.from_arrays(X, y, weight))
    assert_allclose(kronecker_information(A, gram, weight.sum()), expected, rtol=1e-12)


def test_sparse_rows_give_the_dense_terms():
    X, y, weight = data(seed=3)
    X[X < 5.0] = 0.0
    model = LogisticLogLikelihood(3, 4)
    theta = np.random.default_rng(4).standard_normal(model.n_params) * 0.1
    eta = model.linear_predictor(theta, X)
    dense = kronecker_terms(model, eta, Batch.from_arrays(X, y, weight))
    sparse = kronecker_terms(model, eta, Batch.from_arrays(sp.csr_array(X), y, weight))
    for a, b in zip(dense, sparse, strict=True):
        assert_allclose(b, a, rtol=1e-12)


def test_objective_offers_it_per_unit_weight_with_the_prior():
    X, y, weight = data(seed=5)
    model = LogisticLogLikelihood(3, 4, alpha=2.0)
    objective = LogisticObjective(model, [Batch.from_arrays(X, y, weight)])
    theta = np.zeros(model.n_params)
    M = objective.preconditioner(theta, objective.predictor(theta))
    expected = per_row_information(X, weight, np.full((len(y), 4), 0.25), model)
    # the prior's information on the free rows: alpha (I - J/K) on coefficients
    prior = np.kron(np.eye(3) - 0.25, np.diag([2.0, 2.0, 2.0, 0.0]))
    assert_allclose(M, (expected + prior) / weight.sum(), rtol=1e-11)
    binary = LogisticObjective(
        LogisticLogLikelihood(3, 2), [Batch.from_arrays(X, y % 2)]
    )
    assert binary.preconditioner(np.zeros(4), binary.predictor(np.zeros(4))) is None


def test_gradient_pass_softmax_matches_scipy_at_extreme_scores():
    # eta_terms(curvature=False), the quasi-Newton phase's pass: one exponential
    # per entry, no overflow at scores of +-800.
    rng = np.random.default_rng(6)
    eta = rng.standard_normal((300, 5)) * 400.0
    y = rng.integers(0, 5, 300)
    loglik_obs, resid, prob, curv = eta_terms(eta, y, curvature=False)
    assert curv is None
    assert_allclose(loglik_obs, log_softmax(eta, axis=1)[np.arange(300), y], rtol=1e-13)
    assert_allclose(prob, softmax(eta, axis=1), rtol=1e-13, atol=1e-300)
    assert_allclose(resid, np.eye(5)[y] - softmax(eta, axis=1), atol=1e-15)


def test_sampled_information_is_the_sample_rows_closed_form(monkeypatch):
    monkeypatch.setattr(logistic_precondition, "SAMPLE_PER_PARAMETER", 4)
    X, y, weight = data(n=400, seed=7)
    model = LogisticLogLikelihood(3, 4, alpha=0.5)
    objective = LogisticObjective(model, [Batch.from_arrays(X, y, weight)])
    theta = np.random.default_rng(8).standard_normal(model.n_params) * 0.3
    info = objective.sampled_preconditioner(theta)
    sample = objective.rows.sample(4 * model.n_free, random_state=0)
    assert sample.X.shape[0] == 48
    prob = softmax(model.linear_predictor(theta, sample.X), axis=1)
    expected = per_row_information(sample.X, sample.sample_weight, prob, model)
    prior = np.kron(np.eye(3) - 0.25, np.diag([0.5, 0.5, 0.5, 0.0]))
    expected = expected / sample.sample_weight.sum() + prior / weight.sum()
    assert_allclose(info, expected, rtol=1e-11)
    # a sample of more than half the rows is not worth it
    monkeypatch.setattr(logistic_precondition, "SAMPLE_PER_PARAMETER", 20)
    assert objective.sampled_preconditioner(theta) is None
