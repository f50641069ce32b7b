"""Sandwich ("robust") covariances from the per-row scores.

With :math:`I` the information of the coordinates :math:`\\phi` at the optimum
(the one an estimator names in its :class:`~skmle.inference.WaldSpec`) and
:math:`s_i = \\partial_\\phi \\log p(x_i, y_i; \\hat\\phi)` the score of row
:math:`i`, the covariance of the reported parameters :math:`J\\phi` is

.. math:: V = J\\, I^{-1} M\\, I^{-1} J^\\top

with the "meat" :math:`M` of the covariance type ``cov_type``:

``"nonrobust"``
    No meat: :math:`V = J I^{-1} J^\\top`, the inverse information (the
    default; valid when the model is correctly specified).
``"HC0"``
    :math:`M = \\sum_i w_i\\, s_i s_i^\\top` (White's heteroskedasticity-consistent
    estimator, the "robust" covariance of a misspecified likelihood).
``"HC1"``
    :math:`M = \\frac{n}{n - p} \\sum_i w_i\\, s_i s_i^\\top`.
``"cluster"``
    :math:`M = \\frac{G}{G - 1} \\frac{n - 1}{n - p} \\sum_g u_g u_g^\\top`,
    :math:`u_g = \\sum_{i \\in g} w_i s_i` over the :math:`G` groups (CRV1, the
    small-sample correction of statsmodels' and Stata's default).

Here :math:`n = \\sum_i w_i` (the number of rows, with unit weights) and :math:`p`
the number of coordinates of the information. The weights are frequency weights,
as everywhere in skmle: a weight of 2 gives what a duplicated row gives. (For
weighted least squares statsmodels reads weights as precisions instead, whose
meat :math:`\\sum_i w_i^2 r_i^2 x_i x_i^\\top` differs; with unit weights the two
agree.)

The meat is summed over the rows with ``objective.sum_batches``, a few thousand
rows at a time, so data in chunks or on a Dask cluster work as in memory. Each
row's score is whitened first, :math:`G^\\top s_i` with :math:`I^{-1} = G
G^\\top` (:meth:`~skmle.inference.Information.whiten`), so that what is summed is
the middle :math:`G^\\top M G` of :math:`V = (JG)(G^\\top M G)(JG)^\\top`: the
raw :math:`M` of uncentred columns would lose the digits that centring keeps.

Sparse rows (a ``scipy.sparse`` ``X``) have no dense scores: where the scores
are :class:`~skmle.inference.sandwich_sparse.RowScores` (an estimator whose
model gives the per-row factors of a linear predictor) the meat of their
batches is summed from sparse products instead, :math:`M` in ``theta``'s
coordinates, then mapped and whitened once (:mod:`skmle.inference.sandwich_sparse`);
other scores refuse sparse rows with a ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from skmle._sparse import is_sparse
from skmle.data import Batch
from skmle.inference.sandwich_sparse import SPARSE_SCORES_MESSAGE, RowScores

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")
"""The covariance types an estimator with ``cov_type`` accepts."""

SCORE_ROWS = 4096
"""Rows whose scores are held at once (the scores of a batch are n by p)."""

ScoreFunction = Callable[[Batch], np.ndarray]
"""Per-row scores of a batch in the information's coordinates, (n_rows, p)."""

Whiten = Callable[[np.ndarray], np.ndarray]
"""A linear map applied to each row of the scores (:meth:`Information.whiten`)."""


@dataclass(frozen=True)
class ScoreMeat:
    """The meat of a sandwich before its small-sample correction.

    Attributes
    ----------
    cov_type : str
        ``"HC0"``, ``"HC1"`` or ``"cluster"``.
    matrix : ndarray of shape (p, p)
        :math:`\\sum_i w_i s_i s_i^\\top`, or :math:`\\sum_g u_g u_g^\\top` for
        ``"cluster"``, of the scores as given (whitened, on the inference path).
    n_obs : float
        :math:`n = \\sum_i w_i`.
    n_groups : int or None
        :math:`G`, for ``"cluster"``.
    """

    cov_type: str
    matrix: np.ndarray
    n_obs: float
    n_groups: int | None = None

    @property
    def factor(self) -> float:
        """The correction of :attr:`cov_type` (:func:`small_sample_factor`),
        ``p`` being the matrix's order."""
        return small_sample_factor(
            self.cov_type, self.n_obs, self.matrix.shape[0], self.n_groups
        )

    @property
    def undefined_message(self) -> str:
        """Why the correction is undefined (when :attr:`factor` is infinite)."""
        return (
            f"cov_type={self.cov_type!r} needs more observations (total weight "
            f"{self.n_obs:g}) than the {self.matrix.shape[0]} parameters, and at "
            "least two groups: its standard errors are set to NaN."
        )

    def corrected(self) -> np.ndarray:
        """:math:`M`: :attr:`matrix` times :attr:`factor`."""
        return self.factor * self.matrix


