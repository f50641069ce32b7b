"""A Kronecker-structured approximation of the multinomial information.

The information of multinomial logistic regression in free coordinates (the
rows of classes :math:`1, \\dots, K-1`, see :mod:`skmle.models.logistic`) is

.. math:: I(\\theta) = \\sum_i w_i\\, A_i \\otimes \\tilde x_i \\tilde x_i^\\top,
   \\qquad A_i = \\mathrm{diag}(p_i) - p_i p_i^\\top

(:math:`p_i` the probabilities of classes :math:`1..K-1`, :math:`\\tilde x_i =
[x_i - c, 1]`). Replacing each :math:`A_i` by their weighted mean
:math:`\\bar A = \\sum_i w_i A_i / \\sum_i w_i` gives

.. math:: M(\\theta) = \\bar A \\otimes G, \\qquad G = \\tilde X^\\top W \\tilde X,

one weighted Gram matrix (:math:`n p^2/2` multiply-adds, against about
:math:`n p^2 (K-1) K / 4` for :math:`I`) and an :math:`(K-1) \\times (K-1)`
matrix. Where every row has the same probabilities (zero coefficients: the
intercept-only fit, the solver's start) :math:`M = I` exactly; elsewhere it is
the Kronecker-factored approximation of K-FAC (Martens and Grosse, 2015), good
as a preconditioner while the probabilities do not depend strongly on
:math:`x`.
"""

from __future__ import annotations

import numpy as np

from skmle._sparse import is_sparse
from skmle._sparse import weighted_gram as sparse_weighted_gram
from skmle.models.base import Batch
from skmle.models.logistic_information import weighted_gram
from skmle.models.logistic_terms import eta_terms, row_chunks


def kronecker_terms(model, eta: np.ndarray, batch: Batch):
    """The sums over a batch's rows behind :func:`kronecker_information`.

    Returns ``(A, G)``: :math:`\\sum_i w_i A_i` of shape ``(K-1, K-1)`` and
    :math:`G = \\sum_i w_i \\tilde x_i \\tilde x_i^\\top` of shape ``(p, p)``.
    """
    X, y, weight = batch.X, batch.y, batch.sample_weight
    m, p = model.n_classes - 1, model.row_size
    A, G = np.zeros((m, m)), np.zeros((p, p))
    sparse = is_sparse(X)
    if sparse:
        G += sparse_weighted_gram(X, weight, model.fit_intercept, model.center)
    for rows in row_chunks(X.shape[0]):
        w = weight[rows]
        prob = eta_terms(eta[rows], y[rows], curvature=False)[2][:, 1:]
        A += np.diag(w @ prob) - (prob * w[:, None]).T @ prob
        if not sparse:
            X_rows = model.centred(X[rows])
            G += weighted_gram(X_rows, w, model.fit_intercept, nonnegative=True)
    return A, G


def kronecker_information(
    A_total: np.ndarray, gram: np.ndarray, total_weight: float
) -> np.ndarray:
    """:math:`M = \\bar A \\otimes G` (total, not per unit weight), dense,
    class-major as the free coordinates, from :func:`kronecker_terms` summed
    over the batches."""
    return np.kron(A_total / total_weight, gram)


SAMPLE_PER_PARAMETER = 16
"""Rows of the sample of :func:`sampled_information` per free parameter."""


def sampled_information(objective, theta: np.ndarray) -> np.ndarray | None:
    """The information at ``theta`` of a uniform sample of the rows, per unit
    of weight, prior included (free coordinates), or None.

    :math:`\\hat I = I_S / w_S + A_\\pi / W` with :math:`I_S` the exact information
    of the sampled rows :math:`S` (:data:`SAMPLE_PER_PARAMETER` per free
    parameter, drawn once with a fixed seed, from any store), :math:`w_S`
    their weight, :math:`A_\\pi` the prior's information and :math:`W` the total
    weight. None for two classes, or where the sample would hold more than
    half of the rows (then it costs about as much as the exact information).
    """
    model = objective.model
    size = SAMPLE_PER_PARAMETER * model.n_free
    if model.binary or 2 * size > objective.rows.n_rows:
        return None
    batch = objective.rows.sample(size, random_state=0)
    weight = float(batch.sample_weight.sum())
    if not weight > 0:
        return None
    eta = model.linear_predictor(theta, batch.X)
    info = model.newton_terms(eta, batch)[2]
    return info / weight + model.prior_information() / objective.total_weight
