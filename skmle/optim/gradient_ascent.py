"""Gradient ascent with a fixed step or an Armijo backtracking line search.

Each iteration moves along the gradient, :math:`\\theta \\leftarrow \\theta + t\\,g`.

- ``learning_rate=<float>``: :math:`t` is that number, halved within an iteration
  only while the step would produce a non-finite value or lower the objective.
  Without that safeguard a fixed step on a variance can jump below zero and diverge.
- ``learning_rate="auto"``: Armijo backtracking. The trial step starts at twice the
  last accepted one and is halved until
  :math:`f(\\theta + t g) \\ge f(\\theta) + c\\,t\\,\\lVert g \\rVert^2`.
"""

from __future__ import annotations

import numpy as np

from skmle.optim.result import (
    Callback,
    Maximisable,
    OptimizeResult,
    gradient_converged,
    judged_result,
    require,
    step_accepted,
)

ARMIJO_C = 1e-4
MAX_HALVINGS = 60


def gradient_ascent(
    function: Maximisable,
    theta0: np.ndarray,
    *,
    learning_rate: float | str = "auto",
    max_iter: int = 1000,
    tol: float = 1e-6,
    callback: Callback | None = None,
) -> OptimizeResult:
    """Maximise ``function`` by gradient ascent.

    Parameters
    ----------
    function : object with ``value(theta)`` and ``value_and_grad(theta)``
    theta0 : ndarray of shape (n_params,)
    learning_rate : float or "auto", default="auto"
    max_iter : int, default=1000
    tol : float, default=1e-6
        Stop when every component of the gradient is at most ``tol`` in absolute
        value.
    callback : callable, optional
        ``callback(iteration, theta, value)`` after each iteration.

    Returns
    -------
    OptimizeResult
    """
    require(function, "value", "value_and_grad", solver="gd")
    line_search = learning_rate == "auto"
    step = 1.0 if line_search else float(learning_rate)
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
        slope = float(grad @ grad)
        trial_step = 2.0 * step if line_search else float(learning_rate)
        for _ in range(MAX_HALVINGS):
            candidate = theta + trial_step * grad
            # A trial point may overflow; it is then rejected, not reported.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                new_value = function.value(candidate)
            required = value + (ARMIJO_C * trial_step * slope if line_search else 0.0)
            if step_accepted(function, value, grad, candidate, new_value, required):
                break
            trial_step /= 2.0
        else:
            n_iter -= 1
            # No step along the gradient changes the objective at floating-point
            # precision. That is the numerical maximum only if the gradient rule
            # holds too, which is checked below: a badly conditioned problem
            # stalls here far from the maximum.
            message = "no step improves the objective at floating-point precision"
            break
        step = trial_step
        theta = candidate
        value, grad = function.value_and_grad(theta)
        history.append(value)
        if callback is not None:
            callback(n_iter, theta, value)
    return judged_result(theta, value, history, n_iter, grad, tol, message)
