"""Bind a log-likelihood to data: the function an optimizer maximises.

An :class:`Objective` sums a model's per-batch quantities over the batches of a data
set and adds the model's log-prior. It divides everything by the total sample weight,
so that step sizes and tolerances mean the same thing for ten rows or ten million:

.. math:: f(\\theta) = \\frac{1}{W}\\Big(\\sum_b \\ell_b(\\theta) + \\log \\pi(\\theta)\\Big),
   \\qquad W = \\sum_i w_i.

The rows are a :class:`~skmle.data.Rows` store (in memory, chunks of a memmap read
one at a time, or the blocks of a Dask array summed on the workers);
:meth:`Objective.sum_batches` sums over them without asking which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from skmle.data import Batch, InMemoryRows, Rows
from skmle.models.base import LogLikelihood


class Objective:
    """Mean penalised log-likelihood of ``model`` over ``batches``.

    Parameters
    ----------
    model : LogLikelihood
    rows : Rows, or a sequence of Batch (held as :class:`~skmle.data.InMemoryRows`)
        Disjoint blocks of rows; their sums add up.

    Attributes
    ----------
    rows : Rows
    total_weight : float
        :math:`W`, summed along with the first pass over the data rather than in a
        pass of its own, so that a closed-form fit reads the data once.
    group_labels : ndarray of shape (n_groups,) or None
        The sorted distinct cluster labels, for a cluster-robust covariance
        (each batch carries its rows' labels, ``batch.groups``).
    """

    group_labels: np.ndarray | None = None

    def __init__(self, model: LogLikelihood, rows: Rows | Sequence[Batch]):
        self.model = model
        self._total_weight = None
        self.rows = InMemoryRows(rows) if isinstance(rows, list | tuple) else rows

    @property
    def batches(self) -> Rows:
        """The rows (the former name of :attr:`rows`)."""
        return self.rows

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
            self._set_total_weight(self.rows.map_sum(lambda b: b.total_weight))
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
        if self._total_weight is not None:
            return self.rows.map_sum(per_batch)
        result, total_weight = self.rows.map_sum(
            lambda b: (per_batch(b), b.total_weight)
        )
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
