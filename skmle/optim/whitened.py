"""Affine preconditioning: the same maximum in coordinates of unit curvature.

Gradient ascent, L-BFGS and Newton's method see :math:`\\theta = \\theta_0 + P\\psi`
instead of :math:`\\theta`, with :math:`P` built from the curvature at the start,

.. math:: -H(\\theta_0) = D\\,C\\,D, \\qquad C = L L^\\top, \\qquad
   P = D^{-1} L^{-\\top},

(:math:`D` the square roots of the diagonal: Jacobi scaling, then Cholesky), so that
:math:`-P^\\top H(\\theta_0) P = I`. On a quadratic the first gradient step of unit
length is then the Newton step, and elsewhere the iterates no longer depend on the
units or the correlations of the parameters. Where :math:`C` is singular or too
ill-conditioned for a reliable Cholesky factor, an eigendecomposition
:math:`C = V\\Lambda V^\\top` keeps the directions with
:math:`|\\lambda| > \\text{RANK\\_RTOL}\\,\\lambda_{\\max}` and
:math:`P = D^{-1} V \\Lambda^{-1/2}` has fewer columns than rows: directions along
which the objective is flat (collinear columns) are never moved.

The stopping rule of the solvers, every :math:`|\\partial f / \\partial\\psi_k| \\le`
``tol``, is then a rule on :math:`g^\\top P P^\\top g`, close to the Newton decrement
:math:`g^\\top (-H)^{-1} g`: it does not change when a parameter is shifted or
rescaled.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cholesky, eigh, solve_triangular

from skmle.optim.result import (
    OptimizeResult,
    Status,
    gain_below_rounding,
    gradient_converged,
    verdict_message,
)

RANK_RTOL = 1e-10
"""Eigenvalues of the scaled curvature below this fraction of the largest one are
treated as zero (the direction is not identified)."""

CHOLESKY_RCOND = 1e-12
"""Below this squared ratio of the Cholesky factor's smallest to largest diagonal
entry the factor is not trusted and the eigendecomposition decides the rank."""

MAX_DENSE_PARAMS = 2000
"""Above this many parameters the dense curvature is not formed for whitening (it
would cost more memory and time than the fit): the solvers then work on the
coordinates they are given (for a linear predictor, already standardised)."""


WHITENING_ROUNDS = 8
"""Runs of a solver, each whitened by the curvature where the last one ended."""

FIRST_ROUND_ITERATIONS = 50
"""Iterations of the first run before the curvature is taken again; each later run
may take twice as many (the last, all that ``max_iter`` leaves)."""


def maximise_whitened(
    optimizer, function, theta0: np.ndarray, *, max_iter: int, tol: float, **options
) -> tuple[OptimizeResult, np.ndarray]:
    """Run ``optimizer`` on ``function`` whitened by its curvature, and judge it.

    The rule is checked here at the point returned, whatever the optimizer
    reported: every gradient component of ``function``, in coordinates whitened
    by the curvature *there*, is at most ``tol``, or a Newton step would gain
    less than the rounding error of the value
    (:func:`~skmle.optim.result.gain_below_rounding`). Where it fails but
    iterations remain, the optimizer starts again from that point, whitened by the
    curvature there: at most :data:`WHITENING_ROUNDS` runs, the first of
    :data:`FIRST_ROUND_ITERATIONS` iterations and each later one twice as long
    (the curvature at the start can be far from the curvature at the maximum).

    Returns
    -------
    result : OptimizeResult
        In ``function``'s own coordinates; ``n_iter`` and ``history`` over all
        runs.
    null_directions : ndarray of shape (n_params, k)
        Directions without curvature at the returned point (see
        :class:`Whitened`).
    """
    theta, history, n_iter, message = np.array(theta0, dtype=float), [], 0, ""
    whitened = Whitened(function, theta)
    for round_ in range(WHITENING_ROUNDS):
        value, grad = whitened.value_and_grad(whitened.start())
        if history and (
            gradient_converged(grad, tol) or gain_below_rounding(value, grad)
        ):
            break
        budget = max_iter - n_iter
        if round_ < WHITENING_ROUNDS - 1:
            budget = min(budget, FIRST_ROUND_ITERATIONS << round_)
        result = optimizer(
            whitened, whitened.start(), max_iter=budget, tol=tol, **options
        )
        history.extend(result.history[1:] if history else result.history)
        n_iter += result.n_iter
        theta, message = whitened.to_theta(result.theta), result.message
        whitened = Whitened(function, theta)
        if n_iter >= max_iter:
            break
    value, grad = whitened.value_and_grad(whitened.start())
    status = Status.CONVERGED
    if gradient_converged(grad, tol):
        message = "gradient below tol"
    elif gain_below_rounding(value, grad):
        message = (
            "maximum to floating-point precision: the gain a Newton step "
            "predicts is below the rounding error of the log-likelihood"
        )
    else:
        if n_iter >= max_iter:
            reason, status = f"max_iter={max_iter} reached", Status.MAX_ITER
        else:
            reason, status = message, Status.STALLED
        message = verdict_message(False, reason.split(";")[0], grad, tol)
    result = OptimizeResult(
        theta=theta,
        value=float(value),
        history=np.asarray(history),
        n_iter=n_iter,
        converged=status.converged,
        message=message,
        status=status,
    )
    return result, whitened.null_directions


class Whitened:
    """``function`` seen in the coordinates :math:`\\psi` of :math:`\\theta_0 + P\\psi`.

    Parameters
    ----------
    function : object with ``value`` and ``value_and_grad`` (and ``hessian``)
        A function to maximise.
    theta0 : ndarray of shape (n_params,)
        The start, :math:`\\psi = 0`.
    curvature : ndarray of shape (n_params, n_params), optional
        :math:`H(\\theta_0)`; computed from ``function.hessian`` when omitted and
        the function has one, else :math:`P = I`.

    Attributes
    ----------
    rank : int
        Columns of :math:`P`: the dimension the solvers work in.
    null_directions : ndarray of shape (n_params, n_params - rank)
        The directions left out, along which the curvature is zero to the
        tolerance :data:`RANK_RTOL` (an estimator picks its canonical maximum
        along them).
    """

    def __init__(self, function, theta0: np.ndarray, curvature=None):
        self.function = function
        self.theta0 = np.array(theta0, dtype=float)
        n = self.theta0.shape[0]
        if curvature is None and getattr(function, "has_hessian", False):
            if n <= MAX_DENSE_PARAMS:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    curvature = function.hessian(self.theta0)
        self.has_hessian = bool(getattr(function, "has_hessian", False))
        self._scale, self._factor, self._basis, null = whitening(curvature, n)
        self.rank = n if self._basis is None else self._basis.shape[1]
        self.null_directions = null / self._scale[:, None]

    # -- the map and its transpose ------------------------------------------------
    def to_theta(self, psi: np.ndarray) -> np.ndarray:
        if self._basis is not None:
            step = self._basis @ psi
        elif self._factor is not None:
            step = solve_triangular(
                self._factor, psi, trans="T", lower=True, check_finite=False
            )
        else:
            step = psi
        return self.theta0 + step / self._scale

    def to_psi_gradient(self, grad: np.ndarray) -> np.ndarray:
        """:math:`P^\\top g`."""
        scaled = grad / self._scale
        if self._basis is not None:
            return self._basis.T @ scaled
        if self._factor is not None:
            return solve_triangular(
                self._factor, scaled, lower=True, check_finite=False
            )
        return scaled

    def _matrix(self) -> np.ndarray:
        """:math:`P` as a dense matrix, formed once (Newton asks at every step)."""
        if getattr(self, "_dense", None) is not None:
            return self._dense
        self._dense = self._form_matrix()
        return self._dense

    def _form_matrix(self) -> np.ndarray:
        n = self.theta0.shape[0]
        zero = np.zeros(self.rank)
        columns = [self.to_theta(e) - self.to_theta(zero) for e in np.eye(self.rank)]
        return np.column_stack(columns) if columns else np.zeros((n, 0))

    # -- what the solvers call ----------------------------------------------------
    def start(self) -> np.ndarray:
        return np.zeros(self.rank)

    def value(self, psi: np.ndarray) -> float:
        return self.function.value(self.to_theta(psi))

    def value_and_grad(self, psi: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self.function.value_and_grad(self.to_theta(psi))
        return value, self.to_psi_gradient(grad)

    def hessian(self, psi: np.ndarray) -> np.ndarray:
        P = self._matrix()
        return P.T @ self.function.hessian(self.to_theta(psi)) @ P


def whitening(curvature, n: int):
    """``(D, L, V, N)`` of the module docstring for the curvature :math:`H`.

    ``L`` is the lower Cholesky factor of :math:`C` or None; ``V`` the kept
    eigenvectors scaled by :math:`\\Lambda^{-1/2}` (when the Cholesky factor is not
    reliable) or None, and ``N`` the eigenvectors left out (in the scaled
    coordinates). Without a usable curvature, :math:`D = I` and ``L``, ``V`` are
    None.
    """
    nothing = np.ones(n), None, None, np.zeros((n, 0))
    if curvature is None:
        return nothing
    neg = -np.asarray(curvature, dtype=float)
    if neg.shape != (n, n) or not np.all(np.isfinite(neg)):
        return nothing
    neg = (neg + neg.T) / 2.0
    diagonal = np.abs(np.diag(neg))
    if not np.any(diagonal > 0):
        return nothing
    # Diagonal entries are in the units of their parameters and are compared with
    # nothing; only a parameter without any curvature (a zero column) keeps unit
    # scale, and its direction is left out below.
    scale = np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    scaled = neg / np.outer(scale, scale)
    try:
        factor = cholesky(scaled, lower=True, check_finite=False)
        pivots = np.abs(np.diag(factor))
        if np.min(pivots) ** 2 >= CHOLESKY_RCOND * np.max(pivots) ** 2:
            return scale, factor, None, np.zeros((n, 0))
    except (LinAlgError, ValueError):
        pass
    values, vectors = eigh(scaled, check_finite=False)
    values = np.abs(values)
    keep = values > RANK_RTOL * np.max(values, initial=0.0)
    if not np.any(keep):
        return nothing
    return scale, None, vectors[:, keep] / np.sqrt(values[keep]), vectors[:, ~keep]
