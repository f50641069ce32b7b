"""Observed information of a Gaussian mixture's weights and means.

The exact Hessian of :math:`\\ell` in :math:`\\phi = (\\pi_1, \\dots, \\pi_{K-1},
\\mu_1, \\dots, \\mu_K)` with the covariances held at their values, from row sums
that add over batches (:func:`information_parts`), assembled by
:func:`observed_information`. ``model`` is a
:class:`~skmle.models.mixture.GaussianMixtureLogLikelihood`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas

from skmle.data.batch import Batch
from skmle.models.mixture_stats import log_normalize, precisions_from_cholesky


def information_parts(model, theta: np.ndarray, batch: Batch) -> tuple:
    """Row sums behind :meth:`observed_information`; they add over batches.

    With :math:`g_{ik} = \\Sigma_k^{-1}(x_i - \\mu_k)` and the per-row score
    :math:`s_i` of :math:`\\phi = (\\pi_1, \\dots, \\pi_{K-1}, \\mu_1, \\dots,
    \\mu_K)`, returns :math:`\\sum_i w_i s_i s_i^\\top`, :math:`T_k = \\sum_i w_i
    r_{ik} g_{ik} g_{ik}^\\top`, :math:`h_k = \\sum_i w_i r_{ik} g_{ik}` and
    :math:`N_k`.
    """
    params = model.unpack(theta)
    K, d = model.n_components, model.n_features
    n_weights = K - 1
    precisions = precision_matrices(model, params.precisions_cholesky)
    # Rows k*d..k*d+d-1 of ``stacked`` are Sigma_k^{-1}: one GEMM gives every
    # g_ik, laid out (K d, rows) like the E-step.
    stacked = np.concatenate(list(precisions), axis=0)
    offsets = np.einsum("kde,ke->kd", precisions, params.means - model.location)
    prepared = model._prepare(params)
    size = n_weights + K * d
    opg = np.zeros((size, size))
    outer = np.zeros((K, d, d))
    sums = np.zeros((K, d))
    weight = np.zeros(K)
    for start, stop, xt1 in model._chunks(batch.X):
        _, resp = log_normalize(model._log_prob(xt1, prepared))
        w = batch.sample_weight[start:stop]
        grads = (stacked @ xt1[:d]).reshape(K, d, -1)
        grads -= offsets[:, :, None]
        scores = np.empty((size, stop - start))
        scores[:n_weights] = resp[:n_weights] / params.weights[:n_weights, None]
        scores[:n_weights] -= resp[n_weights] / params.weights[n_weights]
        np.multiply(grads, resp[:, None, :], out=scores[n_weights:].reshape(K, d, -1))
        # sqrt(w) on both sides: one symmetric product (SYRK) per chunk
        scores *= np.sqrt(w)
        add_gram(opg, scores)
        resp *= w
        weight += resp.sum(axis=1)
        sums += (grads @ resp[:, :, None])[:, :, 0]
        grads *= np.sqrt(resp)[:, None, :]
        for k in range(K):
            add_gram(outer[k], grads[k])
    symmetrise(opg)
    for k in range(K):
        symmetrise(outer[k])
    return opg, outer, sums, weight


def add_gram(target: np.ndarray, rows: np.ndarray) -> None:
    """``target += rows @ rows.T`` in its lower triangle, in place.

    One SYRK with ``beta=1`` on the Fortran view of the C-ordered ``target``:
    no (p, p) temporary, half the flops of a general product (at 4,000
    parameters the temporary and its addition took three times the product).
    The upper triangle is left stale for :func:`symmetrise`.
    """
    updated = blas.dsyrk(
        1.0, rows.T, beta=1.0, c=target.T, trans=1, lower=0, overwrite_c=1
    )
    if not np.shares_memory(updated, target):  # BLAS worked on a copy
        target[...] = updated.T


def symmetrise(matrix: np.ndarray, block: int = 512) -> None:
    """Copy the lower triangle of a square ``matrix`` onto its upper, in place,
    a block of rows at a time (no full-size temporary)."""
    n = matrix.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        corner = matrix[start:stop, start:stop]
        corner[...] = np.tril(corner) + np.tril(corner, -1).T
        matrix[start:stop, stop:] = matrix[stop:, start:stop].T


def observed_information(
    model, theta: np.ndarray, parts: tuple, overwrite: bool = False
) -> np.ndarray:
    """:math:`-\\nabla^2 \\ell` in :math:`(\\pi_1..\\pi_{K-1}, \\mu)`, covariances fixed.

    For :math:`\\log p = \\log \\sum_k f_k` with :math:`f_k = \\pi_k N_k`,

    .. math:: -\\nabla^2 \\log p(x_i) = s_i s_i^\\top - \\sum_k r_{ik}
       \\big(\\nabla^2 \\log f_{ik} + \\nabla \\log f_{ik} \\nabla \\log f_{ik}^\\top\\big).

    With :math:`\\pi_K = 1 - \\sum_{j<K} \\pi_j` and :math:`a_k = \\nabla \\log \\pi_k`,
    the second sum has no weight-weight block, the weight-mean blocks
    :math:`a_k h_k^\\top` and the mean blocks :math:`T_k - N_k \\Sigma_k^{-1}`.
    With ``overwrite`` the result is written over the ``opg`` of ``parts`` (at
    4,000 parameters a second matrix of its size costs more than the
    arithmetic).
    """
    opg, outer, sums, weight = parts
    params = model.unpack(theta)
    K, d = model.n_components, model.n_features
    n_weights = K - 1
    precisions = precision_matrices(model, params.precisions_cholesky)
    information = opg if overwrite else np.array(opg, copy=True)
    for k in range(K):
        block = slice(n_weights + k * d, n_weights + (k + 1) * d)
        information[block, block] -= outer[k] - weight[k] * precisions[k]
        if n_weights:
            a_k = np.zeros(n_weights)
            if k < n_weights:
                a_k[k] = 1.0 / params.weights[k]
            else:
                a_k[:] = -1.0 / params.weights[k]
            cross = np.outer(a_k, sums[k])
            information[:n_weights, block] -= cross
            information[block, :n_weights] -= cross.T
    return information


def weight_mean_scores(model, theta: np.ndarray, batch: Batch) -> np.ndarray:
    """Per-row scores :math:`s_i` in :math:`\\phi = (\\pi_1, \\dots, \\pi_{K-1},
    \\mu_1, \\dots, \\mu_K)`, shape (n_rows, K - 1 + K d): the coordinates of
    :func:`observed_information`, for the sandwich covariances.

    With the responsibilities :math:`r_{ik}`,
    :math:`\\partial_{\\pi_j} \\log p(x_i) = r_{ij}/\\pi_j - r_{iK}/\\pi_K` and
    :math:`\\partial_{\\mu_k} \\log p(x_i) = r_{ik}\\,\\Sigma_k^{-1}(x_i - \\mu_k)`.
    """
    params = model.unpack(theta)
    K = model.n_components
    _, resp = model.log_responsibilities(theta, batch.X)
    precisions = precision_matrices(model, params.precisions_cholesky)
    weights = params.weights
    parts = [resp[:, : K - 1] / weights[: K - 1] - resp[:, K - 1 :] / weights[K - 1]]
    for k in range(K):
        parts.append(resp[:, k, None] * ((batch.X - params.means[k]) @ precisions[k]))
    return np.hstack(parts)


def precision_matrices(model, chol: np.ndarray) -> np.ndarray:
    """:math:`\\Sigma_k^{-1}` of every component, shape (K, d, d)."""
    K, d, ct = model.n_components, model.n_features, model.covariance_type
    precisions = precisions_from_cholesky(chol, ct)
    if ct == "full":
        return precisions
    if ct == "tied":
        return np.broadcast_to(precisions, (K, d, d))
    if ct == "diag":
        return precisions[:, :, None] * np.eye(d)
    return precisions[:, None, None] * np.eye(d)
