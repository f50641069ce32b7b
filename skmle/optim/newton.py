"""Newton-Raphson with step halving.

Each iteration solves :math:`(-H)\\,d = g` by Cholesky and moves
:math:`\\theta \\leftarrow \\theta + t\\,d`, halving :math:`t` from 1 until the
Armijo condition :math:`f(\\theta + t d) \\ge f(\\theta) + c\\,t\\,g^\\top d` holds.
Where :math:`-H` is not positive definite (far from a maximum of a non-concave
objective) a multiple of the identity is added until it is, which bends the step
towards the gradient. With the negative expected information in place of the
Hessian the same loop is Fisher scoring.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from skmle.optim.result import (
    Callback,
    OptimizeResult,
    TwiceDifferentiable,
    gradient_converged,
    judged_result,
    require,
    step_accepted,
)

ARMIJO_C = 1e-4
MAX_HALVINGS = 60


def newton_direction(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """Solve ``-hess @ d = grad``, damping ``-hess`` until it is positive definite."""
    neg_hess = -np.asarray(hess, dtype=float)
    scale = max(float(np.max(np.abs(np.diag(neg_hess)), initial=0.0)), 1e-12)
    damping = 0.0
    for _ in range(60):
        try:
            factor = cho_factor(
                neg_hess + damping * np.eye(neg_hess.shape[0]), check_finite=True
            )
            return cho_solve(factor, grad)
        except (LinAlgError, ValueError):
            damping = max(2.0 * damping, 1e-10 * scale)
    return grad / scale


def newton(
    function: TwiceDifferentiable,
    theta0: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    callback: Callback | None = None,
) -> OptimizeResult:
    """Maximise ``function`` by Newton's method with step halving.

    Parameters
    ----------
    function : object with ``value``, ``value_and_grad`` and ``hessian``
    theta0 : ndarray of shape (n_params,)
    max_iter : int, default=100
    tol : float, default=1e-6
        Stop when every gradient component is at most ``tol`` in absolute value.
    callback : callable, optional

    Returns
    -------
    OptimizeResult
    """
    require(function, "value", "value_and_grad", "hessian", solver="newton")
    theta = np.array(theta0, dtype=float)
    value, grad = function.value_and_grad(theta)
    if not np.isfinite(value):
        raise ValueError("The objective is not finite at the starting point.")
    history = [value]
    message = f"max_iter={max_iter} reached"
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if gradient_converged(grad, tol):
            n_iter -= 1
            message = "gradient below tol"
            break
        direction = newton_direction(grad, function.hessian(theta))
        slope = float(grad @ direction)
        step = 1.0
        for _ in range(MAX_HALVINGS):
            candidate = theta + step * direction
            # A trial point may overflow; it is then rejected, not reported.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                new_value = function.value(candidate)
            required = value + ARMIJO_C * step * slope
            if step_accepted(function, value, grad, candidate, new_value, required):
                break
            step /= 2.0
        else:
            n_iter -= 1
            message = "no step improves the objective at floating-point precision"
            break
        theta = candidate
        value, grad = function.value_and_grad(theta)
        history.append(value)
        if callback is not None:
            callback(n_iter, theta, value)
    return judged_result(theta, value, history, n_iter, grad, tol, message)
