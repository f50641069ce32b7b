"""Linear regression with Gaussian noise: :math:`y = x^\\top w + b + e`, :math:`e \\sim N(0, \\sigma^2)`.

With residuals :math:`r_i = y_i - x_i^\\top w - b` and weights :math:`w_i`
(total :math:`W`),

.. math::

    \\ell(w, b, \\sigma) = -\\frac{W}{2}\\log(2\\pi\\sigma^2)
        - \\frac{1}{2\\sigma^2}\\sum_i w_i r_i^2

    \\nabla_w \\ell = \\frac{1}{\\sigma^2}\\sum_i w_i r_i x_i, \\qquad
    \\partial_b \\ell = \\frac{1}{\\sigma^2}\\sum_i w_i r_i, \\qquad
    \\partial_{\\log\\sigma} \\ell = -W + \\frac{1}{\\sigma^2}\\sum_i w_i r_i^2.

The maximiser is the weighted least-squares fit with
:math:`\\hat\\sigma^2 = \\sum_i w_i r_i^2 / W` (the residual sum of squares over the
total weight, not over :math:`W - p`). The observed information of
:math:`(w, b)` at the maximum is :math:`X_1^\\top \\mathrm{diag}(w) X_1 / \\hat\\sigma^2`
with :math:`X_1 = [X, 1]`.

Conventions
-----------
``theta = [coef (n_features), intercept (if fit_intercept), log sigma]``, as in
:mod:`skmle.models.linear`.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from skmle.models.base import LOG_2PI, Batch
from skmle.models.linear import LinearLogLikelihood

RCOND_MIN = np.sqrt(np.finfo(float).eps)
"""Smallest reciprocal condition number of the equilibrated normal matrix for which
the Cholesky route is trusted. Forming :math:`X^\\top X` squares the condition number
of :math:`X`; below this bound (:math:`\\kappa(X)` above about :math:`10^4`) the
coefficients are solved by SVD instead."""


class LinearGaussianLogLikelihood(LinearLogLikelihood):
    """Log-likelihood of :math:`y \\sim N(x^\\top w + b, \\sigma^2)`, with its Hessian.

    Parameters
    ----------
    n_features : int
    fit_intercept : bool, default=True
    """

    has_hessian = True
    capabilities = LinearLogLikelihood.capabilities | {"hessian", "closed_form"}

    def noise_terms(self, z, log_scale):
        logp = -0.5 * LOG_2PI - log_scale - 0.5 * z**2
        return logp, -z, z**2 - 1.0

    def residual_statistic(self, residuals):
        return np.square(residuals)

    def mean_loglik(self, residual_mean: float, scale: float) -> float:
        """:math:`-\\tfrac12 \\log 2\\pi - \\log\\sigma - \\overline{r^2} / (2\\sigma^2)`."""
        return float(-0.5 * LOG_2PI - np.log(scale) - 0.5 * residual_mean / scale**2)

    def scale_from(self, residual_mean: float) -> float:
        """:math:`\\hat\\sigma = \\sqrt{\\overline{r^2}}`."""
        return float(np.sqrt(residual_mean))

    def hessian(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Exact Hessian in ``theta``.

        Per row, in :math:`(\\eta, \\log\\sigma)`: :math:`-1/\\sigma^2`,
        :math:`-2r/\\sigma^2` and :math:`-2r^2/\\sigma^2`.
        """
        z = self.standardised_residuals(theta, batch)
        if z is None:
            raise ValueError("The Hessian is not finite at these parameters.")
        inv_scale = np.exp(-self.unpack(theta)[2])
        w = batch.sample_weight
        return self.design_hessian(
            batch,
            -w * inv_scale**2,
            -2.0 * inv_scale * (w * z),
            -2.0 * float(w @ z**2),
        )


