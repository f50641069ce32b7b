"""What every optimizer promises, checked on textbook functions with known maxima.

Each test runs gradient ascent (Armijo line search and fixed step), L-BFGS and
Newton through the same assertions.
"""

import re
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from skmle.optim import Status, gradient_ascent, lbfgs, newton

SOLVERS = ["gd-auto", "gd-fixed", "lbfgs", "newton"]


def run(solver, function, theta0, *, learning_rate=1.0, **kwargs):
    """Run ``solver``; ``learning_rate`` is used by "gd-fixed" only."""
    theta0 = np.asarray(theta0, dtype=float)
    if solver == "gd-auto":
        return gradient_ascent(function, theta0, learning_rate="auto", **kwargs)
    if solver == "gd-fixed":
        return gradient_ascent(function, theta0, learning_rate=learning_rate, **kwargs)
    return {"lbfgs": lbfgs, "newton": newton}[solver](function, theta0, **kwargs)


def check_result(result, function, theta0):
    """The invariants of an OptimizeResult, whatever the function."""
    assert result.n_iter == len(result.history) - 1
    assert np.all(np.isfinite(result.history))
    assert np.all(np.isfinite(result.theta))
    assert_allclose(result.history[0], function.value(theta0), rtol=1e-15)
    assert_allclose(result.history[-1], result.value, rtol=1e-15)
    assert_allclose(result.value, function.value(result.theta), rtol=1e-15)
    assert np.all(np.diff(result.history) >= 0), "the objective went down"
    assert result.status.converged == result.converged


@pytest.fixture(params=SOLVERS)
def solver(request):
    return request.param


def test_quadratic_maximum(solver, quadratic):
    theta0 = np.zeros_like(quadratic.maximiser)
    result = run(
        solver,
        quadratic,
        theta0,
        learning_rate=1.0 / quadratic.eigenvalues.max(),
        tol=1e-8,
        max_iter=100_000,
    )
    check_result(result, quadratic, theta0)
    assert result.converged
    assert_allclose(result.theta, quadratic.maximiser, rtol=0, atol=1e-7)
    assert_allclose(result.value, quadratic.maximum, rtol=0, atol=1e-12)


def test_rejects_non_finite_step(solver, barrier):
    theta0 = np.array([3.0, 0.75])
    result = run(solver, barrier, theta0, learning_rate=1.0, tol=1e-10)
    # The test means something only if a step did leave the domain.
    assert not np.all(np.isfinite(barrier.evaluated))
    check_result(result, barrier, theta0)
    assert np.all(result.theta > 0)
    assert result.converged
    assert_allclose(result.theta, barrier.maximiser, rtol=1e-9)
    assert_allclose(result.value, barrier.maximum, rtol=1e-12)


def test_gaussian_mean_and_sigma(solver, gaussian, gaussian_sample):
    # The lecture notes' parameterisation, (mu, sigma) with sigma itself: a long
    # step lands at sigma < 0, where the value is NaN.
    theta0 = np.array([1.5, 1.0])
    sigmas = []
    result = run(
        solver,
        gaussian,
        theta0,
        learning_rate=3.0,
        tol=1e-9,
        callback=lambda i, theta, value: sigmas.append(theta[1]),
    )
    check_result(result, gaussian, theta0)
    assert min(sigmas) > 0
    if solver.startswith("gd"):
        # On these unscaled coordinates plain gradient ascent stalls near a
        # gradient of 1e-8, where the values no longer resolve a better point.
        # A stall is not convergence, and the result says so.
        grad = gaussian.value_and_grad(result.theta)[1]
        assert result.converged == bool(np.max(np.abs(grad)) <= 1e-9)
        assert result.converged or "floating-point precision" in result.message
        assert result.status is (
            Status.CONVERGED if result.converged else Status.STALLED
        )
    else:
        assert result.converged
    assert_allclose(result.theta, stats.norm.fit(gaussian_sample), rtol=1e-6)


def test_start_not_finite_raises(solver, barrier):
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(ValueError, match="not finite at the starting point"),
    ):
        run(solver, barrier, [-1.0, 1.0])


def test_start_at_maximum(solver, quadratic):
    calls = []
    result = run(
        solver,
        quadratic,
        quadratic.maximiser,
        callback=lambda *args: calls.append(args),
    )
    check_result(result, quadratic, quadratic.maximiser)
    assert result.converged and result.status is Status.CONVERGED
    assert result.n_iter == 0
    assert calls == []
    assert_allclose(result.theta, quadratic.maximiser, rtol=0, atol=0)


def test_max_iter_reached(solver, rosenbrock):
    theta0 = np.array([-1.2, 1.0])
    result = run(solver, rosenbrock, theta0, learning_rate=1e-3, max_iter=3)
    check_result(result, rosenbrock, theta0)
    assert not result.converged
    assert result.status is Status.MAX_ITER
    assert result.n_iter == 3
    # Ours says "max_iter=3 reached"; SciPy's "... ITERATIONS REACHED LIMIT".
    assert re.search(
        r"max_iter=3 reached|iterations reached limit", result.message, re.I
    )


def test_callback_once_per_iteration(solver, rosenbrock):
    theta0 = np.array([-1.2, 1.0])
    calls = []
    result = run(
        solver,
        rosenbrock,
        theta0,
        learning_rate=1e-3,
        max_iter=50,
        callback=lambda i, theta, value: calls.append((i, theta, value)),
    )
    check_result(result, rosenbrock, theta0)
    iterations, thetas, values = zip(*calls, strict=True)
    assert list(iterations) == list(range(1, result.n_iter + 1))
    assert_allclose(values, result.history[1:], rtol=1e-15)
    # Each theta is the point of that iteration, not a buffer overwritten later.
    assert_allclose([rosenbrock.value(t) for t in thetas], values, rtol=1e-15)
    assert_allclose(thetas[-1], result.theta, rtol=1e-15)


@pytest.mark.parametrize("tol", [1e-14, 0.0])
def test_precise_where_the_value_is_flat(solver, offset_log, tol):
    # Within about 1e-6 of the maximum, steps change the value by less than its
    # rounding error, so the value can no longer rank trial points. The optimizer
    # must neither stop there nor idle, taking steps that tie, until max_iter: the
    # gradient still knows the way, and tol=0 must end at the numerical maximum.
    theta0 = np.array([0.5, 2.0])
    result = run(solver, offset_log, theta0, learning_rate=0.5, tol=tol, max_iter=500)
    check_result(result, offset_log, theta0)
    assert result.converged
    assert result.n_iter < 100
    assert len(offset_log.evaluated) < 1000
    assert_allclose(result.theta, offset_log.maximiser, rtol=1e-10)


@pytest.mark.parametrize(
    "solver, provided, missing",
    [
        ("gd-auto", ["value_and_grad", "hessian"], "value"),
        ("gd-fixed", ["value", "hessian"], "value_and_grad"),
        ("lbfgs", ["value", "hessian"], "value_and_grad"),
        ("newton", ["value", "value_and_grad"], "hessian"),
        ("newton", ["value_and_grad", "hessian"], "value"),
    ],
)
def test_missing_method_raises(solver, provided, missing, quadratic):
    function = SimpleNamespace(**{name: getattr(quadratic, name) for name in provided})
    theta0 = np.zeros_like(quadratic.maximiser)
    with pytest.raises(ValueError, match=rf"does not provide {missing}\b"):
        run(solver, function, theta0)
    assert quadratic.evaluated == [], "failed only after evaluating the function"
