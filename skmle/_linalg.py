"""Linear algebra shared by the layers: solving with an information matrix.

An information matrix (a negative Hessian, :math:`X^\\top W X`) is symmetric
positive semi-definite and often badly scaled, because its entries carry the
units of the features. Both functions here work on the Jacobi-scaled matrix
(unit diagonal), so that their decisions (is a pivot zero, is an eigenvalue
zero) do not depend on those units.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from skmle._blas import single_blas_thread

PIVOT_RTOL = 1e-10
"""Smallest squared pivot of the Jacobi-scaled Cholesky factor trusted as nonzero."""
EIGEN_RTOL = 1e-12
"""Eigenvalues below this fraction of the largest are treated as zero."""


def scaled_cholesky(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Cholesky factor of a symmetric positive semi-definite matrix, Jacobi-scaled.

    Returns ``(factor, scale)`` with ``factor`` the lower Cholesky factor of
    ``matrix * outer(scale, scale)`` (unit diagonal, so the pivots do not depend on
    the units of the features), or None when a squared pivot is below
    ``PIVOT_RTOL``: the matrix is then singular to working precision (collinear
    features, more features than samples). Then ``matrix^{-1} b = scale *
    cho_solve((factor, True), scale * b)``.
    """
    matrix = np.asarray(matrix, dtype=float)
    diagonal = np.diag(matrix).copy()
    scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    try:
        # One BLAS thread: on a machine whose cores are busy, spin-waiting
        # threads made a factorisation of order 2000 ten times slower.
        with single_blas_thread():
            factor = linalg.cholesky(matrix * np.outer(scale, scale), lower=True)
    except linalg.LinAlgError:
        return None
    if np.min(np.diag(factor)) ** 2 <= PIVOT_RTOL:
        return None
    return factor, scale


def solve_information(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``matrix @ x = rhs`` for a symmetric positive semi-definite ``matrix``.

    By :func:`scaled_cholesky`. If the matrix is singular to working precision,
    the minimum-norm solution is returned instead: the rank is decided by an
    eigendecomposition of the Jacobi-scaled matrix (eigenvalues below
    ``EIGEN_RTOL`` times the largest are zero; unscaled, a feature in large units
    would make every other direction look singular), and the null directions it
    finds are projected out. That solution lies in the span of the data, so it is
    the same however the rows are weighted or repeated.

    Examples
    --------
    >>> import numpy as np
    >>> solve_information(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
    array([1. , 0.5])
    >>> solve_information(np.ones((2, 2)), np.array([2.0, 2.0]))  # singular
    array([1., 1.])
    """
    matrix = np.asarray(matrix, dtype=float)
    cholesky = scaled_cholesky(matrix)
    if cholesky is not None:
        factor, scale = cholesky
        with single_blas_thread():
            return scale * linalg.cho_solve((factor, True), scale * rhs)
    # The eigendecomposition of the Jacobi-scaled matrix, as for the Cholesky
    # factor: unscaled, a feature in large units (a variance of 1e11) would make
    # every other direction look singular, and the step would leave them out.
    diagonal = np.diag(matrix)
    scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    values, vectors = linalg.eigh(matrix * np.outer(scale, scale))
    keep = values > EIGEN_RTOL * max(values[-1], 0.0)
    if not np.any(keep):
        return np.zeros_like(rhs)
    basis = vectors[:, keep]
    solution = scale * (basis @ ((basis.T @ (scale * rhs)) / values[keep]))
    # Of the solutions (this one plus the null directions, scale * v for the
    # eigenvectors left out), the one of least Euclidean norm.
    null = scale[:, None] * vectors[:, ~keep]
    if null.shape[1]:
        orthonormal, _ = np.linalg.qr(null)
        solution = solution - orthonormal @ (orthonormal.T @ solution)
    return solution
