"""The sums of one part of the rows for the LAD solvers, and passes over all parts.

The array functions (:func:`irls_sums`, :func:`band_sums`, :func:`check_sums`)
compute one part's share; :class:`SummedPasses` turns them into the passes of
:class:`~skmle.optim.lad.exact.LADPasses` over data that is never in memory at
once, given only ``sum_parts(per_part)`` (add ``per_part`` over the parts) and
``rows(part) -> (design, y, weights)``: the solver knows designs, responses and
weights, never the model that builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from skmle.optim.lad.folds import fold_band_sums, fold_check_sums
from skmle.optim.lad.quantiles import key_bucket, key_histogram, select_by_passes
from skmle.optim.lad.scaling import LADScaling
from skmle.optim.lad.sparse_rows import (
    gram,
    settled_residuals,
    stack_rows,
    take_rows,
)

SAMPLE_SEED = 0
"""The seed of the row samples that start the banded solver (a fit is reproducible)."""

Rows = Callable[[object], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""``rows(part) -> (design, y, weights)`` of one part of the data."""


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
    return (
        gram(X, v),
        X.T @ (v * y),
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
    return [take_rows(X, near)], [y[near]], [w[near]], -(X.T @ folded)


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
    new = settled_residuals(X, y, candidate)
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

    def n_positive(self):
        return int(np.count_nonzero(self.w > 0))

    def fold_band(self, fold):
        X, y, w, rhs = fold_band_sums(self.X, self.y, self.w, fold)
        return X[0], y[0], w[0], rhs

    def fold_check(self, fold, candidate, limit):
        count, objective, *flipped = fold_check_sums(
            self.X, self.y, self.w, fold, candidate, limit
        )
        return count, objective, tuple(rows[0] for rows in flipped)

    def sample(self, n_rows):
        """A uniform sample of ``n_rows`` rows without replacement (seeded)."""
        n = self.X.shape[0]
        rng = np.random.default_rng(SAMPLE_SEED)
        rows = np.sort(rng.choice(n, size=min(n_rows, n), replace=False))
        return take_rows(self.X, rows), self.y[rows], self.w[rows]


# -- the same passes over parts of the data, each part read where it lives ---------
def _scaled_rows(part, rows: Rows, scaling: LADScaling | None):
    design, y, w = rows(part)
    if scaling is None:
        return design, y, w
    return scaling.rows(design, y, w)


def _irls_part(part, rows, coef, floor, scaling=None):
    return irls_sums(*_scaled_rows(part, rows, scaling), coef, floor)


def _band_part(part, rows, coef, threshold, scaling=None):
    return band_sums(*_scaled_rows(part, rows, scaling), coef, threshold)


def _check_part(part, rows, coef, threshold, candidate, scaling=None):
    return check_sums(*_scaled_rows(part, rows, scaling), coef, threshold, candidate)


def _count_part(part, rows, scaling=None):
    return int(np.count_nonzero(rows(part)[2] > 0))


def _fold_band_part(part, rows, fold, scaling=None):
    return fold_band_sums(*_scaled_rows(part, rows, scaling), fold)


def _fold_check_part(part, rows, fold, candidate, limit, scaling=None):
    return fold_check_sums(*_scaled_rows(part, rows, scaling), fold, candidate, limit)


def _positive_rows_part(part, rows, scaling=None):
    design, y, w = _scaled_rows(part, rows, scaling)
    positive = w > 0
    return [take_rows(design, positive)], [y[positive]], [w[positive]]


def _histogram_part(part, rows, coef, by_count, prefix, level, scaling=None):
    design, y, w = _scaled_rows(part, rows, scaling)
    masses = (w > 0).astype(float) if by_count else w
    values = y if coef is None else np.abs(y - design @ coef)
    return key_histogram(values, masses, prefix, level)


def _spread_part(part, rows, centre):
    _, y, w = rows(part)
    return float(w @ np.abs(y - centre)), int(np.count_nonzero(w > 0))


def response_spread(sum_parts, rows: Rows, centre: float) -> tuple[float, int]:
    """:math:`\\sum_i w_i |y_i - m|` and the number of rows of positive weight, for
    :meth:`LADScaling.from_summaries` (``rows(part)`` returns ``(anything, y,
    weights)``)."""
    return sum_parts(partial(_spread_part, rows=rows, centre=centre))


def _bucket_part(part, rows, prefix, level):
    _, y, w = rows(part)
    keep = key_bucket(y, w, prefix, level)
    return [y[keep]], [w[keep]]


class SummedPasses:
    """:class:`~skmle.optim.lad.exact.LADPasses` through ``sum_parts``: each method
    is one pass over the parts, wherever they are stored.

    Parameters
    ----------
    sum_parts : callable
        ``sum_parts(per_part)`` adds ``per_part(part)`` over all parts (numbers,
        arrays and tuples of lists add elementwise); ``per_part`` must be
        picklable when the parts live elsewhere.
    rows : callable
        ``rows(part) -> (design, y, weights)``, picklable.
    scaling : LADScaling, default=None
        The change of units of the rows the LP sees.
    sample : callable, default=None
        ``sample(n_rows) -> (design, y, weights)``: a uniform sample of the rows
        (as ``rows`` returns them, before ``scaling``), such as one of
        :meth:`skmle.data.Rows.sample`. Given, the passes have the method
        ``sample`` and :func:`~skmle.optim.lad.banded_lad` starts from an exact
        fit on a sample; otherwise from IRLS.
    """

    def __init__(
        self,
        sum_parts,
        rows: Rows,
        scaling: LADScaling | None = None,
        sample: Callable[[int], tuple] | None = None,
    ):
        self.sum_parts = sum_parts
        self.rows = rows
        self.scaling = scaling
        if sample is not None:
            self.sample = partial(_scaled_sample, sample=sample, scaling=scaling)

    def _sum(self, function, **arguments):
        return self.sum_parts(
            partial(function, rows=self.rows, scaling=self.scaling, **arguments)
        )

    def irls_system(self, coef, floor):
        return self._sum(_irls_part, coef=coef, floor=floor)

    def threshold(self, coef, n_rows):
        def histogram(prefix, level):
            return self._sum(
                _histogram_part, coef=coef, by_count=True, prefix=prefix, level=level
            )

        return select_by_passes(histogram, None, n_rows)

    def band(self, coef, threshold):
        X, y, w, rhs = self._sum(_band_part, coef=coef, threshold=threshold)
        return stack_rows(X), np.concatenate(y), np.concatenate(w), rhs

    def check(self, coef, threshold, candidate):
        n_flipped, reach, objective = self._sum(
            _check_part, coef=coef, threshold=threshold, candidate=candidate
        )
        return n_flipped, float(np.max(np.concatenate(reach), initial=0.0)), objective

    def all_rows(self):
        X, y, w = self._sum(_positive_rows_part)
        return stack_rows(X), np.concatenate(y), np.concatenate(w)

    def n_positive(self):
        return self._sum(_count_part)

    def fold_band(self, fold):
        X, y, w, rhs = self._sum(_fold_band_part, fold=fold)
        return stack_rows(X), np.concatenate(y), np.concatenate(w), rhs

    def fold_check(self, fold, candidate, limit):
        count, objective, *flipped = self._sum(
            _fold_check_part, fold=fold, candidate=candidate, limit=limit
        )
        X, *rest = flipped
        return count, objective, (stack_rows(X), *(np.concatenate(r) for r in rest))


def _scaled_sample(n_rows, sample, scaling):
    design, y, w = sample(n_rows)
    return (design, y, w) if scaling is None else scaling.rows(design, y, w)


def weighted_median_by_passes(sum_parts, rows: Rows, total_weight: float) -> float:
    """The lower weighted median of ``y`` over all parts (:func:`select_by_passes`).

    ``rows(part)`` returns ``(anything, y, weights)``.
    """

    def histogram(prefix, level):
        return sum_parts(
            partial(
                _histogram_part,
                rows=rows,
                coef=None,
                by_count=False,
                prefix=prefix,
                level=level,
            )
        )

    def gather(prefix, level):
        values, masses = sum_parts(
            partial(_bucket_part, rows=rows, prefix=prefix, level=level)
        )
        return np.concatenate(values), np.concatenate(masses)

    return select_by_passes(histogram, gather, 0.5 * total_weight)
