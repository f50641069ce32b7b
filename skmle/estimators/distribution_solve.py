"""Fitting independent columns: closed forms, weighted medians and Newton by column.

:func:`solve_columns` fits every column of a
:class:`~skmle.models.distributions.ColumnsLogLikelihood` at once. One pass sums
each column's statistics; a family with a closed form takes it (Laplace after
its weighted median, :func:`weighted_median`); the others run Newton's method on
their own block of ``theta`` (the Hessian is block diagonal), each with its own
backtracking, from the start their statistics give. A family whose statistics
are sufficient (gamma, beta) iterates on them alone; Weibull and Student-t share
one pass over the rows per iteration. Everything is summed through
``sum_batches``, so chunked and Dask data give the in-memory fit.

A column has converged when its gradient of the mean log-likelihood, whitened by
the Cholesky factor of its curvature, is at most ``tol`` in every component.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from skmle.models.distributions.base import unit_weights, weighted_sum
from skmle.models.distributions.model import block_diagonal, blocked_sum
from skmle.optim import OptimizeResult
from skmle.optim.result import Learned
from skmle.status import Status

N_BINS = 4096
GATHER_LIMIT = 65536


@dataclass(frozen=True)
class _Extremes:
    """The smallest and largest value of positive weight; adds as min and max."""

    low: float
    high: float

    def __add__(self, other):
        return _Extremes(min(self.low, other.low), max(self.high, other.high))


@dataclass(frozen=True)
class _Gathered:
    """Values and weights of some rows and the weight below them; adds by joining."""

    values: np.ndarray
    weights: np.ndarray
    below: float

    def __add__(self, other):
        return _Gathered(
            np.concatenate([self.values, other.values]),
            np.concatenate([self.weights, other.weights]),
            self.below + other.below,
        )


def _extremes(j, batch):
    w = batch.sample_weight
    positive = unit_weights(w) or (w.size and w.min() > 0)
    x = batch.X[:, j] if positive else batch.X[w > 0, j]
    return (
        _Extremes(float(x.min()), float(x.max()))
        if x.size
        else _Extremes(np.inf, -np.inf)
    )


def _histogram_block(low, high, x, w):
    scaled = np.floor((x - low) * (N_BINS / (high - low)))
    index = np.clip(scaled, -1, N_BINS) + 1
    index[x == high] = N_BINS  # the top value belongs to the last bin
    index = index.astype(np.intp)
    if w is None:
        counts = np.bincount(index, minlength=N_BINS + 2).astype(float)
        return counts, counts
    return (
        np.bincount(index, w, minlength=N_BINS + 2),
        np.bincount(index, (w > 0).astype(float), minlength=N_BINS + 2),
    )


def _histogram(j, low, high, batch):
    block = partial(_histogram_block, low, high)
    return blocked_sum(block, batch.X[:, j], batch.sample_weight)


def _gather_block(low, high, x, w):
    if w is None:
        inside = (x >= low) & (x <= high)
        values = x[inside]
        return _Gathered(values, np.ones(values.size), float(np.sum(x < low)))
    inside = (x >= low) & (x <= high) & (w > 0)
    return _Gathered(x[inside], w[inside], float(w[x < low].sum()))


def _gather(j, low, high, batch):
    block = partial(_gather_block, low, high)
    return blocked_sum(block, batch.X[:, j], batch.sample_weight)


def weighted_median(sum_batches, j: int, total: float) -> float:
    """The weighted median of column ``j``: the midpoint of the minimisers of
    :math:`\\sum_i w_i |x_{ij} - m|` (``numpy.median`` for unit weights).

    The lower and upper medians are the smallest values whose cumulative weight
    reaches, and exceeds, :math:`W/2`. Histograms of 4096 bins narrow the interval
    holding both until few rows remain in it; those rows are then gathered and
    sorted. Each step is a sum over the rows.
    """
    ext = sum_batches(partial(_extremes, j))
    low, high, half = ext.low, ext.high, 0.5 * total
    for _ in range(8):
        if not low < high:
            return float(low)
        weights, counts = sum_batches(partial(_histogram, j, low, high))
        cumulative = np.cumsum(weights)[1:-1]
        first = min(int(np.searchsorted(cumulative, half, "left")), N_BINS - 1)
        last = min(int(np.searchsorted(cumulative, half, "right")), N_BINS - 1)
        width = (high - low) / N_BINS
        # one bin of margin either side: the edges are not computed exactly
        low, high = low + max(first - 1, 0) * width, min(low + (last + 2) * width, high)
        if counts[first : last + 3].sum() <= GATHER_LIMIT:
            break
    rows = sum_batches(partial(_gather, j, low, high))
    order = np.argsort(rows.values, kind="stable")
    values, cumulative = rows.values[order], rows.below + np.cumsum(rows.weights[order])
    lower = values[np.searchsorted(cumulative, half, "left")]
    upper = values[min(np.searchsorted(cumulative, half, "right"), values.size - 1)]
    return float(0.5 * (lower + upper))


def _abs_deviation_block(centre, x, w):
    return weighted_sum(w, np.abs(x - centre))


def _abs_deviation(j, centre, batch):
    block = partial(_abs_deviation_block, centre)
    return blocked_sum(block, batch.X[:, j], batch.sample_weight)


def _derivatives(model, theta, columns, batch):
    return model.column_derivatives(theta, batch, columns)


def _ascent_direction(grad, hess):
    """Newton's direction, with the curvature's eigenvalues made negative where
    they are not (far from the maximum)."""
    values, vectors = np.linalg.eigh(-hess)
    floor = 1e-12 * max(np.max(np.abs(values)), 1e-300)
    return vectors @ ((vectors.T @ grad) / np.maximum(np.abs(values), floor))


def whitened_gradient(grad, hess, total) -> float:
    """The largest component of the mean gradient whitened by the mean curvature
    (infinite where the curvature is not negative definite)."""
    try:
        factor = np.linalg.cholesky(-hess / total)
    except np.linalg.LinAlgError:
        return np.inf
    # numpy's solvers: scipy.linalg's cost tens of microseconds a call here
    return float(np.max(np.abs(np.linalg.solve(factor, grad / total))))


def start_theta(model, stats, total, sum_batches) -> np.ndarray:
    """Each column's closed form, or the start of its Newton iterations."""
    parts = []
    for j, family in enumerate(model.families):
        if family.needs_median:
            median = weighted_median(sum_batches, j, total)
            deviation = sum_batches(partial(_abs_deviation, j, median))
            parts.append(family.from_median(median, deviation, total))
        elif family.closed_form:
            parts.append(family.closed(stats[j], total, model.prior))
        else:
            parts.append(family.start(stats[j], total))
    return np.concatenate(parts)


