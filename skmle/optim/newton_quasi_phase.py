"""The quasi-Newton phase of Newton's method on a linear predictor.

:class:`~skmle.optim.newton_predictor.PredictorNewtonStep` takes it first when
the function offers a ``preconditioner`` :math:`M` (a cheap approximate
information) of at least :data:`QUASI_FROM` free parameters: L-BFGS directions
over :math:`H_0 = M^{-1}` (:mod:`~skmle.optim.quasi_newton`), each step one pass
for the value and gradient (``newton_system(..., exact=None)``) and one for
:math:`X d`, instead of a pass for the exact information. Once the
quasi-Newton decrement is below :data:`~skmle.optim.quasi_newton.REFRESH`
times the start's, the function's ``sampled_preconditioner`` (the exact
information of a uniform sample of rows, where it offers one) replaces
:math:`M`, once (:meth:`QuasiNewtonPhase.refresh`). Its points carry no
information and never stop the fit as converged. Where the phase ends (see
:meth:`QuasiNewtonDirections.finished
<skmle.optim.quasi_newton.QuasiNewtonDirections.finished>`), or no step raises
the objective, the exact Newton system is computed at the point reached: the
stopping rule is asked there, with that information, and Newton's iterations
continue from it if it fails. A fit that ends in the phase (``max_iter``, a
model's ``stop_reason``) returns no information (``learned.information`` is
None).
"""

from __future__ import annotations

import numpy as np

from skmle.optim.predictor_search import Point, line_search, quasi_step
from skmle.optim.quasi_newton import QuasiNewtonDirections

QUASI_FROM = 256
"""Free parameters from which a function's ``preconditioner`` is used for a
quasi-Newton phase before the exact Newton steps (the size from which
reusing an information pays, :data:`~skmle.optim.newton_predictor.FREEZE_FROM`:
below, an exact information costs little more than a gradient)."""


class QuasiNewtonPhase:
    """The quasi-Newton phase's part of
    :class:`~skmle.optim.newton_predictor.PredictorNewtonStep` (which provides
    ``function``, ``tol``, ``approximate``, ``expand``, ``decrement2`` and
    ``newton_point``)."""

    quasi: QuasiNewtonDirections | None = None
    """The L-BFGS memory while the phase runs, else None."""
    quasi_start: float | None = None
    """:math:`\\mu^2` at the start."""

    def start_quasi_phase(self, theta, eta) -> Point | None:
        """The phase's first point, or None where there is no phase (exact
        Newton steps from the start; the caller computes that point)."""
        self.quasi = self.start_quasi(theta, eta)
        if self.quasi is None:
            return None
        point = self.quasi_direction(self.quasi_point(theta, eta))
        self.quasi_start = self.quasi.history[0]
        if not self.quasi_start > self.tol**2:
            # Already near a maximum (a warm start): the exact verdict at once.
            self.quasi = None
            return self.newton_point(theta, eta)
        return point

    def start_quasi(self, theta, eta) -> QuasiNewtonDirections | None:
        """The L-BFGS memory over the function's ``preconditioner``, when it
        offers one of at least :data:`QUASI_FROM` free parameters that
        factorises; else None (exact Newton steps from the start)."""
        preconditioner = getattr(self.function, "preconditioner", None)
        if preconditioner is None or not self.approximate:
            return None
        matrix = preconditioner(theta, eta)
        if matrix is None or matrix.shape[0] < QUASI_FROM:
            return None
        if not np.all(np.isfinite(matrix)):
            return None
        try:
            return QuasiNewtonDirections(matrix)
        except np.linalg.LinAlgError:
            return None

    def refresh(self, point: Point) -> None:
        """Restart the memory over the function's ``sampled_preconditioner``
        at ``point`` where it offers one that factorises (see
        :data:`~skmle.optim.quasi_newton.REFRESH`); asked once."""
        self.quasi.refreshed = True
        sampled = getattr(self.function, "sampled_preconditioner", None)
        matrix = None if sampled is None else sampled(point.theta)
        if matrix is None or not np.all(np.isfinite(matrix)):
            return
        try:
            self.quasi = self.quasi.restarted(matrix)
        except np.linalg.LinAlgError:
            pass

    def quasi_point(self, theta, eta) -> Point:
        """Value and gradient only (no information); the direction follows
        from the memory (:meth:`quasi_direction`)."""
        value, grad, _, rhs = self.function.newton_system(theta, eta, exact=None)
        zero = np.zeros_like(rhs)
        return Point(theta, eta, value, grad, None, zero, zero, False, False, rhs, True)

    def quasi_direction(self, point: Point) -> Point:
        free_step, measure = self.quasi.direction(point.rhs)
        self.quasi.record(measure)
        direction = free_step if self.expand is None else self.expand(free_step)
        return point._replace(free_step=free_step, direction=direction)

    def quasi_advance(self, point: Point, step_eta) -> Point:
        """One quasi-Newton step; where the phase ends (or no step raises the
        objective), the exact Newton system at the point reached instead."""
        search = quasi_step if self.quasi.pairs else line_search
        new, _ = search(
            self.function, point, self.decrement2, step_eta, self.quasi_point
        )
        if new is None:  # no step raises f: the exact information decides
            self.quasi = None
            return self.newton_point(point.theta, point.eta)
        length = float((new.theta - point.theta) @ point.direction) / float(
            point.direction @ point.direction
        )
        self.quasi.update(length * point.free_step, point.rhs - new.rhs)
        if self.quasi.refresh_due(self.quasi_start):
            self.refresh(new)
        new = self.quasi_direction(new)
        if self.quasi.finished(self.quasi_start) is None:
            return new
        self.quasi = None
        return self.newton_point(new.theta, new.eta)
