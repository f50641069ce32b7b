"""Newton's method for objectives that see ``theta`` only through a linear predictor.

Generalised linear models (logistic regression, Poisson regression, ...) have
log-likelihoods :math:`f(\\theta) = \\sum_i \\ell_i(\\eta_i)` with
:math:`\\eta = X\\theta`. :func:`~skmle.optim.newton.newton` runs this step when
the objective offers a ``predictor``; the line search moves :math:`\\eta`
(:mod:`skmle.optim.predictor_search`). Per iteration the data are read at most
twice: once for the gradient and the information matrix (which the function
computes together), once for :math:`X d`.

The function supplies, in place of the generic ``value``/``hessian``:

``predictor(theta) -> eta``
    The linear predictor; linear in ``theta`` (no offset), any array shape.
``value_at(theta, eta) -> float``
    The objective, given the predictor at ``theta``.
``line_terms(theta, eta, direction, step_eta) -> (value, slope, curvature)``
    The objective at ``theta`` (predictor ``eta``) and its first and second
    derivatives along ``direction`` (whose predictor is ``step_eta``).
``newton_system(theta, eta) -> (value, grad, information, rhs)``
    The objective, its gradient, and the Newton system: a symmetric positive
    semi-definite ``information`` (the negative Hessian) and ``rhs`` (the
    gradient), possibly in coordinates of the function's own choosing, for
    instance with redundant directions of ``theta`` removed.
``expand(step) -> direction`` (optional)
    Maps the solution of the Newton system (by
    :func:`~skmle._linalg.solve_information`) back to a direction in ``theta``;
    the identity when absent.
``stop_reason(theta, eta) -> Status or None`` (optional)
    A model's reason to stop early, such as a proof that no maximum exists
    (``Status.SEPARABLE``).
``recession_reason(theta, eta, direction, step_eta) -> Status or None`` (optional)
    A model's reason to stop before taking a step, such as a proof that the
    step is a direction along which the objective rises for ever
    (``Status.QUASI_SEPARABLE``); the solver stops when it gives the same reason
    at two consecutive iterates. Asked only once the decrement is below
    :data:`APPROXIMATE_ABOVE` and shrinks by less than :data:`SLOW_SHRINK` per
    iteration (not Newton's quadratic phase).
``approximate_information`` (optional attribute, default False)
    True if ``newton_system(theta, eta, exact=False)`` may return a cheaper,
    approximate ``information`` (the value and gradient still exact), and
    ``newton_system(theta, eta, exact=None)`` skips the information (any
    matrix of its shape, or a scalar; the solver reuses the previous one, see
    :data:`FREEZE_BELOW`, or needs none, see ``preconditioner``).
``preconditioner(theta, eta) -> matrix or None`` (optional, with
    ``approximate_information``)
    A cheap symmetric positive definite approximation :math:`M` of the
    information per unit of weight, in the coordinates of ``newton_system``
    (for multinomial logistic regression the Kronecker factorisation of
    :mod:`~skmle.models.logistic_precondition`, exact at the intercept-only
    fit). With at least :data:`~skmle.optim.newton_quasi_phase.QUASI_FROM`
    free parameters the solver starts with a *quasi-Newton phase*
    (:mod:`~skmle.optim.newton_quasi_phase`): L-BFGS directions over
    :math:`H_0 = M^{-1}` (:mod:`~skmle.optim.quasi_newton`), each iteration
    one value-and-gradient pass (``exact=None``) and :math:`X d`, no
    information; once closer, the function's ``sampled_preconditioner``
    (optional: the exact information of a row sample) replaces :math:`M`.
    The phase ends where the quasi-Newton decrement :math:`\\mu`,
    :math:`\\mu^2 = g^\\top H g`, is below :data:`~skmle.optim.quasi_newton.FINISH` times its
    start (or stalls, or after :data:`~skmle.optim.quasi_newton.MAX_STEPS`
    steps, or when no step raises the objective): the exact Newton system is
    computed at the point reached, and from there the iterations below
    continue. Points of the phase never stop the fit as converged: the
    verdict, and the standard errors, come from that exact information. A
    start where :math:`\\mu \\le` ``tol`` (a warm start at the maximum) skips
    the phase.
``single_information`` (optional attribute, default False, with
    ``approximate_information``)
    True if ``newton_system(theta, eta, exact, single=True)`` computes the
    information in single precision (half the flops of its products). The
    solver asks for it where an information only steers the next step: while
    the next point cannot be the last (see
    :data:`~skmle.optim.newton_single.LAST_MARGIN`) and the current
    information is well conditioned
    (:data:`~skmle.optim.newton_single.SINGLE_RCOND`). Such a
    point's information is not exact, as a sampled one.
``newton_system_along(theta, eta, direction, **options) -> (system, eta, step_eta)``
    (optional)
    ``newton_system`` at ``theta + direction`` (same keywords and answer),
    whose predictor ``eta + X direction`` is formed chunk by chunk inside the
    same pass over the rows, and returned with :math:`X d` for the line search:
    a speculative full step (below) then reads the rows once, not twice.
``line_search_reads_data`` (optional attribute, default False)
    True if a ``value_at`` costs as much as a ``newton_system`` (the data are
    read again, as on Dask workers), so that verifying a corrected step length
    with ``value_at`` first is not worth its pass.

Steps per iteration, in the order of :func:`~skmle.optim.loop.run`:

1. stop as converged if the Newton decrement :math:`\\lambda`,
   :math:`\\lambda^2 = g^\\top I^{-1} g = g^\\top d` (twice the gain a full step
   predicts), is at most ``tol`` both here and at the previous iterate, or at
   most :data:`FULL_PRECISION` times its value at the start, or at most ``tol``
   with a Newton step shorter than :data:`FULL_PRECISION` times the norm of
   :math:`\\theta` (a warm start at the maximum) (see below);
2. stop if ``stop_reason`` gives a reason;
3. stop at ``max_iter`` iterations (not converged);
4. compute :math:`X d`; while the decrement shrinks slowly (see
   ``recession_reason``), stop if ``recession_reason`` gives the same reason
   here and at the previous iterate (not converged). Take a step by
   :mod:`~skmle.optim.predictor_search`; if no step passes, stop (converged
   only if :math:`\\lambda \\le` ``tol`` here);
5. accept the step, update :math:`\\eta \\leftarrow \\eta + t X d` and compute the
   Newton system there.

**The stopping rule.** :math:`\\lambda` does not depend on the coordinates of
:math:`\\theta` (it is invariant under any invertible linear or affine
reparameterisation, such as rescaling or shifting the features), unlike a
gradient, whose components change with the units of the features.
:math:`\\lambda \\le` ``tol`` is asked at two consecutive iterates because
Newton's method converges quadratically: the step from the first to the second
costs one pass and takes :math:`\\lambda` to about :math:`\\lambda^2`, from
half the digits to nearly all of them. Where a decrement is already below a
billionth of the first one (:data:`FULL_PRECISION`), that step is not taken.
After a quasi-Newton phase (``preconditioner``) this is the usual verdict: the
phase has polished the point until one exact information there confirms it,
so a fit computes the information once. At the intercept-only start the
multinomial preconditioner is the exact information, so the first decrement
is the exact one there too.

Two refinements save passes over the data. Once a full step has needed no
correction (Newton's quadratic phase), the next trial point's Newton system is
computed straight away and its value, gradient and information give the Armijo
test and :math:`\\varphi'(1) = g^\\top d`, :math:`\\varphi''(1) = -s^\\top I s`
(:math:`s` the free step): an accepted step costs one pass instead of two. And
while the predicted gain :math:`g^\\top d` exceeds :data:`APPROXIMATE_ABOVE`, the
next information may be approximate (``approximate_information``): it only
steers a step that is far from the maximum, and the line search guards it.
Where the solver stops after a step of small gain (the usual end of a fit) the
information is exact, and the result carries it in ``learned``; after a large
one (a start already at the maximum, ``max_iter``, ``stop_reason``) it may not
be, ``learned.information`` is None, and a caller that needs it there (for
standard errors) computes it again.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

import numpy as np
from scipy import linalg

from skmle._blas import single_blas_thread
from skmle._linalg import scaled_cholesky, solve_information
from skmle.optim.loop import Step, Stop
from skmle.optim.newton_quasi_phase import QuasiNewtonPhase
from skmle.optim.newton_single import SingleSteering
from skmle.optim.predictor_search import Point, line_search, speculative_step
from skmle.optim.result import Learned
from skmle.status import Status

APPROXIMATE_ABOVE = 1e-2
"""While the predicted gain of a Newton step (:math:`g^\\top d`, on the mean
objective) exceeds this, the next point's information may be approximate (for a
function with ``approximate_information``): it only steers steps that are far
from the maximum. Closer, and at the point where the solver stops, it is exact."""
FULL_PRECISION = 1e-9
"""The fit stops as converged, whatever ``tol``, once the Newton decrement is
below this fraction of its value at the start: the remaining step is a
billionth of the way travelled, about nine significant digits."""
FREEZE_BELOW = 1e-4
"""Where an exact information's predicted gain is at most this (but not yet
below ``tol**2``), and the information has at least :data:`FREEZE_FROM`
rows, the next iterate reuses it and computes only the value and gradient (a
chord step, for a function with ``approximate_information``). So close to the
maximum the information changes by about the relative length of the step, so
the next Newton decrement is still about the square of this one. Each step
on a reused information multiplies the squared decrement by about the
reference's (its relative error is about the reference's decrement); the
chain continues until the next iterate is predicted below
:data:`CHORD_FINISH`, and that iterate gets an exact information: only there
may the fit stop."""
CHORD_FINISH = 1e-22
"""A chain of steps on a reused information ends where the next squared
decrement is predicted below this: the fit then stops within about
:math:`10^{-11}` standard errors of the maximum, and the standard errors
there agree with those at the maximum to about :math:`10^{-11}` relative."""
MAX_CHORD = 4
"""At most this many steps reuse one information."""
FREEZE_FROM = 256
"""Free parameters from which reusing an information pays: below, the pass
that computes the information costs little more than the gradient's."""
SLOW_SHRINK = 0.1
"""A decrement squared that is more than this fraction of the previous one has
not shrunk quadratically: then ``recession_reason`` is asked."""
PREDICTOR_METHODS = ("predictor", "value_at", "line_terms", "newton_system")
"""What an objective offers for this step."""


