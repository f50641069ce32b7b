"""Newton's method: one step on a quadratic, damping away from a maximum."""

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import solve

from skmle.optim import newton
from skmle.optim.newton import newton_direction


def check_one_iteration(quadratic, atol):
    theta0 = np.zeros_like(quadratic.maximiser)
    first = newton(quadratic, theta0, max_iter=1)
    assert_allclose(first.theta, quadratic.maximiser, rtol=0, atol=atol)
    assert_allclose(first.value, quadratic.maximum, rtol=0, atol=1e-12)

    result = newton(quadratic, theta0)
    assert result.converged
    assert result.n_iter == 1
    assert_allclose(result.theta, first.theta, rtol=0, atol=0)


def test_quadratic_in_one_iteration(quadratic):
    check_one_iteration(quadratic, atol=1e-12)


def test_very_ill_conditioned_quadratic_in_one_iteration(very_ill_quadratic):
    # The linear solve loses about log10(cond) = 6 digits.
    check_one_iteration(very_ill_quadratic, atol=1e-8)


@pytest.mark.parametrize(
    "theta0, concave_at_start",
    [((-1.2, 1.0), True), ((0.0, 1.0), False), ((0.5, 2.0), False)],
    ids=["classic", "saddle-0-1", "saddle-0.5-2"],
)
def test_rosenbrock(rosenbrock, theta0, concave_at_start):
    theta0 = np.array(theta0)
    # Where -H is not positive definite, the plain Newton step need not go up.
    smallest = np.linalg.eigvalsh(-rosenbrock.hessian(theta0)).min()
    assert (smallest > 0) == concave_at_start

    result = newton(rosenbrock, theta0, tol=1e-10)
    assert result.converged
    assert np.all(np.diff(result.history) >= 0)
    assert_allclose(result.theta, rosenbrock.maximiser, rtol=0, atol=1e-9)
    assert_allclose(result.value, rosenbrock.maximum, rtol=0, atol=1e-15)


def test_direction_is_the_newton_step_where_concave(quadratic):
    theta = np.zeros_like(quadratic.maximiser)
    _, grad = quadratic.value_and_grad(theta)
    direction = newton_direction(grad, quadratic.hessian(theta))
    assert_allclose(direction, solve(quadratic.A, grad, assume_a="pos"), rtol=1e-12)


@pytest.mark.parametrize(
    "hessian",
    [
        [[1.0, 0.0], [0.0, -2.0]],  # a saddle
        [[3.0, 1.0], [1.0, 2.0]],  # a minimum
        [[0.0, 0.0], [0.0, 0.0]],  # flat
    ],
    ids=["saddle", "minimum", "zero"],
)
def test_direction_goes_uphill_where_not_concave(hessian):
    grad = np.array([0.3, -1.0])
    direction = newton_direction(grad, np.array(hessian))
    assert np.all(np.isfinite(direction))
    assert grad @ direction > 0


def test_requires_hessian(quadratic):
    function = SimpleNamespace(
        value=quadratic.value, value_and_grad=quadratic.value_and_grad
    )
    with pytest.raises(ValueError, match=r"solver='newton'.*does not provide hessian"):
        newton(function, np.zeros_like(quadratic.maximiser))


def test_requires_has_hessian_true(quadratic):
    # An objective whose model has no Hessian may still define the method.
    function = SimpleNamespace(
        value=quadratic.value,
        value_and_grad=quadratic.value_and_grad,
        hessian=quadratic.hessian,
        has_hessian=False,
    )
    with pytest.raises(ValueError, match="does not provide a Hessian"):
        newton(function, np.zeros_like(quadratic.maximiser))
