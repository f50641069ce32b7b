"""The one optimizer loop, and the steps that plug into it.

:func:`run` owns what every iterative solver shares: the iteration count, the
history (the objective at the start, then after each iteration), the order of
the tests, the rejection of a non-finite point, the callback and the
:class:`~skmle.optim.result.OptimizeResult` with its status. A method is a
:class:`Step`: how to start, its stopping rule, how to move, how to explain a
failure. Per iteration, in this order:

1. stop as ``CONVERGED`` if the step's :meth:`Step.rule` holds at the point;
2. stop with the step's status if :meth:`Step.stop` gives one (a model's proof
   that no maximum exists);
3. stop as ``MAX_ITER`` after ``max_iter`` iterations;
4. :meth:`Step.advance`; when it finds no better point, or a point whose value
   or parameters are not finite, stop as ``STALLED`` (``CONVERGED`` if
   :meth:`Step.converged_when_stalled` says the rule is met in the sense the
   step documents), keeping the current point.

The point returned is the last one accepted (as :meth:`Step.finish` presents
it), so ``converged`` is always the step's rule at the returned point.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from skmle.optim.line_search import ARMIJO_C, backtrack, step_accepted
from skmle.optim.result import (
    Callback,
    Learned,
    OptimizeResult,
    Status,
    gradient_converged,
    verdict_message,
)


class Stop(NamedTuple):
    """A step's reason to end the run before (or instead of) a move."""

    status: Status
    message: str


class Step:
    """One iterative method, as :func:`run` drives it.

    A step object is built for one run and may keep what it carries from one
    iteration to the next. A *state* is any object with ``theta`` and ``value``
    (the objective at ``theta``; None where the method learns it one iteration
    late, as EM does).
    """

    stalled_message = "no step improves the objective at floating-point precision"
    """The message of a run that stopped because no step raised the objective."""

    def start(self, theta: np.ndarray) -> Any:
        """The state at the starting point."""
        raise NotImplementedError

    def rule(self, state) -> str | None:
        """The message of the stopping rule if it holds at ``state``, else None.

        Called once per state, before :meth:`stop` and :meth:`advance`.
        """
        raise NotImplementedError

    def stop(self, state) -> Stop | None:
        """A reason to stop at ``state`` other than the rule (none by default)."""
        return None

    def advance(self, state) -> Any:
        """The next state, a :class:`Stop`, or None if no step raises the objective."""
        raise NotImplementedError

    def converged_when_stalled(self, state) -> bool:
        """Whether the rule counts as met when no step raises the objective."""
        return False

    def explain(self, state, reason: str) -> str:
        """The message of a run that did not converge, from why it stopped."""
        return reason

    def finish(self, state) -> Any:
        """The state to return (the last accepted one by default)."""
        return state

    def learned(self, state) -> Learned:
        """What the method found out at the returned state."""
        return Learned()


def run(
    step: Step,
    theta0: np.ndarray,
    *,
    max_iter: int,
    callback: Callback | None = None,
) -> OptimizeResult:
    """Iterate ``step`` from ``theta0`` (see the module docstring for the order).

    Raises
    ------
    ValueError
        If the objective is not finite at the starting point.
    """
    state = step.start(np.array(theta0, dtype=float))
    history = []
    if state.value is not None:
        if not np.isfinite(state.value):
            raise ValueError("The objective is not finite at the starting point.")
        history.append(state.value)
    n_iter = 0
    while True:
        message = step.rule(state)
        if message is not None:
            status = Status.CONVERGED
            break
        stop = step.stop(state)
        if stop is not None:
            status, message = stop
            break
        if n_iter >= max_iter:
            status, message = Status.MAX_ITER, f"max_iter={max_iter} reached"
            break
        new = step.advance(state)
        if isinstance(new, Stop):
            status, message = new
            break
        if new is None or not _finite(new):
            converged = step.converged_when_stalled(state)
            status = Status.CONVERGED if converged else Status.STALLED
            message = step.stalled_message
            break
        state = new
        n_iter += 1
        history.append(state.value)
        if callback is not None:
            callback(n_iter, state.theta, state.value)
    final = step.finish(state)
    if final is not state:
        history.append(final.value)
    if not status.converged:
        message = step.explain(final, message)
    return OptimizeResult(
        theta=final.theta,
        value=float(final.value),
        history=np.asarray(history),
        n_iter=n_iter,
        converged=status.converged,
        message=message,
        status=status,
        learned=step.learned(final),
    )


def _finite(state) -> bool:
    """A new point is kept only if its value and parameters are finite."""
    finite_value = state.value is None or np.isfinite(state.value)
    return bool(finite_value and np.all(np.isfinite(state.theta)))


class GradientPoint(NamedTuple):
    """A point with the objective and its gradient there."""

    theta: np.ndarray
    value: float
    grad: np.ndarray


class GradientStep(Step):
    """A step judged by the shared gradient rule
    (:func:`~skmle.optim.result.gradient_converged`), moving by Armijo
    backtracking along a direction.

    Subclasses implement :meth:`advance`, usually with :meth:`search`.
    """

    def __init__(self, function, tol: float):
        self.function, self.tol = function, tol

    def start(self, theta: np.ndarray) -> GradientPoint:
        return GradientPoint(theta, *self.function.value_and_grad(theta))

    def rule(self, state: GradientPoint) -> str | None:
        return (
            "gradient below tol" if gradient_converged(state.grad, self.tol) else None
        )

    def explain(self, state: GradientPoint, reason: str) -> str:
        return verdict_message(False, reason, state.grad, self.tol)

    def search(
        self,
        state: GradientPoint,
        direction: np.ndarray,
        step: float,
        armijo: bool = True,
    ) -> tuple[float, GradientPoint] | None:
        """Backtrack from ``step`` along ``direction``; ``(length, new point)``.

        Each trial point must pass :func:`~skmle.optim.line_search.step_accepted`
        with the Armijo bound (or, with ``armijo=False``, merely not lower the
        objective). None when no length passes.
        """
        theta, value, grad = state
        slope = float(grad @ direction)

        def accept(length, new_value):
            required = value + (ARMIJO_C * length * slope if armijo else 0.0)
            candidate = theta + length * direction
            return step_accepted(
                self.function, value, grad, candidate, new_value, required
            )

        length = backtrack(
            lambda length: self.function.value(theta + length * direction),
            accept,
            step,
        )
        if length is None:
            return None
        candidate = theta + length * direction
        return length, GradientPoint(
            candidate, *self.function.value_and_grad(candidate)
        )
