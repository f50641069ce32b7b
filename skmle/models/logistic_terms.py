"""Logistic regression's per-row terms in the linear predictor, and its centring.

Every row's log-likelihood and derivatives depend on ``theta`` only through its
linear predictor ``eta`` (see :mod:`skmle.models.logistic` for the layout), so they
are computed here from ``eta`` and the class index ``y``, in log space. Sums over
rows run in chunks of :data:`CHUNK_ROWS` so that the temporaries stay in cache.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.special import log_softmax

from skmle._sparse import as_rows, column_moments, constant_columns

CHUNK_ROWS = 4096
"""Rows per block in the sums over rows: a (4096, p) block stays in cache."""
SAMPLED_CHUNKS = 4
"""An approximate information matrix (``exact=False``) uses one chunk of rows in
this many."""
CENTER_ABOVE = 4.0
"""A column is centred when its mean exceeds this many spreads (the Gram matrix
of ``[x, 1]`` then has a condition number above about ``1 + 2 * 4**2``)."""
CENTER_SAMPLE_ROWS = 2048
"""Rows of the sample that decides the centre: its column means are within
about a fiftieth of a spread of the whole data's, which is all the decision
(a mean beyond :data:`CENTER_ABOVE` spreads) and the centre (any point within a
few spreads) need; picking rows at random out of a large array costs about a
microsecond each."""


ELEMENTWISE_ENTRIES = 12288
"""Entries of ``eta`` per chunk for the elementwise work (:func:`eta_chunks`):
each NumPy call costs a microsecond or two, more while the threads of a pass
contend for the interpreter, so three times :data:`CHUNK_ROWS` (for two
classes) halves the time of such a sum over 200,000 rows on two threads; and
its temporaries (96 KiB) stay below glibc's threshold for mapping memory
afresh (128 KiB), so they are reused, not faulted in again (with 32,768
entries a fit spent 28 ms instead of 10 in the kernel)."""


def row_chunks(n_rows: int, size: int = CHUNK_ROWS) -> Iterator[slice]:
    """Consecutive slices of ``size`` rows (:data:`CHUNK_ROWS`) covering
    ``n_rows``."""
    return (slice(start, start + size) for start in range(0, n_rows, size))


def eta_chunks(eta: np.ndarray) -> Iterator[slice]:
    """:func:`row_chunks` for the elementwise work on ``eta``: about
    :data:`ELEMENTWISE_ENTRIES` entries each, in a whole number of chunks of
    :data:`CHUNK_ROWS` rows (so that those chunks, cut out of these, are the
    ones of :func:`row_chunks`)."""
    per_row = int(np.prod(eta.shape[1:]))
    chunks = max(1, ELEMENTWISE_ENTRIES // (per_row * CHUNK_ROWS))
    return row_chunks(eta.shape[0], chunks * CHUNK_ROWS)


def eta_terms(eta: np.ndarray, y: np.ndarray, curvature: bool = True):
    """Per-row log-likelihood and derivatives in ``eta``.

    Returns ``(loglik_obs, resid, prob, curv)``: the log-likelihood of each row; the
    gradient in ``eta`` (``y - p``, one-hot minus softmax for K > 2); for K > 2 the
    softmax probabilities (``None`` for two classes, where no block needs them);
    and ``curv = p (1 - p)``, the diagonal curvature, per class for K > 2.

    For two classes everything comes from :math:`z = \\pm\\eta` (the score of the
    observed class), one exponential :math:`e = e^{-|z|} \\le 1` and one division
    :math:`u = 1 / (1 + e) = \\sigma(|z|)`: :math:`\\log\\sigma(z) = \\min(z, 0) -
    \\log(1 + e)`, :math:`q = e u = \\sigma(-|z|)`, :math:`\\sigma(-z) = q` or
    :math:`u` by the sign of :math:`z`, and :math:`p (1-p) = q u`. Nothing
    overflows and nothing loses relative accuracy for large :math:`|\\eta|`. For
    K > 2, :math:`1 - p_k` is ``-expm1(log p_k)``, accurate when :math:`p_k` is
    near 1. With ``curvature=False`` (K > 2), ``curv`` is None and the softmax
    takes one exponential per entry: :math:`p = e^{\\eta - m} / s` with
    :math:`m` the row maximum and :math:`s = \\sum_k e^{\\eta_k - m}`,
    :math:`\\log p_y = \\eta_y - m - \\log s` (a gradient pass with no
    information needs no more).
    """
    if eta.ndim == 1:
        sign = np.where(y == 1, 1.0, -1.0)
        z = sign * eta
        e = np.exp(-np.abs(z))
        u = 1.0 / (1.0 + e)
        q = e * u
        loglik_obs = np.minimum(z, 0.0) - np.log1p(e)
        other = np.where(z >= 0, q, u)  # sigma(-z) = 1 - P(observed class)
        return loglik_obs, sign * other, None, q * u
    rows = np.arange(eta.shape[0])
    if not curvature:
        # Row maxima and sums by columns and by a product with ones: numpy's
        # reductions along a short last axis are several times slower.
        top = eta[:, 0].copy()
        for k in range(1, eta.shape[1]):
            np.maximum(top, eta[:, k], out=top)
        prob = np.exp(np.subtract(eta, top[:, None]))
        total = prob @ np.ones(eta.shape[1])
        prob *= (1.0 / total)[:, None]
        resid = np.negative(prob)
        observed = rows * eta.shape[1] + y
        resid.reshape(-1)[observed] += 1.0
        return eta.reshape(-1)[observed] - top - np.log(total), resid, prob, None
    log_prob = log_softmax(eta, axis=1)
    prob = np.exp(log_prob)
    resid = -prob
    resid[rows, y] += 1.0
    return log_prob[rows, y], resid, prob, prob * -np.expm1(log_prob)


def loglik_obs_from_eta(eta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Log-likelihood of each row from its linear predictor (log space).

    For two classes :math:`\\log\\sigma(z) = \\min(z, 0) - \\log(1 + e^{-|z|})` with
    :math:`z = \\pm\\eta`, as in :func:`eta_terms`.
    """
    if eta.ndim == 1:
        z = np.where(y == 1, eta, -eta)
        return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))
    return log_softmax(eta, axis=1)[np.arange(eta.shape[0]), y]


def column_center(X: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """The centre for :class:`~skmle.models.logistic.LogisticLogLikelihood`'s
    ``center``, or None.

    From rows ``X`` (all of them, or a sample; weights ``weight``): the weighted
    column means where a column's absolute mean exceeds :data:`CENTER_ABOVE` times
    its weighted spread, 0 elsewhere; None when no column needs it (the fast
    path: nothing is subtracted). A column constant over ``X`` is centred at
    its value exactly, so that it becomes exactly zero (and collinear with the
    intercept, as it is). The centre need not be the exact mean of all rows:
    any point within a few spreads of it conditions the problem, and the fit is
    the same maximum in other coordinates.
    """
    X = as_rows(X)
    if X.shape[0] == 0:
        return None
    weight = np.asarray(weight, dtype=float)
    if not weight.sum() > 0:
        weight = np.ones(X.shape[0])
    mean, spread = column_moments(X, weight)
    constant, first = constant_columns(X)
    mean = np.where(constant, first, mean)
    offset = np.abs(mean) > CENTER_ABOVE * spread
    offset &= mean != 0
    if not np.any(offset):
        return None
    return np.where(offset, mean, 0.0)
