"""Observed information of a Gaussian mixture's weights and means.

The exact Hessian of :math:`\\ell` in :math:`\\phi = (\\pi_1, \\dots, \\pi_{K-1},
\\mu_1, \\dots, \\mu_K)` with the covariances held at their values, from row sums
that add over batches (:func:`information_parts`), assembled by
:func:`observed_information`. ``model`` is a
:class:`~skmle.models.mixture.GaussianMixtureLogLikelihood`.
"""

from __future__ import annotations

import numpy as np

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
        opg += scores @ scores.T
        resp *= w
        weight += resp.sum(axis=1)
        sums += (grads @ resp[:, :, None])[:, :, 0]
        grads *= np.sqrt(resp)[:, None, :]
        for k in range(K):
            outer[k] += grads[k] @ grads[k].T
    return opg, outer, sums, weight


def observed_information(model, theta: np.ndarray, parts: tuple) -> np.ndarray:
    """:math:`-\\nabla^2 \\ell` in :math:`(\\pi_1..\\pi_{K-1}, \\mu)`, covariances fixed.

    For :math:`\\log p = \\log \\sum_k f_k` with :math:`f_k = \\pi_k N_k`,

    .. math:: -\\nabla^2 \\log p(x_i) = s_i s_i^\\top - \\sum_k r_{ik}
       \\big(\\nabla^2 \\log f_{ik} + \\nabla \\log f_{ik} \\nabla \\log f_{ik}^\\top\\big).

    With :math:`\\pi_K = 1 - \\sum_{j<K} \\pi_j` and :math:`a_k = \\nabla \\log \\pi_k`,
    the second sum has no weight-weight block, the weight-mean blocks
    :math:`a_k h_k^\\top` and the mean blocks :math:`T_k - N_k \\Sigma_k^{-1}`.
    """
    opg, outer, sums, weight = parts
    params = model.unpack(theta)
    K, d = model.n_components, model.n_features
    n_weights = K - 1
    precisions = precision_matrices(model, params.precisions_cholesky)
    complete = np.zeros_like(opg)
    for k in range(K):
        block = slice(n_weights + k * d, n_weights + (k + 1) * d)
        complete[block, block] = outer[k] - weight[k] * precisions[k]
        if n_weights:
            a_k = np.zeros(n_weights)
            if k < n_weights:
                a_k[k] = 1.0 / params.weights[k]
            else:
                a_k[:] = -1.0 / params.weights[k]
            complete[:n_weights, block] = np.outer(a_k, sums[k])
            complete[block, :n_weights] = complete[:n_weights, block].T
    return opg - complete


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
