"""Why a solver stopped: the vocabulary shared by models, optimizers and estimators.

It sits below every layer so that a model can say "separable" and an estimator can
act on it without either comparing message strings.
"""

from __future__ import annotations

from enum import Enum


class Status(Enum):
    """Why a solver stopped. Code branches on this, never on ``message``."""

    CONVERGED = "converged"
    """The solver's stopping rule holds at the returned point."""
    CLOSED_FORM = "closed form"
    """The maximum was computed directly (no iterations to judge)."""
    MAX_ITER = "max_iter reached"
    """``max_iter`` ended the run before the stopping rule held."""
    STALLED = "stalled"
    """No step raises the objective, and the stopping rule does not hold."""
    SEPARABLE = "separable"
    """The classes are linearly separable: no maximum exists."""
    QUASI_SEPARABLE = "quasi-separable"
    """Quasi-complete separation: the likelihood has no finite maximiser."""

    @property
    def converged(self) -> bool:
        """Whether this status means the returned point is the maximum."""
        return self in (Status.CONVERGED, Status.CLOSED_FORM)
