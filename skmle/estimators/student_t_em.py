"""EM for Student-t regression: the t as a scale mixture of normals.

If :math:`e_i = s\\,\\epsilon_i / \\sqrt{\\tau_i}` with :math:`\\epsilon_i \\sim N(0, 1)`
and :math:`\\tau_i \\sim \\mathrm{Gamma}(\\nu/2, \\text{rate } \\nu/2)`, then
:math:`e_i \\sim t_\\nu(0, s)`. Given the residuals, :math:`\\tau_i` is
Gamma with mean :math:`u_i = (\\nu+1)/(\\nu+z_i^2)` and
:math:`E\\log\\tau_i = \\log u_i + \\psi(\\frac{\\nu+1}{2}) - \\log\\frac{\\nu+1}{2}`
(the E-step). The M-step maximises the expected complete log-likelihood:

.. math::

    (\\hat w, \\hat b) = \\arg\\min \\sum_i w_i u_i r_i^2, \\qquad
    \\hat s^2 = \\frac{1}{W}\\sum_i w_i u_i \\hat r_i^2,

and :math:`\\hat\\nu` is the root of

.. math::

    \\log\\frac{\\nu}{2} - \\psi\\Big(\\frac{\\nu}{2}\\Big) + 1
    + \\frac1W\\sum_i w_i (\\log u_i - u_i)
    + \\psi\\Big(\\frac{\\nu_0+1}{2}\\Big) - \\log\\frac{\\nu_0+1}{2} = 0

(:math:`\\nu_0` the current value; the left side falls from :math:`+\\infty` to a
negative limit, so the root is unique; it is clipped to
:data:`~skmle.models.student_t.DF_BOUNDS`). Each step is one pass over the rows
(the weighted normal equations and three sums, centred by the weighted means).
The steps run in :func:`skmle.optim.em.em`; the fit is judged converged by the
library's rule at the point returned (the whitened gradient at most ``tol``).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.linalg import lstsq
from scipy.optimize import brentq
from scipy.special import digamma

from skmle._sparse import is_sparse, rmatvec, weighted_gram
from skmle.estimators.linear_fit import LinearObjective
from skmle.models.base import Batch
from skmle.models.student_t import DF_BOUNDS, StudentTLogLikelihood
from skmle.optim import OptimizeResult, Status
from skmle.optim.em import em
from skmle.optim.result import gain_below_rounding, gradient_converged, verdict_message
from skmle.optim.whitened import Whitened

EM_ROUNDS = 6
"""Runs of EM, each with a stopping tolerance on the increase 100 times smaller,
until the gradient rule holds at the returned point."""


def em_sums(batch: Batch, model: StudentTLogLikelihood, theta, x_mean, y_mean):
    """One E-step over a batch: ``(log-likelihood, sum w u (y - m_y)^2,
    sum w (log u - u))``, the weighted normal matrix and its right-hand side on
    the centred design."""
    z = model.standardised_residuals(theta, batch)
    if z is None:
        raise ValueError("EM left the range of the t's parameters.")
    df = model.degrees_of_freedom(theta)
    logp = model.noise_terms(z, model.unpack(theta)[2], df)[0]
    w = batch.sample_weight
    u = (df + 1.0) / (df + z * z)
    wu = w * u
    y = batch.y - y_mean
    sums = np.array([w @ logp, wu @ (y * y), w @ (np.log(u) - u)])
    if is_sparse(batch.X):  # the centred design, implicitly (skmle._sparse)
        gram = weighted_gram(batch.X, wu, model.fit_intercept, x_mean)
        rhs = rmatvec(batch.X, wu * y, x_mean)
        return sums, gram, np.append(rhs, wu @ y) if model.fit_intercept else rhs
    design = model.design(batch.X - x_mean)
    return sums, design.T @ (design * wu[:, None]), design.T @ (wu * y)


def df_step(mean_log_u_minus_u: float, df: float) -> float:
    """The M-step for :math:`\\nu` (the root of the module's equation)."""
    constant = 1.0 + mean_log_u_minus_u + digamma(0.5 * (df + 1.0))
    constant -= np.log(0.5 * (df + 1.0))

    def equation(log_df):
        half = 0.5 * np.exp(log_df)
        return np.log(half) - digamma(half) + constant

    low, high = np.log(DF_BOUNDS[0]), np.log(DF_BOUNDS[1])
    if equation(high) >= 0.0:
        return DF_BOUNDS[1]
    if equation(low) <= 0.0:
        return DF_BOUNDS[0]
    return float(np.exp(brentq(equation, low, high, xtol=1e-14)))


def em_step(objective: LinearObjective, theta: np.ndarray):
    """``(mean log-likelihood at theta, next theta)``."""
    model = objective.model
    stats_ = objective.stats
    x_mean, y_mean = stats_.x_mean, stats_.y_mean
    sums, gram, cross = objective.sum_batches(
        partial(em_sums, model=model, theta=theta, x_mean=x_mean, y_mean=y_mean)
    )
    total = objective.total_weight
    beta = lstsq(gram, cross, cond=1e-13, check_finite=False)[0]
    coef, centre = model.location(beta)
    intercept = centre + y_mean - x_mean @ coef if model.fit_intercept else 0.0
    variance = max(sums[1] - float(beta @ cross), 0.0) / total
    log_scale = 0.5 * np.log(max(variance, objective.scale_floor**2))
    log_df = None
    if model.df is None:
        log_df = np.log(df_step(sums[2] / total, model.degrees_of_freedom(theta)))
    return sums[0] / total, model.pack(coef, intercept, log_scale, log_df)


def solve_em(
    objective: LinearObjective, theta0: np.ndarray, *, max_iter: int, tol: float
) -> OptimizeResult:
    """EM from ``theta0``, in rounds of :func:`~skmle.optim.em.em` until the
    whitened gradient at the returned point is at most ``tol`` (or ``max_iter``
    steps have run)."""
    step = partial(em_step, objective)
    theta, history, n_iter = np.asarray(theta0, dtype=float), [], 0
    increase = max(tol * tol, 1e-300)
    for _ in range(EM_ROUNDS):
        result = em(
            step,
            theta,
            value=objective.value,
            max_iter=max_iter - n_iter,
            tol=increase,
        )
        history.extend(result.history[1:] if history else result.history)
        theta, n_iter = result.theta, n_iter + result.n_iter
        whitened = Whitened(objective, theta)
        value, grad = whitened.value_and_grad(whitened.start())
        converged = gradient_converged(grad, tol) or gain_below_rounding(value, grad)
        if converged or n_iter >= max_iter:
            break
        increase /= 100.0
    reason = f"max_iter={max_iter} reached" if n_iter >= max_iter else "EM stalled"
    return OptimizeResult(
        theta=theta,
        value=float(value),
        history=np.asarray(history),
        n_iter=n_iter,
        converged=converged,
        message=verdict_message(converged, reason, grad, tol),
        status=Status.CONVERGED if converged else Status.MAX_ITER,
    )
