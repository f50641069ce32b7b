"""Independent columns, each from its own univariate family: one log-likelihood.

The model is :math:`x_{ij} \\sim F_j(\\phi_j)` independently, so

.. math:: \\ell(\\theta) = \\sum_j \\sum_i w_i \\log p_j(x_{ij}; \\phi_j),

and the gradient and Hessian are the families' stacked, the Hessian block
diagonal.

Conventions
-----------
``theta = [phi_0, phi_1, ...]``: the unconstrained parameters of column 0 (its
family's ``phi``, see :mod:`skmle.models.distributions.base`), then column 1, ...
``slices[j]`` is column ``j``'s part.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from itertools import pairwise

import numpy as np

from skmle.data.batch import Batch
from skmle.models.base import LogLikelihood
from skmle.models.distributions.base import Family, unit_weights

BLOCK_ROWS = 65536
"""Rows per block of the sums: the temporaries of a block stay in cache, where
those of a whole million-row column would each be fresh pages of memory."""


def block_diagonal(*blocks: np.ndarray) -> np.ndarray:
    """The block-diagonal matrix of square ``blocks`` (``scipy.linalg.block_diag``
    without its overhead of tens of microseconds, which the fits of a few
    parameters would pay several times)."""
    sizes = [np.shape(b)[0] for b in blocks]
    matrix = np.zeros((sum(sizes), sum(sizes)))
    start = 0
    for block, size in zip(blocks, sizes, strict=True):
        matrix[start : start + size, start : start + size] = block
        start += size
    return matrix


def blocked_sum(function, x: np.ndarray, w: np.ndarray):
    """``function(x, w)`` summed over blocks of :data:`BLOCK_ROWS` rows; ``w`` is
    passed as None for unit weights (:func:`~skmle.models.distributions.base.unit_weights`),
    so that the sums need no weights at all."""
    w = None if unit_weights(w) else w
    if x.shape[0] <= BLOCK_ROWS:
        return function(x, w)
    parts = [
        function(
            x[start : start + BLOCK_ROWS],
            None if w is None else w[start : start + BLOCK_ROWS],
        )
        for start in range(0, x.shape[0], BLOCK_ROWS)
    ]
    if isinstance(parts[0], tuple):
        return tuple(sum(items[1:], items[0]) for items in zip(*parts, strict=True))
    return sum(parts[1:], parts[0])


class ColumnsLogLikelihood(LogLikelihood):
    """The log-likelihood of independent columns with families ``families``.

    Parameters
    ----------
    families : sequence of Family
        One per column.
    prior : tuple of two floats or None
        The conjugate prior of every column (see :meth:`Family.log_prior`).
    """

    has_hessian = True
    capabilities = frozenset({"hessian", "scores"})

    def __init__(self, families: Sequence[Family], prior=None):
        self.families = tuple(families)
        self.prior = prior
        bounds = np.cumsum([0] + [f.n_params for f in self.families])
        self.slices = [slice(a, b) for a, b in pairwise(bounds)]
        self.n_params = int(bounds[-1])

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        return [theta[s] for s in self.slices]

    def loglik_obs(self, theta, batch: Batch) -> np.ndarray:
        total = np.zeros(batch.X.shape[0])
        for j, (family, phi) in enumerate(
            zip(self.families, self.split(theta), strict=True)
        ):
            total += family.loglik_obs(batch.X[:, j], phi)
        return total

    def column_derivatives(self, theta, batch: Batch, columns=None) -> tuple:
        """``(value, grad, hess)`` of each column in ``columns`` (all by default),
        weighted sums over the batch."""
        columns = range(len(self.families)) if columns is None else columns
        w = batch.sample_weight
        return tuple(
            blocked_sum(
                partial(self.families[j].derivatives, phi=theta[self.slices[j]]),
                batch.X[:, j],
                w,
            )
            for j in columns
        )

    def loglik_grad(self, theta, batch):
        parts = self.column_derivatives(theta, batch)
        return float(sum(p[0] for p in parts)), np.concatenate([p[1] for p in parts])

    def hessian(self, theta, batch):
        return block_diagonal(*[p[2] for p in self.column_derivatives(theta, batch)])

    def scores(self, theta, batch):
        return np.hstack(
            [
                f.scores(batch.X[:, j], phi)
                for j, (f, phi) in enumerate(
                    zip(self.families, self.split(theta), strict=True)
                )
            ]
        )

    def statistics(self, batch: Batch) -> tuple:
        """Each column's weighted statistics (:meth:`Family.statistics`), with the
        checks of its values in the same pass."""
        w = batch.sample_weight
        # a bad value makes a sum NaN or infinite: the family then says which
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return tuple(
                blocked_sum(f.statistics, batch.X[:, j], w)
                if f.blocked
                else f.statistics(batch.X[:, j], None if unit_weights(w) else w)
                for j, f in enumerate(self.families)
            )

    def statistics_and_weight(self, batch: Batch) -> tuple:
        """``(statistics(batch), W)``: the total weight without a pass for unit
        weights."""
        w = batch.sample_weight
        total = float(w.shape[0]) if unit_weights(w) else float(w.sum())
        return self.statistics(batch), total

    @property
    def has_prior(self) -> bool:
        return self.prior is not None

    def log_prior(self, theta, total_weight):
        if self.prior is None:
            return super().log_prior(theta, total_weight)
        parts = [
            f.log_prior(phi, self.prior)
            for f, phi in zip(self.families, self.split(theta), strict=True)
        ]
        return (
            float(sum(p[0] for p in parts)),
            np.concatenate([p[1] for p in parts]),
            block_diagonal(*[p[2] for p in parts]),
        )
