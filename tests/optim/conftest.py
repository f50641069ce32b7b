"""Textbook functions to maximise, each with its maximiser known in closed form.

No model is involved: the optimizers see an object with ``value``,
``value_and_grad`` and ``hessian``, as they would an objective. Every function
keeps the list of values it was asked for (``evaluated``), so a test can tell a
rejected trial point from an accepted one.

The test modules run under ``--import-mode=importlib`` and cannot import each other
or this file, so the functions reach them as fixtures.
"""

import numpy as np
import pytest


class TextbookFunction:
    """Record every value computed; subclasses implement ``_value`` and ``_grad``."""

    def __init__(self):
        self.evaluated = []

    def value(self, theta):
        value = self._value(np.asarray(theta, dtype=float))
        self.evaluated.append(value)
        return value

    def value_and_grad(self, theta):
        theta = np.asarray(theta, dtype=float)
        return self.value(theta), self._grad(theta)


class Quadratic(TextbookFunction):
    """f(theta) = top - (theta - c)^T A (theta - c) / 2, with A = Q diag(eig) Q^T.

    The maximum is ``top`` at ``c``; the condition number of A is the ratio of the
    largest to the smallest eigenvalue.
    """

    def __init__(self, eigenvalues, maximiser, top=0.0, seed=0):
        super().__init__()
        n = len(eigenvalues)
        q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
        self.A = q @ np.diag(eigenvalues) @ q.T
        self.A = (self.A + self.A.T) / 2.0
        self.eigenvalues = np.asarray(eigenvalues, dtype=float)
        self.maximiser = np.asarray(maximiser, dtype=float)
        self.maximum = float(top)

    def _value(self, theta):
        d = theta - self.maximiser
        return self.maximum - 0.5 * d @ self.A @ d

    def _grad(self, theta):
        return -self.A @ (theta - self.maximiser)

    def hessian(self, theta):
        return -self.A


class NegatedRosenbrock(TextbookFunction):
    """f(x, y) = -(1 - x)^2 - 100 (y - x^2)^2: maximum 0 at (1, 1)."""

    maximiser = np.array([1.0, 1.0])
    maximum = 0.0

    def _value(self, theta):
        x, y = theta
        return -((1.0 - x) ** 2) - 100.0 * (y - x * x) ** 2

    def _grad(self, theta):
        x, y = theta
        return np.array(
            [2.0 * (1.0 - x) + 400.0 * x * (y - x * x), -200.0 * (y - x * x)]
        )

    def hessian(self, theta):
        x, y = theta
        return -np.array(
            [
                [2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x],
                [-400.0 * x, 200.0],
            ]
        )


class LogBarrier(TextbookFunction):
    """f(theta) = sum_i log(theta_i) - a_i theta_i on theta > 0: maximum at 1 / a.

    Outside the domain the value is ``outside``: NaN as the naive formula gives
    (the log of a negative number), or -inf, or +inf (which must not pass for a
    very good point).
    """

    def __init__(self, a, outside):
        super().__init__()
        self.a = np.asarray(a, dtype=float)
        self.outside = outside
        self.maximiser = 1.0 / self.a
        self.maximum = float(np.sum(-np.log(self.a) - 1.0))

    def _value(self, theta):
        if self.outside != "nan" and np.any(theta <= 0):
            return float(self.outside)
        # Deliberately unguarded: log of a negative number is NaN, with NumPy's
        # RuntimeWarning, which the optimizers must silence at trial points.
        return float(np.sum(np.log(theta) - self.a * theta))

    def _grad(self, theta):
        return 1.0 / theta - self.a

    def hessian(self, theta):
        return np.diag(-1.0 / theta**2)


class GaussianMeanSigma(TextbookFunction):
    """Average Gaussian log-likelihood in (mu, sigma), sigma itself, not log sigma.

    The formula of the lecture notes, unguarded: for sigma < 0 the log makes it NaN.
    Maximum at the sample mean and the population standard deviation.
    """

    def __init__(self, x):
        super().__init__()
        self.x = np.asarray(x, dtype=float)

    def _value(self, theta):
        mu, sigma = theta
        return float(
            -0.5 * np.log(2.0 * np.pi)
            - np.mean((self.x - mu) ** 2) / (2.0 * sigma**2)
            - np.log(sigma)
        )

    def _grad(self, theta):
        mu, sigma = theta
        second_moment = np.mean((self.x - mu) ** 2)
        return np.array(
            [(np.mean(self.x) - mu) / sigma**2, second_moment / sigma**3 - 1.0 / sigma]
        )

    def hessian(self, theta):
        mu, sigma = theta
        mean_residual = np.mean(self.x) - mu
        second_moment = np.mean((self.x - mu) ** 2)
        cross = -2.0 * mean_residual / sigma**3
        return np.array(
            [
                [-1.0 / sigma**2, cross],
                [cross, -3.0 * second_moment / sigma**4 + 1.0 / sigma**2],
            ]
        )


QUADRATICS = {
    # Condition number 4, maximum away from zero.
    "well": dict(eigenvalues=[1.0, 2.0, 4.0], maximiser=[1.0, -2.0, 0.5], top=3.0),
    # Condition number 100 (gradient ascent needs about a thousand iterations),
    # rotated so that no axis is an eigenvector.
    "ill": dict(
        eigenvalues=np.geomspace(1.0, 1e2, 4), maximiser=[1.0, -2.0, 3.0, 0.5], top=0.0
    ),
}


@pytest.fixture(params=sorted(QUADRATICS))
def quadratic(request):
    return Quadratic(**QUADRATICS[request.param])


@pytest.fixture
def parabola():
    """f(x) = -x^2 in one dimension."""
    return Quadratic(eigenvalues=[2.0], maximiser=[0.0])


@pytest.fixture
def very_ill_quadratic():
    """Condition number 1e6: for L-BFGS and Newton, beyond gradient ascent's reach."""
    return Quadratic(
        eigenvalues=np.geomspace(1e-2, 1e4, 5), maximiser=[3.0, -1.0, 0.0, 2.0, -4.0]
    )


@pytest.fixture
def rosenbrock():
    return NegatedRosenbrock()


@pytest.fixture(params=["nan", "-inf", "+inf"])
def barrier(request):
    """Maximum at (1, 0.25); from (3, 0.75) the first step of every optimizer leaves
    the domain (Newton's lands at 2 theta - a theta^2 < 0)."""
    return LogBarrier(a=[1.0, 4.0], outside=request.param)


@pytest.fixture
def offset_log():
    """sum(log theta - theta) + 1000: at the maximum (1, 1) the value's rounding
    error, about 1e-13, hides changes from steps shorter than about 1e-6."""

    class OffsetLog(LogBarrier):
        def _value(self, theta):
            return 1000.0 + super()._value(theta)

    function = OffsetLog(a=[1.0, 1.0], outside="nan")
    function.maximum += 1000.0
    return function


@pytest.fixture
def gaussian_sample():
    return np.random.default_rng(3).normal(loc=2.0, scale=0.5, size=40)


@pytest.fixture
def gaussian(gaussian_sample):
    return GaussianMeanSigma(gaussian_sample)
