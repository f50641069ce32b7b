"""Certified bounds on the distance of a LAD fit to the optimum (weak duality)."""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.optimize import linprog

from skmle.optim.lad.exact import LADPasses
from skmle.optim.lad.scaling import LADScaling
from skmle.optim.lad.sparse_rows import dense_band


def band_duality_gap(
    X: np.ndarray, residuals: np.ndarray, w: np.ndarray, rhs: np.ndarray
) -> float:
    """Certified bound on :math:`f(\\beta) - f^*` from the rows of a band.

    The rows outside the band take the dual values :math:`d_i = w_i
    \\mathrm{sign}(r_i)`, which fold into ``rhs`` :math:`= -\\sum_{F} d_i x_i`
    (:func:`band_sums`); the band's ``d`` maximises :math:`r_B^\\top d` subject to
    :math:`X_B^\\top d = b` and :math:`|d_i| \\le w_i` (a small LP). Then ``d`` is
    feasible for the dual of the whole problem, so by weak duality

    .. math:: f(\\beta) - f^* \\le f(\\beta) - y^\\top d
       = \\sum_{i \\in B} (w_i |r_i| - r_i d_i),

    which is returned; ``inf`` when no feasible ``d`` is found (the band is too
    narrow or the signs outside it are wrong). The LP sees the band's columns
    orthonormalised (:math:`X_B = QR`, constraints :math:`Q^\\top d = R^{-\\top} b`)
    and weights of mean one, so that its absolute tolerances fit any units.
    If the band's rows do not span the independent columns, no ``d`` is found.
    """
    if X.shape[0] == 0:
        return 0.0 if not np.any(rhs) else np.inf
    # The band has a few rows per column: its LP is posed on a dense orthonormal
    # basis of them anyway.
    X, rhs = _equilibrated_constraints(dense_band(X), rhs, w)
    unit = float(np.mean(w))
    # Dependent columns (a collinear design) give redundant constraints: the LP
    # keeps independent ones, and the check below tests them all.
    _, r, pivots = linalg.qr(X, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int(np.count_nonzero(diagonal > 1e-12 * diagonal.max())) if r.size else 0
    if rank == 0:
        return 0.0 if not np.any(rhs) else np.inf
    independent = np.sort(pivots[:rank])
    q, r = np.linalg.qr(X[:, independent])
    target = linalg.solve_triangular(r, rhs[independent] / unit, trans="T")
    size = float(np.max(np.abs(residuals))) or 1.0
    result = linprog(
        -residuals / size,
        A_eq=q.T,
        b_eq=target,
        bounds=np.column_stack([-w, w]) / unit,
        method="highs",
    )
    if result.status != 0 or result.x is None:
        return np.inf
    dual = np.clip(result.x * unit, -w, w)
    tolerance = 1e-7 * (np.abs(X).T @ w + np.abs(rhs))
    if not np.all(np.abs(X.T @ dual - rhs) <= tolerance):
        return np.inf
    return max(float(w @ np.abs(residuals) - residuals @ dual), 0.0)


def _equilibrated_constraints(X, rhs, w) -> tuple[np.ndarray, np.ndarray]:
    """The same constraints :math:`X^\\top d = b` as :math:`(XM)^\\top d = M^\\top b`.

    :math:`M` is :class:`LADScaling`'s change of units read as a linear map of
    the columns: with a constant column :math:`k` (value :math:`v_k`), centring
    column :math:`j` by :math:`c_j` subtracts :math:`c_j / v_k` times column
    :math:`k`, so :math:`b'_j = (b_j - c_j b_k / v_k) / s_j` and
    :math:`b'_k = b_k / v_k`. Columns shifted by :math:`10^9` would otherwise be
    nearly parallel to the constant one.
    """
    scaling = LADScaling.from_arrays(X, np.zeros(X.shape[0]), w)
    rows = (X - scaling.x_shift) / scaling.x_scale
    folded = rhs.astype(float).copy()
    if np.any(scaling.constant):
        k = int(np.flatnonzero(scaling.constant)[0])
        folded = folded - scaling.x_shift * (rhs[k] / scaling.x_scale[k])
    return rows, folded / scaling.x_scale


def relative_duality_gap(passes: LADPasses, coef: np.ndarray, n_band: int) -> float:
    """:func:`band_duality_gap` over the ``n_band`` rows nearest the fit, divided by
    :math:`f(\\beta) = \\sum_i w_i |r_i|` (three passes over the rows)."""
    threshold = passes.threshold(coef, n_band)
    X, y, w, rhs = passes.band(coef, threshold)
    gap = band_duality_gap(X, y - X @ coef, w, rhs)
    _, _, value = passes.check(coef, -1.0, coef)  # the objective, nothing folded
    return 0.0 if value == 0 else gap / value
