"""Logistic regression's one pass over dense rows: log-likelihood, gradient,
information and the separation test.

The same quantities as
:meth:`LogisticLogLikelihood.newton_terms
<skmle.models.logistic.LogisticLogLikelihood.newton_terms>` documents, in two
sizes of chunk. The per-row terms in ``eta`` (elementwise work, no ``X``) are
computed on chunks of :func:`~skmle.models.logistic_terms.eta_chunks` (about
32,768 entries): each NumPy call costs a microsecond or two, more while the
threads of a pass contend for the interpreter, and on 4,096 rows those calls
took longer than the arithmetic. The products with ``X`` (the gradient
:math:`\\tilde X^\\top r`, the information's symmetric updates, the predictor
of a step) run on sub-chunks of :data:`~skmle.models.logistic_terms.CHUNK_ROWS`
rows, whose scaled copy stays in cache; the sampled information takes every
:data:`~skmle.models.logistic_terms.SAMPLED_CHUNKS`-th of those sub-chunks, as
:func:`~skmle.models.logistic_sparse.sampled_rows` does.
"""

from __future__ import annotations

import numpy as np

from skmle.models.logistic_information import information_blocks
from skmle.models.logistic_separation import correctly_separated
from skmle.models.logistic_terms import (
    CHUNK_ROWS,
    SAMPLED_CHUNKS,
    eta_chunks,
    eta_terms,
    row_chunks,
)


def dense_newton_terms(
    model,
    eta: np.ndarray,
    batch,
    exact: bool | None = True,
    single: bool = False,
    along: tuple | None = None,
):
    """``(loglik, grad, info, separated)`` of a batch with dense ``X``, as
    :meth:`~skmle.models.logistic.LogisticLogLikelihood.newton_terms`
    (``model`` is that log-likelihood)."""
    X, y, weight = batch.X, batch.y, batch.sample_weight
    n, d = X.shape
    classes = [0] if model.binary else list(range(1, model.n_classes))
    loglik, separated = 0.0, True
    coef_grad = np.zeros((model.n_rows, d))
    intercept_grad = np.zeros(model.n_rows)
    # No information asked: a scalar zero, not an (n_free, n_free) array to
    # allocate, add up over the batches and scale on every pass.
    info = 0.0 if exact is None else np.zeros((model.n_free, model.n_free))
    scratch = np.empty((min(CHUNK_ROWS, n), d), dtype=np.float32 if single else float)
    every = 1 if exact else SAMPLED_CHUNKS
    sampled_weight = 0.0
    if along is not None:
        direction, step_out, eta_out = along
        step_coef, step_intercept = model.split(direction)
        if model.binary:
            step_coef, step_intercept = step_coef[0], step_intercept[0]
        else:
            step_coef = step_coef.T
    for block in eta_chunks(eta):
        start = block.start
        parts = [
            slice(start + rows.start, start + rows.stop)
            for rows in row_chunks(min(block.stop, n) - start)
        ]
        if along is None:
            eta_block = eta[block]
        else:  # the predictor of the step, from each sub-chunk in cache
            for rows in parts:
                product = model.centred(X[rows]) @ step_coef
                np.add(product, step_intercept, out=step_out[rows])
            eta_block = np.add(eta[block], step_out[block], out=eta_out[block])
        w = weight[block]
        loglik_obs, resid, prob, curv = eta_terms(
            eta_block, y[block], curvature=exact is not None
        )
        loglik += float(w @ loglik_obs)
        weighted = np.reshape(
            resid * (w if resid.ndim == 1 else w[:, None]), (w.size, -1)
        )
        intercept_grad += weighted.sum(axis=0)
        separated = separated and correctly_separated(eta_block, y[block], w)
        for rows in parts:
            local = slice(rows.start - start, rows.stop - start)
            X_rows = model.centred(X[rows])
            coef_grad += weighted[local].T @ X_rows
            if exact is not None and (rows.start // CHUNK_ROWS) % every == 0:
                info += information_blocks(
                    X_rows,
                    model.fit_intercept,
                    w[local],
                    None if prob is None else prob[local],
                    curv[local],
                    classes,
                    scratch[: X_rows.shape[0]],
                )
                sampled_weight += float(w[local].sum())
    if every > 1 and sampled_weight > 0:
        info *= float(weight.sum()) / sampled_weight
    if model.fit_intercept:
        grad = np.hstack([coef_grad, intercept_grad[:, None]]).ravel()
    else:
        grad = coef_grad.ravel()
    return loglik, grad, info, separated
