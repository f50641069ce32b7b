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

The optional ``reg_covar`` :math:`\\lambda` (a number, or one value per feature) is
a log-prior :math:`-\\tfrac{W}{2}\\sum_j \\lambda_j (\\Sigma^{-1})_{jj}
= -\\tfrac{W}{2}\\,\\mathrm{tr}(\\Lambda\\Sigma^{-1})`, whose maximiser is
:math:`\\hat\\Sigma = S(\\hat\\mu)/W + \\Lambda`, :math:`\\Lambda =
\\mathrm{diag}(\\lambda)`: the same answer as adding ``reg_covar`` to the diagonal of
the sample covariance. Its Hessian is diagonal and is returned as a
:class:`DiagonalMatrix`, never as a dense (n_params, n_params) array.

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

import copy

import numpy as np
from scipy import linalg

from skmle.models.base import LOG_2PI, Batch, LogLikelihood
from skmle.models.precision import (
    log_det_precision_cholesky,
    precision_cholesky,
    whiten,
)

COVARIANCE_TYPES = ("full", "diag", "spherical")


def n_covariance_params(n_features: int, covariance_type: str) -> int:
    return {
        "full": n_features * (n_features + 1) // 2,
        "diag": n_features,
        "spherical": 1,
    }[covariance_type]


# -- packing ----------------------------------------------------------------------------
def pack(mean, covariance, covariance_type: str) -> np.ndarray:
    """``theta`` from a mean and a covariance (see the module's conventions)."""
    return pack_factor(
        mean, precision_cholesky(covariance, covariance_type), covariance_type
    )


def pack_factor(mean, prec_chol, covariance_type: str) -> np.ndarray:
    """``theta`` from a mean and the precision's lower Cholesky factor."""
    if covariance_type == "full":
        d = len(mean)
        # A boolean mask reads the lower triangle in tril_indices (row-major)
        # order, faster than two index arrays; row j's diagonal entry is at
        # j (j + 3) / 2 in that order.
        values = prec_chol[np.tri(d, dtype=bool)]
        on_diag = _tril_diagonal(d)
        values[on_diag] = np.log(values[on_diag])
        return np.concatenate([mean, values])
    return np.concatenate([mean, np.log(np.atleast_1d(prec_chol))])


