"""Parameters, sufficient statistics and the M-step of a Gaussian mixture.

The parameters (:class:`MixtureParams`) and their flat ``theta`` (the layout is in
:mod:`skmle.models.mixture`); the precision factors in scikit-learn's convention
(:mod:`skmle.models.precision`); the E-step sums (:class:`MixtureStats`), which
merge exactly over batches of rows; and the M-step from those sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmle.models.moments import chan_merge
from skmle.models.precision import (
    cholesky_of_precision,
    covariances_from_upper,
    inverse_cholesky,
    precisions_from_factors,
)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
NK_FLOOR = 10 * np.finfo(float).eps
"""Added to each component's weight in the M-step, as scikit-learn does, so that a
component that has lost all its points keeps a finite mean and covariance."""
SINGULAR_MESSAGE = (
    "Fitting the mixture failed because some components have an ill-defined "
    "covariance (a single point, or collapsed or duplicated samples). Decrease "
    "n_components, increase reg_covar (it is {reg}), or scale the input data."
)


# -- parameters -----------------------------------------------------------------------
@dataclass(frozen=True)
class MixtureParams:
    """Named parameters of a Gaussian mixture.

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        Upper Cholesky factors of the precisions: (K, d, d) ``full``, (d, d)
        ``tied``, (K, d) ``diag``, (K,) ``spherical``.
    """

    weights: np.ndarray
    means: np.ndarray
    precisions_cholesky: np.ndarray


def n_covariance_params(n_components: int, n_features: int, covariance_type: str):
    """Length of the precision-Cholesky part of ``theta``."""
    tri = n_features * (n_features + 1) // 2
    return {
        "full": n_components * tri,
        "tied": tri,
        "diag": n_components * n_features,
        "spherical": n_components,
    }[covariance_type]


def pack(params: MixtureParams, covariance_type: str) -> np.ndarray:
    """``theta`` from named parameters (see the module's conventions)."""
    weights = np.asarray(params.weights, dtype=float)
    # A zero weight (allowed in weights_init) becomes a very negative logit.
    alpha = np.log(np.maximum(weights, np.finfo(float).tiny))
    chol = np.asarray(params.precisions_cholesky, dtype=float)
    if covariance_type in ("full", "tied"):
        d = chol.shape[-1]
        rows, cols = np.triu_indices(d)
        values = chol[..., rows, cols].copy()
        values[..., rows == cols] = np.log(values[..., rows == cols])
        chol_part = values.ravel()
    else:
        chol_part = np.log(chol).ravel()
    return np.concatenate([alpha, np.ravel(params.means), chol_part])


def unpack(
    theta: np.ndarray, n_components: int, n_features: int, covariance_type: str
) -> MixtureParams:
    """Named parameters from ``theta``."""
    K, d = n_components, n_features
    alpha = theta[:K]
    weights = np.exp(alpha - alpha.max())
    weights /= weights.sum()
    means = theta[K : K + K * d].reshape(K, d)
    rest = theta[K + K * d :]
    if covariance_type in ("full", "tied"):
        rows, cols = np.triu_indices(d)
        shape = (K, d, d) if covariance_type == "full" else (d, d)
        chol = np.zeros(shape)
        values = rest.reshape((*shape[:-2], rows.size))
        chol[..., rows, cols] = values
        diagonal = np.arange(d)
        chol[..., diagonal, diagonal] = np.exp(chol[..., diagonal, diagonal])
    elif covariance_type == "diag":
        chol = np.exp(rest).reshape(K, d)
    else:
        chol = np.exp(rest)
    return MixtureParams(weights, means, chol)


def precision_cholesky(
    covariances: np.ndarray, covariance_type: str, reg_covar: float = 0.0
) -> np.ndarray:
    """Upper factors :math:`U` with :math:`U U^\\top = \\Sigma^{-1}`: :math:`U = L^{-\\top}`.

    ``L`` is the lower Cholesky factor of each covariance. Raises ``ValueError`` when a
    covariance is not positive definite (``reg_covar`` is quoted in the message).
    """
    covariances = np.asarray(covariances, dtype=float)
    if not np.all(np.isfinite(covariances)):
        raise ValueError(SINGULAR_MESSAGE.format(reg=reg_covar))
    if covariance_type in ("full", "tied"):
        try:
            return inverse_cholesky(covariances)
        except np.linalg.LinAlgError:
            raise ValueError(SINGULAR_MESSAGE.format(reg=reg_covar)) from None
    if not np.all(covariances > 0):
        raise ValueError(SINGULAR_MESSAGE.format(reg=reg_covar))
    return 1.0 / np.sqrt(covariances)


def precision_cholesky_from_precisions(
    precisions: np.ndarray, covariance_type: str
) -> np.ndarray:
    """Upper factors of given precisions (square roots for diag and spherical)."""
    precisions = np.asarray(precisions, dtype=float)
    if covariance_type in ("full", "tied"):
        return cholesky_of_precision(precisions)
    return np.sqrt(precisions)


def covariances_from_cholesky(chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """Covariances :math:`\\Sigma = V^\\top V` with :math:`V = U^{-1}`."""
    return covariances_from_upper(chol, covariance_type in ("full", "tied"))


def precisions_from_cholesky(chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """Precisions :math:`U U^\\top` (elementwise squares for diag/spherical)."""
    return precisions_from_factors(chol, covariance_type in ("full", "tied"))


def log_det_cholesky(chol: np.ndarray, covariance_type: str, n_components: int, d: int):
    """:math:`\\sum_j \\log U_{k,jj} = -\\frac12 \\log|\\Sigma_k|`, shape (K,)."""
    if covariance_type == "full":
        return np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.full(n_components, np.log(np.diag(chol)).sum())
    if covariance_type == "diag":
        return np.log(chol).sum(axis=1)
    return d * np.log(chol)


# -- sufficient statistics ------------------------------------------------------------
@dataclass(frozen=True)
class MixtureStats:
    """Weighted E-step sums over a set of rows; ``a + b`` merges disjoint sets.

    Attributes
    ----------
    loglik : float
        :math:`\\sum_i w_i \\log p(x_i)` at the parameters of the E-step.
    weight : ndarray of shape (K,)
        :math:`N_k = \\sum_i w_i r_{ik}`.
    mean : ndarray of shape (K, d)
        :math:`\\bar x_k` (zero where :math:`N_k = 0`).
    scatter : ndarray of shape (K, d, d) or (K, d)
        :math:`S_k` about :math:`\\bar x_k`; its diagonal for diag/spherical.
    """

    loglik: float
    weight: np.ndarray
    mean: np.ndarray
    scatter: np.ndarray

    def __add__(self, other: MixtureStats) -> MixtureStats:
        # per component, exact (no cancellation of sums of squares)
        weight, mean, scatter = chan_merge(
            self.weight,
            self.mean,
            self.scatter,
            other.weight,
            other.mean,
            other.scatter,
        )
        return MixtureStats(self.loglik + other.loglik, weight, mean, scatter)

    def shifted(self, location: np.ndarray) -> MixtureStats:
        """The same statistics with the means moved by ``location``."""
        return MixtureStats(
            self.loglik, self.weight, self.mean + location, self.scatter
        )


def log_normalize(log_prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-sum-exp over axis 0 and the normalised probabilities, in one pass.

    .. math:: \\log \\sum_k e^{a_k} = m + \\log \\sum_k e^{a_k - m},
       \\quad m = \\max_k a_k, \\qquad p_k = e^{a_k - m} / \\sum_l e^{a_l - m}

    The same as ``scipy.special.logsumexp(a, axis=0)`` followed by
    ``exp(a - lse)``, but with one exponential per entry instead of two and none of
    SciPy's generic checks: on the (K, rows) blocks of the E-step it is several
    times faster. ``log_prob`` is overwritten with the probabilities.
    """
    shift = np.maximum.reduce(log_prob, axis=0)
    log_prob -= shift
    np.exp(log_prob, out=log_prob)
    total = np.add.reduce(log_prob, axis=0)
    log_prob /= total
    return shift + np.log(total), log_prob


# -- E-step kernels: (d, m) centred rows -> (K, m) squared Mahalanobis distances ------
# Each covariance type has a ``prepare(means, chol)``, run once per pass over the
# data, and a kernel ``(xt1, prepared)`` run on every chunk.
def _prepare_full(means, chol):
    # One GEMM whitens a chunk for every component: the rows of this matrix are the
    # columns of all U_k, and its last column, against the row of ones at the
    # bottom of xt1, subtracts U_k^T mu_k. No (rows x d) temporary per component.
    K, d = means.shape
    whitening = np.empty((K * d, d + 1))
    whitening[:, :d] = np.swapaxes(chol, 1, 2).reshape(K * d, d)
    whitening[:, d] = -np.einsum("kij,ki->kj", chol, means).ravel()
    return whitening


def _mahalanobis_full(xt1, whitening):
    d = xt1.shape[0] - 1
    z = whitening @ xt1
    np.square(z, out=z)
    return z.reshape(-1, d, z.shape[1]).sum(axis=1)


def _prepare_tied(means, chol):
    return np.ascontiguousarray(chol.T), (means @ chol)[:, :, None]


def _mahalanobis_tied(xt1, prepared):
    chol_t, shifts = prepared
    z = chol_t @ xt1[:-1]
    diff = z[None, :, :] - shifts
    np.square(diff, out=diff)
    return diff.sum(axis=1)


def _prepare_diag(means, chol):
    return means[:, :, None], chol[:, :, None]


def _mahalanobis_diag(xt1, prepared):
    means, chol = prepared
    diff = xt1[None, :-1, :] - means
    diff *= chol
    np.square(diff, out=diff)
    return diff.sum(axis=1)


def _prepare_spherical(means, chol):
    return means[:, :, None], (chol**2)[:, None]


def _mahalanobis_spherical(xt1, prepared):
    means, precisions = prepared
    diff = xt1[None, :-1, :] - means
    np.square(diff, out=diff)
    out = diff.sum(axis=1)
    out *= precisions
    return out


MAHALANOBIS = {
    "full": (_prepare_full, _mahalanobis_full),
    "tied": (_prepare_tied, _mahalanobis_tied),
    "diag": (_prepare_diag, _mahalanobis_diag),
    "spherical": (_prepare_spherical, _mahalanobis_spherical),
}


# -- scatter kernels: (d, m) centred rows, (K, d) means, (K, m) weights -> S_k --------
def _scatter_full(xt, means, resp_w):
    K, d = means.shape
    root = np.sqrt(resp_w)
    scatter = np.empty((K, d, d))
    centred = np.empty_like(xt)
    for k in range(K):
        # sqrt(w r) (x - mean) once, then a single symmetric product (SYRK).
        np.subtract(xt, means[k][:, None], out=centred)
        centred *= root[k]
        scatter[k] = centred @ centred.T
    return scatter


def _scatter_diag(xt, means, resp_w):
    diff = xt[None, :, :] - means[:, :, None]
    np.square(diff, out=diff)
    return (diff @ resp_w[:, :, None])[:, :, 0]


SCATTER = {
    "full": _scatter_full,
    "tied": _scatter_full,
    "diag": _scatter_diag,
    "spherical": _scatter_diag,
}


# -- M-step: statistics -> covariances ------------------------------------------------
def _covariances_full(stats: MixtureStats, nk: np.ndarray, reg_covar: float):
    covariances = stats.scatter / nk[:, None, None]
    d = covariances.shape[-1]
    covariances[:, np.arange(d), np.arange(d)] += reg_covar
    return covariances


def _covariances_tied(stats: MixtureStats, nk: np.ndarray, reg_covar: float):
    covariance = stats.scatter.sum(axis=0) / nk.sum()
    covariance.flat[:: covariance.shape[0] + 1] += reg_covar
    return covariance


def _covariances_diag(stats: MixtureStats, nk: np.ndarray, reg_covar: float):
    return stats.scatter / nk[:, None] + reg_covar


def _covariances_spherical(stats: MixtureStats, nk: np.ndarray, reg_covar: float):
    return _covariances_diag(stats, nk, reg_covar).mean(axis=1)


M_STEP_COVARIANCES = {
    "full": _covariances_full,
    "tied": _covariances_tied,
    "diag": _covariances_diag,
    "spherical": _covariances_spherical,
}


def m_step(
    stats: MixtureStats, covariance_type: str, reg_covar: float
) -> tuple[MixtureParams, np.ndarray]:
    """Maximise the expected complete-data log-likelihood: parameters and covariances.

    Raises ``ValueError`` when a covariance is singular (possible only with
    ``reg_covar=0``).
    """
    nk = stats.weight + NK_FLOOR
    covariances = M_STEP_COVARIANCES[covariance_type](stats, nk, reg_covar)
    chol = precision_cholesky(covariances, covariance_type, reg_covar)
    params = MixtureParams(nk / nk.sum(), stats.mean.copy(), chol)
    return params, covariances
