"""Subgradient ascent for least absolute deviations, stopped by a duality gap."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import scipy.sparse as sp

from skmle._sparse import column_moments
from skmle.optim.lad.certificates import relative_duality_gap
from skmle.optim.lad.passes import _ArrayPasses
from skmle.optim.lad.quantiles import weighted_median
from skmle.optim.lad.sparse_rows import is_sparse, take_rows
from skmle.optim.result import Callback, OptimizeResult

GROW_AFTER = 10
"""After this many consecutive steps that each improve the best value, the step
is doubled and its decay restarted: the iterate is still travelling, so the step
is too short for the distance (a small ``learning_rate``)."""


SHRINK_AFTER = 20
"""After this many consecutive steps that do not improve the best value, the step
is halved and its decay restarted: it overshoots (a large ``learning_rate``)."""


def subgradient_lad(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray,
    *,
    fit_intercept: bool = True,
    learning_rate: float = 1.0,
    max_iter: int = 1000,
    tol: float = 1e-4,
    patience: int = 50,
    start: tuple[np.ndarray, float] | None = None,
    callback: Callback | None = None,
) -> tuple[OptimizeResult, np.ndarray, float]:
    """Subgradient ascent on :math:`f(\\beta) = -\\sum_i w_i |r_i| / W`, in memory
    (``X`` dense or ``scipy.sparse``).

    Standardises the features (weighted mean 0 and variance 1, or root mean
    square 1 without an intercept), starts from :math:`\\beta = 0` and the
    intercept at the weighted median of ``y`` (or ``start=(coef, intercept)``),
    and runs :func:`subgradient_lad_by_sums` with the duality-gap certificate
    (:func:`relative_duality_gap`); see there for the iteration.

    Returns
    -------
    result : OptimizeResult
        ``theta`` is ``[coef, intercept]`` in the original units; ``value`` and
        ``history`` hold :math:`f` of the best iterate so far.
    coef : ndarray of shape (n_features,)
    intercept : float
    """
    w = sample_weight
    total = float(w.sum())
    design = X
    if is_sparse(X):
        x_mean, x_scale = column_moments(X, w)
        if not fit_intercept:
            x_mean, x_scale = np.zeros(X.shape[1]), np.hypot(x_scale, x_mean)
        else:
            design = sp.csr_array(sp.hstack([X, np.ones((X.shape[0], 1))]))
    else:
        x_mean = (w @ X) / total if fit_intercept else np.zeros(X.shape[1])
        x_scale = np.sqrt((w @ (X - x_mean) ** 2) / total)
        if fit_intercept:
            design = np.column_stack([X, np.ones(X.shape[0])])
    if start is None:
        start = (np.zeros(X.shape[1]), weighted_median(y, w) if fit_intercept else 0.0)
    keep = w > 0
    passes = _ArrayPasses(take_rows(design, keep), y[keep], w[keep])

    def sums(coef, intercept):
        return subgradient_sums(X, y, w, coef, intercept)

    def certificate(coef, intercept):
        theta = np.append(coef, intercept) if fit_intercept else coef
        n_band = min(2 * design.shape[1], int(keep.sum()))
        return relative_duality_gap(passes, theta, n_band)

    return subgradient_lad_by_sums(
        sums,
        x_mean,
        x_scale,
        total,
        start,
        fit_intercept=fit_intercept,
        learning_rate=learning_rate,
        max_iter=max_iter,
        tol=tol,
        patience=patience,
        callback=callback,
        certificate=certificate,
    )


def subgradient_sums(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, coef: np.ndarray, intercept: float
) -> tuple[float, np.ndarray, float]:
    """:math:`\\sum_i w_i |r_i|`, :math:`\\sum_i w_i\\,\\mathrm{sign}(r_i)\\, x_i` and
    :math:`\\sum_i w_i\\,\\mathrm{sign}(r_i)` for :math:`r = y - X\\beta - b`."""
    residuals = y - X @ coef - intercept
    signs = w * np.sign(residuals)
    return float(w @ np.abs(residuals)), X.T @ signs, float(signs.sum())


def _subgradient_part(part, rows, coef, intercept):
    return subgradient_sums(*rows(part), coef, intercept)


def summed_subgradient(sum_parts, rows) -> Callable:
    """``sums(coef, intercept)`` for :func:`subgradient_lad_by_sums` over data in
    parts: :func:`subgradient_sums` of ``rows(part) -> (X, y, weights)`` added
    by ``sum_parts`` (one pass per call)."""

    def sums(coef, intercept):
        return sum_parts(
            partial(_subgradient_part, rows=rows, coef=coef, intercept=intercept)
        )

    return sums


def subgradient_lad_by_sums(
    sums: Callable[[np.ndarray, float], tuple[float, np.ndarray, float]],
    x_mean: np.ndarray,
    x_scale: np.ndarray,
    total_weight: float,
    start: tuple[np.ndarray, float],
    *,
    fit_intercept: bool = True,
    learning_rate: float = 1.0,
    max_iter: int = 1000,
    tol: float = 1e-4,
    patience: int = 50,
    callback: Callback | None = None,
    certificate: Callable[[np.ndarray, float], float] | None = None,
) -> tuple[OptimizeResult, np.ndarray, float]:
    """Subgradient ascent on :math:`f(\\beta) = -\\sum_i w_i |r_i| / W`, from sums.

    ``sums(coef, intercept)`` returns :func:`subgradient_sums` over all rows (one
    pass). The iterate lives on standardised features :math:`z = (x - \\bar x) /
    \\sigma_x` (``x_mean``, ``x_scale``) so that one step size suits every
    coefficient; each iteration takes

    .. math:: \\beta_{k+1} = \\beta_k + \\frac{\\gamma\\, D_k}{j}\\,
       \\frac{g_k}{\\lVert g_k \\rVert}, \\qquad
       g_k = \\frac{1}{W}\\sum_i w_i\\,\\mathrm{sign}(r_i)\\, [z_i, 1],

    with :math:`D_k = -f(\\beta_k)` the current mean absolute residual,
    :math:`\\gamma` the ``learning_rate`` and :math:`j` the steps since the last
    restart. The steps shrink like :math:`1/j`: their sum diverges (the iterates
    can travel any distance) while their squares sum to a finite value (they
    settle), the classical condition for subgradient methods. When
    :data:`GROW_AFTER` steps in a row each improve the best value, the step is
    too short for the distance left: :math:`\\gamma` doubles and :math:`j`
    restarts at 1, so a small ``learning_rate`` costs a few doublings, not the
    answer; when :data:`SHRINK_AFTER` steps in a row fail to improve it, the
    iterate returns to the best point, :math:`\\gamma` halves and :math:`j`
    restarts, so a large one does not wander off. The objective is not monotone along the way, so the best iterate
    is kept.

    The stopping rule is optimality, not a stall: every ``patience``
    iterations, and at the end, ``certificate(coef, intercept)`` bounds the
    relative gap :math:`(f^* - f(\\beta)) / |f(\\beta)|` of the best iterate
    (:func:`relative_duality_gap`: a dual feasible point), and the method stops,
    converged, once that bound is at most ``tol``. Without a certificate it is
    converged only where the subgradient (with :math:`\\mathrm{sign}(0) = 0`)
    is zero or every residual is zero. A column with ``x_scale`` zero
    (constant) keeps its starting coefficient.

    Returns
    -------
    result : OptimizeResult
        ``theta`` is ``[coef, intercept]`` in the original units; ``value`` and
        ``history`` hold :math:`f` of the best iterate so far.
    coef : ndarray of shape (n_features,)
    intercept : float
    """
    moving = x_scale > 0
    x_scale = np.where(moving, x_scale, 1.0)
    total = float(total_weight)
    # beta and the intercept on the standardised features; the sums are taken in
    # the original units, where b = b_z - x_mean . coef.
    beta = np.asarray(start[0], dtype=float) * x_scale
    intercept = float(start[1]) + float(x_mean @ start[0])

    def original(beta, intercept):
        coef = beta / x_scale
        return coef, intercept - float(x_mean @ coef)

    def evaluate(beta, intercept):
        coef, b = original(beta, intercept)
        absolute, x_signs, signs = sums(coef, b)
        grad = np.where(moving, (x_signs - x_mean * signs) / x_scale, 0.0) / total
        return absolute / total, grad, signs / total if fit_intercept else 0.0

    def certified(best) -> tuple[bool, str]:
        if certificate is None:
            return False, "no optimality certificate"
        gap = certificate(*original(best[1], best[2]))
        rule = (
            f"relative duality gap {gap:.3g} {'<=' if gap <= tol else '>'} tol={tol:g}"
        )
        return bool(gap <= tol), rule

    current, grad_beta, grad_intercept = evaluate(beta, intercept)
    best = (current, beta.copy(), intercept)
    history = [-current]
    converged, message = False, None
    gamma, restart, streak, stale, n_iter = float(learning_rate), 0, 0, 0, 0
    for n_iter in range(1, max_iter + 1):
        if best[0] == 0.0:
            n_iter -= 1
            converged, message = True, "all residuals are zero"
            break
        if n_iter > 1 and (n_iter - 1) % patience == 0:
            converged, message = certified(best)
            if converged:
                n_iter -= 1
                break
        norm = float(np.sqrt(grad_beta @ grad_beta + grad_intercept**2))
        if norm == 0.0 and best[0] == current:
            n_iter -= 1
            converged, message = True, "zero subgradient"
            break
        restart += 1
        step = gamma * current / (restart * max(norm, np.finfo(float).tiny))
        beta = beta + step * grad_beta
        intercept = intercept + step * grad_intercept
        current, grad_beta, grad_intercept = evaluate(beta, intercept)
        if current < best[0]:
            best = (current, beta.copy(), intercept)
            streak, stale = streak + 1, 0
        else:
            streak, stale = 0, stale + 1
        if streak >= GROW_AFTER:
            gamma, restart, streak = 2.0 * gamma, 0, 0
        elif stale >= SHRINK_AFTER:  # back to the best point, with half the step
            gamma, restart, stale = 0.5 * gamma, 0, 0
            beta, intercept = best[1].copy(), best[2]
            current, grad_beta, grad_intercept = evaluate(beta, intercept)
        history.append(-best[0])
        if callback is not None:
            callback(n_iter, np.append(beta, intercept), -current)
    else:
        converged, message = certified(best)
        message = f"max_iter={max_iter} reached; {message}"
    value, beta, intercept = best
    coef, intercept = original(beta, intercept)
    result = OptimizeResult(
        theta=np.append(coef, intercept),
        value=-value,
        history=np.asarray(history),
        n_iter=n_iter,
        converged=converged,
        message=message,
    )
    return result, coef, intercept
