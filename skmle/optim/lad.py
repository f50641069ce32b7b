"""Least absolute deviations: minimise :math:`\\sum_i w_i |y_i - x_i^\\top \\beta|`.

Two solvers for the location part of Laplace regression (the scale then has a
closed form):

- :func:`least_absolute_deviations`, exact. The problem is the linear program
  whose dual is

  .. math:: \\max_d\\; y^\\top d \\quad \\text{s.t.}\\quad X^\\top d = 0,\\quad
     -w_i \\le d_i \\le w_i,

  with only ``n_features`` equality rows; the coefficients are the multipliers
  of those rows. HiGHS solves it directly for small problems. For large ones,
  iteratively reweighted least squares first gets close; the rows whose residual
  is far from zero then keep their sign at the optimum, so they are folded
  (Portnoy and Koenker's "globbing") into the right-hand side
  :math:`X_F^\\top d_F = -X_F^\\top(w_F \\,\\mathrm{sign}(r_F))` and only a band of
  rows near the fit enters the LP. The fit is exact when no folded row changes
  sign; otherwise those rows join the band and the LP is solved again.
- :func:`subgradient_lad`: subgradient ascent on the mean of
  :math:`-|r_i|` with a decaying step, the textbook method for a non-smooth
  objective. Slow and approximate; it is there to be read, not to be used on
  large problems.

Neither knows about Laplace regression: arrays in, coefficients out. Exactness of
a solution can be checked independently with :func:`scipy.optimize.linprog`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.optimize import linprog

from skmle._blas import single_blas_thread
from skmle.optim.result import Callback, OptimizeResult

DIRECT_ROWS = 1000
"""Up to ``max(DIRECT_ROWS, 20 * n_features)`` rows the LP is solved in one go."""

IRLS_MAX_ITER = 20
IRLS_RTOL = 1e-6


@dataclass(frozen=True)
class LADResult:
    """Outcome of :func:`least_absolute_deviations`.

    Attributes
    ----------
    coef : ndarray of shape (n_features,)
    objective : float
        :math:`\\sum_i w_i |y_i - x_i^\\top \\hat\\beta|`.
    n_iter : int
        IRLS iterations plus LP solves.
    method : str
        ``"lp"`` (one LP on all rows) or ``"irls+band lp"``.
    """

    coef: np.ndarray
    objective: float
    n_iter: int
    method: str


def least_absolute_deviations(
    X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray
) -> LADResult:
    """Exact weighted least-absolute-deviation coefficients (a basic solution).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The design, with a column of ones if an intercept is wanted.
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)
        Non-negative; rows of weight zero are dropped.

    Returns
    -------
    LADResult

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.arange(5.0), np.ones(5)])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0, 40.0])
    >>> np.round(least_absolute_deviations(X, y, np.ones(5)).coef, 12)
    array([1., 0.])
    """
    keep = sample_weight > 0
    if not np.all(keep):
        X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
    n, p = X.shape
    # The products here are tall and thin (p columns): a second BLAS thread saves
    # little, and on a busy machine its spin-waiting costs several times that.
    with single_blas_thread():
        if n <= max(DIRECT_ROWS, 20 * p):
            coef = _dual_lp(X, y, sample_weight, np.zeros(p))
            if coef is None:
                raise RuntimeError("HiGHS failed on the least-absolute-deviation LP.")
            return LADResult(coef, _objective(X, y, sample_weight, coef), 1, "lp")
        return _banded(X, y, sample_weight)


def _objective(X, y, w, coef) -> float:
    return float(w @ np.abs(y - X @ coef))


def _dual_lp(X, y, w, rhs) -> np.ndarray | None:
    """Coefficients from the dual LP, or None if HiGHS reports no optimum."""
    result = linprog(
        -y,
        A_eq=X.T,
        b_eq=rhs,
        bounds=np.column_stack([-w, w]),
        method="highs",
    )
    if result.status != 0:
        return None
    # linprog minimises -y^T d; the multipliers of X^T d = rhs are -coef.
    return -np.asarray(result.eqlin.marginals)


def _irls(X, y, w) -> tuple[np.ndarray, int] | None:
    """A few iteratively reweighted least-squares steps towards the LAD fit.

    Each solves :math:`\\min \\sum_i \\frac{w_i}{\\max(|r_i|, \\delta)} r_i^2` with the
    previous residuals; the floor :math:`\\delta` keeps the weights finite. None
    if a weighted normal matrix is singular (collinear columns).
    """
    coef = np.zeros(X.shape[1])
    weights = w
    previous = np.inf
    n_iter = 0
    while n_iter < IRLS_MAX_ITER:
        n_iter += 1
        root = np.sqrt(weights)
        Z = X * root[:, None]
        try:
            factor = linalg.cho_factor(Z.T @ Z, check_finite=False)
        except linalg.LinAlgError:
            return None
        coef = linalg.cho_solve(factor, Z.T @ (root * y), check_finite=False)
        absolute = np.abs(y - X @ coef)
        current = float(w @ absolute)
        if not np.isfinite(current):
            return None
        if previous - current <= IRLS_RTOL * current:
            break
        previous = current
        floor = 1e-6 * current / w.sum()
        weights = w / np.maximum(absolute, max(floor, np.finfo(float).tiny))
    return coef, n_iter


def _banded(X, y, w) -> LADResult:
    n, p = X.shape
    start = _irls(X, y, w)
    if start is None:
        coef = _dual_lp(X, y, w, np.zeros(p))
        if coef is None:
            raise RuntimeError("HiGHS failed on the least-absolute-deviation LP.")
        return LADResult(coef, _objective(X, y, w, coef), 1, "lp")
    coef, n_iter = start
    residuals = y - X @ coef
    # Portnoy and Koenker's band size for a root-n start; IRLS starts closer.
    band_rows = int(min(n, max(20 * p, np.sqrt(p) * n ** (2.0 / 3.0) / 2)))
    in_band = np.zeros(n, dtype=bool)
    signs = np.sign(residuals)
    while True:
        in_band[np.argpartition(np.abs(residuals), band_rows - 1)[:band_rows]] = True
        folded = ~in_band
        rhs = -(X[folded].T @ (w[folded] * signs[folded]))
        candidate = _dual_lp(X[in_band], y[in_band], w[in_band], rhs)
        n_iter += 1
        if candidate is not None:
            new_residuals = y - X @ candidate
            # A folded row is wrong if its residual changed sign, or if it was
            # folded with sign 0 and is no longer on the fit.
            flipped = folded & (signs * new_residuals <= 0) & (new_residuals != 0)
            if not np.any(flipped):
                return LADResult(
                    candidate,
                    float(w @ np.abs(new_residuals)),
                    n_iter,
                    "irls+band lp",
                )
            in_band |= flipped
            residuals = np.where(in_band, new_residuals, residuals)
        # The folded signs were wrong somewhere (or the banded LP had no optimum,
        # which happens when they cannot be balanced): widen the band.
        band_rows = min(n, 2 * band_rows)
        if band_rows == n:
            coef = _dual_lp(X, y, w, np.zeros(p))
            if coef is None:
                raise RuntimeError("HiGHS failed on the least-absolute-deviation LP.")
            return LADResult(coef, _objective(X, y, w, coef), n_iter + 1, "lp")


def weighted_median(values: np.ndarray, sample_weight: np.ndarray) -> float:
    """The lower weighted median: the smallest ``v`` with half the weight at or below it."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(sample_weight[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def subgradient_lad(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray,
    *,
    fit_intercept: bool = True,
    learning_rate: float = 1.0,
    max_iter: int = 1000,
    tol: float = 1e-6,
    patience: int = 50,
    start: tuple[np.ndarray, float] | None = None,
    callback: Callback | None = None,
) -> tuple[OptimizeResult, np.ndarray, float]:
    """Subgradient ascent on :math:`f(\\beta) = -\\sum_i w_i |r_i| / W`.

    The features are standardised (weighted mean 0 and variance 1, or root mean
    square 1 without an intercept) so that one step size suits every
    coefficient. From :math:`\\beta = 0` and the intercept at the weighted median
    of ``y``, each iteration takes

    .. math:: \\beta_{k+1} = \\beta_k + \\frac{\\gamma\\, D_k}{k}\\,
       \\frac{g_k}{\\lVert g_k \\rVert}, \\qquad
       g_k = \\frac{1}{W}\\sum_i w_i\\,\\mathrm{sign}(r_i)\\, [z_i, 1],

    with :math:`D_k = -f(\\beta_k)` the current mean absolute residual and
    :math:`\\gamma` the ``learning_rate``. The steps shrink like :math:`1/k`: their
    sum diverges (the iterates can travel any distance) while their squares sum
    to a finite value (they settle), the classical condition for subgradient
    methods. The objective is not monotone along the way, so the best iterate is
    kept. There is no gradient to test at a kink: the method stops when the best
    value has improved by less than ``tol`` (relative) over the last
    ``patience`` iterations. ``start=(coef, intercept)`` replaces the default
    starting point.

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
    if fit_intercept:
        x_mean = (w @ X) / total
        centred = X - x_mean
    else:
        x_mean = np.zeros(X.shape[1])
        centred = X
    x_scale = np.sqrt((w @ centred**2) / total)
    x_scale[x_scale == 0] = 1.0  # a constant column keeps a zero coefficient
    Z = centred / x_scale
    if start is None:
        beta = np.zeros(X.shape[1])
        intercept = weighted_median(y, w) if fit_intercept else 0.0
    else:
        beta = np.asarray(start[0], dtype=float) * x_scale
        intercept = float(start[1]) + float(x_mean @ start[0])

    def mean_abs(beta, intercept):
        residuals = y - Z @ beta - intercept
        return float(w @ np.abs(residuals)) / total, residuals

    current, residuals = mean_abs(beta, intercept)
    best = (current, beta.copy(), intercept)
    history = [-current]
    converged, message = False, f"max_iter={max_iter} reached"
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if best[0] == 0.0:
            n_iter -= 1
            converged, message = True, "all residuals are zero"
            break
        window = history[-patience - 1] if len(history) > patience else None
        if window is not None and (history[-1] - window) <= tol * best[0]:
            n_iter -= 1
            converged = True
            message = f"best value improved by < tol over {patience} iterations"
            break
        signs = np.sign(residuals) * w
        grad_beta = (Z.T @ signs) / total
        grad_intercept = float(signs.sum()) / total if fit_intercept else 0.0
        norm = float(np.sqrt(grad_beta @ grad_beta + grad_intercept**2))
        if norm == 0.0:
            n_iter -= 1
            converged, message = True, "zero subgradient"
            break
        step = learning_rate * current / (n_iter * norm)
        beta = beta + step * grad_beta
        intercept = intercept + step * grad_intercept
        current, residuals = mean_abs(beta, intercept)
        if current < best[0]:
            best = (current, beta.copy(), intercept)
        history.append(-best[0])
        if callback is not None:
            callback(n_iter, np.append(beta, intercept), -current)
    value, beta, intercept = best
    coef = beta / x_scale
    intercept = intercept - float(x_mean @ coef)
    result = OptimizeResult(
        theta=np.append(coef, intercept),
        value=-value,
        history=np.asarray(history),
        n_iter=n_iter,
        converged=converged,
        message=message,
    )
    return result, coef, intercept
