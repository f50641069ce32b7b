"""The network's log-likelihood against independent references: central finite
differences, scikit-learn's ``MLPClassifier`` loss on the same weights, the
logistic log-likelihood of statsmodels in the degenerate case, duplicated rows
and split batches."""

import warnings
from itertools import pairwise

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier

from skmle.models.base import Batch
from skmle.models.logistic_terms import CHUNK_ROWS
from skmle.models.network import NetworkLogLikelihood


def data(n, d, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, n_classes, size=n)
    return X, y, rng


def objective(model, batch, theta):
    prior, _, _ = model.log_prior(theta, batch.total_weight)
    return model.loglik(theta, batch) + prior


def central_differences(f, theta, step=1e-6):
    out = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        out[j] = (f(theta + e) - f(theta - e)) / (2 * step)
    return out


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_gradient_matches_central_differences_at_random_points(n_classes, alpha):
    X, y, rng = data(60, 3, n_classes)
    model = NetworkLogLikelihood(3, 5, n_classes, alpha)
    weights = rng.integers(0, 4, size=60).astype(float)
    batch = Batch(X, y, weights)
    for _ in range(3):
        theta = rng.normal(size=model.n_params)
        value, grad = model.loglik_grad(theta, batch)
        _, prior_grad, _ = model.log_prior(theta, batch.total_weight)
        numeric = central_differences(lambda t: objective(model, batch, t), theta)
        assert value == pytest.approx(model.loglik(theta, batch), rel=1e-12)
        scale = np.abs(numeric).max()
        np.testing.assert_allclose(
            grad + prior_grad, numeric, rtol=0, atol=1e-7 * scale
        )


def sklearn_network(model, theta, X, y):
    """``MLPClassifier`` holding the weights of ``theta`` (set after a fit that
    only fixes its classes and shapes)."""
    reference = MLPClassifier((model.n_hidden,), activation="relu", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, y)
    W, b1, U, b2 = model.unpack(theta)
    reference.coefs_ = [W.T.copy(), U.T.copy()]
    reference.intercepts_ = [b1.copy(), b2.copy()]
    return reference


@pytest.mark.parametrize("n_classes", [2, 3])
def test_loglik_is_minus_n_times_sklearn_log_loss_on_the_same_weights(n_classes):
    X, y, rng = data(200, 4, n_classes)
    model = NetworkLogLikelihood(4, 7, n_classes)
    theta = 0.8 * rng.normal(size=model.n_params)
    reference = sklearn_network(model, theta, X, y)
    expected = -log_loss(y, reference.predict_proba(X), normalize=False)
    assert model.loglik(theta, Batch(X, y, np.ones(200))) == pytest.approx(
        expected, rel=1e-12
    )
    scores = model.output_scores(theta, X)
    probabilities = reference.predict_proba(X)
    if n_classes == 2:
        np.testing.assert_allclose(expit(scores), probabilities[:, 1], rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_penalised_objective_is_minus_n_times_sklearn_loss(n_classes):
    """scikit-learn's ``loss_`` (at the weights its L-BFGS returns) is the mean
    cross-entropy + alpha / (2 n) ||W||^2: the same alpha gives -1/n times
    skmle's penalised log-likelihood at those weights."""
    X, y, _ = data(150, 3, n_classes)
    n, alpha = 150, 0.3
    reference = MLPClassifier((6,), solver="lbfgs", alpha=alpha, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, y)
    model = NetworkLogLikelihood(3, 6, n_classes, alpha)
    (W_t, U_t), (b1, b2) = reference.coefs_, reference.intercepts_
    theta = model.pack(W_t.T, b1, U_t.T, b2)
    value = objective(model, Batch(X, y, np.ones(n)), theta)
    assert value == pytest.approx(-n * reference.loss_, rel=1e-12)


def test_degenerate_network_is_logistic_regression():
    """Hidden units relu(x) and relu(-x) (W = [I; -I], b1 = 0) with output
    weights [u, -u] give the score u^T x + b: the network's log-likelihood is
    the logistic one, here statsmodels' Logit on spector."""
    spector = sm.datasets.spector.load_pandas()
    X = spector.exog.to_numpy(dtype=float)
    y = spector.endog.to_numpy().astype(int)
    d = X.shape[1]
    model = NetworkLogLikelihood(d, 2 * d, 2)
    coef, intercept = np.array([2.5, 0.1, 2.3]), -13.0
    theta = model.pack(
        np.vstack([np.eye(d), -np.eye(d)]),
        np.zeros(2 * d),
        np.concatenate([coef, -coef])[None, :],
        np.array([intercept]),
    )
    logit = sm.Logit(y, sm.add_constant(X))
    expected = logit.loglike(np.concatenate([[intercept], coef]))
    batch = Batch(X, y, np.ones(len(y)))
    assert model.loglik(theta, batch) == pytest.approx(expected, rel=1e-12)
    # and the gradient in the output weights is the logistic score on x+ and x-
    _, grad = model.loglik_grad(theta, batch)
    score = logit.score(np.concatenate([[intercept], coef]))
    U_grad = model.unpack(grad)[2][0]
    np.testing.assert_allclose(U_grad[:d] - U_grad[d:], score[1:], rtol=1e-10)
    assert model.unpack(grad)[3][0] == pytest.approx(score[0], rel=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_weight_two_equals_a_duplicated_row(n_classes):
    X, y, rng = data(40, 3, n_classes)
    model = NetworkLogLikelihood(3, 4, n_classes, 0.2)
    theta = rng.normal(size=model.n_params)
    weights = np.ones(40)
    weights[:5] = 2.0
    weighted = model.loglik_grad(theta, Batch(X, y, weights))
    repeated = np.concatenate([X, X[:5]]), np.concatenate([y, y[:5]])
    duplicated = model.loglik_grad(theta, Batch(*repeated, np.ones(45)))
    assert weighted[0] == pytest.approx(duplicated[0], rel=1e-12)
    np.testing.assert_allclose(weighted[1], duplicated[1], rtol=1e-11, atol=1e-12)


def test_blocks_and_threads_sum_to_the_whole():
    """More rows than two blocks: the threaded block sums equal the sums of the
    model's value and gradient over three separate batches."""
    n = 2 * CHUNK_ROWS + 777
    X, y, rng = data(n, 5, 3)
    w = rng.random(n)
    model = NetworkLogLikelihood(5, 9, 3, 0.1)
    theta = rng.normal(size=model.n_params)
    whole = model.loglik_grad(theta, Batch(X, y, w))
    cuts = [0, 1000, 5000, n]
    parts = [
        model.loglik_grad(theta, Batch(X[a:b], y[a:b], w[a:b]))
        for a, b in pairwise(cuts)
    ]
    assert whole[0] == pytest.approx(sum(p[0] for p in parts), rel=1e-12)
    np.testing.assert_allclose(whole[1], sum(p[1] for p in parts), rtol=1e-10)
    obs = model.loglik_obs(theta, Batch(X, y, w))
    assert obs.shape == (n,)
    assert w @ obs == pytest.approx(whole[0], rel=1e-12)


def test_pack_unpack_round_trip_and_shape_errors():
    model = NetworkLogLikelihood(3, 4, 5)
    theta = np.arange(model.n_params, dtype=float)
    assert model.n_params == 4 * 3 + 4 + 5 * 4 + 5
    np.testing.assert_array_equal(model.pack(*model.unpack(theta)), theta)
    W, b1, U, b2 = model.unpack(theta)
    with pytest.raises(ValueError, match="needs"):
        model.pack(W.T, b1, U, b2)
    mask = model.weight_mask()
    assert mask.sum() == W.size + U.size
