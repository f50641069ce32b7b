"""LogisticGD.partial_fit: stochastic gradient ascent towards the exact maximum.

The reference is statsmodels' Logit / MNLogit maximum (and LogisticGD.fit, which
the logistic tests check against statsmodels).
"""

import numpy as np
import pytest
import statsmodels.api as sm

from skmle import LogisticGD


def multinomial_data(n_classes, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    B = rng.normal(size=(n_classes, 3))
    logits = X @ B.T
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    y = (prob.cumsum(axis=1) < rng.uniform(size=(n, 1))).sum(axis=1)
    return X, y


def statsmodels_loglik(X, y, n_classes):
    exog = sm.add_constant(X)
    model = sm.Logit(y, exog) if n_classes == 2 else sm.MNLogit(y, exog)
    return model.fit(disp=0, method="newton", maxiter=100).llf


@pytest.mark.parametrize("n_classes", [2, 3])
def test_passes_over_shuffled_batches_approach_the_maximum(n_classes):
    X, y = multinomial_data(n_classes)
    n = X.shape[0]
    best = statsmodels_loglik(X, y, n_classes)
    rng = np.random.default_rng(1)
    model = LogisticGD()
    gaps = []
    for _ in range(20):
        for rows in np.array_split(rng.permutation(n), 10):
            model.partial_fit(X[rows], y[rows], classes=np.arange(n_classes))
        gaps.append((best - model.log_likelihood(X, y)) / n)
    # Measured gaps per row after 20 passes of 10 batches: 1e-5 for two classes,
    # 1.4e-3 for three (slower: the 1/sqrt(t) steps shrink before the flattest
    # direction has converged; 1.3e-4 after 60 passes).
    assert 0 <= gaps[-1] < 3e-3
    assert gaps[-1] < gaps[0] / 2.5
    assert all(np.diff(gaps[::5]) < 0)
    assert model.t_ == 200 and model.n_iter_ == 200
    assert model.n_samples_seen_ == 20 * n
    exact = LogisticGD().fit(X, y)
    np.testing.assert_allclose(model.coef_, exact.coef_, rtol=0.15, atol=0.02)
    assert np.all(np.isnan(model.coef_se_))


def test_classes_are_required_first_and_fixed_after():
    X, y = multinomial_data(2, n=200)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        LogisticGD().partial_fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticGD().partial_fit(X, np.zeros(200, int), classes=[0])
    model = LogisticGD().partial_fit(X[:50], y[:50], classes=[1, 0])
    np.testing.assert_array_equal(model.classes_, [0, 1])
    model.partial_fit(X[50:100], y[50:100])  # classes may be left out later
    with pytest.raises(ValueError, match="differs from the classes"):
        model.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not among the classes"):
        model.partial_fit(X[:50], np.where(y[:50] == 1, 7, 0))
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:50, :2], y[:50])


def test_a_batch_without_some_classes_and_string_labels():
    X, y = multinomial_data(3, n=600)
    labels = np.array(["ant", "bee", "cat"])[y]
    model = LogisticGD()
    # The first batch has only "ant": the classes come from the argument.
    first = labels == "ant"
    model.partial_fit(X[first][:50], labels[first][:50], classes=["cat", "bee", "ant"])
    np.testing.assert_array_equal(model.classes_, ["ant", "bee", "cat"])
    model.partial_fit(X, labels)
    assert set(model.predict(X)) <= {"ant", "bee", "cat"}
    assert model.predict_proba(X).shape == (600, 3)


def test_partial_fit_continues_from_fit_and_a_fixed_learning_rate():
    X, y = multinomial_data(2, n=500)
    exact = LogisticGD().fit(X, y)
    model = LogisticGD().fit(X, y)
    model.partial_fit(X, y)  # at the maximum the full-batch gradient is ~0
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=1e-4)
    fixed = LogisticGD(learning_rate=0.5).partial_fit(X, y, classes=[0, 1])
    assert fixed.initial_step_size_ == 0.5
    # One step from zero: theta = 0.5 * (mean gradient) with p = 1/2 everywhere.
    expected = 0.5 * ((y - 0.5) @ X) / X.shape[0]
    np.testing.assert_allclose(fixed.coef_[0], expected, rtol=1e-12)
