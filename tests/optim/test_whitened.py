"""Whitened: the curvature at the start becomes the identity, and the solvers find
the same maximum in its coordinates (textbook quadratics, no model involved)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmle.optim import OPTIMIZERS, Status
from skmle.optim.whitened import Whitened, maximise_whitened


class Quadratic:
    """:math:`f(\\theta) = -\\frac12 (\\theta - c)^\\top A (\\theta - c)`."""

    has_hessian = True

    def __init__(self, A, centre):
        self.A, self.centre = np.asarray(A, float), np.asarray(centre, float)

    def value(self, theta):
        d = theta - self.centre
        return -0.5 * float(d @ self.A @ d)

    def value_and_grad(self, theta):
        return self.value(theta), -self.A @ (theta - self.centre)

    def hessian(self, theta):
        return -self.A


def ill_conditioned(n=6, condition=1e12, seed=0, units=6.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    units = 10.0 ** rng.uniform(-units, units, n)
    A = Q @ np.diag(np.geomspace(1.0, condition, n)) @ Q.T
    return units[:, None] * A * units[None, :], rng.normal(size=n) / units


def test_curvature_at_the_start_becomes_the_identity():
    A, centre = ill_conditioned(condition=1e6)
    whitened = Whitened(Quadratic(A, centre), np.zeros(len(centre)))
    assert whitened.rank == len(centre)
    assert_allclose(-whitened.hessian(whitened.start()), np.eye(len(centre)), atol=1e-8)


def test_gradient_is_the_chain_rule():
    A, centre = ill_conditioned(condition=1e3, units=1.0)
    function = Quadratic(A, centre)
    whitened = Whitened(function, np.ones(len(centre)))
    psi = np.random.default_rng(1).normal(size=whitened.rank)
    step = 1e-6
    numeric = [
        (whitened.value(psi + step * e) - whitened.value(psi - step * e)) / (2 * step)
        for e in np.eye(whitened.rank)
    ]
    assert_allclose(whitened.value_and_grad(psi)[1], numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_solvers_reach_the_maximum_of_an_ill_conditioned_quadratic(solver):
    A, centre = ill_conditioned(condition=1e10)
    function = Quadratic(A, centre)
    whitened = Whitened(function, np.zeros(len(centre)))
    result = OPTIMIZERS[solver](whitened, whitened.start(), tol=1e-10, max_iter=100)
    assert result.converged
    theta = whitened.to_theta(result.theta)
    assert_allclose(
        theta * np.sqrt(np.diag(A)), centre * np.sqrt(np.diag(A)), atol=1e-6
    )


def test_flat_directions_are_left_out():
    # theta[0] + theta[1] is all that matters: one direction has no curvature.
    A = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 4.0]])
    whitened = Whitened(Quadratic(A, [1.0, 0.0, 2.0]), np.zeros(3))
    assert whitened.rank == 2
    null = whitened.null_directions[:, 0]
    assert_allclose(abs(null[0] / null[1]), 1.0)
    assert null[0] * null[1] < 0 and abs(null[2]) < 1e-12
    result = OPTIMIZERS["newton"](whitened, whitened.start(), tol=1e-12)
    theta = whitened.to_theta(result.theta)
    assert_allclose([theta[0] + theta[1], theta[2]], [1.0, 2.0], atol=1e-10)


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_maximise_whitened_judges_and_sets_the_status(solver):
    A, centre = ill_conditioned(condition=1e6)
    function = Quadratic(A, centre)
    result, null = maximise_whitened(
        OPTIMIZERS[solver], function, np.zeros(len(centre)), max_iter=200, tol=1e-10
    )
    assert result.converged and result.status is Status.CONVERGED
    assert null.shape == (len(centre), 0)
    scale = np.sqrt(np.diag(A))
    assert_allclose(result.theta * scale, centre * scale, atol=1e-6)
    assert result.history.shape == (result.n_iter + 1,)


def test_maximise_whitened_max_iter(rosenbrock):
    # One iteration from the classic start is far from the maximum at (1, 1).
    result, _ = maximise_whitened(
        OPTIMIZERS["gd"], rosenbrock, np.array([-1.2, 1.0]), max_iter=1, tol=1e-8
    )
    assert result.n_iter == 1
    assert result.status is Status.MAX_ITER and not result.converged
    assert result.message.startswith("max_iter=1 reached")
    assert np.linalg.norm(result.theta - rosenbrock.maximiser) > 0.1
