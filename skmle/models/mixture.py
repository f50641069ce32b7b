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

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from skmle.models.base import Batch, LogLikelihood

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
LOG_2PI = np.log(2.0 * np.pi)
NK_FLOOR = 10 * np.finfo(float).eps
"""Added to each component's weight in the M-step, as scikit-learn does, so that a
component that has lost all its points keeps a finite mean and covariance."""
CHUNK_ELEMENTS = 1 << 18
"""Target size (in float64) of the per-chunk (components x features x rows) block."""

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


def triangular_inverse(factors: np.ndarray, lower: bool) -> np.ndarray:
    """Inverse of each triangular matrix in ``factors`` (shape (..., d, d)).

    LAPACK's ``trtri`` matrix by matrix: exactly triangular, and without the
    per-call overhead of SciPy's batched ``solve_triangular`` (~1 ms a matrix),
    which would otherwise cost more than an M-step on small data.
    """
    flat = np.reshape(factors, (-1, *factors.shape[-2:]))
    out = np.empty_like(flat)
    for k, factor in enumerate(flat):
        out[k], info = lapack.dtrtri(factor, lower=int(lower))
        if info != 0:
            raise np.linalg.LinAlgError("singular triangular factor")
    return out.reshape(factors.shape)


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
            lower = np.linalg.cholesky(covariances)
            return np.swapaxes(triangular_inverse(lower, lower=True), -1, -2)
        except np.linalg.LinAlgError:
            raise ValueError(SINGULAR_MESSAGE.format(reg=reg_covar)) from None
    if not np.all(covariances > 0):
        raise ValueError(SINGULAR_MESSAGE.format(reg=reg_covar))
    return 1.0 / np.sqrt(covariances)


def precision_cholesky_from_precisions(
    precisions: np.ndarray, covariance_type: str
) -> np.ndarray:
    """Upper factors of given precisions: :math:`U = J\\,\\mathrm{chol}(J P J)\\,J`.

    :math:`J` reverses rows and columns, turning the lower Cholesky factor of the
    reversed matrix into the upper factor of :math:`P`.
    """
    precisions = np.asarray(precisions, dtype=float)
    if covariance_type in ("full", "tied"):
        flipped = precisions[..., ::-1, ::-1]
        return np.linalg.cholesky(flipped)[..., ::-1, ::-1].copy()
    return np.sqrt(precisions)


