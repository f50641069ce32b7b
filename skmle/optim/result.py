"""The one result type every optimizer returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from skmle.status import Status


@dataclass(frozen=True)
class Learned:
    """What a solver found out on the way that later stages may reuse.

    Attributes
    ----------
    information : object or None
        The observed (or Fisher) information at ``at``, in whatever form the solver
        holds it (a dense matrix, or an :class:`~skmle.inference.Information`).
    at : ndarray or None
        The parameters ``information`` was computed at.
    loglik : float or None
        The total log-likelihood without the prior, when the solver had it.
    extras : dict
        Solver-specific findings, named (for example a factor of the design).
    """

    information: Any = None
    at: np.ndarray | None = None
    loglik: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OptimizeResult:
    """Outcome of a maximisation.

    Attributes
    ----------
    theta : ndarray of shape (n_params,)
        The last accepted point.
    value : float
        Objective at ``theta``.
    history : ndarray of shape (n_iter + 1,)
        Objective at the starting point, then after each iteration.
    n_iter : int
        Number of iterations run.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    message : str
        Why the optimizer stopped, for people (with the rule's numbers).
    status : Status
        Why the optimizer stopped, for code. When not given it is
        ``CONVERGED`` or ``MAX_ITER`` according to ``converged``.
    learned : Learned
        What the solver found out that inference may reuse.
    """

    theta: np.ndarray
    value: float
    history: np.ndarray
    n_iter: int
    converged: bool
    message: str
    status: Status | None = None
    learned: Learned = field(default_factory=Learned)

    def __post_init__(self):
        if self.status is None:
            status = Status.CONVERGED if self.converged else Status.MAX_ITER
            object.__setattr__(self, "status", status)


class Maximisable(Protocol):
    """What the gradient-based optimizers need from a function."""

    def value(self, theta: np.ndarray) -> float: ...

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]: ...


class TwiceDifferentiable(Maximisable, Protocol):
    """What Newton's method needs in addition."""

    def hessian(self, theta: np.ndarray) -> np.ndarray: ...


Callback = Callable[[int, np.ndarray, float], None]
"""Called as ``callback(iteration, theta, value)`` after each iteration."""


def gradient_converged(grad: np.ndarray, tol: float) -> bool:
    """The shared stopping rule: every gradient component within ``tol`` of zero.

    Objectives are divided by the total sample weight, so ``tol`` is a tolerance on
    the mean per-sample gradient and does not depend on the number of rows.
    """
    return bool(np.max(np.abs(grad), initial=0.0) <= tol)


def gain_below_rounding(value: float, grad: np.ndarray) -> bool:
    """Whether a Newton step could not raise ``value`` beyond rounding error.

    In coordinates of unit curvature (:class:`~skmle.optim.whitened.Whitened`) a
    Newton step gains :math:`\\tfrac12\\lVert g\\rVert^2`; when that is below the
    rounding error :data:`ROUNDING` of the value itself, no method that compares
    values can tell a better point apart, and the point is a maximum to
    floating-point precision.
    """
    gain = 0.5 * float(grad @ grad)
    return bool(gain <= ROUNDING * abs(value))


def verdict_message(converged: bool, reason: str, grad: np.ndarray, tol: float) -> str:
    """Why a gradient solver stopped, with the rule's numbers when it failed."""
    if converged:
        return "gradient below tol"
    largest = float(np.max(np.abs(grad), initial=0.0))
    return f"{reason}; largest gradient component {largest:.3g} > tol={tol:g}"


def judged_result(
    theta: np.ndarray,
    value: float,
    history,
    n_iter: int,
    grad: np.ndarray,
    tol: float,
    reason: str,
    status: Status = Status.STALLED,
) -> OptimizeResult:
    """The result of a gradient solver, ``converged`` by the shared rule at ``theta``
    (:func:`gradient_converged`), whatever made the solver stop (``reason``).

    ``status`` is the status when the rule does not hold (``MAX_ITER`` when
    ``max_iter`` ended the run); where it holds, the status is ``CONVERGED``.
    """
    converged = gradient_converged(grad, tol)
    return OptimizeResult(
        theta=theta,
        value=float(value),
        history=np.asarray(history),
        n_iter=n_iter,
        converged=converged,
        message=verdict_message(converged, reason, grad, tol),
        status=Status.CONVERGED if converged else status,
    )


def require(function: object, *methods: str, solver: str) -> None:
    """Fail at once, naming what is missing, if ``function`` lacks ``methods``."""
    missing = [m for m in methods if not callable(getattr(function, m, None))]
    if missing or ("hessian" in methods and not getattr(function, "has_hessian", True)):
        raise ValueError(
            f"solver={solver!r} needs {', '.join(methods)} from the objective; "
            f"{type(function).__name__} does not provide "
            f"{', '.join(missing) or 'a Hessian'}. Choose another solver."
        )


ROUNDING = 16 * np.finfo(float).eps
"""Relative difference of two objective values that rounding error may explain."""
