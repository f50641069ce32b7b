"""Logistic regression's Newton interface on data read in pieces (memmap or Dask).

:func:`~skmle.optim.linear_newton.linear_newton` works on the linear predictor
:math:`\\eta = X\\theta` of every row. In memory,
:class:`~skmle.models.logistic.LogisticObjective` keeps that vector; for data that
do not fit in memory (or live on Dask workers) it cannot be kept on the client.
Because :math:`\\eta` is linear in :math:`\\theta` with no offset, the parameter
vector that produced a predictor stands for it exactly:
:math:`\\eta(a) + t\\,\\eta(b) = \\eta(a + t b)`. :class:`BatchedLogisticObjective`
therefore represents "``eta``" by that parameter vector (``predictor(theta)`` is a
copy of ``theta``) and recomputes :math:`X a` inside every per-batch sum, on the
chunk or on the worker that holds it. Only parameter vectors, and sums of size
(number of parameters)\\ :sup:`2`, cross between the client and the data.

In Newton's quadratic phase an iteration reads the data once: the
log-likelihood, gradient and information at the trial point also decide whether
the step is accepted. Before it, an iteration reads them twice (the line terms of
the full step, then the Newton system at the step chosen, which also verifies a
corrected length); each halving of a step costs one more pass.
"""

from __future__ import annotations

import numpy as np

from skmle.models.logistic import (
    SEPARABLE_MESSAGE,
    DiagonalPriorObjective,
    LogisticLogLikelihood,
    recession_message,
    step_margins,
)


class BatchedLogisticObjective(DiagonalPriorObjective):
    """:class:`~skmle.models.logistic.DiagonalPriorObjective` with the linear-Newton
    interface,
    for a store of batches (``batches`` with ``map_sum``).

    "``eta``" arguments are parameter vectors (see the module docstring); every
    method sums over the batches through :meth:`Objective.sum_batches`.

    Attributes
    ----------
    information : ndarray or None
        The total information matrix (free coordinates, prior included) of the
        last :meth:`newton_system`, and ``information_theta`` its point.
    """

    line_search_reads_data = True
    """Each line-search evaluation is a pass over the data, as costly as a Newton
    system: :func:`~skmle.optim.linear_newton.linear_newton` then verifies a
    corrected step length with the Newton system at that point, not a pass of
    its own."""

    approximate_information = True
    """:meth:`newton_system` takes ``exact=False`` (information from sampled rows)."""

    information: np.ndarray | None = None
    information_theta: np.ndarray | None = None
    _last_eta: np.ndarray | None = None
    _last_separated: bool = False

    model: LogisticLogLikelihood

    def predictor(self, theta: np.ndarray) -> np.ndarray:
        return np.array(theta, dtype=float)

    def _prior_value(self, theta) -> float:
        return self.model.log_prior_value_grad(theta)[0]

    def value_at(self, theta: np.ndarray, eta: np.ndarray) -> float:
        model = self.model
        total = self.sum_batches(
            lambda b: model.loglik_eta(model.linear_predictor(eta, b.X), b)
        )
        return (float(total) + self._prior_value(theta)) / self.total_weight

    def line_terms(self, theta, eta, direction, step_eta):
        model = self.model

        def per_batch(b):
            return np.array(
                model.line_terms(
                    model.linear_predictor(eta, b.X),
                    model.linear_predictor(step_eta, b.X),
                    b,
                )
            )

        loglik, slope, curvature = self.sum_batches(per_batch)
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

    def information_at(self, eta: np.ndarray, exact: bool = True):
        """Total log-likelihood, gradient, information (prior included), separated."""
        model = self.model

        def per_batch(b):
            loglik, grad, info, separated = model.newton_terms(
                model.linear_predictor(eta, b.X), b, exact=exact
            )
            # Counted, not and-ed, so that the parts add like the other sums.
            return loglik, grad, info, int(not separated)

        loglik, grad, info, not_separated = self.sum_batches(per_batch)
        return loglik, grad, info + model.prior_information(), not_separated == 0

    def newton_system(self, theta: np.ndarray, eta: np.ndarray, exact: bool = True):
        """Mean objective and gradient, and the Newton system in free coordinates
        (the information from sampled rows with ``exact=False``)."""
        model = self.model
        loglik, grad, info, separated = self.information_at(eta, exact)
        if exact:
            self.information, self.information_theta = info, np.array(theta)
        self._last_eta, self._last_separated = np.array(eta), separated
        _, prior_grad = model.log_prior_value_grad(theta)
        grad = (grad + prior_grad) / self.total_weight
        value = (loglik + self._prior_value(theta)) / self.total_weight
        return value, grad, info / self.total_weight, model.to_free(grad)

    def expand(self, free_step: np.ndarray) -> np.ndarray:
        return self.model.from_free(free_step)

    def stop_reason(self, theta: np.ndarray, eta: np.ndarray) -> str | None:
        """:data:`SEPARABLE_MESSAGE` when ``alpha == 0`` and ``eta`` separates."""
        if self.model.alpha > 0:
            return None
        if self._last_eta is not None and np.array_equal(eta, self._last_eta):
            separated = self._last_separated
        else:
            separated = self.separated(eta)
        return SEPARABLE_MESSAGE if separated else None

    def separated(self, eta: np.ndarray) -> bool:
        """Whether ``eta`` puts every row with positive weight on its class's side."""
        model = self.model
        count = self.sum_batches(
            lambda b: int(not model.separates(model.linear_predictor(eta, b.X), b))
        )
        return count == 0

    def recession_reason(self, theta, eta, direction, step_eta) -> str | None:
        """:func:`~skmle.models.logistic.recession_message` of the step (a
        parameter vector here) when ``alpha == 0``; one pass over the data, which
        the solver asks for only while its decrements shrink slowly."""
        if self.model.alpha > 0:
            return None
        model = self.model
        return recession_message(
            list(
                self.batches.map(
                    lambda b: step_margins(
                        model.linear_predictor(step_eta, b.X), b.y, b.sample_weight
                    )
                )
            )
        )
