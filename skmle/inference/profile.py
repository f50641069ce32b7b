"""Profile likelihood of one parameter, and its likelihood-ratio interval.

The profile log-likelihood of a parameter :math:`\\beta = \\theta_j` is the
log-likelihood maximised over every other parameter with :math:`\\beta` held fixed,

.. math:: \\ell_p(\\beta) = \\max_{\\theta:\\ \\theta_j = \\beta} \\ell(\\theta).

By Wilks' theorem :math:`2\\{\\ell(\\hat\\theta) - \\ell_p(\\beta)\\}` is
approximately :math:`\\chi^2_1` at the true :math:`\\beta`, so

.. math:: \\{\\beta : \\ell_p(\\beta) \\ge \\ell(\\hat\\theta) - \\tfrac12
   \\chi^2_{1,1-\\alpha}\\}

is a :math:`1-\\alpha` confidence interval. Unlike the Wald interval
:math:`\\hat\\beta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}` it need not be symmetric, and it
does not change when the parameter is transformed.

The computations work on an objective (:func:`profile_point` for one coordinate
of ``theta``, :func:`contrast_point` for a linear function of it, over the other
parameters by Newton's method or L-BFGS) or on any function from a value of the
parameter to the profile (:func:`likelihood_ratio_interval`, :func:`profile_on_grid`).
:mod:`skmle.inference.profile_fit` puts them together for a fitted estimator
(:func:`~skmle.inference.profile_likelihood`,
:func:`~skmle.inference.profile_intervals`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from skmle.optim import lbfgs, newton

INNER_TOL = 1e-7  # mean-gradient tol; the profile value then errs by O(tol**2)

FLAT_RTOL = 1e-12
"""An eigenvalue of the Jacobi-scaled information below this times the largest
marks a flat direction (exact flat directions give about 1e-16; the
ill-conditioned Longley design gives 5e-10)."""

Evaluate = Callable[[float, np.ndarray], tuple[float, np.ndarray]]
"""``evaluate(value, start) -> (profile log-likelihood, theta where it is reached)``."""


@dataclass(frozen=True)
class ProfileLikelihood:
    """A profile log-likelihood on a grid, with both confidence intervals.

    Attributes
    ----------
    name : str
        The parameter, as ``summary()`` labels it.
    values : ndarray of shape (n_points,)
        Grid of values of the parameter.
    loglik : ndarray of shape (n_points,)
        The profile log-likelihood at each value.
    estimate : float
        The maximum likelihood estimate of the parameter.
    loglik_max : float
        The maximised log-likelihood.
    lr_interval : tuple of float
        The likelihood-ratio interval (where the profile crosses the cutoff).
    wald_interval : tuple of float
        :math:`\\hat\\beta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}`.
    cutoff : float
        :math:`\\ell(\\hat\\theta) - \\tfrac12\\chi^2_{1,1-\\alpha}`.
    alpha : float
    """

    name: str
    values: np.ndarray
    loglik: np.ndarray
    estimate: float
    loglik_max: float
    lr_interval: tuple[float, float]
    wald_interval: tuple[float, float]
    cutoff: float
    alpha: float


class _Restricted:
    """The objective on the affine set :math:`\\theta = b + N z` of the parameters
    where the profiled one is held fixed, as a function of :math:`z`."""

    def __init__(self, objective, base: np.ndarray, basis: np.ndarray):
        self.objective = objective
        self.base = base
        self.basis = basis
        self.has_hessian = objective.has_hessian

    def embed(self, free: np.ndarray) -> np.ndarray:
        return self.base + self.basis @ free

    def value(self, free):
        return self.objective.value(self.embed(free))

    def value_and_grad(self, free):
        value, grad = self.objective.value_and_grad(self.embed(free))
        return value, self.basis.T @ grad

    def hessian(self, free):
        hess = self.objective.hessian(self.embed(free))
        return self.basis.T @ hess @ self.basis


def _maximise(restricted: _Restricted, free: np.ndarray) -> tuple[float, np.ndarray]:
    """Re-maximise over ``free`` (Newton with a Hessian, else L-BFGS); the total
    log-likelihood and the full ``theta`` where it is reached."""
    if free.size:
        solver = newton if restricted.has_hessian else lbfgs
        options = {"max_iter": 100} if solver is newton else {"max_iter": 1000}
        result = solver(restricted, free, tol=INNER_TOL, **options)
        if not result.converged:
            warnings.warn(
                "A refit of the profile likelihood did not converge "
                f"({result.message}): the profile, and an interval end near it, "
                "may be too low (the likelihood may have no maximum there, as "
                "with separable classes).",
                UserWarning,
                stacklevel=4,
            )
        free = result.theta
    theta = restricted.embed(free)
    objective = restricted.objective
    return objective.value(theta) * objective.total_weight, theta


def profile_point(
    objective, index: int, value: float, start: np.ndarray
) -> tuple[float, np.ndarray]:
    """The profile log-likelihood at ``theta[index] = value``, and where it is.

    The other parameters are re-maximised from ``start``: by Newton's method when
    the objective has a Hessian, else by L-BFGS, to a mean-gradient tolerance of
    :data:`INNER_TOL`.

    Parameters
    ----------
    objective : Objective
        The mean log-likelihood of a flat ``theta``, as ``loglik_function``
        returns it.
    index : int
        The position of the parameter in ``theta``.
    value : float
    start : ndarray of shape (n_params,)

    Returns
    -------
    loglik : float
        The total (not mean) profile log-likelihood.
    theta : ndarray of shape (n_params,)
        The maximiser, with ``theta[index] == value``.
    """
    start = np.asarray(start, dtype=float)
    base = np.zeros_like(start)
    base[index] = value
    basis = np.delete(np.eye(start.size), index, axis=1)
    return _maximise(_Restricted(objective, base, basis), np.delete(start, index))


def contrast_point(
    objective, contrast: np.ndarray, value: float, start: np.ndarray, basis=None
) -> tuple[float, np.ndarray]:
    """The profile log-likelihood of a linear function :math:`c^\\top\\theta` at
    ``value``: the maximum over :math:`\\{\\theta : c^\\top\\theta = v\\}`.

    Parameters
    ----------
    objective : Objective
    contrast : ndarray of shape (n_params,)
        :math:`c`, not zero.
    value : float
    start : ndarray of shape (n_params,)
    basis : ndarray of shape (n_params, m), default=None
        Orthonormal columns spanning the directions left free (orthogonal to
        :math:`c`); by default all of them. Leaving out the directions in which
        the log-likelihood is flat (the classes of a multinomial model) keeps
        Newton's method on an identified problem.

    Returns
    -------
    loglik : float
    theta : ndarray of shape (n_params,)
        The maximiser, with :math:`c^\\top\\theta = v` (to rounding).
    """
    contrast = np.asarray(contrast, dtype=float)
    if basis is None:
        basis = free_basis(contrast)
    base = contrast * (value / (contrast @ contrast))
    restricted = _Restricted(objective, base, basis)
    return _maximise(restricted, basis.T @ np.asarray(start, dtype=float))


def free_basis(contrast: np.ndarray, flat: np.ndarray | None = None) -> np.ndarray:
    """Orthonormal columns spanning the complement of :math:`c` and of the columns
    of ``flat`` (directions along which the log-likelihood does not change)."""
    fixed = np.atleast_2d(contrast).T
    if flat is not None and flat.size:
        fixed = np.hstack([fixed, flat])
    q, _ = np.linalg.qr(fixed, mode="complete")
    return q[:, fixed.shape[1] :]


def likelihood_ratio_interval(
    evaluate: Evaluate,
    estimate: float,
    theta_hat: np.ndarray,
    cutoff: float,
    scale: float,
    name: str = "the parameter",
) -> tuple[float, float]:
    """Where the profile crosses ``cutoff`` on each side of ``estimate``.

    Each end is bracketed by steps of ``scale`` doubling outwards, then found by
    Brent's method to ``1e-10 * scale``; each profile solve starts from the
    solution at the nearest value solved before.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(value, start) -> (profile log-likelihood, theta)``.
    estimate : float
        The maximum likelihood estimate, where the profile is highest.
    theta_hat : ndarray of shape (n_params,)
        The maximiser, the start of the first evaluation.
    cutoff : float
        :math:`\\ell(\\hat\\theta) - \\tfrac12\\chi^2_{1,1-\\alpha}`.
    scale : float
        The first step away from the estimate.
    name : str, default="the parameter"
        For the error message.

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        When the profile stays above the cutoff (an unbounded interval).
    """

    # Each solve starts from the solution at the nearest value already solved
    # (Brent's iterates close in on the end, so Newton starts near the answer);
    # the value at the estimate is solved once for both sides.
    solved: dict[float, tuple[float, np.ndarray]] = {}

    def excess(value):
        value = float(value)
        if value not in solved:
            nearest = min(solved, key=lambda v: abs(v - value), default=None)
            start = theta_hat if nearest is None else solved[nearest][1]
            solved[value] = evaluate(value, start)
        return solved[value][0] - cutoff

    ends = []
    for direction in (-1.0, 1.0):
        step = scale
        while excess(estimate + direction * step) > 0:
            step *= 2.0
            if step > 1e6 * scale:
                raise ValueError(
                    f"The profile log-likelihood of {name} does not fall below the "
                    "cutoff: the likelihood-ratio interval is unbounded."
                )
        ends.append(
            optimize.brentq(
                excess, estimate, estimate + direction * step, xtol=1e-10 * scale
            )
        )
    return float(ends[0]), float(ends[1])


def profile_on_grid(
    evaluate: Evaluate, estimate: float, theta_hat: np.ndarray, values
) -> np.ndarray:
    """The profile log-likelihood at each of ``values``.

    By continuation: walking outwards from the estimate, each solve starts where
    the previous one ended, so Newton's method starts close to the answer.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(value, start) -> (profile log-likelihood, theta)``.
    estimate : float
    theta_hat : ndarray of shape (n_params,)
    values : array-like of shape (n_points,)

    Returns
    -------
    ndarray of shape (n_points,)
    """
    values = np.asarray(values, dtype=float)
    loglik = np.empty_like(values)
    order = np.argsort(values)
    below = [i for i in order[::-1] if values[i] < estimate]
    above = [i for i in order if values[i] >= estimate]
    for side in (below, above):
        theta = theta_hat
        for i in side:
            loglik[i], theta = evaluate(values[i], theta)
    return loglik


def flat_directions(objective, theta: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning the null space of the observed information at
    ``theta`` (none without a Hessian)."""
    if not objective.has_hessian:
        return np.zeros((theta.size, 0))
    information = -np.asarray(objective.hessian(theta), dtype=float)
    diagonal = np.diag(information)
    scale = np.ones_like(diagonal)
    scale[diagonal > 0] = 1.0 / np.sqrt(diagonal[diagonal > 0])
    values, vectors = linalg.eigh(information * np.outer(scale, scale))
    flat = vectors[:, values <= FLAT_RTOL * max(values[-1], 0.0)] * scale[:, None]
    if not flat.size:
        return flat
    return np.linalg.qr(flat)[0]
