"""Gradient ascent: the fixed step, its safeguard, and the Armijo line search."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from scipy.optimize import minimize

from skmle.optim import gradient_ascent


def test_fixed_step_is_the_plain_update(quadratic):
    # A step short enough to raise the objective is taken as it is.
    theta0 = np.zeros_like(quadratic.maximiser)
    learning_rate = 1.0 / quadratic.eigenvalues.max()
    result = gradient_ascent(
        quadratic, theta0, learning_rate=learning_rate, max_iter=1, tol=0.0
    )
    gradient = quadratic.A @ quadratic.maximiser  # -A (theta0 - c) at theta0 = 0
    assert_allclose(result.theta, theta0 + learning_rate * gradient, rtol=1e-14)


@pytest.mark.parametrize(
    "learning_rate, expected",
    [
        (0.25, 0.5),  # no halving
        (1.0, 0.0),  # 1 -> -1 ties, gradient no smaller: halved, not taken
        (1.5, -0.5),  # 1 -> -2 lowers f: one halving
        (6.0, -0.5),  # two halvings
    ],
)
def test_fixed_step_halved_only_while_it_would_not_raise_the_objective(
    parabola, learning_rate, expected
):
    # f(x) = -x^2 from x = 1: the gradient is -2, so a step t lands on 1 - 2t.
    result = gradient_ascent(
        parabola, np.array([1.0]), learning_rate=learning_rate, max_iter=1
    )
    assert_allclose(result.theta, [expected], rtol=0, atol=1e-15)


def naive_gradient_ascent(x, mu, sigma, learning_rate, n_steps):
    """Plain gradient ascent on (mu, sigma) as in the lecture notes, no safeguard.

    Returns the iterates and the average log-likelihood at each.
    """
    iterates, values = [], []
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for _ in range(n_steps):
            second_moment = np.mean((x - mu) ** 2)
            grad_mu = (np.mean(x) - mu) / sigma**2
            grad_sigma = second_moment / sigma**3 - 1.0 / sigma
            mu, sigma = mu + learning_rate * grad_mu, sigma + learning_rate * grad_sigma
            iterates.append((mu, sigma))
            values.append(
                -0.5 * np.log(2 * np.pi)
                - np.mean((x - mu) ** 2) / (2 * sigma**2)
                - np.log(sigma)
            )
    return np.array(iterates), np.array(values)


@pytest.mark.parametrize(
    "learning_rate, theta0",
    [(2.0, (2.0, 1.0)), (3.0, (1.5, 1.0)), (5.0, (2.0, 1.0))],
    ids=["rate2", "rate3", "rate5"],
)
def test_fixed_step_on_sigma_does_not_diverge(
    gaussian, gaussian_sample, learning_rate, theta0
):
    # The naive update with this learning rate jumps sigma below zero.
    iterates, values = naive_gradient_ascent(
        gaussian_sample, *theta0, learning_rate=learning_rate, n_steps=5
    )
    assert np.any(iterates[:, 1] <= 0) or not np.all(np.isfinite(values))

    # The same fixed step, safeguarded, converges to the closed form.
    sigmas = []
    result = gradient_ascent(
        gaussian,
        np.array(theta0),
        learning_rate=learning_rate,
        tol=1e-9,
        callback=lambda i, theta, value: sigmas.append(theta[1]),
    )
    assert not np.all(np.isfinite(gaussian.evaluated)), "the safeguard was not needed"
    assert np.all(np.isfinite(result.history))
    assert np.all(np.diff(result.history) >= 0)
    assert min(sigmas) > 0
    assert result.converged
    mean, std = stats.norm.fit(gaussian_sample)  # the MLE: mean, population std
    assert_allclose(result.theta, [mean, std], rtol=1e-6)
    assert_allclose(std, np.std(gaussian_sample, ddof=0), rtol=1e-12)


def test_armijo_on_rosenbrock_approaches_scipy(rosenbrock):
    theta0 = np.array([-1.2, 1.0])
    reference = minimize(
        lambda theta: -rosenbrock.value(theta),
        theta0,
        jac=lambda theta: -rosenbrock.value_and_grad(theta)[1],
        method="BFGS",
        options={"gtol": 1e-10},
    )
    assert_allclose(reference.x, rosenbrock.maximiser, rtol=1e-8)

    result = gradient_ascent(rosenbrock, theta0, learning_rate="auto", max_iter=10_000)
    assert np.all(np.diff(result.history) > 0), "some iteration made no progress"
    assert_allclose(result.theta, reference.x, rtol=0, atol=1e-3)
    assert result.value > -1e-7


def test_armijo_condition_holds_at_every_step(rosenbrock):
    thetas = [np.array([-1.2, 1.0])]
    gradient_ascent(
        rosenbrock,
        thetas[0],
        learning_rate="auto",
        max_iter=200,
        callback=lambda i, theta, value: thetas.append(theta),
    )
    assert len(thetas) == 201
    for before, after in itertools.pairwise(thetas):
        value, grad = rosenbrock.value_and_grad(before)
        # The step is along the gradient, of some length t > 0 ...
        step = (after - before) @ grad / (grad @ grad)
        assert step > 0
        assert_allclose(after, before + step * grad, rtol=1e-12)
        # ... that raises f by at least c t |g|^2 with c = 1e-4.
        assert rosenbrock.value(after) >= value + 1e-4 * step * (grad @ grad)
