"""The covariance of the Gaussian's estimates: the mean and the covariance entries.

At the maximum :math:`(\\hat\\mu, \\hat\\Sigma)` of the weighted log-likelihood
(total weight :math:`W`), the information of the mean and of the covariance
entries is block diagonal (the cross term is proportional to
:math:`\\sum_i w_i (x_i - \\hat\\mu) = 0`), and its inverse has a closed form
(Anderson, *An Introduction to Multivariate Statistical Analysis*, 3.4 and 4.2):

.. math:: \\operatorname{Cov}(\\hat\\mu) = \\hat\\Sigma / W, \\qquad
   \\operatorname{Cov}(\\hat\\sigma_{ij}, \\hat\\sigma_{kl})
   = (\\hat\\sigma_{ik}\\hat\\sigma_{jl} + \\hat\\sigma_{il}\\hat\\sigma_{jk}) / W,

for the entries :math:`i \\ge j` of the lower triangle (``"full"``; the reported
parameterisation, each off-diagonal entry once); :math:`2\\hat\\sigma_j^2/W` for the
variances of ``"diag"``; :math:`2\\hat\\sigma^4/(W d)` for the shared variance of
``"spherical"``. With ``reg_covar`` the maximised function is the log-posterior
:math:`-\\frac W2 (\\log|\\Sigma| + \\mathrm{tr}\\,\\Sigma^{-1}(S + \\Lambda))`, whose
Hessian at :math:`\\hat\\Sigma = S + \\Lambda` has the same form, so the same
formulas hold at the regularised estimate.

The sandwich covariances (``cov_type="HC0"``, ``"HC1"``, ``"cluster"``) use the
influence rows :math:`\\psi_i = (r_i, \\mathrm{vech}(r_i r_i^\\top + \\Lambda -
\\hat\\Sigma))`, :math:`r_i = x_i - \\hat\\mu` (the rows of :math:`W I^{-1} s_i`,
the inverse information applied to the score), so that :math:`V = \\sum_i w_i
\\psi_i \\psi_i^\\top / W^2` times the small-sample factor of
:mod:`skmle.inference.sandwich`: robust to non-Gaussian tails, for which the
closed form above is wrong (it assumes zero excess kurtosis).
"""

from __future__ import annotations

import numpy as np

from skmle.models.base import Batch


def covariance_indices(d: int, covariance_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the reported covariance entries: the lower triangle
    row by row (``(0, 0), (1, 0), (1, 1), ...``) for ``"full"``, the diagonal for
    ``"diag"``, the single ``(0, 0)`` for ``"spherical"``."""
    if covariance_type == "full":
        return np.tril_indices(d)
    if covariance_type == "diag":
        return np.arange(d), np.arange(d)
    return np.zeros(1, dtype=int), np.zeros(1, dtype=int)


def covariance_entries(covariance, d: int, covariance_type: str) -> np.ndarray:
    """The reported covariance parameters of ``covariance_`` (see
    :func:`covariance_indices`)."""
    if covariance_type == "full":
        return np.asarray(covariance)[np.tril_indices(d)]
    return np.atleast_1d(np.asarray(covariance, dtype=float)).copy()


def full_matrix(covariance, d: int, covariance_type: str) -> np.ndarray:
    """``covariance_`` as a (d, d) matrix."""
    if covariance_type == "full":
        return np.asarray(covariance, dtype=float)
    return np.diag(np.broadcast_to(np.asarray(covariance, dtype=float), (d,)))


class GaussianParamsCovariance:
    """The closed-form covariance of :math:`(\\hat\\mu, \\hat\\sigma)` (the
    module's formulas), with the interface of
    :class:`~skmle.inference.ReportedCovariance`: its diagonal in
    :math:`O(d^2)`, the whole matrix (of order :math:`d + d(d+1)/2` for
    ``"full"``) only when asked for.

    Parameters
    ----------
    covariance : ndarray or float
        The fitted ``covariance_``.
    n_features : int
    total_weight : float
        :math:`W`.
    covariance_type : {"full", "diag", "spherical"}
    """

    def __init__(self, covariance, n_features: int, total_weight, covariance_type):
        self._sigma = full_matrix(covariance, n_features, covariance_type)
        self._d, self._ct, self._w = n_features, covariance_type, float(total_weight)
        self._matrix = None

    def std_errors(self) -> np.ndarray:
        """The square roots of :meth:`variances`, computed from the standard
        deviations and correlations (no overflow for scales near the largest
        float: :math:`\\sigma_i \\sigma_j \\sqrt{(1 + \\rho_{ij}^2)/W}`)."""
        sigma, d, W = self._sigma, self._d, self._w
        sd = np.sqrt(np.diag(sigma))
        if self._ct == "spherical":
            entries = np.array([sd[0] * sd[0] * np.sqrt(2.0 / (W * d))])
        else:
            rows, cols = covariance_indices(d, self._ct)
            rho = sigma[rows, cols] / sd[rows] / sd[cols]
            entries = sd[rows] * sd[cols] * np.sqrt((1.0 + rho**2) / W)
        return np.concatenate([sd / np.sqrt(W), entries])

    def variances(self) -> np.ndarray:
        """The diagonal: the mean's :math:`\\hat\\sigma_{jj}/W`, then the
        covariance entries' :math:`(\\hat\\sigma_{ii}\\hat\\sigma_{jj} +
        \\hat\\sigma_{ij}^2)/W`."""
        return self.std_errors() ** 2

    def matrix(self) -> np.ndarray:
        """The whole covariance, block diagonal (:math:`\\hat\\Sigma/W`, then the
        entries' block), formed on the first call."""
        if self._matrix is None:
            sigma, d, W = self._sigma, self._d, self._w
            if self._ct == "full":
                i, j = np.tril_indices(d)
                entries = (
                    sigma[np.ix_(i, i)] * sigma[np.ix_(j, j)]
                    + sigma[np.ix_(i, j)] * sigma[np.ix_(j, i)]
                ) / W
            else:
                entries = np.diag(self.variances()[d:])
            m = d + entries.shape[0]
            matrix = np.zeros((m, m))
            matrix[:d, :d] = sigma / W
            matrix[d:, d:] = entries
            self._matrix = matrix
        return self._matrix


def influence_rows(
    batch: Batch, mean: np.ndarray, covariance, reg: np.ndarray, covariance_type: str
) -> np.ndarray:
    """:math:`\\psi_i` for the rows of ``batch``, (n_rows, d + n_entries): the
    residual :math:`r_i`, then the entries of :math:`r_i r_i^\\top + \\Lambda -
    \\hat\\Sigma` (for ``"spherical"``, :math:`\\|r_i\\|^2/d + \\bar\\lambda -
    \\hat\\sigma^2`). Their weighted sum is zero at the fit."""
    r = np.asarray(batch.X, dtype=float) - mean
    d = r.shape[1]
    unregularised = full_matrix(covariance, d, covariance_type) - np.diag(reg)
    rows, cols = covariance_indices(d, covariance_type)
    if covariance_type == "spherical":
        shared = np.mean(np.diag(unregularised))
        second = (r**2).mean(axis=1, keepdims=True) - shared
    else:
        second = r[:, rows] * r[:, cols] - unregularised[rows, cols]
    return np.hstack([r, second])
