"""Multivariate Gaussian: :math:`x \\sim N(\\mu, \\Sigma)`.

Log-likelihood, with the precision written through its Cholesky factor
:math:`\\Sigma^{-1} = R R^\\top` (:math:`R` lower triangular):

.. math::

    \\ell(\\mu, R) = W\\Big(\\sum_j \\log R_{jj} - \\tfrac{d}{2}\\log 2\\pi\\Big)
        - \\tfrac12 \\sum_i w_i \\lVert R^\\top (x_i - \\mu) \\rVert^2,
    \\qquad W = \\sum_i w_i

    \\nabla_\\mu \\ell = R R^\\top \\sum_i w_i (x_i - \\mu), \\qquad
    \\nabla_R \\ell = W\\,\\mathrm{diag}(1/R_{jj}) - S(\\mu) R,\\quad
    S(\\mu) = \\sum_i w_i (x_i - \\mu)(x_i - \\mu)^\\top

The optional ``reg_covar`` is a log-prior
:math:`-\\tfrac{W}{2}\\,\\mathrm{reg}\\,\\mathrm{tr}(\\Sigma^{-1})`, whose maximiser
is :math:`\\hat\\Sigma = S(\\hat\\mu)/W + \\mathrm{reg}\\,I`: the same answer as adding
``reg_covar`` to the diagonal of the sample covariance.

Conventions
-----------
``theta = [mu (d), precision-Cholesky parameters]``, where the second part is

- ``"full"``: the lower triangle of :math:`R` in ``numpy.tril_indices`` order
  (d(d+1)/2 values), the diagonal entries stored as :math:`\\log R_{jj}`;
- ``"diag"``: :math:`\\log R_{jj} = -\\log \\sigma_j` (d values);
- ``"spherical"``: one :math:`\\log r = -\\log \\sigma` (1 value).

Any real ``theta`` is a valid Gaussian: a gradient step cannot make a variance
negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from skmle.models.base import Batch, LogLikelihood

COVARIANCE_TYPES = ("full", "diag", "spherical")
LOG_2PI = np.log(2.0 * np.pi)


def n_covariance_params(n_features: int, covariance_type: str) -> int:
    return {
        "full": n_features * (n_features + 1) // 2,
        "diag": n_features,
        "spherical": 1,
    }[covariance_type]


# -- weighted moments: the sufficient statistics, merged exactly ----------------------
@dataclass(frozen=True)
class Moments:
    """Weighted sufficient statistics of a Gaussian.

    ``scatter`` is :math:`\\sum_i w_i (x_i - \\bar x)(x_i - \\bar x)^\\top`, a (d, d)
    matrix for ``"full"`` and its diagonal (d,) otherwise.
    """

    weight: float
    mean: np.ndarray
    scatter: np.ndarray

    @classmethod
    def from_data(cls, X, sample_weight=None, covariance_type="full") -> Moments:
        X = np.asarray(X, dtype=float)
        if sample_weight is not None and np.all(sample_weight == 1):
            sample_weight = None  # unit weights: skip a pass and a copy of X
        if sample_weight is None:
            weight = float(X.shape[0])
            mean = X.mean(axis=0)
            centred = X - mean
            weighted = centred
        else:
            sample_weight = np.asarray(sample_weight, dtype=float)
            weight = float(sample_weight.sum())
            mean = (sample_weight @ X) / weight if weight > 0 else np.zeros(X.shape[1])
            centred = X - mean
            weighted = centred * sample_weight[:, None]
        if covariance_type == "full":
            scatter = weighted.T @ centred
        else:
            scatter = np.einsum("ij,ij->j", weighted, centred)
        return cls(weight, mean, scatter)

    def merge(self, other: Moments) -> Moments:
        """Moments of the union of two disjoint sets of rows (Chan et al., 1979).

        .. math:: \\bar x = \\bar x_a + \\delta\\,W_b/W, \\quad
           S = S_a + S_b + \\delta\\delta^\\top W_a W_b / W, \\quad
           \\delta = \\bar x_b - \\bar x_a
        """
        weight = self.weight + other.weight
        if other.weight == 0:
            return self
        if self.weight == 0:
            return other
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.weight / weight)
        factor = self.weight * other.weight / weight
        if self.scatter.ndim == 2:
            correction = factor * np.outer(delta, delta)
        else:
            correction = factor * delta**2
        return Moments(weight, mean, self.scatter + other.scatter + correction)

    __add__ = merge

    def covariance(self, covariance_type: str, reg_covar: float = 0.0):
        """MLE covariance ``scatter / weight`` plus ``reg_covar`` on the diagonal."""
        if covariance_type == "full":
            cov = self.scatter / self.weight
            cov.flat[:: cov.shape[0] + 1] += reg_covar
            return cov
        if covariance_type == "diag":
            return self.scatter / self.weight + reg_covar
        return float(np.mean(self.scatter) / self.weight + reg_covar)


# -- packing ----------------------------------------------------------------------------
def precision_cholesky(covariance, covariance_type: str):
    """Lower Cholesky factor R of the precision (vector of diagonal for diag/spherical).

    Raises ``numpy.linalg.LinAlgError`` when the covariance is not positive definite.
    """
    if covariance_type == "full":
        # Factor the covariance as U U^T with U upper triangular (Cholesky of the
        # row- and column-reversed matrix); then R = U^{-T} is lower triangular and
        # R R^T = (U U^T)^{-1}. No inverse of the covariance is formed.
        reversed_chol = linalg.cholesky(covariance[::-1, ::-1], lower=True)
        upper = reversed_chol[::-1, ::-1]
        return linalg.solve_triangular(upper, np.eye(upper.shape[0]), lower=False).T
    variances = np.asarray(covariance, dtype=float)
    if np.any(variances <= 0):
        raise np.linalg.LinAlgError("a variance is not positive")
    return 1.0 / np.sqrt(variances)


def pack(mean, covariance, covariance_type: str) -> np.ndarray:
    """``theta`` from a mean and a covariance (see the module's conventions)."""
    prec_chol = precision_cholesky(covariance, covariance_type)
    if covariance_type == "full":
        rows, cols = np.tril_indices(len(mean))
        values = prec_chol[rows, cols].copy()
        values[rows == cols] = np.log(values[rows == cols])
        return np.concatenate([mean, values])
    return np.concatenate([mean, np.log(np.atleast_1d(prec_chol))])


def unpack(theta, n_features: int, covariance_type: str):
    """Mean and precision Cholesky factor from ``theta``.

    The factor is (d, d) lower triangular for ``"full"``, the (d,) diagonal for
    ``"diag"``, and a (1,) array for ``"spherical"``.
    """
    mean = theta[:n_features]
    rest = theta[n_features:]
    if covariance_type == "full":
        rows, cols = np.tril_indices(n_features)
        prec_chol = np.zeros((n_features, n_features))
        prec_chol[rows, cols] = rest
        diagonal = np.arange(n_features)
        prec_chol[diagonal, diagonal] = np.exp(prec_chol[diagonal, diagonal])
        return mean, prec_chol
    return mean, np.exp(rest)


def covariance_from_theta(theta, n_features: int, covariance_type: str):
    """The covariance (full (d, d), diag (d,), spherical float) ``theta`` encodes."""
    _, prec_chol = unpack(theta, n_features, covariance_type)
    if covariance_type == "full":
        cov_chol_t = linalg.solve_triangular(prec_chol, np.eye(n_features), lower=True)
        return cov_chol_t.T @ cov_chol_t
    variances = 1.0 / prec_chol**2
    return variances if covariance_type == "diag" else float(variances[0])


def log_det_precision_cholesky(prec_chol, n_features: int, covariance_type: str):
    """:math:`\\sum_j \\log R_{jj}` (half the log-determinant of the precision)."""
    if covariance_type == "full":
        return float(np.sum(np.log(np.diag(prec_chol))))
    if covariance_type == "diag":
        return float(np.sum(np.log(prec_chol)))
    return float(n_features * np.log(prec_chol[0]))


def whiten(centred, prec_chol, covariance_type: str):
    """:math:`Z = (X - \\mu) R`: rows whose squared norms are Mahalanobis distances."""
    if covariance_type == "full":
        return centred @ prec_chol
    return centred * prec_chol


def loglik_from_moments(moments: Moments, mean, covariance, covariance_type) -> float:
    """Total log-likelihood of the rows summarised by ``moments`` under N(mean, cov).

    Needs no second pass over the data:
    :math:`\\ell = W(\\sum\\log R_{jj} - \\tfrac d2\\log 2\\pi)
    - \\tfrac12[\\mathrm{tr}(R^\\top S R) + W\\lVert R^\\top(\\bar x - \\mu)\\rVert^2]`.
    """
    d = moments.mean.shape[0]
    prec_chol = precision_cholesky(covariance, covariance_type)
    if covariance_type != "full":
        prec_chol = np.broadcast_to(prec_chol, (d,))
    offset = whiten(moments.mean - mean, prec_chol, covariance_type)
    if covariance_type == "full":
        spread = np.sum((moments.scatter @ prec_chol) * prec_chol)
    else:
        spread = np.sum(moments.scatter * prec_chol**2)
    logdet = log_det_precision_cholesky(prec_chol, d, covariance_type)
    if covariance_type == "spherical":
        logdet = float(np.sum(np.log(prec_chol)))
    return float(
        moments.weight * (logdet - 0.5 * d * LOG_2PI)
        - 0.5 * (spread + moments.weight * offset @ offset)
    )


# -- the log-likelihood -----------------------------------------------------------------
class GaussianLogLikelihood(LogLikelihood):
    """Log-likelihood of :math:`N(\\mu, \\Sigma)` over ``theta`` (see the module doc).

    Parameters
    ----------
    n_features : int
    covariance_type : {"full", "diag", "spherical"}
    reg_covar : float, default=0.0
        Strength of the log-prior that adds ``reg_covar`` to the fitted variances.
    """

    has_hessian = True

    def __init__(self, n_features: int, covariance_type: str = "full", reg_covar=0.0):
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}")
        self.n_features = n_features
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.n_params = n_features + n_covariance_params(n_features, covariance_type)

    def _unpack(self, theta):
        return unpack(theta, self.n_features, self.covariance_type)

    def loglik_obs(self, theta, batch: Batch) -> np.ndarray:
        mean, prec_chol = self._unpack(theta)
        z = whiten(batch.X - mean, prec_chol, self.covariance_type)
        logdet = log_det_precision_cholesky(
            prec_chol, self.n_features, self.covariance_type
        )
        return (
            logdet - 0.5 * self.n_features * LOG_2PI - 0.5 * np.einsum("ij,ij->i", z, z)
        )

    def _statistics(self, theta, batch: Batch):
        mean, prec_chol = self._unpack(theta)
        w = batch.sample_weight
        centred = batch.X - mean
        z = whiten(centred, prec_chol, self.covariance_type)
        weight = float(w.sum())
        logdet = log_det_precision_cholesky(
            prec_chol, self.n_features, self.covariance_type
        )
        value = weight * (logdet - 0.5 * self.n_features * LOG_2PI) - 0.5 * float(
            w @ np.einsum("ij,ij->i", z, z)
        )
        return mean, prec_chol, w, centred, z, weight, value

    def loglik_grad(self, theta, batch: Batch):
        _, prec_chol, w, centred, z, weight, value = self._statistics(theta, batch)
        d = self.n_features
        if self.covariance_type == "full":
            grad_mean = prec_chol @ (z.T @ w)
            scatter_r = centred.T @ (z * w[:, None])  # S(mu) R
            rows, cols = np.tril_indices(d)
            grad_r = -scatter_r[rows, cols]
            on_diag = rows == cols
            grad_r[on_diag] = weight + grad_r[on_diag] * prec_chol[rows, cols][on_diag]
            return value, np.concatenate([grad_mean, grad_r])
        sum_centred = centred.T @ w
        scatter_diag = (centred**2).T @ w
        if self.covariance_type == "diag":
            grad_mean = prec_chol**2 * sum_centred
            grad_log = weight - prec_chol**2 * scatter_diag
        else:
            r2 = prec_chol[0] ** 2
            grad_mean = r2 * sum_centred
            grad_log = np.array([weight * d - r2 * scatter_diag.sum()])
        return value, np.concatenate([grad_mean, grad_log])

    def hessian(self, theta, batch: Batch) -> np.ndarray:
        mean, prec_chol = self._unpack(theta)
        w = batch.sample_weight
        centred = batch.X - mean
        weight = float(w.sum())
        sum_centred = centred.T @ w
        d = self.n_features
        hess = np.zeros((self.n_params, self.n_params))
        if self.covariance_type == "full":
            precision = prec_chol @ prec_chol.T
            scatter = centred.T @ (centred * w[:, None])
            rows, cols = np.tril_indices(d)
            on_diag = rows == cols
            jac = np.where(on_diag, prec_chol[rows, cols], 1.0)
            # second derivatives of -1/2 tr(R^T S R) in the raw entries of R
            h_rr = -scatter[rows[:, None], rows[None, :]] * (
                cols[:, None] == cols[None, :]
            )
            grad_raw = -(scatter @ prec_chol)[rows, cols]
            h_rr = jac[:, None] * h_rr * jac[None, :]
            h_rr[on_diag, on_diag] += (grad_raw * jac)[on_diag]
            # cross terms: d/dmu_k of -(S(mu) R)_ab = [a=k] (s^T R)_b + s_a R_kb
            s_r = sum_centred @ prec_chol
            h_mr = (rows[None, :] == np.arange(d)[:, None]) * s_r[cols][None, :]
            h_mr = h_mr + sum_centred[rows][None, :] * prec_chol[:, cols]
            h_mr = h_mr * jac[None, :]
            hess[:d, :d] = -weight * precision
            hess[:d, d:] = h_mr
            hess[d:, :d] = h_mr.T
            hess[d:, d:] = h_rr
            return hess
        scatter_diag = (centred**2).T @ w
        r2 = (
            prec_chol**2
            if self.covariance_type == "diag"
            else np.full(d, prec_chol[0] ** 2)
        )
        hess[:d, :d] = np.diag(-weight * r2)
        if self.covariance_type == "diag":
            hess[d:, d:] = np.diag(-2.0 * r2 * scatter_diag)
            cross = np.diag(2.0 * r2 * sum_centred)
        else:
            hess[d, d] = -2.0 * r2[0] * scatter_diag.sum()
            cross = (2.0 * r2 * sum_centred)[:, None]
        hess[:d, d:] = cross
        hess[d:, :d] = cross.T
        return hess

    @property
    def has_prior(self) -> bool:
        return self.reg_covar > 0

    def log_prior(self, theta, total_weight):
        """:math:`-\\tfrac{W}{2}\\,\\mathrm{reg}\\,\\lVert R\\rVert_F^2`, its gradient and Hessian."""
        n = self.n_params
        grad = np.zeros(n)
        hess = np.zeros((n, n))
        if self.reg_covar == 0:
            return 0.0, grad, hess
        d = self.n_features
        strength = total_weight * self.reg_covar
        _, prec_chol = self._unpack(theta)
        if self.covariance_type == "full":
            rows, cols = np.tril_indices(d)
            raw = prec_chol[rows, cols]
            on_diag = rows == cols
            value = -0.5 * strength * float(raw @ raw)
            g = -strength * raw
            g[on_diag] *= raw[on_diag]
            h = np.full(raw.shape, -strength)
            h[on_diag] = -2.0 * strength * raw[on_diag] ** 2
        else:
            multiplicity = 1 if self.covariance_type == "diag" else d
            value = -0.5 * strength * multiplicity * float(prec_chol @ prec_chol)
            g = -strength * multiplicity * prec_chol**2
            h = 2.0 * g
        grad[d:] = g
        hess[d:, d:] = np.diag(h)
        return value, grad, hess