def solve_columns(model, stats, total, sum_batches, max_iter, tol, theta0=None):
    """Fit every column (see the module docstring); ``theta0`` replaces the
    start of the iterative columns (a warm start). Returns an
    :class:`~skmle.optim.OptimizeResult` whose ``learned`` holds the information
    (minus the Hessian of the log-posterior, block diagonal) and the
    log-likelihood at the maximum."""
    theta = start_theta(model, stats, total, sum_batches)
    families, slices = model.families, model.slices
    iterative = [j for j, f in enumerate(families) if not f.closed_form]
    if theta0 is not None:
        for j in iterative:
            theta[slices[j]] = theta0[slices[j]]
    # a family solvable from its statistics alone (the gamma's profile root)
    # starts Newton at its maximum: one evaluation confirms it
    profiled = 0
    for j in iterative:
        if hasattr(families[j], "profile_mle"):
            theta[slices[j]], k = families[j].profile_mle(
                stats[j], total, theta[slices[j]]
            )
            profiled = max(profiled, k)
    parts = {
        j: families[j].closed_parts(theta[slices[j]], stats[j], total)
        for j, f in enumerate(families)
        if f.closed_form
    }

    def evaluate(columns, point):
        found = {
            j: families[j].stats_derivatives(stats[j], total, point[slices[j]])
            for j in columns
            if families[j].sufficient
        }
        by_pass = [j for j in columns if not families[j].sufficient]
        if by_pass:
            if sum_batches is None:
                raise ValueError("these families need the rows, not only statistics")
            found.update(
                zip(
                    by_pass,
                    sum_batches(partial(_derivatives, model, point, by_pass)),
                    strict=True,
                )
            )
        return found

    parts.update(evaluate(iterative, theta))
    history = [sum(p[0] for p in parts.values()) / total]
    active, stalled, n_iter = list(iterative), [], 0
    while n_iter < max_iter:
        active = [
            j
            for j in active
            if whitened_gradient(parts[j][1], parts[j][2], total) > tol
        ]
        if not active:
            break
        n_iter += 1
        steps = {j: _ascent_direction(parts[j][1], parts[j][2]) for j in active}
        length = dict.fromkeys(active, 1.0)
        pending = list(active)
        for _ in range(50):
            trial = theta.copy()
            for j in pending:
                trial[slices[j]] += length[j] * steps[j]
            with np.errstate(all="ignore"):
                found = evaluate(pending, trial)
            waiting = []
            for j in pending:
                old, new = parts[j][0], found[j][0]
                if np.isfinite(new) and new >= old - 1e-13 * abs(old):
                    theta[slices[j]], parts[j] = trial[slices[j]], found[j]
                else:
                    length[j] *= 0.5
                    waiting.append(j)
            pending = waiting
            if not pending:
                break
        stalled += pending
        active = [j for j in active if j not in pending]
        history.append(sum(p[0] for p in parts.values()) / total)
    loglik = float(sum(p[0] for p in parts.values()))
    hess = block_diagonal(*[parts[j][2] for j in range(len(families))])
    prior, _, prior_hess = model.log_prior(theta, total)
    failing = [
        j for j in iterative if whitened_gradient(parts[j][1], parts[j][2], total) > tol
    ]
    converged = not failing
    if converged:
        message = "closed form" if not iterative else "whitened gradient below tol"
        status = Status.CLOSED_FORM if not iterative else Status.CONVERGED
    else:
        why = "the line search stalled" if stalled else "max_iter reached"
        message = f"{why}; columns {failing} have a whitened gradient above tol={tol:g}"
        status = Status.STALLED if stalled else Status.MAX_ITER
    return OptimizeResult(
        theta=theta,
        value=(loglik + prior) / total,
        history=np.asarray(history) + prior / total,
        n_iter=max(n_iter, profiled, 1),
        converged=converged,
        message=message,
        status=status,
        learned=Learned(
            information=-(hess + prior_hess), at=theta.copy(), loglik=loglik
        ),
    )
