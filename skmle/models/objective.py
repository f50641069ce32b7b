"""Bind a log-likelihood to data: the function an optimizer maximises.

An :class:`Objective` sums a model's per-batch quantities over the batches of a data
set and adds the model's log-prior. It divides everything by the total sample weight,
so that step sizes and tolerances mean the same thing for ten rows or ten million:

.. math:: f(\\theta) = \\frac{1}{W}\\Big(\\sum_b \\ell_b(\\theta) + \\log \\pi(\\theta)\\Big),
   \\qquad W = \\sum_i w_i.

Only :meth:`Objective._sum` knows how batches are stored; a chunked or distributed
objective overrides it and nothing else.
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
    batches : sequence of Batch
        Disjoint blocks of rows; their sums add up.
    """

    def __init__(self, model: LogLikelihood, batches: Sequence[Batch]):
        self.model = model
        self.batches = list(batches)
        self.total_weight = float(self._sum(lambda b: b.total_weight))
        if not self.total_weight > 0:
            raise ValueError(
                "The sample weights sum to zero: at least one sample needs a "
                "positive weight."
            )

    @classmethod
    def from_arrays(cls, model, X, y=None, sample_weight=None) -> Objective:
        return cls(model, [Batch.from_arrays(X, y, sample_weight)])

    @property
    def has_hessian(self) -> bool:
        return self.model.has_hessian

    def _sum(self, per_batch: Callable[[Batch], Any]) -> Any:
        """Apply ``per_batch`` to every batch and add the results."""
        return reduce(add_results, (per_batch(b) for b in self.batches))

    def loglik(self, theta: np.ndarray) -> float:
        """Total weighted log-likelihood (no prior, not divided by the weight)."""
        return float(self._sum(lambda b: self.model.loglik(theta, b)))

    def value(self, theta: np.ndarray) -> float:
        total = self.loglik(theta)
        prior, _, _ = self.model.log_prior(theta, self.total_weight)
        return (total + prior) / self.total_weight

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = self._sum(lambda b: self.model.loglik_grad(theta, b))
        prior, prior_grad, _ = self.model.log_prior(theta, self.total_weight)
        return (
            (total + prior) / self.total_weight,
            (grad + prior_grad) / self.total_weight,
        )

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        hess = self._sum(lambda b: self.model.hessian(theta, b))
        _, _, prior_hess = self.model.log_prior(theta, self.total_weight)
        return (hess + prior_hess) / self.total_weight


def add_results(a, b):
    """Add two per-batch results: numbers, arrays, or tuples of them."""
    if isinstance(a, tuple):
        return tuple(map(add, a, b))
    return a + b
