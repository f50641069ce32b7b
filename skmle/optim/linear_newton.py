"""Newton's method for objectives that see ``theta`` only through a linear predictor.

Generalised linear models (logistic regression, Poisson regression, ...) have
log-likelihoods :math:`f(\\theta) = \\sum_i \\ell_i(\\eta_i)` with
:math:`\\eta = X\\theta`. Along a direction :math:`d`,
:math:`\\eta(\\theta + t d) = \\eta + t\\,X d`, so once :math:`X d` is known the line
search evaluates :math:`f`, and its derivatives in :math:`t`, at any step length
without touching :math:`X` again, and the accepted :math:`\\eta` is reused by the
next iteration. Per iteration the data are read twice: once for the gradient and
the information matrix (which the function computes together), once for
:math:`X d`.

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

Steps of :func:`linear_newton`, per iteration:

1. stop if every gradient component is at most ``tol`` (the shared rule);
2. stop if ``stop_reason`` gives a reason;
3. stop as converged if the predicted gain :math:`g^\\top d` is below what
   floating point can resolve in the objective (no step could be verified);
4. compute :math:`X d`; take the full step :math:`t = 1` if it passes the Armijo
   condition :math:`f(\\theta + t d) \\ge f(\\theta) + c\\,t\\,g^\\top d`, else halve
   :math:`t` until it does;
5. after a full step, correct its length by one Newton step in :math:`t`,
   :math:`t^* = 1 - \\varphi'(1) / \\varphi''(1)` with
   :math:`\\varphi(t) = f(\\theta + t d)`, kept if it raises :math:`f` further.
   Far from the maximum the curvature at :math:`\\theta` overstates the curvature
   along the step (for logistic regression :math:`p(1-p)` is largest at the
   start, where every :math:`p` is the base rate), so Newton's full step falls
   short; this costs one evaluation on :math:`\\eta` and saves whole iterations.
   Near the maximum :math:`t^* \\approx 1` and it is skipped;
6. accept the step and update :math:`\\eta \\leftarrow \\eta + t X d`.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from scipy import linalg

from skmle.optim.result import Callback, OptimizeResult, gradient_converged, require

ARMIJO_C = 1e-4
MAX_HALVINGS = 40
PIVOT_RTOL = 1e-10
"""Smallest squared pivot of the Jacobi-scaled Cholesky factor trusted as nonzero."""
EIGEN_RTOL = 1e-12
"""Eigenvalues below this fraction of the largest are treated as zero."""
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
        factor = linalg.cholesky(matrix * np.outer(scale, scale), lower=True)
    except linalg.LinAlgError:
        return None
    if np.min(np.diag(factor)) ** 2 <= PIVOT_RTOL:
        return None
    return factor, scale


def solve_information(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``matrix @ x = rhs`` for a symmetric positive semi-definite ``matrix``.

    By :func:`scaled_cholesky`. If the matrix is singular to working precision,
    the minimum-norm solution is returned instead, from an eigendecomposition
    with eigenvalues below ``EIGEN_RTOL`` times the largest treated as zero. That
    solution lies in the span of the data, so it is the same however the rows
    are weighted or repeated.

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
        return scale * linalg.cho_solve((factor, True), scale * rhs)
    values, vectors = linalg.eigh(matrix)
    keep = values > EIGEN_RTOL * max(values[-1], 0.0)
    if not np.any(keep):
        return np.zeros_like(rhs)
    basis = vectors[:, keep]
    return basis @ ((basis.T @ rhs) / values[keep])


def _line_search(function, theta, eta, value, slope, direction, step_eta) -> float:
    """Step length along ``direction`` (steps 4 and 5); 0 if no step raises f."""
    full_value, full_slope, full_curvature = function.line_terms(
        theta + direction, eta + step_eta, direction, step_eta
    )
    if np.isfinite(full_value) and full_value >= value + ARMIJO_C * slope:
        step = 1.0
        if full_curvature < 0:
            low, high = STEP_CORRECTION
            corrected = min(1.0 - full_slope / full_curvature, high)
            if corrected > 0 and abs(corrected - 1.0) > low:
                trial = function.value_at(
                    theta + corrected * direction, eta + corrected * step_eta
                )
                if np.isfinite(trial) and trial > full_value:
                    step = corrected
        return step
    step = 0.5
    for _ in range(MAX_HALVINGS):
        # A trial point may overflow; it is then rejected, not reported.
        with np.errstate(over="ignore", invalid="ignore"):
            new_value = function.value_at(
                theta + step * direction, eta + step * step_eta
            )
        if np.isfinite(new_value) and new_value >= value + ARMIJO_C * step * slope:
            return step
        step /= 2.0
    return 0.0


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
        Stop when every gradient component is at most ``tol`` in absolute value.
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
    expand = getattr(function, "expand", None)

    def newton_step(theta, eta):
        value, grad, information, rhs = function.newton_system(theta, eta)
        step = solve_information(information, rhs)
        return value, grad, (step if expand is None else expand(step))

    theta = np.array(theta0, dtype=float)
    eta = function.predictor(theta)
    value, grad, direction = newton_step(theta, eta)
    if not np.isfinite(value):
        raise ValueError("The objective is not finite at the starting point.")
    history = [value]
    converged, message = False, f"max_iter={max_iter} reached"
    n_iter = 0
    while True:
        if gradient_converged(grad, tol):
            converged, message = True, "gradient below tol"
            break
        reason = stop_reason(theta, eta) if stop_reason is not None else None
        if reason is not None:
            message = reason
            break
        if n_iter == max_iter:
            break
        slope = float(grad @ direction)
        # A Newton step gains about slope / 2; below a few ulps of the objective
        # no step can be told apart from no step.
        if slope <= 8 * np.finfo(float).eps * max(abs(value), 1e-300):
            converged, message = True, "objective flat at floating-point precision"
            break
        step_eta = function.predictor(direction)
        step = _line_search(function, theta, eta, value, slope, direction, step_eta)
        if step == 0.0:
            converged, message = True, "objective flat at floating-point precision"
            break
        theta = theta + step * direction
        eta = eta + step * step_eta
        value, grad, direction = newton_step(theta, eta)
        n_iter += 1
        history.append(value)
        if callback is not None:
            callback(n_iter, theta, value)
    return OptimizeResult(
        theta=theta,
        value=float(value),
        history=np.asarray(history),
        n_iter=n_iter,
        converged=converged,
        message=message,
    )