def pack_diagonal_factor(mean, diagonal) -> np.ndarray:
    """``theta`` (``"full"``) of a diagonal precision factor, without a (d, d) array."""
    d = len(mean)
    values = np.zeros(d * (d + 1) // 2)
    values[_tril_diagonal(d)] = np.log(diagonal)
    return np.concatenate([mean, values])


def _tril_diagonal(d: int) -> np.ndarray:
    """Positions of the diagonal in the lower triangle in ``tril_indices`` order."""
    j = np.arange(d)
    return j * (j + 3) // 2


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


# -- the log-likelihood -----------------------------------------------------------------
class GaussianLogLikelihood(LogLikelihood):
    """Log-likelihood of :math:`N(\\mu, \\Sigma)` over ``theta`` (see the module doc).

    Parameters
    ----------
    n_features : int
    covariance_type : {"full", "diag", "spherical"}
    reg_covar : float or array-like of shape (n_features,), default=0.0
        Strength of the log-prior that adds ``reg_covar`` to the fitted variances
        (stored as one value per feature).
    """

    has_hessian = True
    capabilities = frozenset({"hessian", "scores", "closed_form"})

    def __init__(self, n_features: int, covariance_type: str = "full", reg_covar=0.0):
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}")
        self.n_features = n_features
        self.covariance_type = covariance_type
        self.reg_covar = np.broadcast_to(
            np.asarray(reg_covar, dtype=float), (n_features,)
        ).copy()
        self.n_params = n_features + n_covariance_params(n_features, covariance_type)

    def with_reg_covar(self, reg_covar) -> GaussianLogLikelihood:
        """This model with another ``reg_covar``: a new model, the same kind (a
        model does not change once built)."""
        model = copy.copy(self)
        model.reg_covar = np.broadcast_to(
            np.asarray(reg_covar, dtype=float), (self.n_features,)
        ).copy()
        return model

    def standardising_map(self, mean, scale):
        """How ``theta`` moves when the data become :math:`x' = (x - m) / s`.

        :math:`\\mu' = (\\mu - m) / s`, and the precision factor :math:`R` of
        :math:`Z = (X - \\mu) R` becomes :math:`S R` (row :math:`i` times
        :math:`s_i`: :math:`\\log R_{ii}` moves by :math:`\\log s_i`). A spherical
        covariance allows one scale only, the geometric mean of ``scale``.

        Returns
        -------
        factor, shift : ndarray of shape (n_params,)
            :math:`\\theta' = \\mathrm{factor}\\,\\theta + \\mathrm{shift}`.
        scale : ndarray of shape (n_features,)
            The scales to divide the data by.
        """
        d = self.n_features
        if self.covariance_type == "spherical":
            scale = np.full(d, np.exp(np.mean(np.log(scale))))
        if self.covariance_type == "full":
            rows, cols = np.tril_indices(d)
            on_diagonal = rows == cols
            rest_factor = np.where(on_diagonal, 1.0, scale[rows])
            rest_shift = np.where(on_diagonal, np.log(scale[rows]), 0.0)
        elif self.covariance_type == "diag":
            rest_factor, rest_shift = np.ones(d), np.log(scale)
        else:
            rest_factor, rest_shift = np.ones(1), np.log(scale[:1])
        factor = np.concatenate([1.0 / scale, rest_factor])
        shift = np.concatenate([-mean / scale, rest_shift])
        return factor, shift, scale

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

    def scores(self, theta, batch: Batch) -> np.ndarray:
        """Per-row gradients of :meth:`loglik_obs`, shape (n_samples, n_params): the
        terms of :meth:`loglik_grad` before the weighted sum."""
        mean, prec_chol = self._unpack(theta)
        centred = batch.X - mean
        d = self.n_features
        if self.covariance_type == "full":
            z = whiten(centred, prec_chol, "full")
            rows, cols = np.tril_indices(d)
            grad_r = -centred[:, rows] * z[:, cols]  # -(c c^T R)_ab, row by row
            on_diag = rows == cols
            grad_r[:, on_diag] = 1.0 + grad_r[:, on_diag] * np.diag(prec_chol)
            return np.hstack([z @ prec_chol.T, grad_r])
        r2 = prec_chol**2
        if self.covariance_type == "diag":
            grad_log = 1.0 - r2 * centred**2
        else:
            grad_log = d - r2[0] * np.einsum("ij,ij->i", centred, centred)[:, None]
        return np.hstack([r2 * centred, grad_log])

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
        return bool(np.any(self.reg_covar > 0))

    def log_prior(self, theta, total_weight):
        """:math:`-\\tfrac{W}{2}\\sum_j \\lambda_j (R R^\\top)_{jj}`, its gradient and
        Hessian (a :class:`DiagonalMatrix`: the prior is a sum of squares of single
        entries of theta, or of their exponentials)."""
        n, d = self.n_params, self.n_features
        grad = np.zeros(n)
        if not self.has_prior:
            return 0.0, grad, DiagonalMatrix(np.zeros(n))
        hess = np.zeros(n)
        strength = total_weight * self.reg_covar  # (d,)
        _, prec_chol = self._unpack(theta)
        if self.covariance_type == "full":
            rows, cols = np.tril_indices(d)
            raw = prec_chol[rows, cols]
            on_diag = rows == cols
            per_entry = strength[rows]
            value = -0.5 * float(per_entry @ raw**2)
            g = -per_entry * raw
            g[on_diag] *= raw[on_diag]
            h = -per_entry
            h[on_diag] = -2.0 * per_entry[on_diag] * raw[on_diag] ** 2
        elif self.covariance_type == "diag":
            value = -0.5 * float(strength @ prec_chol**2)
            g = -strength * prec_chol**2
            h = 2.0 * g
        else:
            value = -0.5 * float(strength.sum()) * float(prec_chol[0] ** 2)
            g = np.array([-float(strength.sum()) * prec_chol[0] ** 2])
            h = 2.0 * g
        grad[d:] = g
        hess[d:] = h
        return value, grad, DiagonalMatrix(hess)


class DiagonalMatrix:
    """A diagonal (n, n) matrix stored as its diagonal, which adds to dense arrays.

    ``dense + DiagonalMatrix(v)`` is ``dense + np.diag(v)`` without forming
    ``np.diag(v)``: a log-prior's Hessian costs O(n_params) memory, not
    O(n_params^2), when only the likelihood's Hessian is dense (or when no
    Hessian is wanted at all, as in every call of ``Objective.value``).
    """

    __array_ufunc__ = None  # make ``ndarray + DiagonalMatrix`` call __radd__

    def __init__(self, diagonal):
        self.diagonal = np.asarray(diagonal, dtype=float)
        self.shape = (self.diagonal.size, self.diagonal.size)

    def __add__(self, other):
        if isinstance(other, DiagonalMatrix):
            return DiagonalMatrix(self.diagonal + other.diagonal)
        out = np.array(other, dtype=float, copy=True)
        if out.ndim == 0:
            return self.toarray() + out
        out.flat[:: out.shape[0] + 1] += self.diagonal
        return out

    __radd__ = __add__

    def __mul__(self, factor):
        return DiagonalMatrix(self.diagonal * factor)

    __rmul__ = __mul__

    def __truediv__(self, divisor):
        return DiagonalMatrix(self.diagonal / divisor)

    def __array__(self, dtype=None, copy=None):
        return self.toarray() if dtype is None else self.toarray().astype(dtype)

    def toarray(self) -> np.ndarray:
        return np.diag(self.diagonal)
