"""L-BFGS: the one place skmle negates, checked against SciPy run directly."""

from types import SimpleNamespace

import numpy as np
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from skmle.optim import Status, lbfgs


def scipy_minimize(function, theta0, method, **options):
    """SciPy on the negated function: the independent reference."""
    return minimize(
        lambda theta: -function.value(theta),
        theta0,
        jac=lambda theta: -function.value_and_grad(theta)[1],
        method=method,
        options=options,
    )


def test_rosenbrock_matches_scipy_bfgs(rosenbrock):
    theta0 = np.array([-1.2, 1.0])
    reference = scipy_minimize(rosenbrock, theta0, "BFGS", gtol=1e-10)
    result = lbfgs(rosenbrock, theta0, tol=1e-10)
    assert result.converged and result.status is Status.CONVERGED
    assert_allclose(result.theta, reference.x, rtol=0, atol=1e-7)
    assert_allclose(result.theta, rosenbrock.maximiser, rtol=0, atol=1e-7)
    assert_allclose(result.value, rosenbrock.maximum, rtol=0, atol=1e-14)


def test_very_ill_conditioned_quadratic(very_ill_quadratic):
    theta0 = np.zeros_like(very_ill_quadratic.maximiser)
    result = lbfgs(very_ill_quadratic, theta0, tol=1e-10)
    assert result.converged
    assert_allclose(result.theta, very_ill_quadratic.maximiser, rtol=0, atol=1e-5)
    assert_allclose(result.value, very_ill_quadratic.maximum, rtol=0, atol=1e-12)


def test_history_is_scipy_objective_negated(quadratic):
    # Same iterates as SciPy's own L-BFGS-B: the history is its objective with
    # the sign flipped, starting point first, one entry per iteration. Five
    # iterations, before rounding can make the two runs stop differently.
    theta0 = np.zeros_like(quadratic.maximiser)
    scipy_values = []
    reference = minimize(
        lambda theta: -quadratic.value(theta),
        theta0,
        jac=lambda theta: -quadratic.value_and_grad(theta)[1],
        method="L-BFGS-B",
        callback=lambda intermediate_result: scipy_values.append(
            intermediate_result.fun
        ),
        options={"maxiter": 5, "ftol": 64 * np.finfo(float).eps, "maxls": 50},
    )
    result = lbfgs(quadratic, theta0, max_iter=5)
    assert reference.nit == result.n_iter == 5
    assert result.status is Status.MAX_ITER and not result.converged
    assert_allclose(result.history[0], quadratic.value(theta0), rtol=1e-15)
    assert_allclose(result.history[1:], -np.array(scipy_values), rtol=1e-12)
    assert_allclose(result.theta, reference.x, rtol=1e-12)


def test_needs_only_value_and_grad(quadratic):
    # lbfgs declares that it needs value_and_grad and nothing else.
    function = SimpleNamespace(value_and_grad=quadratic.value_and_grad)
    theta0 = np.zeros_like(quadratic.maximiser)
    result = lbfgs(function, theta0, tol=1e-10)
    assert result.converged
    assert_allclose(result.theta, quadratic.maximiser, rtol=0, atol=1e-7)
    assert_allclose(result.history[0], quadratic.value(theta0), rtol=1e-15)