class LinearPredictorFunction(Protocol):
    """What :class:`PredictorNewtonStep` needs from the function it maximises."""

    def predictor(self, theta: np.ndarray) -> Any: ...

    def value_at(self, theta: np.ndarray, eta: Any) -> float: ...

    def line_terms(
        self, theta: np.ndarray, eta: Any, direction: np.ndarray, step_eta: Any
    ) -> tuple[float, float, float]: ...

    def newton_system(
        self, theta: np.ndarray, eta: Any
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]: ...


def status_stop(reason: Status) -> Stop:
    """A ``stop_reason``/``recession_reason`` answer as a :class:`Stop`.

    The objective says why no maximum exists with a :class:`Status` (never a
    message to compare).
    """
    if not isinstance(reason, Status):
        raise TypeError(f"stop_reason must return a Status or None, not {reason!r}")
    return Stop(reason, f"the objective reports no maximum: {reason.value}")


class PredictorNewtonStep(QuasiNewtonPhase, SingleSteering, Step):
    """Newton's method with the line search on ``eta`` and the decrement rule."""

    stalled_message = "no step raises the objective (floating-point precision)"

    def __init__(self, function: LinearPredictorFunction, tol: float):
        self.function, self.tol = function, tol
        self.stop_reason = getattr(function, "stop_reason", None)
        self.recession_reason = getattr(function, "recession_reason", None)
        self.expand = getattr(function, "expand", None)
        self.approximate = bool(getattr(function, "approximate_information", False))
        self.single = self.approximate and bool(
            getattr(function, "single_information", False)
        )
        self.quadratic_ratio = 1.0
        self.fused = callable(getattr(function, "newton_system_along", None))
        self.speculate = False
        self.small = self.previous_small = False
        self.decrement2 = self.start_decrement2 = self.previous_decrement2 = None
        self.previous_reason = None
        self.reference, self.reference_decrement2, self.chord_steps = None, 0.0, 0
        self.factored = None

    def solve(self, information: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """:func:`~skmle._linalg.solve_information`, keeping the last Cholesky
        factor: a chord step reuses the very same information array."""
        if self.factored is None or self.factored[0] is not information:
            self.factored = (information, scaled_cholesky(information))
        cholesky = self.factored[1]
        if cholesky is None:  # singular: the minimum-norm route
            return solve_information(information, rhs)
        factor, scale = cholesky
        with single_blas_thread():
            return scale * linalg.cho_solve((factor, True), scale * rhs)

    def newton_point(
        self,
        theta,
        eta,
        exact: bool = True,
        frozen: Point | None = None,
        single: bool = False,
    ) -> Point:
        options, exact = self.system_options(exact, frozen, single)
        system = self.function.newton_system(theta, eta, **options)
        return self.point_from(theta, eta, system, exact, frozen)

    def fused_point(
        self,
        point: Point,
        exact: bool = True,
        frozen: Point | None = None,
        single: bool = False,
    ) -> tuple[Point, Any]:
        """The Newton system at the full step ``theta + direction`` and the
        step's predictor :math:`X d`, from ``newton_system_along`` (one pass
        over the rows for both)."""
        options, exact = self.system_options(exact, frozen, single)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            system, eta, step_eta = self.function.newton_system_along(
                point.theta, point.eta, point.direction, **options
            )
            theta = point.theta + point.direction
            return self.point_from(theta, eta, system, exact, frozen), step_eta

    def system_options(self, exact, frozen, single) -> tuple[dict, bool]:
        """The keywords of ``newton_system`` and whether its information is
        exact."""
        exact = exact or not self.approximate
        if frozen is not None:  # value and gradient only: reuse the information
            return {"exact": None}, False
        options = {} if exact else {"exact": False}
        if single:
            options["single"], exact = True, False
        return options, exact

    def point_from(self, theta, eta, system, exact: bool, frozen) -> Point:
        """A :class:`Point` from ``newton_system``'s answer, its step solved."""
        value, grad, information, rhs = system
        if frozen is not None:
            information = frozen.information
        if np.isfinite(value) and np.all(np.isfinite(information)):
            free_step = self.solve(information, rhs)
        else:  # a trial point that overflowed: rejected by the line search
            free_step = np.zeros_like(rhs)
        direction = free_step if self.expand is None else self.expand(free_step)
        return Point(
            theta,
            eta,
            value,
            grad,
            information,
            free_step,
            direction,
            exact,
            frozen is not None,
        )

    def start(self, theta: np.ndarray) -> Point:
        eta = self.function.predictor(theta)
        point = self.start_quasi_phase(theta, eta)
        return self.newton_point(theta, eta, exact=False) if point is None else point

    def rule(self, point: Point) -> str | None:
        # The squared Newton decrement: g^T I^{-1} g, twice the gain a full
        # Newton step predicts (the same in any linear coordinates of theta).
        decrement2 = max(float(point.grad @ point.direction), 0.0)
        if self.start_decrement2 is None:
            self.start_decrement2 = decrement2
        elif self.decrement2 and not (point.frozen or point.quasi):
            self.quadratic_ratio = max(
                self.quadratic_ratio, decrement2 / self.decrement2**2
            )
        self.decrement2 = decrement2
        self.small = small = decrement2 <= self.tol**2 and not point.quasi
        if point.frozen or point.quasi:  # the verdict needs this point's own
            return None  # exact information
        if decrement2 <= FULL_PRECISION**2 * self.start_decrement2:
            return "Newton decrement at full precision"
        if small and self.previous_small:
            return "Newton decrement below tol twice"
        step, theta = np.linalg.norm(point.direction), np.linalg.norm(point.theta)
        if small and step <= FULL_PRECISION * theta:
            # The step would not change theta in its first nine digits (a warm
            # start at the maximum).
            return "Newton step negligible against theta"
        return None

    def stop(self, point: Point) -> Stop | None:
        if self.stop_reason is None:
            return None
        reason = self.stop_reason(point.theta, point.eta)
        return None if reason is None else status_stop(reason)

    def advance(self, point: Point) -> Point | Stop | None:
        slope = decrement2 = self.decrement2
        slow = self.previous_decrement2 is not None and (
            decrement2 > SLOW_SHRINK * self.previous_decrement2
        )
        ask_recession = (
            self.recession_reason is not None
            and not point.quasi  # linear convergence: slow by nature
            and slow
            and decrement2 <= APPROXIMATE_ABOVE
        )
        # A speculative full step forms X d inside its own pass (see
        # speculative_step): no pass of its own for the predictor.
        fuse = self.speculate and self.fused and not (point.quasi or ask_recession)
        step_eta = None if fuse else self.function.predictor(point.direction)
        if ask_recession:
            reason = self.recession_reason(
                point.theta, point.eta, point.direction, step_eta
            )
            # Asked to hold at two consecutive iterates, like the rule on tol:
            # a sample near the boundary of a complete separation looks like
            # one on it for a step or so.
            if reason is not None and reason == self.previous_reason:
                return status_stop(reason)
            self.previous_reason = reason
        self.previous_decrement2 = decrement2
        if point.quasi:
            return self.quasi_advance(point, step_eta)
        search = speculative_step if self.speculate else line_search
        exact = slope <= APPROXIMATE_ABOVE
        if point.frozen:  # predicted next: the reference's times this decrement
            freeze = (
                self.reference_decrement2 * decrement2 > CHORD_FINISH
                and self.chord_steps < MAX_CHORD
            )
        else:
            freeze = (
                self.approximate
                and point.exact
                and not self.small
                and slope <= FREEZE_BELOW
                and point.information.shape[0] >= FREEZE_FROM
            )
            if freeze:
                self.reference, self.reference_decrement2 = point, decrement2
                self.chord_steps = 0
        self.chord_steps += freeze
        options = {
            "exact": exact,
            "frozen": self.reference if freeze else None,
            "single": not freeze and self.steers_only(point, FULL_PRECISION),
        }
        if fuse:
            full, step_eta = self.fused_point(point, **options)
            search = partial(speculative_step, full=full)
        new_point, plain = search(
            self.function,
            point,
            slope,
            step_eta,
            partial(self.newton_point, **options),
        )
        if new_point is None:
            return None
        # Only a decrement that is small before a step and after it counts:
        # the step in between is the one that gives the missing digits.
        self.previous_small = self.small
        # Once a full step needed no correction, Newton's method is in its
        # quadratic phase: the next trial goes straight to the Newton system.
        self.speculate = plain
        return new_point

    def converged_when_stalled(self, point: Point) -> bool:
        # The rule met here once: the missing step would gain nothing measurable.
        return self.small

    def learned(self, point: Point) -> Learned:
        if not point.exact:
            return Learned()
        return Learned(information=point.information, at=point.theta)