def covariances_from_cholesky(chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """Covariances :math:`\\Sigma = V^\\top V` with :math:`V = U^{-1}`."""
    if covariance_type in ("full", "tied"):
        inverse = triangular_inverse(chol, lower=False)
        return _gram(np.swapaxes(inverse, -1, -2))
    return 1.0 / chol**2


def _gram(factors: np.ndarray) -> np.ndarray:
    """:math:`A A^\\top` of each matrix in ``factors`` (shape (..., d, d)), one 2-D
    product at a time: NumPy then computes only one triangle (SYRK), half the
    work of the batched product."""
    flat = np.reshape(factors, (-1, *factors.shape[-2:]))
    out = np.empty_like(flat)
    for k, factor in enumerate(flat):
        out[k] = factor @ factor.T
    return out.reshape(factors.shape)


def precisions_from_cholesky(chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """Precisions :math:`U U^\\top` (elementwise squares for diag/spherical)."""
    if covariance_type in ("full", "tied"):
        return _gram(chol)
    return chol**2


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
        # Chan et al.'s pairwise update, per component: exact, and free of the
        # cancellation of sums of squares.
        total = self.weight + other.weight
        share = np.divide(
            other.weight, total, out=np.zeros_like(total), where=total > 0
        )
        delta = other.mean - self.mean
        mean = self.mean + delta * share[:, None]
        factor = self.weight * share
        if self.scatter.ndim == 3:
            correction = factor[:, None, None] * (delta[:, :, None] * delta[:, None, :])
        else:
            correction = factor[:, None] * delta**2
        return MixtureStats(
            self.loglik + other.loglik,
            total,
            mean,
            self.scatter + other.scatter + correction,
        )

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
    def information_parts(self, theta: np.ndarray, batch: Batch) -> tuple:
        """Row sums behind :meth:`observed_information`; they add over batches.

        With :math:`g_{ik} = \\Sigma_k^{-1}(x_i - \\mu_k)` and the per-row score
        :math:`s_i` of :math:`\\phi = (\\pi_1, \\dots, \\pi_{K-1}, \\mu_1, \\dots,
        \\mu_K)`, returns :math:`\\sum_i w_i s_i s_i^\\top`, :math:`T_k = \\sum_i w_i
        r_{ik} g_{ik} g_{ik}^\\top`, :math:`h_k = \\sum_i w_i r_{ik} g_{ik}` and
        :math:`N_k`.
        """
        params = self.unpack(theta)
        K, d = self.n_components, self.n_features
        n_weights = K - 1
        precisions = self._precision_matrices(params.precisions_cholesky)
        # Rows k*d..k*d+d-1 of ``stacked`` are Sigma_k^{-1}: one GEMM gives every
        # g_ik, laid out (K d, rows) like the E-step.
        stacked = np.concatenate(list(precisions), axis=0)
        offsets = np.einsum("kde,ke->kd", precisions, params.means - self.location)
        prepared = self._prepare(params)
        size = n_weights + K * d
        opg = np.zeros((size, size))
        outer = np.zeros((K, d, d))
        sums = np.zeros((K, d))
        weight = np.zeros(K)
        for start, stop, xt1 in self._chunks(batch.X):
            _, resp = log_normalize(self._log_prob(xt1, prepared))
            w = batch.sample_weight[start:stop]
            grads = (stacked @ xt1[:d]).reshape(K, d, -1)
            grads -= offsets[:, :, None]
            scores = np.empty((size, stop - start))
            scores[:n_weights] = resp[:n_weights] / params.weights[:n_weights, None]
            scores[:n_weights] -= resp[n_weights] / params.weights[n_weights]
            np.multiply(
                grads, resp[:, None, :], out=scores[n_weights:].reshape(K, d, -1)
            )
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

    def observed_information(self, theta: np.ndarray, parts: tuple) -> np.ndarray:
        """:math:`-\\nabla^2 \\ell` in :math:`(\\pi_1..\\pi_{K-1}, \\mu)`, covariances fixed.

        For :math:`\\log p = \\log \\sum_k f_k` with :math:`f_k = \\pi_k N_k`,

        .. math:: -\\nabla^2 \\log p(x_i) = s_i s_i^\\top - \\sum_k r_{ik}
           \\big(\\nabla^2 \\log f_{ik} + \\nabla \\log f_{ik} \\nabla \\log f_{ik}^\\top\\big).

        With :math:`\\pi_K = 1 - \\sum_{j<K} \\pi_j` and :math:`a_k = \\nabla \\log \\pi_k`,
        the second sum has no weight-weight block, the weight-mean blocks
        :math:`a_k h_k^\\top` and the mean blocks :math:`T_k - N_k \\Sigma_k^{-1}`.
        """
        opg, outer, sums, weight = parts
        params = self.unpack(theta)
        K, d = self.n_components, self.n_features
        n_weights = K - 1
        precisions = self._precision_matrices(params.precisions_cholesky)
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

    def _precision_matrices(self, chol: np.ndarray) -> np.ndarray:
        """:math:`\\Sigma_k^{-1}` of every component, shape (K, d, d)."""
        K, d, ct = self.n_components, self.n_features, self.covariance_type
        precisions = precisions_from_cholesky(chol, ct)
        if ct == "full":
            return precisions
        if ct == "tied":
            return np.broadcast_to(precisions, (K, d, d))
        if ct == "diag":
            return precisions[:, :, None] * np.eye(d)
        return precisions[:, None, None] * np.eye(d)

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
