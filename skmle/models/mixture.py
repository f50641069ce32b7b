"""Gaussian mixture: :math:`x \\sim \\sum_k \\pi_k N(\\mu_k, \\Sigma_k)`.

Each precision is written through an upper-triangular Cholesky factor,
:math:`\\Sigma_k^{-1} = U_k U_k^\\top` (scikit-learn's ``precisions_cholesky_``), so
no matrix is inverted to evaluate a density:

.. math::

    \\ell(\\theta) = \\sum_i w_i \\log \\sum_k \\pi_k N(x_i; \\mu_k, \\Sigma_k),
    \\qquad
    \\log N(x; \\mu_k, \\Sigma_k) = \\sum_j \\log U_{k,jj}
        - \\tfrac12 \\lVert U_k^\\top (x - \\mu_k) \\rVert^2 - \\tfrac{d}{2}\\log 2\\pi

E-step: responsibilities :math:`r_{ik} = \\mathrm{softmax}_k(\\log \\pi_k + \\log
N(x_i; \\mu_k, \\Sigma_k))`, computed in log space. Their weighted sums are the
sufficient statistics :math:`N_k = \\sum_i w_i r_{ik}`, the means
:math:`\\bar x_k = \\sum_i w_i r_{ik} x_i / N_k` and the scatter
:math:`S_k = \\sum_i w_i r_{ik} (x_i - \\bar x_k)(x_i - \\bar x_k)^\\top` (its diagonal for
``diag`` and ``spherical``). They add up over batches of rows (Chan's merge).

M-step, with scikit-learn's :math:`n_k = N_k + 10\\,\\epsilon` and ``reg_covar``
:math:`\\lambda`: :math:`\\pi_k = n_k / \\sum_l n_l`, :math:`\\mu_k = \\bar x_k`, and by
``covariance_type``

- ``"full"``: :math:`\\Sigma_k = S_k / n_k + \\lambda I`;
- ``"tied"``: :math:`\\Sigma = \\sum_k S_k / \\sum_k n_k + \\lambda I`;
- ``"diag"``: :math:`\\sigma^2_{kj} = S_{k,jj} / n_k + \\lambda`;
- ``"spherical"``: :math:`\\sigma^2_k = \\frac1d \\sum_j (S_{k,jj} / n_k + \\lambda)`.

Gradient, with softmax logits :math:`\\alpha` for the weights, :math:`W = \\sum_i w_i`
and :math:`S_k(\\mu_k) = S_k + N_k (\\bar x_k - \\mu_k)(\\bar x_k - \\mu_k)^\\top`:

.. math::

    \\partial_{\\alpha_k} \\ell = N_k - W \\pi_k, \\qquad
    \\nabla_{\\mu_k} \\ell = U_k U_k^\\top N_k (\\bar x_k - \\mu_k), \\qquad
    \\nabla_{U_k} \\ell = N_k\\,\\mathrm{diag}(1 / U_{k,jj}) - S_k(\\mu_k)\\, U_k

(upper triangle only; ``tied`` sums the last over :math:`k`).

Conventions
-----------
``theta = [alpha (K), means (K * d, row-major), precision-Cholesky parameters]``:

- ``alpha``: :math:`\\log \\pi_k` (any real vector; the weights are its softmax);
- ``"full"``: for each component the upper triangle of :math:`U_k` in
  ``numpy.triu_indices`` order, diagonal entries stored as :math:`\\log U_{k,jj}`;
- ``"tied"``: the same for the one shared factor;
- ``"diag"``: :math:`\\log U_{k,j} = -\\log \\sigma_{kj}` (K * d values);
- ``"spherical"``: :math:`\\log u_k = -\\log \\sigma_k` (K values).

Any real ``theta`` is a valid mixture. Rows are processed in chunks whose
temporaries fit in cache, laid out (components or features) by rows, so that the
sums over components run along contiguous memory.
"""

from __future__ import annotations

import copy

import numpy as np

from skmle.models.base import LOG_2PI, Batch, LogLikelihood
from skmle.models.mixture_information import information_parts, observed_information
from skmle.models.mixture_stats import (
    COVARIANCE_TYPES,
    MAHALANOBIS,
    SCATTER,
    MixtureParams,
    MixtureStats,
    log_det_cholesky,
    log_normalize,
    m_step,
    n_covariance_params,
    pack,
    unpack,
)

