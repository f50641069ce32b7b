"""Exact least absolute deviations: the dual linear program, banded for many rows.

.. math:: \\max_d\\; y^\\top d \\quad \\text{s.t.}\\quad X^\\top d = 0,\\quad
   -w_i \\le d_i \\le w_i,

with only ``n_features`` equality rows, whose multipliers are the coefficients.
HiGHS solves it directly for small problems; for large ones an exact fit on a
sample (or IRLS) gets close and only a band of rows near the fit enters the LP
(:func:`banded_lad`, :func:`_sampled_banded_lad`). An LP answer is accepted only
with a certificate (:func:`_certified`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import linalg
from scipy.optimize import linprog

from skmle._blas import single_blas_thread
from skmle.optim.lad.folds import Fold, leverage_metric, leverage_scale
from skmle.optim.lad.interior import interior_then_vertex
from skmle.optim.lad.passes import _ArrayPasses
from skmle.optim.lad.scaling import LADScaling
from skmle.optim.lad.sparse_rows import absolute, stack_rows, take_rows

DIRECT_ROWS = 1000
"""Up to ``max(DIRECT_ROWS, 20 * n_features)`` rows the LP is solved in one go."""

IRLS_MAX_ITER = 20
IRLS_RTOL = 1e-6

SAMPLE_ROWS = 5000
"""Above this many rows, and when the passes can draw a sample, the band is placed
around an exact fit on a sample (:func:`_sampled_banded_lad`) rather than IRLS."""

SAMPLE_FACTOR = 1.0
"""The sample has :math:`c\\, n^{2/3} p^{1/2}` rows, ``c`` this factor."""

BAND_WIDTH = 2.0
"""The band's half-width :math:`\\kappa`, in standard errors of the sample's fit."""

REPAIR_SHARE = 0.1
"""Folded rows that flip are taken back into the band while they are at most this
share of it; more, and the band is doubled."""

MAX_REPAIRS = 6

IPM_ROWS = 5000
"""LPs on more rows go to HiGHS's interior point method (with crossover to a
vertex), whose cost grows about linearly in the rows; the simplex's grows faster."""

INTERIOR_ROWS = 1000
"""LPs on more rows start with skmle's own interior-point method
(:func:`~skmle.optim.lad.interior.interior_then_vertex`)."""


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


