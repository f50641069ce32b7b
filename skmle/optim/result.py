"""The one result type every optimizer returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


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
        Why the optimizer stopped.
    """

    theta: np.ndarray
    value: float
    history: np.ndarray
    n_iter: int
    converged: bool
    message: str


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


def require(function: object, *methods: str, solver: str) -> None:
    """Fail at once, naming what is missing, if ``function`` lacks ``methods``."""
    missing = [m for m in methods if not callable(getattr(function, m, None))]
    if missing or ("hessian" in methods and not getattr(function, "has_hessian", True)):
        raise ValueError(
            f"solver={solver!r} needs {', '.join(methods)} from the objective; "
            f"{type(function).__name__} does not provide "
            f"{', '.join(missing) or 'a Hessian'}. Choose another solver."
        )
