"""Logistic regression bound to its rows, with the linear-predictor Newton interface.

Newton's method with a linear predictor (:func:`~skmle.optim.newton`) works on
:math:`\\eta = X\\theta` of every row: the line search moves along
:math:`\\eta + t\\,X d` without reading :math:`X` again. Where ``eta`` lives is the
one variation, and it is a strategy of :class:`LogisticObjective`, chosen by what
the store of rows offers (:meth:`~skmle.data.Rows.resident_blocks`):

- rows held in memory: ``eta`` is an array over all rows, the rows are cut into one
  block per thread, and every sum runs in parallel threads (BLAS on one thread
  each) with the block sums added in a fixed order;
- rows read in pieces (memmap chunks, Dask workers): ``eta`` cannot be kept beside
  the rows. Because :math:`\\eta` is linear in :math:`\\theta` with no offset, the
  parameter vector that produced a predictor stands for it exactly
  (:math:`\\eta(a) + t\\,\\eta(b) = \\eta(a + t b)`), so "``eta``" is that vector and
  :math:`X a` is recomputed inside every per-batch sum, where the batch is. Only
  parameter vectors, and sums of size (number of parameters)\\ :sup:`2`, cross
  between the client and the data; each line-search evaluation is then a pass over
  the data (``line_search_reads_data``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import Any

import numpy as np

from skmle._threads import available_threads, thread_map
from skmle.data import Batch, add_results
from skmle.models.logistic import LogisticLogLikelihood
from skmle.models.logistic_precondition import (
    kronecker_information,
    kronecker_terms,
    sampled_information,
)
from skmle.models.logistic_separation import recession_status, step_margins
from skmle.models.objective import Objective
from skmle.status import Status

MIN_ROWS_PER_THREAD = 16384
"""Below this many rows per thread, a sum over rows runs in the calling thread."""
SINGLE_FROM_ROWS = 32768
"""Rows from which a single-precision information (``single=True``) is offered:
below, the information costs too little for its half to matter."""


class DiagonalPriorObjective(Objective):
    """:class:`~skmle.models.objective.Objective` whose log-prior is never a dense
    matrix: its value and gradient take O(n_params) (the generic objective asks
    the model for the full Hessian just to read a scalar), and
    :meth:`hessian` adds the diagonal prior precision in place."""

    model: LogisticLogLikelihood

    def value(self, theta: np.ndarray) -> float:
        prior, _ = self.model.log_prior_value_grad(theta)
        return (self.loglik(theta) + prior) / self.total_weight

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        model = self.model
        total, grad = self.sum_batches(lambda b: model.loglik_grad(theta, b))
        prior, prior_grad = model.log_prior_value_grad(theta)
        return (
            (total + prior) / self.total_weight,
            (grad + prior_grad) / self.total_weight,
        )

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        model = self.model
        hess = np.array(self.sum_batches(lambda b: model.hessian(theta, b)))
        hess[np.diag_indices_from(hess)] -= model.prior_precision()
        return hess / self.total_weight


class LogisticObjective(DiagonalPriorObjective):
    """:class:`DiagonalPriorObjective` plus what
    :func:`~skmle.optim.newton` needs for its linear-predictor path: the predictor,
    the objective and its derivatives along a line from it, Newton steps in free
    coordinates, and the separation tests that prove no maximum exists.

    Parameters
    ----------
    model : LogisticLogLikelihood
    rows : Rows, or a sequence of Batch
    n_threads : int, default=None
        Threads for rows held in memory (all available CPUs by default; at least
        :data:`MIN_ROWS_PER_THREAD` rows each).

    Attributes
    ----------
    information : ndarray or None
        The total information matrix (free coordinates, prior included) of the
        last exact :meth:`newton_system`, and ``information_theta`` its point.
    """

    approximate_information = True
    """:meth:`newton_system` takes ``exact=False`` (information from sampled rows)."""

    information: np.ndarray | None = None
    information_theta: np.ndarray | None = None

    def __init__(self, model, rows, n_threads: int | None = None):
        super().__init__(model, rows)
        self.n_threads = available_threads() if n_threads is None else int(n_threads)
        self._blocks = self.rows.resident_blocks(self.n_threads, MIN_ROWS_PER_THREAD)
        self._last_eta, self._last_separated = None, False

    @property
    def single_information(self) -> bool:
        """Whether :meth:`newton_system` takes ``single=True``: for two classes
        (the multinomial blocks come from one double-precision product, see
        :func:`~skmle.models.logistic_information.information_blocks`), with
        at least :data:`SINGLE_FROM_ROWS` rows."""
        return self.model.binary and self.rows.n_rows >= SINGLE_FROM_ROWS

    @property
    def line_search_reads_data(self) -> bool:
        """Whether each line-search evaluation is a pass over the data, as costly
        as a Newton system (``eta`` is a parameter vector)."""
        return self._blocks is None

    def _map_eta(self, per_batch: Callable[..., Any], *etas) -> Any:
        """The sum over batches of ``per_batch(batch, *(eta of the batch's rows))``.

        ``per_batch`` must capture only small things (the model), as for
        :meth:`sum_batches`.
        """
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
        n = self._blocks[-1][1].stop
        eta = np.empty((n,) if model.binary else (n, model.n_classes))
        coef, intercept = model.split(theta)
        if not np.any(coef):  # the usual start: no pass over X needed
            eta[...] = intercept[0] if model.binary else intercept
            return eta

        def fill(block):
            eta[block[1]] = model.linear_predictor(theta, block[0].X)

        thread_map(fill, self._blocks)
        return eta

    def _prior_value(self, theta) -> float:
        return self.model.log_prior_value_grad(theta)[0]

    def value_at(self, theta: np.ndarray, eta: np.ndarray) -> float:
        model = self.model
        total = self._map_eta(lambda b, e: model.loglik_eta(e, b), eta)
        return (float(total) + self._prior_value(theta)) / self.total_weight

    def line_terms(self, theta, eta, direction, step_eta):
        model = self.model
        loglik, slope, curvature = self._map_eta(
            lambda b, e, s: model.line_terms(e, s, b), eta, step_eta
        )
        if model.has_prior:
            value, grad = model.log_prior_value_grad(theta)
            loglik += value
            slope += float(grad @ direction)
            curvature -= float(model.prior_precision() @ direction**2)
        return (
            float(loglik) / self.total_weight,
            float(slope) / self.total_weight,
            float(curvature) / self.total_weight,
        )

    def information_at(
        self, eta: np.ndarray, exact: bool = True, single=False, along=None
    ):
        """Total log-likelihood, gradient, information (prior included),
        separated; ``along = (direction, step_eta, new_eta)`` as in
        :meth:`LogisticLogLikelihood.newton_terms` (rows in memory: the output
        arrays are cut by block like ``eta``)."""
        model = self.model

        def per_batch(b, e, *outputs):
            step = None if along is None else (along[0], *outputs)
            loglik, grad, info, separated = model.newton_terms(
                e, b, exact=exact, single=single, along=step
            )
            # Counted, not and-ed, so that the parts add like the other sums.
            return loglik, grad, info, int(not separated)

        arrays = (eta,) if along is None else (eta, *along[1:])
        loglik, grad, info, not_separated = self._map_eta(per_batch, *arrays)
        if exact is not None:  # None: no information asked (see newton_terms)
            info = info + model.prior_information()
        return loglik, grad, info, not_separated == 0

    def newton_system(
        self,
        theta: np.ndarray,
        eta: np.ndarray,
        exact: bool | None = True,
        single: bool = False,
    ):
        """Mean objective and gradient, and the Newton system in free coordinates.

        With ``exact=False`` the information is estimated from a sample of the
        rows, and with ``single=True`` its products are in single precision
        (see :meth:`LogisticLogLikelihood.newton_terms`); either is an
        approximation, never kept as :attr:`information`.
        """
        totals = self.information_at(eta, exact, single)
        return self._system(theta, eta, totals, exact and not single)

    def newton_system_along(
        self,
        theta: np.ndarray,
        eta: np.ndarray,
        direction: np.ndarray,
        exact: bool | None = True,
        single: bool = False,
    ):
        """:meth:`newton_system` at ``theta + direction``, whose predictor is
        formed inside the same pass over the rows (``along`` of
        :meth:`LogisticLogLikelihood.newton_terms`). Returns ``(system,
        eta + X direction, X direction)``. Rows held in memory only (where
        ``eta`` is an array); elsewhere the predictor costs no pass anyway."""
        if self._blocks is None:
            step_eta = self.predictor(direction)
            new_eta = eta + step_eta
            system = self.newton_system(theta + direction, new_eta, exact, single)
            return system, new_eta, step_eta
        step_eta, new_eta = np.empty_like(eta), np.empty_like(eta)
        along = (direction, step_eta, new_eta)
        totals = self.information_at(eta, exact, single, along)
        system = self._system(theta + direction, new_eta, totals, exact and not single)
        return system, new_eta, step_eta

    def _system(self, theta, eta, totals, keep: bool):
        """:meth:`newton_system`'s answer from the totals of
        :meth:`information_at`; ``keep`` an exact information as
        :attr:`information`."""
        model = self.model
        loglik, grad, info, separated = totals
        if keep:
            self.information, self.information_theta = info, np.array(theta)
        self._last_eta, self._last_separated = eta, separated
        _, prior_grad = model.log_prior_value_grad(theta)
        grad = (grad + prior_grad) / self.total_weight
        value = (loglik + self._prior_value(theta)) / self.total_weight
        return value, grad, info / self.total_weight, model.to_free(grad)

    def preconditioner(self, theta: np.ndarray, eta: np.ndarray) -> np.ndarray | None:
        """The Kronecker approximation of the information at ``theta`` per unit
        of weight, prior included (free coordinates, as :meth:`newton_system`'s;
        :mod:`~skmle.models.logistic_precondition`), for the quasi-Newton phase
        of :func:`~skmle.optim.newton`; None for two classes (no classes to
        factor out)."""
        model = self.model
        if model.binary:
            return None
        A, gram = self._map_eta(lambda b, e: kronecker_terms(model, e, b), eta)
        total = kronecker_information(A, gram, self.total_weight)
        return (total + model.prior_information()) / self.total_weight

    def sampled_preconditioner(self, theta: np.ndarray) -> np.ndarray | None:
        """:func:`~skmle.models.logistic_precondition.sampled_information`: the
        exact information of a uniform sample of the rows at ``theta``, per
        unit of weight, or None."""
        return sampled_information(self, theta)

    def solution_information(self, theta: np.ndarray, learned=None) -> np.ndarray:
        """The total information (free coordinates, prior included) at ``theta``.

        The last exact :meth:`newton_system`'s if it was at that very point, else
        the one the solver ``learned`` there (an
        :class:`~skmle.optim.result.Learned` whose information is that of the
        Newton system, per unit of weight), else one pass over the data.
        """
        known = [(self.information, self.information_theta, 1.0)]
        if learned is not None and learned.information is not None:
            known.append((learned.information, learned.at, self.total_weight))
        for information, at, weight in known:
            if information is not None and at is not None:
                if np.array_equal(at, theta):
                    return information * weight
        return self.information_at(self.predictor(theta))[2]

    def expand(self, free_step: np.ndarray) -> np.ndarray:
        """A Newton step in free coordinates as a direction in ``theta``."""
        return self.model.from_free(free_step)

    def stop_reason(self, theta: np.ndarray, eta: np.ndarray) -> Status | None:
        """:data:`Status.SEPARABLE` when ``alpha == 0`` and ``eta`` separates."""
        if self.model.alpha > 0:
            return None
        last = self._last_eta
        # newton_system has just tested this very eta on its pass over the rows.
        if last is not None and (eta is last or np.array_equal(eta, last)):
            separated = self._last_separated
        else:
            separated = self.separated(eta)
        return Status.SEPARABLE if separated else None

    def separated(self, eta: np.ndarray) -> bool:
        """Whether ``eta`` puts every row with positive weight on its class's side."""
        model = self.model
        count = self._map_eta(lambda b, e: int(not model.separates(e, b)), eta)
        return count == 0

    def recession_reason(self, theta, eta, direction, step_eta) -> Status | None:
        """:func:`~skmle.models.logistic_separation.recession_status` of the step
        when ``alpha == 0``; asked by the solver only while its decrements shrink
        slowly."""
        if self.model.alpha > 0:
            return None
        margins = self._map_eta(
            lambda b, s: step_margins(s, b.y, b.sample_weight), step_eta
        )
        return recession_status(margins)
