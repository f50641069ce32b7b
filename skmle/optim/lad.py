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
  sign; otherwise the band is widened and the LP solved again.
- :func:`subgradient_lad`: subgradient ascent on the mean of
  :math:`-|r_i|` with a decaying step, the textbook method for a non-smooth
  objective. Slow and approximate; it is there to be read, not to be used on
  large problems.

Data read in pieces
-------------------
Both solvers touch the rows only through a few sums, so they also run on data
that is never in memory at once. :func:`banded_lad` takes the rows through an
object with the methods of :class:`LADPasses` (each one pass over the data; the
array functions :func:`irls_sums`, :func:`band_sums`, :func:`check_sums` compute
one chunk's share) and gathers only the band of rows near the fit.
:func:`subgradient_lad_by_sums` takes one function that returns the sums of an
iterate. :func:`select_by_passes` finds a weighted quantile (the median of ``y``,
a threshold on :math:`|r|`) exactly from histograms of the values' bits, one pass
per 11 bits, then the few rows left.

Neither knows about Laplace regression: arrays in, coefficients out. Exactness of
a solution can be checked independently with :func:`scipy.optimize.linprog`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import linalg
from scipy.optimize import linprog

from skmle._blas import single_blas_thread
from skmle.optim.result import Callback, OptimizeResult

DIRECT_ROWS = 1000
"""Up to ``max(DIRECT_ROWS, 20 * n_features)`` rows the LP is solved in one go."""

IRLS_MAX_ITER = 20
IRLS_RTOL = 1e-6

KEY_DIGITS = (11, 11, 11, 11, 11, 9)
"""Bits of a value's 64-bit sort key examined by each pass of :func:`select_by_passes`."""

MAX_GATHER = 50_000
""":func:`select_by_passes` fetches the rows left once at most this many remain."""


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


@dataclass(frozen=True)
class LADScaling:
    """The affine change of units under which the LP sees well-scaled numbers.

    Least absolute deviations is equivariant: with :math:`x'_j = (x_j - c_j) /
    s_j`, :math:`y' = (y - m) / t` and :math:`w' = w / \\bar w` the optimum moves
    as :meth:`coef` says, and the objective is multiplied by :math:`t \\bar w`.
    HiGHS works to absolute tolerances (about :math:`10^{-7}`), so without this
    weights of :math:`10^{20}`, values of :math:`10^{150}` or columns shifted by
    :math:`10^{10}` make it fail or stop early. When the design has a constant
    column (an intercept), the other columns are centred by their weighted means
    (:math:`c_j`) and ``y`` by its weighted median (:math:`m`); otherwise only
    scaled. :math:`s_j` is the weighted root mean square of :math:`x_j - c_j`
    (the value of a constant column, which becomes ones), :math:`t` the weighted mean of
    :math:`|y - m|`, :math:`\\bar w` the mean positive weight; a zero scale is 1.

    Attributes
    ----------
    x_shift, x_scale : ndarray of shape (n_features,)
    constant : ndarray of shape (n_features,), bool
        The constant, nonzero columns (not shifted; divided by their value).
    y_shift, y_scale, w_scale : float
    """

    x_shift: np.ndarray
    x_scale: np.ndarray
    constant: np.ndarray
    y_shift: float
    y_scale: float
    w_scale: float

    @classmethod
    def from_summaries(
        cls, x_mean, x_std, constant, y_centre, y_spread, w_mean
    ) -> LADScaling:
        """From the weighted mean and standard deviation of each column, which
        columns are constant, the weighted median ``y_centre`` of ``y`` and the
        mean of :math:`|y - y_c|` (``y_spread``) (with ``y_c`` = 0 when no column
        is constant), and the mean positive weight."""
        x_mean, x_std = np.asarray(x_mean, float), np.asarray(x_std, float)
        constant = np.asarray(constant, dtype=bool) & (x_mean != 0)
        centred = bool(np.any(constant))
        shift = np.where(constant | (not centred), 0.0, x_mean)
        spread = np.where(centred, x_std, np.hypot(x_std, x_mean))
        # A constant column is divided by its (signed) value: a column of ones.
        scale = np.where(constant, x_mean, _positive(spread))
        return cls(
            x_shift=shift,
            x_scale=scale,
            constant=constant,
            y_shift=float(y_centre) if centred else 0.0,
            y_scale=float(_positive(np.array(y_spread))),
            w_scale=float(_positive(np.array(w_mean))),
        )

    @classmethod
    def from_arrays(cls, X, y, w) -> LADScaling:
        """From rows of positive weight (a constant column: one value throughout)."""
        total = float(w.sum())
        x_mean = (w @ X) / total
        x_std = np.sqrt(np.maximum(w @ (X - x_mean) ** 2 / total, 0.0))
        if X.shape[0]:
            constant = np.ptp(X, axis=0) == 0
        else:
            constant = np.zeros(X.shape[1], dtype=bool)
        centre = weighted_median(y, w) if np.any(constant) else 0.0
        spread = float(w @ np.abs(y - centre)) / total
        if not spread > 0:
            spread = float(np.max(np.abs(y - centre), initial=0.0))
        return cls.from_summaries(
            x_mean, x_std, constant, centre, spread, total / max(len(w), 1)
        )

    def rows(self, X, y, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows the LP sees: :math:`(x', y', w')`."""
        return (
            (X - self.x_shift) / self.x_scale,
            (y - self.y_shift) / self.y_scale,
            w / self.w_scale,
        )

    def coef(self, scaled: np.ndarray) -> np.ndarray:
        """Coefficients in the original units from those of the scaled problem.

        :math:`\\beta_j = t \\beta'_j / s_j`, and the first constant column
        :math:`k` (value :math:`v_k`) also takes the offset
        :math:`(m - t \\sum_j \\beta'_j c_j / s_j) / v_k`.
        """
        coef = self.y_scale * scaled / self.x_scale
        if np.any(self.constant):
            k = int(np.flatnonzero(self.constant)[0])
            offset = self.y_shift - float(coef @ self.x_shift)
            coef[k] += offset / self.x_scale[k]
        return coef


def _positive(values: np.ndarray) -> np.ndarray:
    """``values`` with every entry that is not a positive finite number set to 1."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values) & (values > 0), values, 1.0)


def least_absolute_deviations(
    X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray
) -> LADResult:
    """Exact weighted least-absolute-deviation coefficients (a basic solution).

    The LP is solved on rescaled data (:class:`LADScaling`) and the coefficients
    mapped back; the objective is recomputed in the original units.

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

    The steps: (1) IRLS from the least-squares fit (:func:`irls_sums`, one pass
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
    least_squares = passes.irls_system(None, 0.0)
    n = least_squares[-1]
    if n <= max(DIRECT_ROWS, 20 * p):
        X, y, w = passes.all_rows()
        return _full_lp(X, y, w, 0)
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

    HiGHS's status is not taken on trust: :func:`_certified` checks the
    returned pair.
    """
    result = linprog(
        -y,
        A_eq=X.T,
        b_eq=rhs,
        bounds=np.column_stack([-w, w]),
        method="highs",
    )
    if result.status != 0 or result.x is None:
        return None
    # linprog minimises -y^T d; the multipliers of X^T d = rhs are -coef.
    coef = -np.asarray(result.eqlin.marginals)
    if not _certified(X, y, w, rhs, np.asarray(result.x), coef):
        return None
    return coef


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
    column_size = np.abs(X).T @ w + np.abs(rhs) + 1.0
    balanced = bool(np.all(np.abs(X.T @ dual - rhs) <= rtol * column_size))
    return in_box and balanced and abs(primal - value) <= rtol * size


# -- the sums of one chunk of rows ----------------------------------------------------------
def irls_sums(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    coef: np.ndarray | None,
    floor: float,
) -> tuple[np.ndarray, np.ndarray, float, float, int]:
    """One IRLS pass over rows: the next step's normal equations, and the objective.

    With :math:`r_i = y_i - x_i^\\top \\beta` and :math:`v_i = w_i / \\max(|r_i|,
    \\delta)` (:math:`v_i = w_i` when ``coef`` is None: the least-squares start),
    returns :math:`\\sum v_i x_i x_i^\\top`, :math:`\\sum v_i x_i y_i`,
    :math:`\\sum w_i |r_i|`, :math:`\\sum w_i` and the number of rows of
    positive weight.
    """
    if coef is None:
        absolute = np.abs(y)
        v = w
    else:
        absolute = np.abs(y - X @ coef)
        v = w / np.maximum(absolute, floor)
    root = np.sqrt(v)
    Z = X * root[:, None]
    return (
        Z.T @ Z,
        Z.T @ (root * y),
        float(w @ absolute),
        float(w.sum()),
        int(np.count_nonzero(w > 0)),
    )


def band_sums(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, coef: np.ndarray, threshold: float
) -> tuple[list, list, list, np.ndarray]:
    """Split rows at :math:`|r_i| \\le t`: the band's rows, and the folded rest.

    Returns ``[X_band], [y_band], [w_band]`` (one-element lists, so that adding
    the results of two chunks concatenates them) and the folded right-hand side
    :math:`-\\sum_{|r_i| > t} w_i\\, \\mathrm{sign}(r_i)\\, x_i`.
    """
    residuals = y - X @ coef
    positive = w > 0
    near = positive & (np.abs(residuals) <= threshold)
    folded = np.where(positive & ~near, w * np.sign(residuals), 0.0)
    return [X[near]], [y[near]], [w[near]], -(X.T @ folded)


def check_sums(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    coef: np.ndarray,
    threshold: float,
    candidate: np.ndarray,
) -> tuple[int, list, float]:
    """Whether the folded rows kept their side at ``candidate``.

    A row folded at ``coef`` (:math:`|r_i| > t`) is wrong when its residual at
    ``candidate`` has the other sign; a residual of exactly zero is allowed (the
    row's sign term is then a valid subgradient). Returns the number of wrong
    rows, ``[their |r_i| at coef]`` and :math:`\\sum_i w_i |r_i|` at ``candidate``.
    """
    residuals = y - X @ coef
    new = y - X @ candidate
    folded = (w > 0) & (np.abs(residuals) > threshold)
    flipped = folded & (residuals * new < 0)
    return (
        int(np.count_nonzero(flipped)),
        [np.abs(residuals[flipped])],
        float(w @ np.abs(new)),
    )


class _ArrayPasses:
    """:class:`LADPasses` over arrays in memory (rows of positive weight)."""

    def __init__(self, X, y, w):
        self.X, self.y, self.w = X, y, w

    def irls_system(self, coef, floor):
        return irls_sums(self.X, self.y, self.w, coef, floor)

    def threshold(self, coef, n_rows):
        absolute = np.abs(self.y - self.X @ coef)
        return float(np.partition(absolute, n_rows - 1)[n_rows - 1])

    def band(self, coef, threshold):
        X, y, w, rhs = band_sums(self.X, self.y, self.w, coef, threshold)
        return X[0], y[0], w[0], rhs

    def check(self, coef, threshold, candidate):
        n_flipped, reach, objective = check_sums(
            self.X, self.y, self.w, coef, threshold, candidate
        )
        return n_flipped, float(np.max(reach[0], initial=0.0)), objective

    def all_rows(self):
        return self.X, self.y, self.w


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


# -- exact weighted quantiles from a few passes -------------------------------------------
def sortable_keys(values: np.ndarray) -> np.ndarray:
    """Unsigned 64-bit keys that sort like the float64 ``values``.

    The sign bit is flipped for positive numbers and every bit for negative
    ones, so that comparing keys as integers compares the numbers.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    negative = (bits >> np.uint64(63)).astype(bool)
    return np.where(negative, ~bits, bits | np.uint64(1 << 63))


def float_from_key(key: int) -> float:
    """Inverse of :func:`sortable_keys` for one key."""
    key = np.uint64(key)
    bits = key ^ np.uint64(1 << 63) if key >> np.uint64(63) else ~key
    return float(np.array(bits, dtype=np.uint64).view(np.float64))


def _digit_bits(level: int) -> tuple[int, int]:
    """(bits above the digit, width of the digit) at ``level``."""
    return sum(KEY_DIGITS[:level]), KEY_DIGITS[level]


def key_histogram(
    values: np.ndarray, masses: np.ndarray, prefix: int, level: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mass and count of the values whose key starts with ``prefix``, by next digit.

    ``prefix`` holds the top bits of the key fixed by the previous ``level``
    passes (see :data:`KEY_DIGITS`); values of zero mass are left out.
    """
    high, width = _digit_bits(level)
    keys = sortable_keys(values)
    keep = masses > 0
    if level > 0:
        keep &= (keys >> np.uint64(64 - high)) == np.uint64(prefix)
    digits = (keys[keep] >> np.uint64(64 - high - width)) & np.uint64((1 << width) - 1)
    digits = digits.astype(np.intp)
    return (
        np.bincount(digits, masses[keep], minlength=1 << width),
        np.bincount(digits, minlength=1 << width),
    )


def key_bucket(
    values: np.ndarray, masses: np.ndarray, prefix: int, level: int
) -> np.ndarray:
    """Boolean mask of the values of positive mass whose key starts with ``prefix``."""
    high = sum(KEY_DIGITS[:level])
    keep = masses > 0
    if level == 0:
        return keep
    return keep & ((sortable_keys(values) >> np.uint64(64 - high)) == np.uint64(prefix))


def select_by_passes(
    histogram: Callable[[int, int], tuple[np.ndarray, np.ndarray]],
    gather: Callable[[int, int], tuple[np.ndarray, np.ndarray]] | None,
    target: float,
    *,
    max_gather: int = MAX_GATHER,
) -> float:
    """The smallest value ``v`` whose mass at or below it reaches ``target``.

    The lower weighted quantile, found from sums: ``histogram(prefix, level)``
    returns :func:`key_histogram` summed over all the data, and ``gather(prefix,
    level)`` the values and masses of the rows whose key starts with ``prefix``
    (the rows :func:`key_bucket` marks). Each histogram fixes the next 11 bits of
    the answer's key (a radix selection, exact with any ties); once at most
    ``max_gather`` rows are left, they are gathered and sorted. With ``gather``
    None, the answer is rounded up to the largest value whose key starts with
    the 22 bits found by two passes: a value with at least ``target`` mass at or
    below it, less than 0.1% (relative) above the exact one.
    """
    prefix, level, below, remaining = 0, 0, 0.0, None
    while True:
        if gather is not None and remaining is not None and remaining <= max_gather:
            values, masses = gather(prefix, level)
            order = np.argsort(values, kind="stable")
            cumulative = below + np.cumsum(masses[order])
            index = min(int(np.searchsorted(cumulative, target)), len(order) - 1)
            return float(values[order][index])
        if level == len(KEY_DIGITS) or (gather is None and level == 2):
            free = 64 - sum(KEY_DIGITS[:level])
            return float_from_key((prefix << free) | ((1 << free) - 1))
        mass, count = histogram(prefix, level)
        cumulative = below + np.cumsum(mass)
        digit = int(np.searchsorted(cumulative, target))
        if digit >= len(mass):  # rounding left the total short of target
            digit = int(np.flatnonzero(count)[-1])
        below = float(cumulative[digit] - mass[digit])
        remaining = int(count[digit])
        prefix = (prefix << KEY_DIGITS[level]) | digit
        level += 1


def weighted_median(values: np.ndarray, sample_weight: np.ndarray) -> float:
    """The lower weighted median: the smallest ``v`` with half the weight at or below it."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(sample_weight[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


GROW_AFTER = 10
"""After this many consecutive steps that each improve the best value, the step
is doubled and its decay restarted: the iterate is still travelling, so the step
is too short for the distance (a small ``learning_rate``)."""


SHRINK_AFTER = 20
"""After this many consecutive steps that do not improve the best value, the step
is halved and its decay restarted: it overshoots (a large ``learning_rate``)."""


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
    X, rhs = _equilibrated_constraints(X, rhs, w)
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
    """Subgradient ascent on :math:`f(\\beta) = -\\sum_i w_i |r_i| / W`, in memory.

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
    x_mean = (w @ X) / total if fit_intercept else np.zeros(X.shape[1])
    x_scale = np.sqrt((w @ (X - x_mean) ** 2) / total)
    if start is None:
        start = (np.zeros(X.shape[1]), weighted_median(y, w) if fit_intercept else 0.0)
    keep = w > 0
    design = np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else X
    passes = _ArrayPasses(design[keep], y[keep], w[keep])

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