def small_sample_factor(
    cov_type: str, n_obs: float, n_params: int, n_groups: int | None = None
) -> float:
    """1 for ``"HC0"``, :math:`n/(n-p)` for ``"HC1"``,
    :math:`\\frac{G}{G-1}\\frac{n-1}{n-p}` for ``"cluster"``; infinite when the
    denominator is not positive (too few rows or groups for the correction).
    """
    if cov_type == "HC0":
        return 1.0
    if cov_type == "HC1":
        return _ratio(n_obs, n_obs - n_params)
    if cov_type == "cluster":
        return _ratio(n_groups, n_groups - 1.0) * _ratio(n_obs - 1.0, n_obs - n_params)
    raise ValueError(f"No sandwich for cov_type={cov_type!r}.")


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else np.inf


def check_cov_type(cov_type: str, groups, n_rows: int | None) -> None:
    """Refuse ``groups`` without ``cov_type="cluster"`` and the reverse, and
    groups of the wrong length, with a ``ValueError`` that says what to do.

    Parameters
    ----------
    cov_type : str
    groups : array-like of shape (n_samples,) or None
    n_rows : int or None
        The number of rows of ``X``, when known.
    """
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}.")
    if groups is None:
        if cov_type == "cluster":
            raise ValueError(
                'cov_type="cluster" needs the cluster of each sample: pass '
                "fit(X, y, groups=...)."
            )
        return
    if cov_type != "cluster":
        raise ValueError(
            f"groups were given but cov_type={cov_type!r}: groups are used only by "
            'cov_type="cluster"; set it, or do not pass groups.'
        )
    length = np.shape(groups)[0] if np.ndim(groups) == 1 else None
    if length is None or (n_rows is not None and length != n_rows):
        raise ValueError(
            f"groups must be one label per sample, of shape ({n_rows},), got shape "
            f"{np.shape(groups)}."
        )


def weighted_score_products(
    batch: Batch, scores: ScoreFunction, whiten: Whiten | None = None
) -> np.ndarray:
    """:math:`\\sum_i w_i s_i s_i^\\top` over the rows of ``batch`` (of the
    scores whitened by ``whiten``, if given), :data:`SCORE_ROWS` rows at a time."""
    _refuse_sparse_rows(batch)
    total = 0.0
    for start in range(0, batch.X.shape[0], SCORE_ROWS):
        part = batch.take(slice(start, start + SCORE_ROWS))
        s = _whitened(scores(part), whiten)
        total = total + s.T @ (s * part.sample_weight[:, None])
    return np.asarray(total)


def group_score_sums(
    batch: Batch,
    scores: ScoreFunction,
    labels: np.ndarray,
    whiten: Whiten | None = None,
) -> np.ndarray:
    """:math:`u_g = \\sum_{i \\in g} w_i s_i` for every group, (n_groups, p), of
    the scores whitened by ``whiten`` if given.

    The rows' groups are ``batch.groups``; ``labels`` are the sorted distinct
    labels of all rows (:func:`skmle.data.distinct_values`), so that group
    :math:`g` has the same row in the sums of every batch, and the sums of
    disjoint batches add up: memory is (n_groups, p) per batch, never per row.
    """
    _refuse_sparse_rows(batch)
    codes = _group_codes(batch, labels)
    total = 0.0
    for start in range(0, batch.X.shape[0], SCORE_ROWS):
        rows = slice(start, start + SCORE_ROWS)
        part = batch.take(rows)
        weighted = _whitened(scores(part), whiten) * part.sample_weight[:, None]
        sums = np.zeros((len(labels), weighted.shape[1]))
        np.add.at(sums, codes[rows], weighted)
        total = total + sums
    return np.asarray(total)


def _refuse_sparse_rows(batch: Batch) -> None:
    """ValueError for sparse rows reaching scores that are only dense."""
    if is_sparse(batch.X):
        raise ValueError(SPARSE_SCORES_MESSAGE)


