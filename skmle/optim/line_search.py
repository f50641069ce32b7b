"""The line search: Armijo backtracking and the tests a trial point must pass.

Along an ascent direction :math:`d` with slope :math:`g^\\top d > 0` at step
length :math:`t = 0`, a trial point :math:`\\theta + t d` passes the Armijo
condition when

.. math:: f(\\theta + t d) \\ge f(\\theta) + c\\,t\\,g^\\top d,
   \\qquad c = \\text{ARMIJO\\_C};

:func:`backtrack` halves :math:`t` until a test passes, at most
:data:`MAX_HALVINGS` times. Two tests settle the points whose value ties with
the current one to rounding error, where the values alone cannot rank them:
:func:`step_accepted` asks the gradient there to be shorter (for the solvers that
move ``theta``), :func:`armijo_or_flat_slope` the slope along the line to be
flatter (for the linear-predictor line search, which knows that slope).
A trial point whose value is not finite fails every test.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from skmle.optim.result import ROUNDING, Maximisable

ARMIJO_C = 1e-4
"""The fraction of the gain the slope predicts that a step must achieve."""

MAX_HALVINGS = 60
"""Halvings of the step length before a line search gives up."""

GRADIENT_DECREASE = 1e-4
"""Where values tie, a step must shrink the gradient's norm by this fraction."""

TIE_SLOPE = 0.5
"""Where values tie, a step along a line is taken if the slope at its end is at
most this fraction of the slope at its start."""


def armijo(value: float, new_value: float, step: float, slope: float) -> bool:
    """The Armijo condition for a trial point of value ``new_value`` at length ``step``."""
    return bool(new_value >= value + ARMIJO_C * step * slope)


def backtrack(
    evaluate: Callable[[float], float],
    accept: Callable[[float, float], bool],
    step: float = 1.0,
    max_halvings: int = MAX_HALVINGS,
) -> float | None:
    """The first of ``step, step/2, step/4, ...`` whose value ``accept`` takes.

    ``evaluate(t)`` is the objective at step length ``t`` (a trial point may
    overflow: floating-point warnings are silenced and a non-finite value is the
    caller's ``accept`` to reject); ``accept(t, value)`` the test. Returns None
    when no length passes within ``max_halvings`` tries.
    """
    for _ in range(max_halvings):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            new_value = evaluate(step)
        if accept(step, new_value):
            return step
        step /= 2.0
    return None


def step_accepted(
    function: Maximisable,
    value: float,
    grad: np.ndarray,
    candidate: np.ndarray,
    new_value: float,
    required: float,
) -> bool:
    """The line searches' test of a trial point ``candidate`` of value ``new_value``.

    A non-finite value is rejected, and so is any value below ``value``, so the
    history never goes down. A value higher by more than rounding error must reach
    ``required`` (the Armijo bound, or ``value`` itself for a plain fixed step).
    Within rounding error the values cannot tell a better point from a worse one,
    and the gradient decides, as in scikit-learn's Newton solver: the step is taken
    if it shrinks the norm of the gradient by the fraction ``GRADIENT_DECREASE``.
    Judged by the value alone, a loop near the maximum would take every step whose
    value ties or rounds up (a step to the mirror point across the maximum, a step
    too short to move theta) and could idle like that until ``max_iter``.
    """
    if not np.isfinite(new_value):
        return False
    improvement, rounding = new_value - value, ROUNDING * abs(value)
    if improvement > rounding:
        return new_value >= required
    if improvement < 0.0:
        # Not even by rounding error: the history stays non-decreasing.
        return False
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _, new_grad = function.value_and_grad(candidate)
    limit = (1.0 - GRADIENT_DECREASE) * np.linalg.norm(grad)
    return bool(np.linalg.norm(new_grad) <= limit)


def armijo_or_flat_slope(
    value: float,
    new_value: float,
    slope: float,
    step: float = 1.0,
    new_slope: float | None = None,
) -> bool:
    """Whether a trial point of value ``new_value`` may replace the point.

    The Armijo condition; or, when the two values differ by no more than rounding
    error (near the maximum the gain of a Newton step, about the squared
    decrement, falls below the resolution of the value long before the
    parameters have all their digits), the slope along the line at the trial
    point, ``new_slope``, must be at most :data:`TIE_SLOPE` times the slope at
    the start: the trial point is then near the maximum along the line.
    """
    if not np.isfinite(new_value):
        return False
    if armijo(value, new_value, step, slope):
        return True
    return (
        new_slope is not None
        and abs(new_value - value) <= ROUNDING * abs(value)
        and abs(new_slope) <= TIE_SLOPE * slope
    )