def solve_normal_equations(
    gram: np.ndarray, cross: np.ndarray, rcond_min: float = RCOND_MIN
) -> tuple[np.ndarray, tuple] | None:
    """Solve :math:`G w = c` by Cholesky, or return None when that is not safe.

    ``G`` is first equilibrated to unit diagonal (which does not change the
    solution, only the rounding); None is returned when a column of ``X`` is
    constant or zero (a zero diagonal), when ``G`` is not numerically positive
    definite, or when its reciprocal condition number is below ``rcond_min``
    (default :data:`RCOND_MIN`).

    Returns
    -------
    (coef, factor) or None
        ``factor`` is ``(cho_factor of the equilibrated G, column scales)``, for
        :func:`inverse_from_factor`.
    """
    diagonal = np.diag(gram)
    if not np.all(diagonal > 0):
        return None
    scales = np.sqrt(diagonal)
    equilibrated = gram / np.outer(scales, scales)
    try:
        factor = linalg.cho_factor(equilibrated, check_finite=False)
    except linalg.LinAlgError:
        return None
    anorm = float(np.max(np.sum(np.abs(equilibrated), axis=0)))
    rcond, info = lapack.dpocon(factor[0], anorm, uplo="L" if factor[1] else "U")
    if info != 0 or not rcond >= rcond_min:
        return None
    coef = linalg.cho_solve(factor, cross / scales, check_finite=False) / scales
    return coef, (factor, scales)


def inverse_from_factor(factor: tuple) -> np.ndarray:
    """:math:`G^{-1}` from the output of :func:`solve_normal_equations`."""
    cho, scales = factor
    eye = np.eye(scales.shape[0])
    return linalg.cho_solve(cho, eye, check_finite=False) / np.outer(scales, scales)


def min_norm_least_squares(
    X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray
) -> np.ndarray:
    """Minimum-norm minimiser of :math:`\\sum_i w_i (y_i - x_i^\\top w)^2`, by SVD.

    The rows are scaled by :math:`\\sqrt{w_i}` and LAPACK's ``gelsd`` treats
    singular values below ``max(n, d) * eps`` times the largest as zero, so a
    rank-deficient ``X`` gets the solution of smallest norm. Repeating a row and
    doubling its weight give the same solution, since both leave the normal
    equations and the row space unchanged.
    """
    root = np.sqrt(sample_weight)
    cond = max(X.shape) * np.finfo(float).eps
    coef, *_ = linalg.lstsq(
        X * root[:, None], y * root, cond=cond, lapack_driver="gelsd"
    )
    return coef


EIGEN_RTOL = 1e-10
"""Eigenvalues of the equilibrated normal matrix (unit diagonal) below this times the
largest are treated as zero by :func:`min_norm_from_normal_equations`: singular
values of the unit-norm columns below :math:`10^{-5}` times the largest. Being
relative to the equilibrated matrix, the decision does not depend on the units of
the columns."""


def min_norm_from_normal_equations(
    gram: np.ndarray, cross: np.ndarray, rtol: float = EIGEN_RTOL
) -> np.ndarray:
    """Minimum-norm solution of :math:`G w = c` from :math:`G` and :math:`c` alone.

    For ``partial_fit``, which keeps only the moments, where the QR of
    :mod:`skmle.models.qr_least_squares` would need the rows. With
    :math:`S = \\mathrm{diag}(G)^{1/2}` (1 for a zero diagonal) and the
    eigendecomposition of the equilibrated :math:`S^{-1} G S^{-1} = V \\Lambda
    V^\\top`, the eigenvalues above ``rtol`` times the largest are kept:
    :math:`w_0 = S^{-1} V_+ \\Lambda_+^{-1} V_+^\\top S^{-1} c`. The dropped
    directions :math:`N = S^{-1} V_0` are then projected out of :math:`w_0` in the
    original units, so that the result is the solution of smallest Euclidean norm
    (the pseudoinverse solution for a truly rank-deficient :math:`G`). Forming
    :math:`G` squares the condition number, so this is coarser than QR on the
    rows: directions that QR would still resolve can be dropped.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # collinear columns
    >>> y = np.array([1.0, 2.0, 3.0])
    >>> np.round(min_norm_from_normal_equations(X.T @ X, X.T @ y), 12)
    array([0.2, 0.4])
    """
    diagonal = np.diag(gram)
    scales = np.where(diagonal > 0, np.sqrt(np.abs(diagonal)), 1.0)
    equilibrated = gram / np.outer(scales, scales)
    values, vectors = linalg.eigh(equilibrated, check_finite=False)
    top = values[-1] if values.size else 0.0
    if not top > 0:
        return np.zeros(gram.shape[0])
    keep = values > rtol * top
    basis = vectors[:, keep]
    coef = (basis @ ((basis.T @ (cross / scales)) / values[keep])) / scales
    null = vectors[:, ~keep] / scales[:, None]
    if null.shape[1]:
        coef = coef - null @ linalg.lstsq(null, coef, check_finite=False)[0]
    return coef
