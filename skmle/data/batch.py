"""One block of rows with their weights, and how per-block results add up."""

from __future__ import annotations

from dataclasses import dataclass
from operator import add

import numpy as np

from skmle._sparse import as_rows


@dataclass(frozen=True)
class Batch:
    """Rows of data with their weights.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs), or None
    sample_weight : ndarray of shape (n_samples,)
    """

    X: np.ndarray
    y: np.ndarray | None
    sample_weight: np.ndarray

    @classmethod
    def from_arrays(cls, X, y=None, sample_weight=None) -> Batch:
        X = as_rows(X)  # scipy.sparse stays sparse (CSR)
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0])
        return cls(X, None if y is None else np.asarray(y), np.asarray(sample_weight))

    @property
    def total_weight(self) -> float:
        return float(self.sample_weight.sum())


def add_results(a, b):
    """Add two per-batch results: numbers, arrays, None, or (nested) tuples of them."""
    if isinstance(a, tuple):
        return tuple(map(add_results, a, b))
    if a is None:
        return None
    return add(a, b)
