"""Logistic regression's sums over rows for a ``scipy.sparse`` design (CSR).

The same quantities as :meth:`LogisticLogLikelihood.newton_terms
<skmle.models.logistic.LogisticLogLikelihood.newton_terms>` and
:func:`~skmle.models.logistic_information.information_blocks`, from the sparse
products of :mod:`skmle._sparse`: the per-row terms are vectors over all rows of
the batch (no chunks: they are n, not n x d), the gradient one product
:math:`\\tilde X^\\top r` and each block of the information one sparse Gram
:math:`\\tilde X^\\top \\mathrm{diag}(f)\\tilde X`, with :math:`\\tilde X = [X - 1c^\\top,
1]` never formed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skmle._sparse import rmatvec, weighted_gram
from skmle.models.logistic_separation import correctly_separated
from skmle.models.logistic_terms import CHUNK_ROWS, SAMPLED_CHUNKS, eta_terms


def sparse_chain(X, weighted_resid, center, fit_intercept: bool) -> np.ndarray:
    """Gradient in ``theta`` from the weighted gradient in ``eta``:
    :math:`[(X - 1c^\\top)^\\top r, 1^\\top r]` per class row, flattened."""
    r = np.reshape(weighted_resid, (X.shape[0], -1))
    grad = rmatvec(X, r, center).T
    if fit_intercept:
        grad = np.hstack([grad, r.sum(axis=0)[:, None]])
    return grad.ravel()


def sparse_information_blocks(
    X,
    center,
    fit_intercept: bool,
    weight: np.ndarray,
    prob: np.ndarray | None,
    curv: np.ndarray,
    classes: Sequence[int],
) -> np.ndarray:
    """:func:`~skmle.models.logistic_information.information_blocks` for sparse
    ``X``: block (k, l) is :math:`\\tilde X^\\top \\mathrm{diag}(w\\,p_k([k=l] -
    p_l))\\tilde X`."""
    p = X.shape[1] + fit_intercept
    if curv.ndim == 1:
        curv = curv[:, None]
    m = len(classes)
    info = np.empty((m * p, m * p))
    for a, k in enumerate(classes):
        block = weighted_gram(X, weight * curv[:, k], fit_intercept, center)
        info[a * p : (a + 1) * p, a * p : (a + 1) * p] = block
        for b in range(a + 1, m):
            factor = weight * prob[:, k] * prob[:, classes[b]]
            block = -weighted_gram(X, factor, fit_intercept, center)
            info[a * p : (a + 1) * p, b * p : (b + 1) * p] = block
            info[b * p : (b + 1) * p, a * p : (a + 1) * p] = block.T
    return info


def sampled_rows(n_rows: int) -> np.ndarray:
    """The rows of the sampled information: one chunk of rows in
    :data:`SAMPLED_CHUNKS`, as the dense path samples them (the chunks of
    :func:`~skmle.models.logistic_terms.row_chunks` numbered 0, SAMPLED_CHUNKS,
    2 SAMPLED_CHUNKS, ...)."""
    chunk = np.arange(n_rows) // CHUNK_ROWS
    return np.flatnonzero(chunk % SAMPLED_CHUNKS == 0)


def sparse_newton_terms(model, eta: np.ndarray, batch, exact: bool | None = True):
    """``(loglik, grad, info, separated)`` of a batch with sparse ``X``, as
    :meth:`~skmle.models.logistic.LogisticLogLikelihood.newton_terms`."""
    X, y, weight = batch.X, batch.y, batch.sample_weight
    classes = [0] if model.binary else list(range(1, model.n_classes))
    loglik_obs, resid, prob, curv = eta_terms(eta, y)
    loglik = float(weight @ loglik_obs)
    weighted = resid * (weight if resid.ndim == 1 else weight[:, None])
    grad = sparse_chain(X, weighted, model.center, model.fit_intercept)
    separated = correctly_separated(eta, y, weight)
    if exact is None:  # the solver reuses an earlier information
        return loglik, grad, np.zeros((model.n_free, model.n_free)), separated
    # A view of all rows (X[:] would copy a sparse X), or a copy of the sampled.
    rows = slice(None) if exact else sampled_rows(X.shape[0])
    w = weight[rows]
    info = sparse_information_blocks(
        X if exact else X[rows],
        model.center,
        model.fit_intercept,
        w,
        None if prob is None else prob[rows],
        curv[rows],
        classes,
    )
    if not exact and w.sum() > 0:
        info *= float(weight.sum()) / float(w.sum())
    return loglik, grad, info, separated
