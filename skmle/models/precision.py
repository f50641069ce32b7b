"""Cholesky factors of precision matrices, in one convention.

Every factor here is scikit-learn's: an upper-triangular :math:`U` with
:math:`U U^\\top = \\Sigma^{-1}`, computed as :math:`U = L^{-\\top}` from the lower
Cholesky factor :math:`\\Sigma = L L^\\top` (no inverse of :math:`\\Sigma` is formed).
The mixture stores these factors (``precisions_cholesky_``). The Gaussian stores the
lower-triangular :math:`R` with :math:`R R^\\top = \\Sigma^{-1}` instead
(``precision_cholesky_``); :func:`reverse` converts one into the other:
with :math:`J` the order-reversing permutation,

.. math:: R(\\Sigma) = J\\, U(J \\Sigma J)\\, J .

Diagonal and spherical covariances are vectors of variances, whose factor is
:math:`1/\\sigma`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

TINY = 1e-290
"""Smallest variance kept: below it (near float64's smallest normal number, 2.2e-308)
products of deviations lose digits, and the precision would overflow."""

PIVOT_FLOOR = 64 * np.finfo(float).eps
"""Times ``n_features``: the smallest Cholesky pivot (squared) of the correlation
matrix for which a covariance counts as positive definite. Below it some feature is,
up to rounding error, a linear combination of the others: the pivot's sign is then
decided by the rounding of the sums (it changes with the order of the rows), not by
the data."""


def reverse(matrices: np.ndarray) -> np.ndarray:
    """:math:`J A J` for each matrix (rows and columns in reverse order): turns an
    upper triangle into a lower one, and the two factor conventions into each other."""
    return matrices[..., ::-1, ::-1]


def inverse_cholesky(
    covariances: np.ndarray, min_pivot: float = 0.0, overwrite: bool = False
) -> np.ndarray:
    """Upper :math:`U = L^{-\\top}` of each matrix :math:`\\Sigma = L L^\\top`, shape
    (..., d, d): :math:`U U^\\top = \\Sigma^{-1}`.

    LAPACK's ``potrf`` and ``trtri`` matrix by matrix (without the per-call overhead
    of SciPy's batched triangular solve). ``overwrite`` lets LAPACK factor a
    temporary in place.

    Raises ``numpy.linalg.LinAlgError`` when a matrix is not positive definite, or a
    squared pivot of :math:`L` is below ``min_pivot``.
    """
    covariances = np.asarray(covariances, dtype=float)
    flat = np.reshape(covariances, (-1, *covariances.shape[-2:]))
    out = np.empty_like(flat)
    for k, matrix in enumerate(flat):
        # symmetric: its transpose is the same matrix in Fortran order, which LAPACK
        # takes without a copy
        lower, info = lapack.dpotrf(
            matrix.T, lower=1, clean=1, overwrite_a=int(overwrite)
        )
        if info != 0 or (min_pivot and np.min(np.diag(lower)) ** 2 < min_pivot):
            raise np.linalg.LinAlgError("the covariance is numerically singular")
        inverse, info = lapack.dtrtri(lower, lower=1, overwrite_c=1)
        if info != 0:  # pragma: no cover - positive pivots make L invertible
            raise np.linalg.LinAlgError("singular triangular factor")
        out[k] = inverse.T
    return out.reshape(covariances.shape)


def triangular_inverse(factors: np.ndarray, lower: bool) -> np.ndarray:
    """Inverse of each triangular matrix in ``factors`` (shape (..., d, d)), by
    LAPACK's ``trtri``: exactly triangular."""
    flat = np.reshape(factors, (-1, *factors.shape[-2:]))
    out = np.empty_like(flat)
    for k, factor in enumerate(flat):
        out[k], info = lapack.dtrtri(factor, lower=int(lower))
        if info != 0:
            raise np.linalg.LinAlgError("singular triangular factor")
    return out.reshape(factors.shape)


def cholesky_of_precision(precisions: np.ndarray) -> np.ndarray:
    """Upper factors :math:`U U^\\top = P` of given precisions (shape (..., d, d)):
    :math:`U = J\\,\\mathrm{chol}(J P J)\\,J`."""
    return reverse(np.linalg.cholesky(reverse(np.asarray(precisions, float)))).copy()


def _gram(factors: np.ndarray) -> np.ndarray:
    """:math:`A A^\\top` of each matrix in ``factors`` (shape (..., d, d)), one 2-D
    product at a time: NumPy then computes only one triangle (SYRK), half the
    work of the batched product."""
    flat = np.reshape(factors, (-1, *factors.shape[-2:]))
    out = np.empty_like(flat)
    for k, factor in enumerate(flat):
        out[k] = factor @ factor.T
    return out.reshape(factors.shape)


def covariances_from_upper(chol: np.ndarray, matrices: bool) -> np.ndarray:
    """:math:`\\Sigma = V^\\top V` with :math:`V = U^{-1}`, for upper factors
    (``matrices``, shape (..., d, d)), else the variances :math:`1/u^2` of factors
    of diagonal covariances."""
    chol = np.asarray(chol, dtype=float)
    if matrices:
        inverse = triangular_inverse(chol, lower=False)
        return _gram(np.swapaxes(inverse, -1, -2))
    return 1.0 / chol**2


def precisions_from_factors(chol: np.ndarray, matrices: bool) -> np.ndarray:
    """Precisions :math:`U U^\\top` (``matrices``), else the squares of a vector of
    factors."""
    return _gram(chol) if matrices else chol**2


# -- the Gaussian's lower factor R, R R^T = Sigma^{-1} ---------------------------------
def precision_factor(covariance, covariance_type: str) -> np.ndarray:
    """Lower factor R with :math:`R R^\\top = \\Sigma^{-1}` (the inverse standard
    deviations for diag, their (1,) array for spherical), tested for rank.

    The full matrix is factored in correlation form
    :math:`\\Sigma = D^{1/2} A D^{1/2}`, so the test below does not depend on the units
    of the features: :math:`R = D^{-1/2} J\\,U(J A J)\\,J` (:func:`inverse_cholesky`,
    converted by :func:`reverse`).

    Raises ``numpy.linalg.LinAlgError`` when the covariance is not numerically
    positive definite: a variance not in ``(TINY, inf)``, or a squared pivot of
    :math:`J A J` below ``PIVOT_FLOOR * n_features``.
    """
    if covariance_type == "full":
        covariance = np.asarray(covariance, dtype=float)
        variances = np.diag(covariance)
        _check_variances(variances)
        d = variances.shape[0]
        inverse_std = 1.0 / np.sqrt(variances)
        reversed_std = inverse_std[::-1]
        # J A J in one pass, a fresh array that LAPACK may factor in place
        reversed_correlation = reverse(covariance) * np.outer(
            reversed_std, reversed_std
        )
        upper = inverse_cholesky(
            reversed_correlation, min_pivot=PIVOT_FLOOR * d, overwrite=True
        )
        return reverse(upper) * inverse_std[:, None]
    variances = np.atleast_1d(np.asarray(covariance, dtype=float))
    _check_variances(variances)
    return 1.0 / np.sqrt(variances)


def _check_variances(variances) -> None:
    if not np.all(np.isfinite(variances) & (variances > TINY)):
        raise np.linalg.LinAlgError("a variance is not positive")


def precision_cholesky(covariance, covariance_type: str):
    """Lower Cholesky factor R of the precision (vector of diagonal for diag/spherical).

    Raises ``numpy.linalg.LinAlgError`` when the covariance is not positive definite.
    """
    if covariance_type == "full":
        covariance = np.asarray(covariance, dtype=float)
        if not np.all(np.isfinite(covariance)):
            raise np.linalg.LinAlgError("the covariance is not finite")
        return reverse(inverse_cholesky(reverse(covariance))).copy()
    variances = np.asarray(covariance, dtype=float)
    if np.any(variances <= 0):
        raise np.linalg.LinAlgError("a variance is not positive")
    return 1.0 / np.sqrt(variances)


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
