"""One block of rows with their weights, and how per-block results add up."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from operator import add

import numpy as np

from skmle._sparse import as_rows


@dataclass(frozen=True)
class Batch:
    """Rows of data with their weights, and optional side columns.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs), or None
    sample_weight : ndarray of shape (n_samples,)
    offset : ndarray of shape (n_samples,) or None
        A known term added to each row's linear predictor (the log of an
        exposure, for a count model): :math:`\\eta_i = x_i^\\top w + b + o_i`.
    groups : ndarray of shape (n_samples,) or None
        The cluster label of each row, for a cluster-robust covariance.

    The side columns follow the rows through every store (:meth:`take`).
    """

    X: np.ndarray
    y: np.ndarray | None
    sample_weight: np.ndarray
    offset: np.ndarray | None = None
    groups: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls, X, y=None, sample_weight=None, offset=None, groups=None
    ) -> Batch:
        X = as_rows(X)  # scipy.sparse stays sparse (CSR)
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0])
        return with_sides(
            cls(X, None if y is None else np.asarray(y), np.asarray(sample_weight)),
            offset,
            groups,
        )

    @property
    def total_weight(self) -> float:
        return float(self.sample_weight.sum())

    def take(self, rows) -> Batch:
        """The rows ``rows`` (a slice or an index array) of every column."""

        def pick(values):
            return None if values is None else values[rows]

        return Batch(
            self.X[rows],
            pick(self.y),
            self.sample_weight[rows],
            pick(self.offset),
            pick(self.groups),
        )


def with_sides(batch: Batch, offset=None, groups=None, check: bool = True) -> Batch:
    """``batch`` with the side columns ``offset`` and ``groups`` attached.

    ``offset`` becomes a float64 vector, checked (when ``check``) to be finite;
    ``groups`` a vector of labels. Both must have one entry per row; a
    ``ValueError`` says which does not. None leaves a column as it is.
    """
    n = batch.X.shape[0]
    changes = {}
    if offset is not None:
        offset = np.asarray(offset, dtype=np.float64)
        if offset.ndim != 1 or offset.shape[0] != n:
            raise ValueError(
                f"offset must be one number per sample, of shape ({n},), got shape "
                f"{offset.shape}."
            )
        if check and not np.all(np.isfinite(offset)):
            raise ValueError(
                "offset contains NaN or infinity (an exposure of 0 has no log: "
                "drop those rows or give them a positive exposure)."
            )
        changes["offset"] = offset
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != n:
            raise ValueError(
                f"groups must be one label per sample, of shape ({n},), got shape "
                f"{groups.shape}."
            )
        changes["groups"] = groups
    return dataclasses.replace(batch, **changes) if changes else batch


def add_results(a, b):
    """Add two per-batch results: numbers, arrays, None, or (nested) tuples of them."""
    if isinstance(a, tuple):
        return tuple(map(add_results, a, b))
    if a is None:
        return None
    return add(a, b)
