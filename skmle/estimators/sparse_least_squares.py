"""Minimum-norm least squares of sparse rows, where the normal equations decline.

scipy has no sparse QR, so where the Cholesky factor of the centred normal
matrix is unreliable (collinear columns, more columns than rows) the sparse rows
of a fit held in memory are solved by LSMR (Fong and Saunders) on the implicitly
centred, weighted design

.. math:: A = W^{1/2} (X - 1\\bar x^\\top), \\qquad b = W^{1/2} (y - \\bar y),

as a linear operator (:mod:`skmle._sparse`: :math:`Av = W^{1/2}(Xv -
\\bar x^\\top v)`): started at zero it converges to the minimum-norm solution, with
the accuracy of :math:`\\kappa(A)` rather than the :math:`\\kappa(A)^2` of the normal
equations. Rows read in pieces (Dask, :func:`skmle.chunked`) keep the
eigendecomposition of the normal matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, lsmr

from skmle._sparse import matvec, rmatvec

LSMR_TOL = 1e-15
"""``atol`` and ``btol`` of LSMR: to rounding error."""
NULL_RTOL = 1e-10
"""Eigenvalues of :math:`G` below this fraction of the largest span its null space."""


def sparse_min_norm(objective) -> np.ndarray | None:
    """The minimum-norm least-squares coefficients of the objective's sparse rows
    held in memory, or None when the rows are not held in this process."""
    rows = objective.rows
    if rows is None or rows.resident_blocks(1) is None:
        return None
    batch = rows.head(rows.n_rows)
    stats_ = objective.stats
    X, root = batch.X, np.sqrt(batch.sample_weight)
    centre = stats_.x_mean
    n, d = X.shape
    A = LinearOperator(
        (n, d),
        matvec=lambda v: root * matvec(X, np.ravel(v), centre),
        rmatvec=lambda u: rmatvec(X, root * np.ravel(u), centre),
        dtype=float,
    )
    b = root * (batch.y - stats_.y_mean)
    solution = lsmr(A, b, atol=LSMR_TOL, btol=LSMR_TOL, conlim=1e17, maxiter=10 * d)
    return without_null_part(np.asarray(solution[0]), stats_.gram)


def without_null_part(coef: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """``coef`` less its projection on the null space of the normal matrix
    :math:`G` (its eigenvectors with eigenvalues below ``NULL_RTOL`` times the
    largest): the rounding of the implicitly centred products leaks into the
    directions of exactly collinear columns, which the minimum-norm solution
    leaves at zero."""
    values, vectors = np.linalg.eigh(gram)
    null = vectors[:, values <= NULL_RTOL * max(values[-1], 0.0)]
    return coef - null @ (null.T @ coef)