def _group_codes(batch: Batch, labels: np.ndarray) -> np.ndarray:
    """Each row's group as its index into the sorted ``labels``."""
    if batch.groups is None:
        raise ValueError(
            'cov_type="cluster" needs the groups of the rows: fit(X, y, groups=...).'
        )
    return np.searchsorted(labels, batch.groups)


def _whitened(scores: np.ndarray, whiten: Whiten | None) -> np.ndarray:
    return scores if whiten is None else whiten(scores)


def score_meat(
    sum_batches: Callable[[Callable[[Batch], Any]], Any],
    scores: ScoreFunction,
    cov_type: str,
    n_obs: float,
    labels: np.ndarray | None = None,
    whiten: Whiten | None = None,
) -> ScoreMeat:
    """The meat of ``cov_type`` from the scores summed over every batch.

    Parameters
    ----------
    sum_batches : callable
        ``objective.sum_batches``: applies a per-batch function to every batch
        and adds the results.
    scores : callable
        ``scores(batch)``, the per-row scores in the information's coordinates.
    cov_type : {"HC0", "HC1", "cluster"}
    n_obs : float
        :math:`\\sum_i w_i`.
    labels : ndarray of shape (n_groups,), default=None
        The sorted distinct cluster labels, for ``"cluster"``; each batch
        carries its rows' labels in ``batch.groups`` (in memory, in chunks or
        on Dask workers alike).
    whiten : callable, default=None
        Applied to the scores of each block of rows before their products are
        summed (:meth:`~skmle.inference.Information.whiten`).

    Returns
    -------
    ScoreMeat
    """
    if isinstance(scores, RowScores):
        return _row_scores_meat(sum_batches, scores, cov_type, n_obs, labels, whiten)
    if cov_type != "cluster":
        matrix = sum_batches(
            partial(weighted_score_products, scores=scores, whiten=whiten)
        )
        return ScoreMeat(cov_type, matrix, n_obs)
    if labels is None:
        raise ValueError('cov_type="cluster" needs the distinct group labels.')
    sums = sum_batches(
        partial(group_score_sums, scores=scores, labels=labels, whiten=whiten)
    )
    return ScoreMeat(cov_type, sums.T @ sums, n_obs, len(labels))


def _row_scores_meat(sum_batches, scores, cov_type, n_obs, labels, whiten):
    """:func:`score_meat` of :class:`~skmle.inference.sandwich_sparse.RowScores`:
    each batch adds to a dense part (whitened row by row, as above) or, with
    sparse ``X``, to a part in ``theta``'s coordinates from the score factors,
    mapped and whitened once at the end."""
    if cov_type != "cluster":
        dense, sparse = sum_batches(
            partial(_products_either, scores=scores, whiten=whiten)
        )
        if np.ndim(sparse):
            dense = dense + _whitened_meat(scores, sparse, whiten)
        return ScoreMeat(cov_type, np.asarray(dense), n_obs)
    if labels is None:
        raise ValueError('cov_type="cluster" needs the distinct group labels.')
    dense, sparse = sum_batches(
        partial(_group_sums_either, scores=scores, labels=labels, whiten=whiten)
    )
    if sparse is None:
        return ScoreMeat(cov_type, dense.T @ dense, n_obs, len(labels))
    middle = _whitened_meat(scores, scores.cluster_products(sparse), whiten)
    return ScoreMeat(cov_type, middle, n_obs, len(labels))


def _whitened_meat(scores: RowScores, matrix: np.ndarray, whiten: Whiten | None):
    """:math:`G^\\top T^\\top M T G` of a meat :math:`M` in ``theta``'s
    coordinates, symmetric."""
    middle = _whitened(_whitened(scores.congruence(matrix), whiten).T, whiten)
    return (middle + middle.T) / 2.0


def _products_either(batch: Batch, scores: RowScores, whiten: Whiten | None):
    """``(whitened products, 0.0)`` of dense rows, ``(0.0, theta's products)``
    of sparse ones."""
    if is_sparse(batch.X):
        return 0.0, scores.products(batch)
    return weighted_score_products(batch, scores, whiten), 0.0


def _group_sums_either(
    batch: Batch, scores: RowScores, labels: np.ndarray, whiten: Whiten | None
):
    """The groups' sums of scores: ``(whitened sums, None)`` of dense rows,
    ``(0.0, sparse sums in theta's coordinates)`` of sparse ones (a store's
    batches are all dense or all sparse)."""
    if is_sparse(batch.X):
        codes = _group_codes(batch, labels)
        return 0.0, scores.group_sums(batch, codes, len(labels))
    return group_score_sums(batch, scores, labels, whiten), None