class LADPasses(Protocol):
    """The passes over the rows that :func:`banded_lad` needs.

    ``d_i`` is a row of the design, ``r_i = y_i - d_i^\\top \\beta``. Only rows of
    positive weight count.
    """

    def irls_system(
        self, coef: np.ndarray | None, floor: float
    ) -> tuple[np.ndarray, np.ndarray, float, float, int]:
        """:func:`irls_sums` over all rows."""

    def threshold(self, coef: np.ndarray, n_rows: int) -> float:
        """A ``t`` with at least ``n_rows`` (and not many more) rows with
        :math:`|r_i| \\le t`."""

    def band(
        self, coef: np.ndarray, threshold: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:func:`band_sums` over all rows, the band's rows stacked."""

    def check(
        self, coef: np.ndarray, threshold: float, candidate: np.ndarray
    ) -> tuple[int, float, float]:
        """:func:`check_sums` over all rows: flipped rows, their largest
        :math:`|r_i|`, and the objective at ``candidate``."""

    def all_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row of positive weight: design, ``y``, weights."""

    # Optional: passes with ``sample`` start from a sample (_sampled_banded_lad)
    # and also need ``n_positive``, ``fold_band`` and ``fold_check``.
    def n_positive(self) -> int:
        """The number of rows of positive weight."""

    def fold_band(
        self, fold: Fold
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:func:`fold_band_sums` over all rows, the band's rows stacked."""

    def fold_check(
        self, fold: Fold, candidate: np.ndarray, limit: int
    ) -> tuple[int, float, tuple]:
        """:func:`fold_check_sums` over all rows: the count of flipped rows, the
        objective at ``candidate`` and the flipped rows (design, y, weights, fold
        signs; gathered when each part has at most ``limit``)."""


def least_absolute_deviations(
    X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray
) -> LADResult:
    """Exact weighted least-absolute-deviation coefficients (a basic solution).

    The LP is solved on rescaled data (:class:`LADScaling`) and the coefficients
    mapped back; the objective is recomputed in the original units.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
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
        X, y, sample_weight = take_rows(X, keep), y[keep], sample_weight[keep]
    scaling = LADScaling.from_arrays(X, y, sample_weight)
    # The products here are tall and thin (p columns): a second BLAS thread saves
    # little, and on a busy machine its spin-waiting costs several times that.
    with single_blas_thread():
        scaled = banded_lad(
            _ArrayPasses(*scaling.rows(X, y, sample_weight)), X.shape[1]
        )
        coef = scaling.coef(scaled.coef)
        return LADResult(
            coef, _objective(X, y, sample_weight, coef), scaled.n_iter, scaled.method
        )


def banded_lad(passes: LADPasses, n_features: int) -> LADResult:
    """Exact least absolute deviations on rows reached only through ``passes``.

    Above ``SAMPLE_ROWS`` rows, when ``passes`` can draw a sample, the band is
    placed around an exact fit on a sample instead (:func:`_sampled_banded_lad`).
    Otherwise the steps: (1) IRLS from the least-squares fit (:func:`irls_sums`, one pass
    per step) until the objective stalls; if at most ``max(DIRECT_ROWS, 20 p)``
    rows have positive weight, they are gathered and the LP solved on all of
    them instead; (2) a threshold ``t`` on the IRLS residuals that about
    :math:`\\sqrt{p}\\, n^{2/3} / 2` rows fall under (Portnoy and Koenker's band
    for a root-n start; IRLS starts closer); (3) those rows are gathered and the
    others folded into the right-hand side with their signs; (4) the dual LP is
    solved on the band; (5) a pass checks that no folded row changed side. If
    one did, ``t`` grows to cover it and the band at least doubles, and (3)-(5)
    repeat; a band of every row is the plain LP.

    Parameters
    ----------
    passes : LADPasses
    n_features : int
        Columns of the design (an intercept is one of them).

    Returns
    -------
    LADResult
    """
    p = n_features
    sampling = hasattr(passes, "sample")
    if sampling:
        least_squares, n = None, passes.n_positive()
    else:
        least_squares = passes.irls_system(None, 0.0)
        n = least_squares[-1]
    if n <= max(DIRECT_ROWS, 20 * p):
        X, y, w = passes.all_rows()
        return _full_lp(X, y, w, 0)
    if sampling and n > SAMPLE_ROWS:
        return _sampled_banded_lad(passes, p, n)
    if least_squares is None:
        least_squares = passes.irls_system(None, 0.0)
    coef, n_iter = _irls(passes, least_squares)
    band_rows = int(min(n, max(20 * p, np.sqrt(p) * n ** (2.0 / 3.0) / 2)))
    threshold = passes.threshold(coef, band_rows)
    while True:
        X, y, w, rhs = passes.band(coef, threshold)
        if X.shape[0] >= n:  # nothing folded: the band is every row
            return _full_lp(X, y, w, n_iter)
        candidate = _dual_lp(X, y, w, rhs)
        n_iter += 1
        reach = threshold
        if candidate is not None:
            n_flipped, reach, objective = passes.check(coef, threshold, candidate)
            if n_flipped == 0:
                return LADResult(candidate, objective, n_iter, "irls+band lp")
        # Folded signs were wrong (or could not be balanced, when the banded LP
        # has no optimum): widen the band past every row that flipped.
        band_rows = min(n, 2 * max(band_rows, X.shape[0]))
        threshold = max(passes.threshold(coef, band_rows), reach)


def _sampled_banded_lad(passes: LADPasses, p: int, n: int) -> LADResult:
    """Portnoy and Koenker's preprocessing, around an exact fit on a sample.

    (1) :math:`m = c\\, n^{2/3} p^{1/2}` rows drawn uniformly (``passes.sample``)
    are fitted exactly (:func:`banded_lad` on them: a sample of the sample, and so
    on); (2) each row's residual :math:`r_i` at that fit is measured against its
    standard error's shape :math:`s_i = (x_i^\\top G^{-1} x_i)^{1/2}`, :math:`G`
    the sample's weighted Gram matrix (rows of high leverage have wide bands),
    and the threshold ``t`` on :math:`|r_i| / s_i` is the sample's quantile that
    leaves about ``BAND_FACTOR * m`` rows of the data in the band; (3) the rows
    outside are folded, with their signs, into two globs (:class:`Fold`) and the
    band's LP solved; (4) a pass checks the folded rows' signs at the solution:
    none flipped, and the solution is optimal for all rows (the banded LP's
    certificate, :func:`_certified`, extends to them by weak duality); a few
    flipped (at most ``REPAIR_SHARE`` of the band), and they are taken back into
    the band and (3)-(4) repeat; many, or an LP without a certified optimum, and
    the band doubles.
    """
    m = int(min(n / 2, SAMPLE_FACTOR * n ** (2.0 / 3.0) * np.sqrt(p)))
    X, y, w = passes.sample(max(m, 20 * p))
    keep = w > 0
    X, y, w = take_rows(X, keep), y[keep], w[keep]
    start = banded_lad(_ArrayPasses(X, y, w), p)
    n_iter = start.n_iter
    metric = leverage_metric(X, w)
    scale = np.maximum(leverage_scale(X, metric), np.finfo(float).tiny)
    scores = np.abs(y - X @ start.coef) / scale
    # A residual's error at the sample's fit is about N(0, (s_i / (2 f(0)))^2 / m)
    # (f the density of the errors at 0), so a band of kappa standard errors
    # holds the share 2 f(0) kappa E[s_i / (2 f(0))] / sqrt(m) of the rows,
    # whatever f: the threshold is the sample's quantile at that share.
    share = BAND_WIDTH * float(np.mean(scale)) / np.sqrt(X.shape[0])
    while share < 1:
        fold = Fold(start.coef, float(np.quantile(scores, share)), metric)
        X, y, w, rhs = passes.fold_band(fold)
        for _ in range(MAX_REPAIRS):
            if X.shape[0] >= n:
                return _full_lp(X, y, w, n_iter)
            candidate = _dual_lp(X, y, w, rhs)
            n_iter += 1
            if candidate is None:
                break
            limit = int(REPAIR_SHARE * X.shape[0])
            n_flipped, objective, flipped = passes.fold_check(fold, candidate, limit)
            if n_flipped == 0:
                return LADResult(candidate, objective, n_iter, "sample+band lp")
            if n_flipped > limit:
                break
            # The flipped rows leave their glob for the band (the same rows
            # fold.repairing(candidate) keeps in the band from now on).
            X_f, y_f, w_f, signs = flipped
            X, y, w = stack_rows([X, X_f]), np.append(y, y_f), np.append(w, w_f)
            rhs = rhs + X_f.T @ (w_f * signs)
            fold = fold.repairing(candidate)
        share *= 2
    return _full_lp(*passes.all_rows(), n_iter)


def _full_lp(X, y, w, n_iter: int) -> LADResult:
    coef = _dual_lp(X, y, w, np.zeros(X.shape[1]))
    if coef is None:
        raise ValueError(
            "The least-absolute-deviation linear program has no certified optimum "
            "(HiGHS failed, or its duality gap was too wide) even after centring "
            "and scaling the data: the values of X, y or sample_weight span too "
            "many orders of magnitude within a column. Rescale those columns, or "
            "use LaplaceRegressor(solver='gd') for an approximate fit."
        )
    return LADResult(coef, _objective(X, y, w, coef), n_iter + 1, "lp")


def _objective(X, y, w, coef) -> float:
    return float(w @ np.abs(y - X @ coef))


LP_GAP_RTOL = 1e-6
"""A solution of the (banded) LP is accepted when its primal and dual objectives agree
to this relative tolerance and the dual point is feasible to it (HiGHS's own
tolerances are absolute, about :math:`10^{-7}`, on the scaled data)."""


def _dual_lp(X, y, w, rhs) -> np.ndarray | None:
    """Coefficients from the dual LP, or None without a certified optimum.

    On more than ``INTERIOR_ROWS`` rows, the interior-point method first settles
    the signs of all but a few rows (:func:`interior_then_vertex`); if its
    vertex fails the check, or on fewer rows, HiGHS solves the whole LP
    (:func:`_vertex_lp`).
    """
    if X.shape[0] > INTERIOR_ROWS:
        coef = interior_then_vertex(X, y, w, rhs, _vertex_lp)
        if coef is not None:
            return coef
    return _vertex_lp(X, y, w, rhs)


def _vertex_lp(X, y, w, rhs) -> np.ndarray | None:
    """Coefficients from the dual LP by HiGHS, or None without a certified optimum.

    HiGHS's status is not taken on trust: :func:`_certified` checks the
    returned pair.
    """
    methods = ("highs-ipm", "highs") if X.shape[0] > IPM_ROWS else ("highs",)
    for method in methods:
        result = linprog(
            -y,
            A_eq=X.T,
            b_eq=rhs,
            bounds=np.column_stack([-w, w]),
            method=method,
        )
        if result.status != 0 or result.x is None:
            continue
        # linprog minimises -y^T d; the multipliers of X^T d = rhs are -coef.
        coef = -np.asarray(result.eqlin.marginals)
        if _certified(X, y, w, rhs, np.asarray(result.x), coef):
            return coef
    return None


def _certified(X, y, w, rhs, dual, coef, rtol: float = LP_GAP_RTOL) -> bool:
    """Whether ``(coef, dual)`` is an optimal primal-dual pair, to ``rtol``.

    The primal objective of the (banded) problem is
    :math:`\\sum_i w_i |y_i - x_i^\\top \\beta| + \\beta^\\top b` (:math:`b` the
    folded right-hand side) and the dual one :math:`y^\\top d`, for :math:`d`
    with :math:`X^\\top d = b` and :math:`|d_i| \\le w_i`; by weak duality the
    first is never below the second, and they are equal at the optimum.
    """
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(dual))):
        return False
    primal = float(w @ np.abs(y - X @ coef)) + float(coef @ rhs)
    value = float(y @ dual)
    size = max(float(w @ np.abs(y)), abs(primal), abs(value), np.finfo(float).tiny)
    in_box = bool(np.all(np.abs(dual) <= w * (1.0 + rtol) + rtol))
    column_size = absolute(X).T @ w + np.abs(rhs) + 1.0
    balanced = bool(np.all(np.abs(X.T @ dual - rhs) <= rtol * column_size))
    return in_box and balanced and abs(primal - value) <= rtol * size


def _irls(passes: LADPasses, least_squares: tuple) -> tuple[np.ndarray, int]:
    """IRLS steps towards the LAD fit, each one pass over the rows.

    Each step solves :math:`\\min \\sum_i \\frac{w_i}{\\max(|r_i|, \\delta)} r_i^2`
    with the residuals of the previous step; the first is least squares, whose
    system ``least_squares`` (:func:`irls_sums` with no ``coef``) the caller has
    summed already. The floor :math:`\\delta`, :math:`10^{-6}` times the mean
    absolute residual of the step before, keeps the weights finite. A step's
    objective is known one pass later, with the next step's system; the best
    step and the number of steps are returned.
    """
    gram, rhs, value, weight, _ = least_squares
    best, best_value, previous, n_iter = None, np.inf, np.inf, 0
    while n_iter < IRLS_MAX_ITER:
        coef = _solve_symmetric(gram, rhs)
        n_iter += 1
        floor = max(1e-6 * value / weight, np.finfo(float).tiny)
        gram, rhs, value, _, _ = passes.irls_system(coef, floor)
        if value < best_value:
            best, best_value = coef, value
        if not previous - value > IRLS_RTOL * value:  # stalled, or worse
            break
        previous = value
    return (coef if best is None else best), n_iter


def _solve_symmetric(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """:math:`G^{-1} b` by Cholesky, or the minimum-norm solution when singular."""
    try:
        factor = linalg.cho_factor(gram, check_finite=False)
        return linalg.cho_solve(factor, rhs, check_finite=False)
    except linalg.LinAlgError:
        return linalg.lstsq(gram, rhs, check_finite=False)[0]
