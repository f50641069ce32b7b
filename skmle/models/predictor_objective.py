"""A generalised linear model bound to its rows, for Newton's linear-predictor path.

:func:`~skmle.optim.newton` moves the linear predictor :math:`\\eta = X\\theta`
in its line search when the objective offers one (see
:mod:`skmle.optim.newton_predictor`). :class:`PredictorObjective` offers it for
any model with one linear predictor and three per-batch methods of it,
``loglik_eta(eta, batch)``, ``line_terms(eta, step_eta, batch)`` and
``newton_terms(eta, batch) -> (loglik, grad, information)``, as
:class:`~skmle.models.poisson.PoissonLogLikelihood` has. A row's ``offset``
is not part of ``eta`` (which must be linear in ``theta``): the model adds
``batch.offset`` inside those methods.

Where ``eta`` lives follows the store (as in
:mod:`skmle.models.logistic_objective`): rows held in memory keep ``eta`` as an
array beside them, cut into one block per thread; rows read in pieces (memmap
chunks, Dask workers) stand for ``eta`` by the parameter vector that produced it
(:math:`\\eta(a) + t\\,\\eta(b) = \\eta(a + t b)`), and :math:`X a` is recomputed
where each batch is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import Any

import numpy as np

from skmle._threads import available_threads, thread_map
from skmle.data import Batch, add_results
from skmle.models.logistic_objective import MIN_ROWS_PER_THREAD
from skmle.models.objective import Objective


class PredictorObjective(Objective):
    """The mean log-likelihood of a one-predictor GLM, with the interface of
    :class:`~skmle.optim.newton_predictor.PredictorNewtonStep`.

    Parameters
    ----------
    model : LogLikelihood
        With ``linear_predictor``, ``loglik_eta``, ``line_terms`` and
        ``newton_terms``, and no prior.
    rows : Rows, or a sequence of Batch

    Attributes
    ----------
    information : ndarray or None
        The total information of the last :meth:`newton_system`, and
        ``information_theta`` its point.
    """

    information: np.ndarray | None = None
    information_theta: np.ndarray | None = None

    def __init__(self, model, rows):
        super().__init__(model, rows)
        self._blocks = self.rows.resident_blocks(
            available_threads(), MIN_ROWS_PER_THREAD
        )

    @property
    def line_search_reads_data(self) -> bool:
        """Whether a line-search evaluation is a pass over the data."""
        return self._blocks is None

    def _map_eta(self, per_batch: Callable[..., Any], *etas) -> Any:
        """The sum over batches of ``per_batch(batch, *(eta of its rows))``."""
        if self._blocks is None:
            model = self.model
            return self.rows.map_sum(
                lambda b: per_batch(b, *(model.linear_predictor(e, b.X) for e in etas))
            )
        parts = thread_map(
            lambda block: per_batch(block[0], *(e[block[1]] for e in etas)),
            self._blocks,
        )
        return reduce(add_results, parts)

    def sum_batches(self, per_batch: Callable[[Batch], Any]) -> Any:
        if self._blocks is None:
            return super().sum_batches(per_batch)
        return reduce(add_results, thread_map(lambda b: per_batch(b[0]), self._blocks))

    def predictor(self, theta: np.ndarray) -> np.ndarray:
        if self._blocks is None:
            return np.array(theta, dtype=float)
        model = self.model
        eta = np.empty(self._blocks[-1][1].stop)

        def fill(block):
            eta[block[1]] = model.linear_predictor(theta, block[0].X)

        thread_map(fill, self._blocks)
        return eta

    def value_at(self, theta: np.ndarray, eta) -> float:
        model = self.model
        return (
            self._map_eta(lambda b, e: model.loglik_eta(e, b), eta) / self.total_weight
        )

    def line_terms(self, theta, eta, direction, step_eta):
        model = self.model
        terms = self._map_eta(lambda b, e, s: model.line_terms(e, s, b), eta, step_eta)
        return tuple(float(t) / self.total_weight for t in terms)

    def newton_system(self, theta: np.ndarray, eta):
        """Mean log-likelihood and gradient, and the (mean) Newton system."""
        model = self.model
        loglik, grad, info = self._map_eta(lambda b, e: model.newton_terms(e, b), eta)
        self.information, self.information_theta = info, np.array(theta)
        grad = grad / self.total_weight
        return loglik / self.total_weight, grad, info / self.total_weight, grad

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """The mean Hessian, :math:`-I/W`, from :meth:`solution_information`."""
        return -self.solution_information(theta) / self.total_weight

    def solution_information(self, theta: np.ndarray) -> np.ndarray:
        """The total information at ``theta``: the last Newton system's if it
        was at that very point, else one pass over the data."""
        if self.information is not None and np.array_equal(
            self.information_theta, theta
        ):
            return self.information
        model = self.model
        return self._map_eta(
            lambda b, e: model.newton_terms(e, b), self.predictor(theta)
        )[2]
