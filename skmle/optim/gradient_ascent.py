"""Gradient ascent with a fixed step or an Armijo backtracking line search.

Each iteration moves along the gradient, :math:`\\theta \\leftarrow \\theta + t\\,g`.

- ``learning_rate=<float>``: :math:`t` is that number, halved within an iteration
  only while the step would produce a non-finite value or lower the objective.
  Without that safeguard a fixed step on a variance can jump below zero and diverge.
- ``learning_rate="auto"``: Armijo backtracking. The trial step starts at twice the
  last accepted one and is halved until
  :math:`f(\\theta + t g) \\ge f(\\theta) + c\\,t\\,\\lVert g \\rVert^2`.

The iterations run in :func:`~skmle.optim.loop.run`; a stall (no step along the
gradient changes the objective at floating-point precision) is the numerical
maximum only if the gradient rule holds too: a badly conditioned problem stalls
far from the maximum, and the result then says so.
"""

from __future__ import annotations

import numpy as np

from skmle.optim.loop import GradientPoint, GradientStep, run
from skmle.optim.result import Callback, Maximisable, OptimizeResult, require


class GradientAscentStep(GradientStep):
    """A move along the gradient (see the module docstring)."""

    def __init__(self, function, tol: float, learning_rate: float | str):
        super().__init__(function, tol)
        self.line_search = learning_rate == "auto"
        self.learning_rate = 1.0 if self.line_search else float(learning_rate)
        self.last_step = self.learning_rate

    def advance(self, state: GradientPoint) -> GradientPoint | None:
        trial = 2.0 * self.last_step if self.line_search else self.learning_rate
        found = self.search(state, state.grad, trial, armijo=self.line_search)
        if found is None:
            return None
        self.last_step, new = found
        return new


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
    step = GradientAscentStep(function, tol, learning_rate)
    return run(step, theta0, max_iter=max_iter, callback=callback)
