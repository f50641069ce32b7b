"""The line search along a linear predictor, for Newton's method on a GLM.

For an objective that sees ``theta`` only through :math:`\\eta = X\\theta`,
:math:`\\eta(\\theta + t d) = \\eta + t\\,X d`: once :math:`X d` (``step_eta``) is
known, the objective and its derivatives in :math:`t` at any step length cost no
product with :math:`X`, and the accepted :math:`\\eta` is reused by the next
iteration. :func:`line_search` and :func:`speculative_step` are the two ways
:class:`~skmle.optim.newton_predictor.PredictorNewtonStep` takes a Newton step
(steps 4 and 5 of that module's docstring; :func:`quasi_step` takes its
quasi-Newton steps):

- take the full step :math:`t = 1` if it passes
  :func:`~skmle.optim.line_search.armijo_or_flat_slope`, else backtrack from
  :math:`t = 1/2`;
- after a full step, correct its length by one Newton step in :math:`t`,
  :math:`t^* = 1 - \\varphi'(1) / \\varphi''(1)` with
  :math:`\\varphi(t) = f(\\theta + t d)`, kept if it raises :math:`f` further. Far
  from the maximum the curvature at :math:`\\theta` overstates the curvature along
  the step (for logistic regression :math:`p(1-p)` is largest at the start, where
  every :math:`p` is the base rate), so Newton's full step falls short; this costs
  one evaluation on :math:`\\eta` and saves whole iterations. Near the maximum
  :math:`t^* \\approx 1` and it is skipped.

Both return ``(new point or None, plain)``: None if no step raises :math:`f`,
``plain`` True when the full step needed no correction.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from skmle.optim.line_search import armijo_or_flat_slope, backtrack


class Point(NamedTuple):
    """An iterate with its Newton system solved."""

    theta: np.ndarray
    eta: Any
    value: float
    grad: np.ndarray
    information: np.ndarray
    free_step: np.ndarray
    """Solution of the Newton system, in the function's coordinates."""
    direction: np.ndarray
    """``free_step`` as a direction in ``theta``."""
    exact: bool
    """Whether ``information`` is exact (not the cheaper approximation)."""
    frozen: bool = False
    """Whether ``information`` is the previous iterate's (a chord step)."""
    rhs: np.ndarray | None = None
    """The gradient in the function's coordinates (quasi-Newton points)."""
    quasi: bool = False
    """Whether the direction is a quasi-Newton one (no information here)."""


ETA_HALVINGS = 40
"""Halvings of the backtracking from :math:`t = 1/2` before the search gives up.
Fewer than :data:`~skmle.optim.line_search.MAX_HALVINGS`: this search has no
gradient to settle ties with, and below :math:`2^{-41}` a step whose value ties
with the current one would pass the Armijo test without moving ``theta``."""

STEP_CORRECTION = (0.05, 4.0)
"""A corrected step length is tried when it differs from 1 by more than the first
number, and is capped at the second."""


def corrected_length(slope: float, curvature: float) -> float | None:
    """:math:`t^* = 1 - \\varphi'(1)/\\varphi''(1)` when worth trying, else None."""
    if not curvature < 0:
        return None
    low, high = STEP_CORRECTION
    corrected = min(1.0 - slope / curvature, high)
    if corrected > 0 and abs(corrected - 1.0) > low:
        return corrected
    return None


def backtrack_eta(function, point, slope: float, step_eta) -> float | None:
    """Halve the step from 1/2 until the Armijo condition holds; None if it never
    does."""

    def evaluate(step):
        return function.value_at(
            point.theta + step * point.direction, point.eta + step * step_eta
        )

    return backtrack(
        evaluate,
        lambda step, value: armijo_or_flat_slope(point.value, value, slope, step),
        0.5,
        ETA_HALVINGS,
    )


def point_at(newton_point, point, step: float, step_eta):
    """The Newton system at ``theta + step * direction``; a trial point may
    overflow, and is then rejected by its non-finite value, not reported."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return newton_point(
            point.theta + step * point.direction, point.eta + step * step_eta
        )


def _backtracked(function, point, slope, step_eta, newton_point):
    step = backtrack_eta(function, point, slope, step_eta)
    if step is None:
        return None, False
    return point_at(newton_point, point, step, step_eta), False


def line_search(function, point, slope: float, step_eta, newton_point):
    """The full step judged by ``line_terms``, then the Newton system at the
    chosen point.

    A corrected length is verified by ``value_at`` when that is cheap; when it
    costs a pass over the data (``line_search_reads_data``), the Newton system at
    the corrected point verifies it instead, and the full step is the fallback.
    """
    theta, eta, direction = point.theta, point.eta, point.direction
    full_value, full_slope, full_curvature = function.line_terms(
        theta + direction, eta + step_eta, direction, step_eta
    )
    if not armijo_or_flat_slope(point.value, full_value, slope, new_slope=full_slope):
        return _backtracked(function, point, slope, step_eta, newton_point)
    corrected = corrected_length(full_slope, full_curvature)
    if corrected is None:
        return point_at(newton_point, point, 1.0, step_eta), True
    if getattr(function, "line_search_reads_data", False):
        trial = point_at(newton_point, point, corrected, step_eta)
        if trial.value > full_value:
            return trial, False
    else:
        trial_value = function.value_at(
            theta + corrected * direction, eta + corrected * step_eta
        )
        if np.isfinite(trial_value) and trial_value > full_value:
            return point_at(newton_point, point, corrected, step_eta), False
    return point_at(newton_point, point, 1.0, step_eta), False


def speculative_step(
    function, point, slope: float, step_eta, newton_point, full: Point | None = None
):
    """The full step judged by the Newton system at the trial point.

    The full step's value, slope and curvature come from ``newton_system`` there
    (:math:`\\varphi'(1) = \\nabla f^\\top d`, :math:`\\varphi''(1) = -s^\\top I s`
    with :math:`s` the free step and :math:`I` the new information), so an accepted
    full step costs one pass over the data instead of two. ``full``, when
    given, is that point already computed (with ``step_eta``, in one pass, by
    ``newton_system_along``).
    """
    if full is None:
        full = point_at(newton_point, point, 1.0, step_eta)
    full_slope = float(full.grad @ point.direction) if np.isfinite(full.value) else None
    if not armijo_or_flat_slope(point.value, full.value, slope, new_slope=full_slope):
        return _backtracked(function, point, slope, step_eta, newton_point)
    corrected = corrected_length(
        full_slope, -float(point.free_step @ full.information @ point.free_step)
    )
    if corrected is None:
        return full, True
    trial = point_at(newton_point, point, corrected, step_eta)
    return (trial if trial.value > full.value else full), False


def quasi_step(function, point, slope: float, step_eta, newton_point):
    """The full step judged by the value and gradient at the trial point, for
    a quasi-Newton direction (:mod:`skmle.optim.quasi_newton`).

    One pass over the data when the full step passes (the usual case once the
    L-BFGS memory holds a few pairs). No corrected length is tried: the memory
    learns the curvature along the step instead. Otherwise backtracking from
    :math:`t = 1/2`, as :func:`line_search`.
    """
    full = point_at(newton_point, point, 1.0, step_eta)
    full_slope = float(full.grad @ point.direction) if np.isfinite(full.value) else None
    if armijo_or_flat_slope(point.value, full.value, slope, new_slope=full_slope):
        return full, True
    return _backtracked(function, point, slope, step_eta, newton_point)
