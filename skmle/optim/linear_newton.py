"""Newton's method for objectives that see ``theta`` only through a linear predictor.

Generalised linear models (logistic regression, Poisson regression, ...) have
log-likelihoods :math:`f(\\theta) = \\sum_i \\ell_i(\\eta_i)` with
:math:`\\eta = X\\theta`. Along a direction :math:`d`,
:math:`\\eta(\\theta + t d) = \\eta + t\\,X d`, so once :math:`X d` is known the line
search evaluates :math:`f`, and its derivatives in :math:`t`, at any step length
without touching :math:`X` again, and the accepted :math:`\\eta` is reused by the
next iteration. Per iteration the data are read at most twice: once for the
gradient and the information matrix (which the function computes together), once
for :math:`X d`.

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
    Maps the solution of the Newton system (by :func:`solve_information`) back to
    a direction in ``theta``; the identity when absent.
``stop_reason(theta, eta) -> str or None`` (optional)
    A model's reason to stop early, such as a proof that no maximum exists.
``recession_reason(theta, eta, direction, step_eta) -> str or None`` (optional)
    A model's reason to stop before taking a step, such as a proof that the
    step is a direction along which the objective rises for ever; the solver
    stops when it gives the same reason at two consecutive iterates. Asked only
    once the decrement is below :data:`APPROXIMATE_ABOVE` and shrinks by less
    than :data:`SLOW_SHRINK` per iteration (not Newton's quadratic phase).
``approximate_information`` (optional attribute, default False)
    True if ``newton_system(theta, eta, exact=False)`` may return a cheaper,
    approximate ``information`` (the value and gradient still exact).
``line_search_reads_data`` (optional attribute, default False)
    True if a ``value_at`` costs as much as a ``newton_system`` (the data are
    read again, as on Dask workers), so that verifying a corrected step length
    with ``value_at`` first is not worth its pass.

Steps of :func:`linear_newton`, per iteration:

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
   here and at the previous iterate (not converged). Take the full step
   :math:`t = 1` if it passes the Armijo condition :math:`f(\\theta + t d) \\ge
   f(\\theta) + c\\,t\\,g^\\top d` (or, where the two values tie to rounding
   error, if the slope along the line at :math:`t = 1` is at most half that at
   0: see :func:`_accepted`), else halve :math:`t` until it does; if no step
   passes, stop (converged only if :math:`\\lambda \\le` ``tol`` here);
5. after a full step, correct its length by one Newton step in :math:`t`,
   :math:`t^* = 1 - \\varphi'(1) / \\varphi''(1)` with
   :math:`\\varphi(t) = f(\\theta + t d)`, kept if it raises :math:`f` further.
   Far from the maximum the curvature at :math:`\\theta` overstates the curvature
   along the step (for logistic regression :math:`p(1-p)` is largest at the
   start, where every :math:`p` is the base rate), so Newton's full step falls
   short; this costs one evaluation on :math:`\\eta` and saves whole iterations.
   Near the maximum :math:`t^* \\approx 1` and it is skipped;
6. accept the step, update :math:`\\eta \\leftarrow \\eta + t X d` and compute the
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

Two refinements save passes over the data. Once a full step has needed no
correction (Newton's quadratic phase), the next trial point's Newton system is
computed straight away and its value, gradient and information give the Armijo
test and :math:`\\varphi'(1) = g^\\top d`, :math:`\\varphi''(1) = -s^\\top I s`
(:math:`s` the free step): an accepted step costs one pass instead of two. And
while the predicted gain :math:`g^\\top d` exceeds :data:`APPROXIMATE_ABOVE`, the
next information may be approximate (``approximate_information``): it only
steers a step that is far from the maximum, and the line search guards it.
Where the solver stops after a step of small gain (the usual end of a fit) the
information is exact; after a large one (a start already at the maximum,
``max_iter``, ``stop_reason``) it may not be, and a caller that needs it there
(for standard errors) computes it again.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple, Protocol

import numpy as np
from scipy import linalg

from skmle._blas import single_blas_thread
from skmle.optim.result import Callback, OptimizeResult, require

ARMIJO_C = 1e-4
MAX_HALVINGS = 40
PIVOT_RTOL = 1e-10
"""Smallest squared pivot of the Jacobi-scaled Cholesky factor trusted as nonzero."""
EIGEN_RTOL = 1e-12
"""Eigenvalues below this fraction of the largest are treated as zero."""
APPROXIMATE_ABOVE = 1e-2
"""While the predicted gain of a Newton step (:math:`g^\\top d`, on the mean
objective) exceeds this, the next point's information may be approximate (for a
function with ``approximate_information``): it only steers steps that are far
from the maximum. Closer, and at the point where the solver stops, it is exact."""
FULL_PRECISION = 1e-9
"""The fit stops as converged, whatever ``tol``, once the Newton decrement is
below this fraction of its value at the start: the remaining step is a
billionth of the way travelled, about nine significant digits."""
ROUNDING = 16 * np.finfo(float).eps
"""Relative difference of two objective values that rounding error may explain."""
TIE_SLOPE = 0.5
"""Where the values tie, a step is taken if the slope along the line at its end
is at most this fraction of the slope at its start (see :func:`_accepted`)."""
SLOW_SHRINK = 0.1
"""A decrement squared that is more than this fraction of the previous one has
not shrunk quadratically: then ``recession_reason`` is asked."""
STEP_CORRECTION = (0.05, 4.0)
"""A corrected step length is tried when it differs from 1 by more than the first
number, and is capped at the second."""


class LinearPredictorFunction(Protocol):
    """What :func:`linear_newton` needs from the function it maximises."""

    def predictor(self, theta: np.ndarray) -> Any: ...

    def value_at(self, theta: np.ndarray, eta: Any) -> float: ...

    def line_terms(
        self, theta: np.ndarray, eta: Any, direction: np.ndarray, step_eta: Any
    ) -> tuple[float, float, float]: ...

    def newton_system(
        self, theta: np.ndarray, eta: Any
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]: ...


def scaled_cholesky(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Cholesky factor of a symmetric positive semi-definite matrix, Jacobi-scaled.

    Returns ``(factor, scale)`` with ``factor`` the lower Cholesky factor of
    ``matrix * outer(scale, scale)`` (unit diagonal, so the pivots do not depend on
    the units of the features), or None when a squared pivot is below
    ``PIVOT_RTOL``: the matrix is then singular to working precision (collinear
    features, more features than samples). Then ``matrix^{-1} b = scale *
    cho_solve((factor, True), scale * b)``.
    """
    matrix = np.asarray(matrix, dtype=float)
    diagonal = np.diag(matrix).copy()
    scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    try:
        # One BLAS thread: on a machine whose cores are busy, spin-waiting
        # threads made a factorisation of order 2000 ten times slower.
        with single_blas_thread():
            factor = linalg.cholesky(matrix * np.outer(scale, scale), lower=True)
    except linalg.LinAlgError:
        return None
    if np.min(np.diag(factor)) ** 2 <= PIVOT_RTOL:
        return None
    return factor, scale


