"""An interior-point method for the banded LAD linear program, and its hand-over to a
vertex solver on the few rows it leaves undecided.

The band's LP, :math:`\\max_d y^\\top d` subject to :math:`X^\\top d = b` and
:math:`|d_i| \\le w_i`, is written with :math:`x = d + w` as

.. math:: \\min_x\\; c^\\top x \\quad \\text{s.t.}\\quad X^\\top x = b + X^\\top w,
   \\quad 0 \\le x \\le u, \\qquad c = -y,\\; u = 2w,

whose dual has multipliers :math:`\\lambda = -\\beta` and slacks :math:`z, s \\ge 0`
with :math:`z - s = c - X\\lambda = -(y - X\\beta)`. Mehrotra's predictor-corrector
(the "Frisch-Newton" method of Portnoy and Koenker, 1997) follows the central path
:math:`x_i z_i = (u_i - x_i) s_i = \\mu \\to 0`; each step solves one
:math:`p \\times p` system :math:`X^\\top D X`, so its cost is :math:`O(n p^2)` per
step and grows linearly in the rows. Its answer is not a vertex and not
certified: :func:`interior_then_vertex` uses it only to fold the rows whose
residual sign it settles, hands the rest to an exact vertex solver (HiGHS) and
checks the folded signs at the vertex, exactly as the band itself is checked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import linalg

from skmle.optim.lad.sparse_rows import gram, is_sparse, take_rows

IPM_TOL = 1e-10
"""Relative primal and dual infeasibility and duality gap at which the method stops."""

IPM_MAX_ITER = 80
CORE_ROWS = 50
"""The vertex solver sees the ``max(CORE_ROWS, 4 p)`` rows of smallest residual."""


def interior_point_lad(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, rhs: np.ndarray
) -> np.ndarray | None:
    """Approximate coefficients of the band LP by Mehrotra's predictor-corrector.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    y, w : ndarray of shape (n_rows,)
        Responses and positive weights (of mean about one: the rows are scaled).
    rhs : ndarray of shape (n_features,)
        The folded right-hand side :math:`b`.

    Returns
    -------
    ndarray of shape (n_features,) or None
        :math:`\\beta = -\\lambda`; None when the method does not converge.
    """
    # A row at its bound has x or v tiny: z / x overflows (its d is then 0), and
    # a step that runs out of the double range ends in the checks below (None).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _mehrotra(X, y, w, rhs)


def _mehrotra(X, y, w, rhs) -> np.ndarray | None:
    """The iteration of :func:`interior_point_lad`."""
    n = X.shape[0]
    c, u = -y, 2.0 * w
    b = rhs + X.T @ w
    x = 0.5 * u
    v = u - x
    lam = _least_squares_start(X, c)
    slack = c - X @ lam
    shift = 0.1 * float(np.mean(np.abs(slack))) + 1e-3
    z, s = np.maximum(slack, 0.0) + shift, np.maximum(-slack, 0.0) + shift
    scale_b, scale_c = 1.0 + np.linalg.norm(b), 1.0 + np.linalg.norm(c)
    for _ in range(IPM_MAX_ITER):
        r_p = b - X.T @ x
        r_d = c - X @ lam - z + s
        gap = float(x @ z + v @ s)
        if (
            np.linalg.norm(r_p) <= IPM_TOL * scale_b
            and np.linalg.norm(r_d) <= IPM_TOL * scale_c
            and gap <= IPM_TOL * (1.0 + abs(float(c @ x)))
        ):
            return -lam
        d = 1.0 / (z / x + s / v)
        if not np.all(np.isfinite(d)):
            return None
        try:
            factor = linalg.cho_factor(_normal_matrix(X, d), check_finite=False)
        except linalg.LinAlgError:
            return None

        point = (X, factor, d, r_p, r_d, x, v, z, s)
        d_x, d_lam, d_z, d_s = _newton(point, -x * z, -v * s)
        a_p = _step(x, d_x, v, -d_x)
        a_d = _step(z, d_z, s, d_s)
        mu = gap / (2 * n)
        affine = (x + a_p * d_x) @ (z + a_d * d_z) + (v - a_p * d_x) @ (s + a_d * d_s)
        sigma = (float(affine) / (2 * n) / mu) ** 3
        d_x, d_lam, d_z, d_s = _newton(
            point, sigma * mu - x * z - d_x * d_z, sigma * mu - v * s + d_x * d_s
        )
        a_p = min(1.0, 0.9995 * _step(x, d_x, v, -d_x))
        a_d = min(1.0, 0.9995 * _step(z, d_z, s, d_s))
        x, v = x + a_p * d_x, v - a_p * d_x
        lam, z, s = lam + a_d * d_lam, z + a_d * d_z, s + a_d * d_s
        if not (np.all(x > 0) and np.all(v > 0) and np.all(np.isfinite(lam))):
            return None
    return None


def _least_squares_start(X, c: np.ndarray) -> np.ndarray:
    """:math:`\\arg\\min_\\lambda \\lVert c - X\\lambda \\rVert` (any start will do:
    for sparse ``X`` from the normal equations, minimum-norm when singular)."""
    if not is_sparse(X):
        return linalg.lstsq(X, c, check_finite=False)[0]
    return linalg.lstsq(gram(X, np.ones(X.shape[0])), X.T @ c, check_finite=False)[0]


def _normal_matrix(X, d: np.ndarray) -> np.ndarray:
    """:math:`X^\\top D X`."""
    return gram(X, d) if is_sparse(X) else (X * d[:, None]).T @ X


def _newton(point, r_xz, r_vs):
    """The Newton direction for the right-hand sides ``r_xz`` and ``r_vs`` of the
    complementarity rows, through :math:`X^\\top D X` (factored)."""
    X, factor, d, r_p, r_d, x, v, z, s = point
    rho = r_d - r_xz / x + r_vs / v
    d_lam = linalg.cho_solve(factor, r_p + X.T @ (d * rho), check_finite=False)
    d_x = d * (X @ d_lam - rho)
    return d_x, d_lam, (r_xz - z * d_x) / x, (r_vs + s * d_x) / v


def _step(a, d_a, b, d_b) -> float:
    """The longest step keeping ``a + t d_a`` and ``b + t d_b`` positive."""
    step = np.inf
    for value, change in ((a, d_a), (b, d_b)):
        falling = change < 0
        if np.any(falling):
            step = min(step, float(np.min(value[falling] / -change[falling])))
    return step


def interior_then_vertex(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    rhs: np.ndarray,
    vertex: Callable[..., np.ndarray | None],
) -> np.ndarray | None:
    """The band LP's certified vertex, from the interior point on a few rows.

    :func:`interior_point_lad` gives nearly optimal coefficients; all rows but the
    ``max(CORE_ROWS, 4 p)`` of smallest :math:`|r_i|` are folded with their signs
    (as the band is folded from the data), ``vertex(X, y, w, rhs)`` (the
    certified HiGHS solve) solves the rest, and the vertex is returned only if no
    folded row's residual changed sign at it: then its dual, completed by
    :math:`d_i = w_i \\mathrm{sign}(r_i)` on the folded rows, is feasible for the
    whole band and has the same objective (weak duality), so it is optimal for
    the band. None otherwise (the caller solves the whole band instead).
    """
    coef = interior_point_lad(X, y, w, rhs)
    if coef is None:
        return None
    residuals = y - X @ coef
    size = max(CORE_ROWS, 4 * X.shape[1])
    if size >= X.shape[0]:
        return None
    limit = np.partition(np.abs(residuals), size - 1)[size - 1]
    core = np.abs(residuals) <= limit
    signs = np.where(core, 0.0, np.sign(residuals))
    core_rows = take_rows(X, core)
    candidate = vertex(core_rows, y[core], w[core], rhs - X.T @ (w * signs))
    if candidate is None or np.any(signs * (y - X @ candidate) < 0):
        return None
    return candidate
