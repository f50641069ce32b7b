"""Bind a log-likelihood to data: the function an optimizer maximises.

An :class:`Objective` sums a model's per-batch quantities over the batches of a data
set and adds the model's log-prior. It divides everything by the total sample weight,
so that step sizes and tolerances mean the same thing for ten rows or ten million:

.. math:: f(\\theta) = \\frac{1}{W}\\Big(\\sum_b \\ell_b(\\theta) + \\log \\pi(\\theta)\\Big),
   \\qquad W = \\sum_i w_i.

Only :meth:`Objective.sum_batches` knows how batches are stored. ``batches`` is a list of
:class:`~skmle.models.base.Batch` in memory, or a store that sums lazily or remotely
by itself through a ``map_sum(per_batch)`` method: chunks of a memmap read one at a
time (:class:`~skmle.models.chunked.ChunkedBatches`) or the blocks of a Dask array
summed on the workers (:class:`~skmle.models.dask_batches.DaskBatches`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from operator import add
from typing import Any

import numpy as np

from skmle.models.base import Batch, LogLikelihood


class Objective:
    """Mean penalised log-likelihood of ``model`` over ``batches``.

    Parameters
    ----------
    model : LogLikelihood
    batches : sequence of Batch, or a store with a ``map_sum`` method
        Disjoint blocks of rows; their sums add up.

    Attributes
    ----------
    total_weight : float
        :math:`W`. For a store it is summed along with the first pass over the
        data rather than in a pass of its own, so that a closed-form fit reads
        the data once.
    """

    def __init__(self, model: LogLikelihood, batches: Sequence[Batch]):
        self.model = model
        self._total_weight = None
        if hasattr(batches, "map_sum"):
            self.batches = batches
        else:
            self.batches = list(batches)
            self._set_total_weight(self.sum_batches(lambda b: b.total_weight))

    def _set_total_weight(self, total_weight) -> None:
        if not float(total_weight) > 0:
            raise ValueError(
                "The sample weights sum to zero: at least one sample needs a "
                "positive weight."
            )
        self._total_weight = float(total_weight)

    @property
    def total_weight(self) -> float:
        if self._total_weight is None:
            self.sum_batches(lambda b: None)
        return self._total_weight

    @classmethod
    def from_arrays(cls, model, X, y=None, sample_weight=None) -> Objective:
        return cls(model, [Batch.from_arrays(X, y, sample_weight)])

    @property
    def has_hessian(self) -> bool:
        return self.model.has_hessian

    def sum_batches(self, per_batch: Callable[[Batch], Any]) -> Any:
        """Apply ``per_batch`` to every batch and add the results.

        ``per_batch`` may run in another process (a Dask worker): it must be
        picklable and should capture only small things (the model, ``theta``),
        never the objective or its data.
        """
        map_sum = getattr(self.batches, "map_sum", None)
        if map_sum is None:
            return reduce(add_results, (per_batch(b) for b in self.batches))
        if self._total_weight is not None:
            return map_sum(per_batch)
        result, total_weight = map_sum(lambda b: (per_batch(b), b.total_weight))
        self._set_total_weight(total_weight)
        return result

    # The functions below bind ``model`` to a local name so that the function sent
    # to a worker carries the model, not the objective with its data.
    def loglik(self, theta: np.ndarray) -> float:
        """Total weighted log-likelihood (no prior, not divided by the weight)."""
        model = self.model
        return float(self.sum_batches(lambda b: model.loglik(theta, b)))

    def value(self, theta: np.ndarray) -> float:
        total = self.loglik(theta)
        prior, _, _ = self.model.log_prior(theta, self.total_weight)
        return (total + prior) / self.total_weight

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        model = self.model
        total, grad = self.sum_batches(lambda b: model.loglik_grad(theta, b))
        prior, prior_grad, _ = self.model.log_prior(theta, self.total_weight)
        return (
            (total + prior) / self.total_weight,
            (grad + prior_grad) / self.total_weight,
        )

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        model = self.model
        hess = self.sum_batches(lambda b: model.hessian(theta, b))
        _, _, prior_hess = self.model.log_prior(theta, self.total_weight)
        return (hess + prior_hess) / self.total_weight


def add_results(a, b):
    """Add two per-batch results: numbers, arrays, None, or (nested) tuples of them."""
    if isinstance(a, tuple):
        return tuple(map(add_results, a, b))
    if a is None:
        return None
    return add(a, b)