__all__ = ["COVARIANCE_TYPES", "GaussianMixtureLogLikelihood"]

CHUNK_ELEMENTS = 1 << 18
"""Target size (in float64) of the per-chunk (components x features x rows) block."""


# -- the log-likelihood ---------------------------------------------------------------
class GaussianMixtureLogLikelihood(LogLikelihood):
    """Log-likelihood of a K-component Gaussian mixture (see the module docstring).

    Parameters
    ----------
    n_components : int
    n_features : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float, default=0.0
        Added to the diagonal of the covariances by :meth:`m_step`.
    location : ndarray of shape (n_features,), default=None
        A point near the data (its mean, say). Rows are centred on it before any
        arithmetic, which keeps offsets such as 1e8 from swamping the spread.
    """

    capabilities = frozenset({"em_step", "scores"})

    def __init__(
        self,
        n_components: int,
        n_features: int,
        covariance_type: str = "full",
        reg_covar: float = 0.0,
        location: np.ndarray | None = None,
    ):
        self.n_components = n_components
        self.n_features = n_features
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.location = (
            np.zeros(n_features) if location is None else np.asarray(location, float)
        )
        self.n_params = (
            n_components
            + n_components * n_features
            + n_covariance_params(n_components, n_features, covariance_type)
        )
        # Wide data: at least min(d, 4096) rows a chunk, so that the per-chunk
        # merge of the (K, d, d) scatter matrices stays small beside the
        # products that fill them (K d^2 rows multiply-adds).
        self.chunk_rows = int(
            np.clip(
                CHUNK_ELEMENTS // (n_components * n_features),
                max(256, min(n_features, 4096)),
                1 << 15,
            )
        )

    def with_location(self, location: np.ndarray) -> GaussianMixtureLogLikelihood:
        """This model centred on ``location``: a new model, the same kind (a model
        does not change once built)."""
        model = copy.copy(self)
        model.location = np.asarray(location, dtype=float)
        return model

    # -- parameters ----------------------------------------------------------------------
    def unpack(self, theta: np.ndarray) -> MixtureParams:
        return unpack(
            np.asarray(theta, dtype=float),
            self.n_components,
            self.n_features,
            self.covariance_type,
        )

    def pack(self, params: MixtureParams) -> np.ndarray:
        return pack(params, self.covariance_type)

    # -- E-step pieces ----------------------------------------------------------------
    def _prepare(self, params: MixtureParams):
        """What every chunk needs: the kernel, its whitening data and the constants
        :math:`\\log \\pi_k + \\sum_j \\log U_{k,jj} - \\frac d2 \\log 2\\pi`."""
        K, d = self.n_components, self.n_features
        log_det = log_det_cholesky(
            params.precisions_cholesky, self.covariance_type, K, d
        )
        with np.errstate(divide="ignore"):
            log_weights = np.log(params.weights)
        constant = log_weights + log_det - 0.5 * d * LOG_2PI
        prepare, kernel = MAHALANOBIS[self.covariance_type]
        whitening = prepare(params.means - self.location, params.precisions_cholesky)
        return kernel, whitening, constant

    def _chunks(self, X: np.ndarray):
        """Yield (start, stop, xt1): centred, transposed rows with a row of ones."""
        n, d = X.shape
        step = self.chunk_rows
        buffer = np.empty((d + 1, min(step, n)))
        buffer[d] = 1.0
        for start in range(0, n, step):
            stop = min(start + step, n)
            xt1 = buffer[:, : stop - start]
            np.subtract(X[start:stop].T, self.location[:, None], out=xt1[:d])
            yield start, stop, xt1

    def _log_prob(self, xt1, prepared) -> np.ndarray:
        """:math:`\\log \\pi_k + \\log N(x_i; \\mu_k, \\Sigma_k)`, shape (K, m)."""
        kernel, whitening, constant = prepared
        mahalanobis = kernel(xt1, whitening)
        mahalanobis *= -0.5
        mahalanobis += constant[:, None]
        return mahalanobis

    def weighted_log_prob(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """:math:`\\log \\pi_k + \\log N(x_i; \\mu_k, \\Sigma_k)`, shape (n_samples, K)."""
        prepared = self._prepare(self.unpack(theta))
        out = np.empty((X.shape[0], self.n_components))
        for start, stop, xt1 in self._chunks(X):
            out[start:stop] = self._log_prob(xt1, prepared).T
        return out

    def log_responsibilities(
        self, theta: np.ndarray, X: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-row :math:`\\log p(x_i)` and the responsibilities (n_samples, K)."""
        prepared = self._prepare(self.unpack(theta))
        log_norm = np.empty(X.shape[0])
        resp = np.empty((X.shape[0], self.n_components))
        for start, stop, xt1 in self._chunks(X):
            log_norm[start:stop], probs = log_normalize(self._log_prob(xt1, prepared))
            resp[start:stop] = probs.T
        return log_norm, resp

    def loglik_obs(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        prepared = self._prepare(self.unpack(theta))
        out = np.empty(batch.X.shape[0])
        for start, stop, xt1 in self._chunks(batch.X):
            out[start:stop], _ = log_normalize(self._log_prob(xt1, prepared))
        return out

    def e_step(self, theta: np.ndarray, batch: Batch) -> MixtureStats:
        """The sufficient statistics of ``batch`` at ``theta`` (see :class:`MixtureStats`)."""
        prepared = self._prepare(self.unpack(theta))
        total = None
        for start, stop, xt1 in self._chunks(batch.X):
            log_norm, resp = log_normalize(self._log_prob(xt1, prepared))
            w = batch.sample_weight[start:stop]
            resp *= w
            chunk = self._chunk_stats(xt1, resp, float(w @ log_norm))
            total = chunk if total is None else total + chunk
        return total.shifted(self.location)

    def statistics_from_responsibilities(
        self, X: np.ndarray, sample_weight: np.ndarray, resp: np.ndarray
    ) -> MixtureStats:
        """Sufficient statistics for given responsibilities (n_samples, K), e.g. a
        k-means start; ``loglik`` is set to 0."""
        total = None
        for start, stop, xt1 in self._chunks(X):
            resp_w = resp[start:stop].T * sample_weight[start:stop]
            chunk = self._chunk_stats(xt1, resp_w, 0.0)
            total = chunk if total is None else total + chunk
        return total.shifted(self.location)

    def _chunk_stats(self, xt1, resp_w, loglik: float) -> MixtureStats:
        xt = xt1[: self.n_features]
        weight = resp_w.sum(axis=1)
        sums = resp_w @ xt.T
        mean = np.divide(
            sums, weight[:, None], out=np.zeros_like(sums), where=weight[:, None] > 0
        )
        scatter = SCATTER[self.covariance_type](xt, mean, resp_w)
        return MixtureStats(loglik, weight, mean, scatter)

    def m_step(self, stats: MixtureStats) -> np.ndarray:
        """``theta`` of the M-step from summed statistics."""
        params, _ = m_step(stats, self.covariance_type, self.reg_covar)
        return self.pack(params)

    # -- observed information of the weights and means --------------------------------
    # -- observed information of the weights and means --------------------------------
    def information_parts(self, theta: np.ndarray, batch: Batch) -> tuple:
        """Row sums behind :meth:`observed_information`; they add over batches
        (:func:`~skmle.models.mixture_information.information_parts`)."""
        return information_parts(self, theta, batch)

    def observed_information(
        self, theta: np.ndarray, parts: tuple, overwrite: bool = False
    ) -> np.ndarray:
        """:math:`-\\nabla^2 \\ell` in :math:`(\\pi_1..\\pi_{K-1}, \\mu)`, covariances
        fixed (:func:`~skmle.models.mixture_information.observed_information`)."""
        return observed_information(self, theta, parts, overwrite)

    def log_prior(self, theta: np.ndarray, total_weight: float):
        """The flat prior: ``reg_covar`` acts in :meth:`m_step`, not as a penalty.

        Its Hessian is the scalar 0 (it adds to any matrix), never a dense
        (n_params, n_params) array of zeros: with full covariances n_params grows
        as K d^2 / 2, and such an array as K^2 d^4 / 4 (30 GB for K = 2, d = 250).
        """
        return 0.0, np.zeros(np.shape(theta)[0]), 0.0

    # -- gradient -------------------------------------------------------------------------
    def loglik_grad(self, theta: np.ndarray, batch: Batch) -> tuple[float, np.ndarray]:
        stats = self.e_step(theta, batch)
        return stats.loglik, self.grad_from_stats(theta, stats)

    def grad_from_stats(self, theta: np.ndarray, stats: MixtureStats) -> np.ndarray:
        """Gradient in ``theta`` from the statistics of an E-step at ``theta``."""
        params = self.unpack(theta)
        chol, ct = params.precisions_cholesky, self.covariance_type
        nk = stats.weight
        offset = stats.mean - params.means
        grad_alpha = nk - nk.sum() * params.weights
        if ct in ("full", "tied"):
            chol_k = (
                chol if ct == "full" else np.broadcast_to(chol, (nk.size, *chol.shape))
            )
            precision_offset = np.einsum("kij,klj,kl->ki", chol_k, chol_k, offset)
            scatter = stats.scatter + nk[:, None, None] * (
                offset[:, :, None] * offset[:, None, :]
            )
            if ct == "tied":
                scatter, nk_cov = scatter.sum(axis=0), nk.sum()
            else:
                nk_cov = nk[:, None]
            diagonal = np.diagonal(chol, axis1=-2, axis2=-1)
            grad_chol = -(scatter @ chol)
            d = self.n_features
            grad_chol[..., np.arange(d), np.arange(d)] += nk_cov / diagonal
            rows, cols = np.triu_indices(d)
            values = grad_chol[..., rows, cols]
            # log-diagonal entries: chain rule d/d(log u) = u d/du
            values[..., rows == cols] *= chol[..., rows, cols][..., rows == cols]
            grad_cov = values.ravel()
        else:
            precisions = chol**2
            if ct == "diag":
                precision_offset = precisions * offset
                scatter = stats.scatter + nk[:, None] * offset**2
                grad_cov = (nk[:, None] - precisions * scatter).ravel()
            else:
                precision_offset = precisions[:, None] * offset
                scatter = (stats.scatter + nk[:, None] * offset**2).sum(axis=1)
                grad_cov = self.n_features * nk - precisions * scatter
        grad_means = (nk[:, None] * precision_offset).ravel()
        return np.concatenate([grad_alpha, grad_means, grad_cov])

    def scores(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Per-row gradients of :meth:`loglik_obs`, shape (n_samples, n_params):
        :meth:`grad_from_stats` for the statistics of one row (:math:`N_k = r_{ik}`,
        :math:`\\bar x_k = x_i`, no scatter)."""
        params = self.unpack(theta)
        chol, ct = params.precisions_cholesky, self.covariance_type
        K, d = self.n_components, self.n_features
        _, resp = self.log_responsibilities(theta, batch.X)
        centred = (batch.X - self.location)[:, None, :] - (
            params.means - self.location
        )  # (n, K, d)
        parts = [resp - params.weights]
        if ct in ("full", "tied"):
            chol_k = chol if ct == "full" else np.broadcast_to(chol, (K, d, d))
            z = np.einsum("nki,kij->nkj", centred, chol_k)  # U_k^T (x - mu_k)
            parts.append(resp[:, :, None] * np.einsum("nkj,kij->nki", z, chol_k))
            rows, cols = np.triu_indices(d)
            grad = -centred[:, :, rows] * z[:, :, cols]  # -(c c^T U)_ab
            on_diag = rows == cols
            diagonal = np.diagonal(chol_k, axis1=1, axis2=2)  # (K, d)
            grad[:, :, on_diag] = 1.0 + grad[:, :, on_diag] * diagonal
            grad *= resp[:, :, None]
            parts.append(grad.sum(axis=1) if ct == "tied" else grad)
        else:
            precisions = chol**2 if ct == "diag" else (chol**2)[:, None]
            offset = precisions * centred
            parts.append(resp[:, :, None] * offset)
            squared = offset * centred
            if ct == "diag":
                parts.append(resp[:, :, None] * (1.0 - squared))
            else:
                parts.append(resp * (d - squared.sum(axis=2)))
        n = batch.X.shape[0]
        return np.hstack([part.reshape(n, -1) for part in parts])