def solve_information(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``matrix @ x = rhs`` for a symmetric positive semi-definite ``matrix``.

    By :func:`scaled_cholesky`. If the matrix is singular to working precision,
    the minimum-norm solution is returned instead: the rank is decided by an
    eigendecomposition of the Jacobi-scaled matrix (eigenvalues below
    ``EIGEN_RTOL`` times the largest are zero; unscaled, a feature in large units
    would make every other direction look singular), and the null directions it
    finds are projected out. That solution lies in the span of the data, so it is
    the same however the rows are weighted or repeated.

    Examples
    --------
    >>> import numpy as np
    >>> solve_information(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
    array([1. , 0.5])
    >>> solve_information(np.ones((2, 2)), np.array([2.0, 2.0]))  # singular
    array([1., 1.])
    """
    matrix = np.asarray(matrix, dtype=float)
    cholesky = scaled_cholesky(matrix)
    if cholesky is not None:
        factor, scale = cholesky
        with single_blas_thread():
            return scale * linalg.cho_solve((factor, True), scale * rhs)
    # The eigendecomposition of the Jacobi-scaled matrix, as for the Cholesky
    # factor: unscaled, a feature in large units (a variance of 1e11) would make
    # every other direction look singular, and the step would leave them out.
    diagonal = np.diag(matrix)
    scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    values, vectors = linalg.eigh(matrix * np.outer(scale, scale))
    keep = values > EIGEN_RTOL * max(values[-1], 0.0)
    if not np.any(keep):
        return np.zeros_like(rhs)
    basis = vectors[:, keep]
    solution = scale * (basis @ ((basis.T @ (scale * rhs)) / values[keep]))
    # Of the solutions (this one plus the null directions, scale * v for the
    # eigenvectors left out), the one of least Euclidean norm.
    null = scale[:, None] * vectors[:, ~keep]
    if null.shape[1]:
        orthonormal, _ = np.linalg.qr(null)
        solution = solution - orthonormal @ (orthonormal.T @ solution)
    return solution


class _Point(NamedTuple):
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


def _accepted(value, new_value, slope, step=1.0, new_slope=None) -> bool:
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
    if new_value >= value + ARMIJO_C * step * slope:
        return True
    return (
        new_slope is not None
        and abs(new_value - value) <= ROUNDING * abs(value)
        and abs(new_slope) <= TIE_SLOPE * slope
    )


def _corrected_length(slope: float, curvature: float) -> float | None:
    """Step 5's :math:`t^* = 1 - \\varphi'(1)/\\varphi''(1)` when worth trying, else None."""
    if not curvature < 0:
        return None
    low, high = STEP_CORRECTION
    corrected = min(1.0 - slope / curvature, high)
    if corrected > 0 and abs(corrected - 1.0) > low:
        return corrected
    return None


def _backtrack(function, point: _Point, slope: float, step_eta) -> float:
    """Halve the step from 1/2 until the Armijo condition holds; 0 if it never does."""
    step = 0.5
    for _ in range(MAX_HALVINGS):
        # A trial point may overflow; it is then rejected, not reported.
        with np.errstate(over="ignore", invalid="ignore"):
            new_value = function.value_at(
                point.theta + step * point.direction, point.eta + step * step_eta
            )
        if _accepted(point.value, new_value, slope, step):
            return step
        step /= 2.0
    return 0.0


def _newton_at(newton_point, point: _Point, step: float, step_eta) -> _Point:
    """The Newton system at ``theta + step * direction``; a trial point may
    overflow, and is then rejected by its non-finite value, not reported."""
    with np.errstate(over="ignore", invalid="ignore"):
        return newton_point(
            point.theta + step * point.direction, point.eta + step * step_eta
        )


def _line_search(function, point: _Point, slope: float, step_eta, newton_point):
    """Steps 4 and 5 with ``line_terms`` at the full step, then the Newton system at
    the chosen point: ``(new point or None, plain)``, None if no step raises f,
    ``plain`` True when the full step needed no correction.

    A corrected length is verified by ``value_at`` when that is cheap; when it
    costs a pass over the data (``line_search_reads_data``), the Newton system at
    the corrected point verifies it instead, and the full step is the fallback.
    """
    theta, eta, direction = point.theta, point.eta, point.direction
    full_value, full_slope, full_curvature = function.line_terms(
        theta + direction, eta + step_eta, direction, step_eta
    )
    if not _accepted(point.value, full_value, slope, new_slope=full_slope):
        step = _backtrack(function, point, slope, step_eta)
        if step == 0.0:
            return None, False
        return _newton_at(newton_point, point, step, step_eta), False
    corrected = _corrected_length(full_slope, full_curvature)
    if corrected is None:
        return _newton_at(newton_point, point, 1.0, step_eta), True
    if getattr(function, "line_search_reads_data", False):
        trial = _newton_at(newton_point, point, corrected, step_eta)
        if trial.value > full_value:
            return trial, False
    else:
        trial_value = function.value_at(
            theta + corrected * direction, eta + corrected * step_eta
        )
        if np.isfinite(trial_value) and trial_value > full_value:
            return _newton_at(newton_point, point, corrected, step_eta), False
    return _newton_at(newton_point, point, 1.0, step_eta), False


def _speculative_step(function, point: _Point, slope: float, step_eta, newton_point):
    """Steps 4 and 5 with the Newton system at the trial point doing the line terms.

    The full step's value, slope and curvature come from ``newton_system`` there
    (:math:`\\varphi'(1) = \\nabla f^\\top d`, :math:`\\varphi''(1) = -s^\\top I s`
    with :math:`s` the free step and :math:`I` the new information), so an accepted
    full step costs one pass over the data instead of two. Returns ``(new point or
    None, plain)`` as :func:`_line_search`.
    """
    full = _newton_at(newton_point, point, 1.0, step_eta)
    full_slope = float(full.grad @ point.direction) if np.isfinite(full.value) else None
    if _accepted(point.value, full.value, slope, new_slope=full_slope):
        corrected = _corrected_length(
            full_slope,
            -float(point.free_step @ full.information @ point.free_step),
        )
        if corrected is None:
            return full, True
        trial = _newton_at(newton_point, point, corrected, step_eta)
        return (trial if trial.value > full.value else full), False
    step = _backtrack(function, point, slope, step_eta)
    if step == 0.0:
        return None, False
    return _newton_at(newton_point, point, step, step_eta), False


def linear_newton(
    function: LinearPredictorFunction,
    theta0: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    callback: Callback | None = None,
) -> OptimizeResult:
    """Maximise ``function`` by Newton's method with a line search on ``eta``.

    Parameters
    ----------
    function : object with ``predictor``, ``value_at``, ``line_terms``, ``newton_system``
        See the module docstring; ``expand`` and ``stop_reason`` are optional.
    theta0 : ndarray of shape (n_params,)
    max_iter : int, default=100
    tol : float, default=1e-6
        Stop when the Newton decrement :math:`\\sqrt{g^\\top I^{-1} g}` is at most
        ``tol`` at two consecutive iterates, or when the predicted gain is below
        floating-point resolution (see the module docstring).
    callback : callable, optional
        ``callback(iteration, theta, value)`` after each iteration.

    Returns
    -------
    OptimizeResult
        ``message`` is the ``stop_reason`` when the function gave one (then
        ``converged`` is False).
    """
    require(
        function,
        "predictor",
        "value_at",
        "line_terms",
        "newton_system",
        solver="newton",
    )
    stop_reason = getattr(function, "stop_reason", None)
    recession_reason = getattr(function, "recession_reason", None)
    expand = getattr(function, "expand", None)
    approximate = bool(getattr(function, "approximate_information", False))

    def newton_point(theta, eta, exact=True) -> _Point:
        options = {} if exact or not approximate else {"exact": False}
        value, grad, information, rhs = function.newton_system(theta, eta, **options)
        if np.isfinite(value) and np.all(np.isfinite(information)):
            free_step = solve_information(information, rhs)
        else:  # a trial point that overflowed: rejected by the line search
            free_step = np.zeros_like(rhs)
        direction = free_step if expand is None else expand(free_step)
        return _Point(theta, eta, value, grad, information, free_step, direction)

    theta = np.array(theta0, dtype=float)
    point = newton_point(theta, function.predictor(theta), exact=False)
    if not np.isfinite(point.value):
        raise ValueError("The objective is not finite at the starting point.")
    history = [point.value]
    converged, message = False, f"max_iter={max_iter} reached"
    n_iter = 0
    speculate = False
    previous_small = False
    start_decrement2 = previous_decrement2 = previous_reason = None
    while True:
        # The squared Newton decrement: g^T I^{-1} g, twice the gain a full
        # Newton step predicts (the same in any linear coordinates of theta).
        decrement2 = max(float(point.grad @ point.direction), 0.0)
        if start_decrement2 is None:
            start_decrement2 = decrement2
        small = decrement2 <= tol**2
        if decrement2 <= FULL_PRECISION**2 * start_decrement2:
            converged, message = True, "Newton decrement at full precision"
            break
        if small and previous_small:
            converged, message = True, "Newton decrement below tol twice"
            break
        if small and np.linalg.norm(point.direction) <= FULL_PRECISION * np.linalg.norm(
            point.theta
        ):
            # The step would not change theta in its first nine digits (a warm
            # start at the maximum).
            converged, message = True, "Newton step negligible against theta"
            break
        reason = stop_reason(point.theta, point.eta) if stop_reason else None
        if reason is not None:
            message = reason
            break
        if n_iter == max_iter:
            break
        slope = decrement2
        step_eta = function.predictor(point.direction)
        slow = previous_decrement2 is not None and (
            decrement2 > SLOW_SHRINK * previous_decrement2
        )
        if recession_reason is not None and slow and decrement2 <= APPROXIMATE_ABOVE:
            reason = recession_reason(point.theta, point.eta, point.direction, step_eta)
            # Asked to hold at two consecutive iterates, like the rule on tol:
            # a sample near the boundary of a complete separation looks like
            # one on it for a step or so.
            if reason is not None and reason == previous_reason:
                message = reason
                break
            previous_reason = reason
        previous_decrement2 = decrement2
        search = _speculative_step if speculate else _line_search
        new_point, plain = search(
            function,
            point,
            slope,
            step_eta,
            partial(newton_point, exact=slope <= APPROXIMATE_ABOVE),
        )
        if new_point is None:
            # No step raises f: converged by the rule only if it is already met
            # here once (then the missing step would gain nothing measurable).
            converged = small
            message = "no step raises the objective (floating-point precision)"
            break
        point = new_point
        # Only a decrement that is small before a step and after it counts:
        # the step in between is the one that gives the missing digits.
        previous_small = small
        # Once a full step needed no correction, Newton's method is in its
        # quadratic phase: the next trial goes straight to the Newton system.
        speculate = plain
        n_iter += 1
        history.append(point.value)
        if callback is not None:
            callback(n_iter, point.theta, point.value)
    return OptimizeResult(
        theta=point.theta,
        value=float(point.value),
        history=np.asarray(history),
        n_iter=n_iter,
        converged=converged,
        message=message,
    )
