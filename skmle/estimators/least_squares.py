"""Weighted least squares for the linear regressors, and the information it leaves.

:func:`least_squares` routes between Cholesky of the centred normal equations,
Householder QR of the rows (:mod:`skmle.models.qr_least_squares`) and, for a fit
from moments alone, the eigendecomposition of the normal matrix.
:func:`location_information` turns the triangular factor of either route into the
:class:`~skmle.inference.Information` of the location parameters, which both
regressors hand to the one inference path.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from skmle.estimators.linear_fit import LinearObjective
from skmle.estimators.sparse_least_squares import sparse_min_norm
from skmle.inference import Information, SingularInformation
from skmle.models.linear_gaussian import (
    min_norm_from_normal_equations,
    solve_normal_equations,
)
from skmle.models.qr_least_squares import (
    QRSolution,
    TriangularFactor,
    corrected_coef,
    gradient_sums,
    solve_triangular_factor,
)


@dataclass(frozen=True)
class LeastSquares:
    """A least-squares fit: coefficients, intercept, the route taken and the factor
    of the normal matrix it leaves (``(cho_factor, scales)``, a
    :class:`~skmle.models.qr_least_squares.QRSolution`, or None)."""

    coef: np.ndarray
    intercept: float
    route: str
    factor: object


def least_squares(objective: LinearObjective) -> LeastSquares:
    """Weighted least squares: Cholesky of the centred normal equations.

    When :func:`solve_normal_equations` declines (the equilibrated normal
    matrix is singular or its estimated reciprocal condition number is below
    :data:`~skmle.models.linear_gaussian.RCOND_MIN`), the rows are reduced by
    Householder QR instead (:mod:`skmle.models.qr_least_squares`): rank
    decided on the centred, unit-norm columns, one corrected semi-normal
    step when the rank is full, the minimum-norm solution when it is not.
    A fit from moments alone (``partial_fit``) takes the minimum-norm
    solution from the eigendecomposition of the normal matrix instead.
    """
    stats_ = objective.stats
    x_mean, y_mean = stats_.x_mean, stats_.y_mean
    solved = solve_normal_equations(stats_.gram, stats_.cross)
    factor = None
    if solved is not None:
        coef, factor = solved
        route = "Cholesky"
    elif objective.sparse and (coef := sparse_min_norm(objective)) is not None:
        # scipy has no sparse QR: LSMR on the implicitly centred rows instead.
        route = "LSMR of the sparse rows (minimum norm)"
    elif objective.from_moments or objective.sparse:
        coef = min_norm_from_normal_equations(stats_.gram, stats_.cross)
        route = "eigendecomposition of X^T W X (minimum norm)"
    else:
        factor = qr_solution(objective)
        coef, y_mean, route = _qr_least_squares(objective, factor)
    return LeastSquares(coef, y_mean - float(x_mean @ coef), route, factor)


def _qr_least_squares(
    objective: LinearObjective, solution: QRSolution
) -> tuple[np.ndarray, float, str]:
    """The QR route of :func:`least_squares`: coefficients, centre of ``y``, route."""
    stats_ = objective.stats
    y_mean = stats_.y_mean
    if not solution.full_rank:
        d = solution.x_scale.shape[0]
        return solution.coef, y_mean, f"QR (rank {solution.rank} of {d}, minimum norm)"
    sums = objective.sum_batches(
        partial(gradient_sums, x_mean=stats_.x_mean, y_mean=y_mean, coef=solution.coef)
    )
    coef, offset = corrected_coef(
        solution, sums, objective.total_weight, objective.model.fit_intercept
    )
    return coef, y_mean + offset, "Householder QR"


def qr_solution(objective: LinearObjective) -> QRSolution:
    """Householder QR of the centred, unit-norm, weighted rows (one pass)."""
    stats_ = objective.stats
    diagonal = np.diag(stats_.gram)
    # A constant column (zero centred spread, see DataStats) is divided by
    # an infinite scale: its rounding noise becomes an exact zero column.
    x_scale = np.where(diagonal > 0, np.sqrt(np.abs(diagonal)), np.inf)
    factor = objective.sum_batches(
        partial(
            TriangularFactor.from_batch,
            x_mean=stats_.x_mean,
            y_mean=stats_.y_mean,
            x_scale=x_scale,
        )
    )
    return solve_triangular_factor(factor, x_scale)


def gram_factor(objective: LinearObjective):
    """A factor of the normal matrix for the standard errors, when no solver left
    one: Cholesky (ill-conditioned is fine here: large errors are the honest
    answer; singular to working precision is not), else QR of the rows; None
    when neither exists (a fit from moments with a singular normal matrix)."""
    gram = objective.stats.gram
    eps = np.finfo(float).eps
    solved = solve_normal_equations(
        gram, np.zeros(gram.shape[0]), rcond_min=gram.shape[0] * eps
    )
    if solved is not None:
        return solved[1]
    if objective.from_moments or objective.sparse:
        return None
    return qr_solution(objective)


def location_information(
    factor, x_mean: np.ndarray, total_weight: float, fit_intercept: bool, variance
) -> Information:
    """The information of ``[intercept, coef]`` (or ``coef``): :math:`X_1^\\top W X_1
    / v` with :math:`X_1 = [1, X]` and ``variance`` :math:`v`.

    With :math:`G = S R^\\top R S` (``factor``'s triangle :math:`R`, column scales
    :math:`S`) the centred columns are orthogonal to the constant one, so

    .. math:: X_1^\\top W X_1 = D^{-1} R_1^\\top R_1 D^{-1}, \\quad
       R_1 = \\begin{bmatrix} 1 & \\sqrt W \\bar x^\\top S^{-1} \\\\ 0 & R
       \\end{bmatrix}, \\quad D^{-1} = \\mathrm{diag}(\\sqrt W, S),

    triangular: the intercept's variance :math:`v (1/W + \\lVert R^{-\\top}
    S^{-1} \\bar x \\rVert^2)` comes from one triangular solve, without an
    explicit inverse. The factor's rank was decided by its route (the condition
    estimate of Cholesky, the pivoted QR), so it is taken as it is.

    Raises
    ------
    SingularInformation
        When ``factor`` is None or a QR of lower rank.
    """
    if factor is None:
        raise SingularInformation("the normal matrix is singular")
    if isinstance(factor, QRSolution):
        if not factor.full_rank:
            raise SingularInformation("the normal matrix is singular")
        r, scales = factor.r, factor.x_scale
    else:
        (cho, lower), scales = factor
        r = np.tril(cho).T if lower else np.triu(cho)
    if not fit_intercept:
        return Information(r, 1.0 / scales, 1.0 / variance)
    d = scales.shape[0]
    root = np.sqrt(total_weight)
    full = np.zeros((d + 1, d + 1))
    full[0, 0] = 1.0
    full[0, 1:] = root * (x_mean / scales)
    full[1:, 1:] = r
    return Information(full, np.append(1.0 / root, 1.0 / scales), 1.0 / variance)


def intercept_last(half: np.ndarray) -> np.ndarray:
    """The transform from ``[intercept, coef]`` to ``[coef, intercept]``."""
    return np.roll(half, -1, axis=0)
