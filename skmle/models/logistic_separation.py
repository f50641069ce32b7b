"""Whether logistic regression has a maximum: complete and quasi-complete separation.

When a hyperplane puts every row (with positive weight) strictly on the side of its
own class, the log-likelihood rises towards 0 as the coefficients grow, and no
maximum exists (:func:`correctly_separated`, :data:`~skmle.status.Status.SEPARABLE`).
When a direction moves every row toward its own class or leaves it in place, some
on the boundary, the log-likelihood rises for ever towards a supremum below 0
(:func:`recession_status`, :data:`~skmle.status.Status.QUASI_SEPARABLE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmle.status import Status

RECESSION_RTOL = 1e-3
"""Margins of a step within this fraction of its largest score change count as
zero (see :func:`recession_status`)."""


def correctly_separated(eta: np.ndarray, y: np.ndarray, weight: np.ndarray) -> bool:
    """Whether every row with positive weight scores its own class strictly highest."""
    rows = weight > 0
    eta, y = eta[rows], y[rows]
    if eta.ndim == 1:
        return bool(np.all(np.where(y == 1, eta, -eta) > 0))
    index = np.arange(eta.shape[0])
    own = eta[index, y].copy()
    eta = eta.copy()
    eta[index, y] = -np.inf
    return bool(np.all(own > eta.max(axis=1)))


@dataclass(frozen=True)
class Margins:
    """How a step moves rows toward their own class, summarised so that the
    summaries of blocks of rows add up (``+`` takes the extremes).

    Attributes
    ----------
    scale : float
        The largest change :math:`|s_{ik}|` of a score.
    worst, best : float
        The smallest and largest margin of a row with positive weight (see
        :func:`step_margins`).
    """

    scale: float = 0.0
    worst: float = np.inf
    best: float = -np.inf

    def __add__(self, other: Margins) -> Margins:
        return Margins(
            max(self.scale, other.scale),
            min(self.worst, other.worst),
            max(self.best, other.best),
        )


def step_margins(step_eta: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Margins:
    """The :class:`Margins` of a step of the linear predictor over some rows.

    The margin of row :math:`i` is :math:`s_i` (the step of the log-odds, signed
    by the class) for two classes, :math:`s_{i y_i} - \\max_{k \\ne y_i} s_{ik}`
    for more.
    """
    rows = weight > 0
    step, y = step_eta[rows], y[rows]
    if step.size == 0:
        return Margins()
    if step.ndim == 1:
        margin = np.where(y == 1, step, -step)
    else:
        index = np.arange(step.shape[0])
        other = step.copy()
        other[index, y] = -np.inf
        margin = step[index, y] - other.max(axis=1)
    return Margins(float(np.abs(step).max()), float(margin.min()), float(margin.max()))


def recession_status(margins: Margins) -> Status | None:
    """Whether a step is a direction of recession, from its :class:`Margins`.

    If no row's margin is negative and some is positive, the log-likelihood
    rises along the step for ever: no maximum exists. Some margins zero (rows
    on the boundary, whose probabilities stay put while the others go to 0 or
    1) is quasi-complete separation: :data:`Status.QUASI_SEPARABLE`. All
    positive is complete separation, which gives None here: the iterates soon
    separate the classes, and the test of the iterates
    (:func:`correctly_separated`) stops there. Margins within
    :data:`RECESSION_RTOL` of the largest change of a score count as zero: near
    the end of such a fit the step is the direction of recession plus a
    vanishing correction.
    """
    tolerance = RECESSION_RTOL * margins.scale
    if not margins.scale > 0 or margins.worst < -tolerance or margins.best <= tolerance:
        return None
    # All margins positive, however small: complete separation, left to the
    # separation test of the iterates, which stops at coefficients that do
    # separate the classes. On a quasi-complete separation the step's vanishing
    # correction moves the rows on the boundary both ways.
    return None if margins.worst > 0 else Status.QUASI_SEPARABLE
