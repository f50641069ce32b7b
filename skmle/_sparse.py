"""Products of a design matrix that is dense or ``scipy.sparse``, never densified.

A model whose rows enter only through a linear predictor needs three products of
its design :math:`X` (n rows, d columns): :math:`X\\beta`, :math:`X^\\top r` and
the weighted Gram matrix :math:`X^\\top \\mathrm{diag}(f) X`. The functions here
compute them for a dense ndarray or a sparse matrix alike, optionally for the
*implicitly centred* design :math:`X - 1 c^\\top` (a column centre :math:`c`, as
solvers use to condition the problem), which for sparse :math:`X` is never formed:

.. math::

    (X - 1c^\\top)\\beta = X\\beta - (c^\\top\\beta)\\,1, \\qquad
    (X - 1c^\\top)^\\top r = X^\\top r - c\\,(1^\\top r),

    (X - 1c^\\top)^\\top F (X - 1c^\\top) = X^\\top F X - g c^\\top - c g^\\top
        + (1^\\top f)\\, c c^\\top, \\qquad g = X^\\top f.

Only vectors of length n and matrices of size d x d are dense; the products
with vectors are scipy's (CSR rows), the Gram :math:`X^\\top F X` is summed over
the pairs of nonzeros of each row (:func:`skmle._sparse_gram.sparse_gram`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from skmle._sparse_gram import sparse_gram

SPARSE_FORMATS = ("csr", "csc")
"""The sparse formats the linear-predictor estimators take (CSC is converted to
CSR, whose rows slice without a copy of the other rows)."""

DENSE_ONLY_MESSAGE = (
    "{name} does not accept sparse X: {reason}. Densify it with X.toarray() if it "
    "fits in memory."
)


def is_sparse(X) -> bool:
    """Whether ``X`` is a ``scipy.sparse`` matrix or array."""
    return sp.issparse(X)


DENSITY_REASON = (
    "its model is a density of X, and the covariance of sparse rows is a dense "
    "matrix (the rows' centring fills them in)"
)
NOT_YET_REASON = (
    "its model computes no sparse products yet (sparse X is taken by the "
    "linear-predictor estimators: LogisticGD, LinearGaussianRegressor, "
    "LaplaceRegressor, StudentTRegressor, PoissonMLERegressor, "
    "NegativeBinomialRegressor)"
)


def dense_only_reason(estimator) -> str:
    """Why ``estimator`` refuses sparse ``X``: its own ``_dense_only_reason``, else
    :data:`DENSITY_REASON` for a density of ``X``, else :data:`NOT_YET_REASON`."""
    from sklearn.base import DensityMixin

    own = getattr(estimator, "_dense_only_reason", None)
    if own:
        return own
    return DENSITY_REASON if isinstance(estimator, DensityMixin) else NOT_YET_REASON


def refuse_sparse(X, name: str, reason: str) -> None:
    """ValueError naming ``reason`` when ``X`` is sparse (an estimator whose model
    is not a linear predictor: a density's covariance of sparse data is dense)."""
    if sp.issparse(X):
        raise ValueError(DENSE_ONLY_MESSAGE.format(name=name, reason=reason))


def as_rows(X):
    """``X`` as float64 rows: CSR for sparse input, an ndarray otherwise."""
    if sp.issparse(X):
        return sp.csr_array(X, dtype=float)
    return np.asarray(X, dtype=float)


def stack_rows(blocks):
    """The rows of several blocks, in order (dense or sparse)."""
    if any(sp.issparse(b) for b in blocks):
        return sp.csr_array(sp.vstack(blocks, format="csr"))
    return np.concatenate(blocks)


def matvec(X, beta: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
    """:math:`(X - 1c^\\top)\\beta` (``beta`` of shape (d,) or (d, k)), dense result."""
    out = np.asarray(X @ beta)
    if center is not None:
        out = out - center @ beta
    return out


def rmatvec(X, r: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
    """:math:`(X - 1c^\\top)^\\top r` (``r`` of shape (n,) or (n, k)), dense result."""
    out = np.asarray(X.T @ r)
    if center is not None:
        out = out - np.multiply.outer(center, r.sum(axis=0))
    return out


def weighted_gram(
    X, factor: np.ndarray, fit_intercept: bool, center: np.ndarray | None = None
) -> np.ndarray:
    """:math:`\\tilde X^\\top \\mathrm{diag}(f)\\tilde X`, :math:`\\tilde X = [X - 1c^\\top,
    1]` (without the column of ones when not ``fit_intercept``), for sparse ``X``.

    The block of ``X`` is :func:`~skmle._sparse_gram.sparse_gram` (dense, d x d,
    summed over the pairs of nonzeros of each row); the intercept's row is :math:`X^\\top f` and its corner
    :math:`\\sum_i f_i`; the centre enters as the rank-two correction above.
    """
    d = X.shape[1]
    out = np.empty((d + fit_intercept, d + fit_intercept))
    gram = sparse_gram(X, factor)
    cross = np.asarray(X.T @ factor)
    total = float(factor.sum())
    if center is not None:
        gram -= np.outer(cross, center)
        gram -= np.outer(center, cross)
        gram += total * np.outer(center, center)
        cross = cross - total * center
    out[:d, :d] = gram
    if fit_intercept:
        out[:d, d] = out[d, :d] = cross
        out[d, d] = total
    return out


def column_moments(X, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted column means and standard deviations of dense or sparse ``X``.

    For sparse ``X`` the variance is :math:`\\overline{x^2} - \\bar x^2` (clipped at
    0), from the nonzeros only.
    """
    total = float(weight.sum())
    mean = np.asarray(weight @ X).ravel() / total
    if sp.issparse(X):
        square = np.asarray(weight @ X.multiply(X)).ravel() / total
        return mean, np.sqrt(np.maximum(square - mean**2, 0.0))
    return mean, np.sqrt(np.maximum(weight @ (X - mean) ** 2 / total, 0.0))


def constant_columns(X) -> tuple[np.ndarray, np.ndarray]:
    """Which columns are constant over the rows of ``X``, and each column's first
    value (dense or sparse: a sparse column's minimum and maximum count its
    implicit zeros)."""
    if not sp.issparse(X):
        return np.all(X == X[0], axis=0), X[0]
    first = sp.csr_array(X)[[0], :].toarray().ravel()
    low = np.asarray(X.min(axis=0).toarray()).ravel()
    high = np.asarray(X.max(axis=0).toarray()).ravel()
    return low == high, first


def refuse_sparse_sandwich(X, estimator) -> None:
    """ValueError for a sandwich covariance (``cov_type`` other than
    ``"nonrobust"``) of sparse ``X`` where the estimator's per-row scores are
    only dense (n x p): its ``_score_rows`` is not marked
    :func:`~skmle.inference.sandwich_sparse.sparse_sandwich`, whose scores sum
    the meat from sparse products of per-row score factors."""
    cov_type = getattr(estimator, "cov_type", "nonrobust")
    if not sp.issparse(X) or cov_type == "nonrobust":
        return
    if getattr(type(estimator)._score_rows, "sparse_sandwich", False):
        return
    raise ValueError(
        f"{type(estimator).__name__}(cov_type={cov_type!r}) does not accept "
        "sparse X: its sandwich covariance is summed from the per-row scores, "
        "an n x p dense matrix. Use cov_type='nonrobust' with sparse X, or "
        "densify it with X.toarray() if it fits in memory."
    )
