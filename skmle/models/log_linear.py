"""The layout and linear predictor of a log-linear count model.

Conventions
-----------
``theta = [coef (n_features), intercept (only if fit_intercept), extras...]``
with ``n_extra`` trailing parameters (the log dispersion of the negative
binomial). The linear predictor is :math:`Xw + b`; a row's ``offset`` is added
by :func:`with_offset`. With a ``center`` :math:`c` (an intercept only),
``theta`` is in *centred coordinates*: every product runs on :math:`X - c`, a
block of rows at a time (no copy of the data), and :meth:`LogLinearLayout.uncentre`
maps it to the raw features (the intercept :math:`b - c^\\top w`). Where a
column's mean is large against its spread (timestamps, a shift of 1e6) the
information of :math:`[x, 1]` is nearly singular; that of :math:`[x - c, 1]` is
not. See :func:`~skmle.models.logistic_terms.column_center`.
"""

from __future__ import annotations

import numpy as np

from skmle._sparse import is_sparse, matvec, rmatvec, weighted_gram
from skmle.data import Batch
from skmle.models.logistic_terms import row_chunks


class LogLinearLayout:
    """The layout of ``theta`` of a log-linear count model and its linear predictor.

    ``theta = [coef, intercept (if fit_intercept), extras...]``, with
    ``n_extra`` trailing parameters (the log dispersion of the negative
    binomial).
    """

    n_extra: int = 0

    def __init__(
        self,
        n_features: int,
        fit_intercept: bool = True,
        center: np.ndarray | None = None,
    ):
        if center is not None and not fit_intercept:
            raise ValueError(
                "center needs fit_intercept=True (an intercept absorbs it)."
            )
        self.n_features = int(n_features)
        self.fit_intercept = bool(fit_intercept)
        self.center = None if center is None else np.asarray(center, dtype=float)
        self.n_linear = self.n_features + int(self.fit_intercept)
        self.n_params = self.n_linear + self.n_extra

    def centred(self, X: np.ndarray) -> np.ndarray:
        """``X - center`` (``X`` itself without a centre, or when sparse: the
        sparse products then take the centre, see :meth:`information`)."""
        return X if self.center is None or is_sparse(X) else X - self.center

    def information(self, X, factor: np.ndarray) -> np.ndarray:
        """:math:`\\tilde X^\\top \\mathrm{diag}(f) \\tilde X`, :math:`\\tilde X =
        [X - c, 1]`, of sparse rows (:func:`skmle._sparse.weighted_gram`)."""
        return weighted_gram(X, factor, self.fit_intercept, self.center)

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """``(coef, intercept)``; the intercept is 0 without one."""
        d = self.n_features
        return theta[:d], float(theta[d]) if self.fit_intercept else 0.0

    def linear_blocks(self) -> list[tuple[np.ndarray, int | None]]:
        """The coefficients and intercept in ``theta`` (for column standardising)."""
        d = self.n_features
        return [(np.arange(d), d if self.fit_intercept else None)]

    def linear_predictor(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """:math:`Xw + b`, without the offset."""
        coef, intercept = self.split(theta)
        if self.center is None or is_sparse(X):
            return matvec(X, coef, self.center) + intercept
        eta = np.empty(X.shape[0])
        for rows in row_chunks(X.shape[0]):
            eta[rows] = (X[rows] - self.center) @ coef + intercept
        return eta

    def eta(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """:math:`\\eta = Xw + b + o`, the offset included."""
        return with_offset(self.linear_predictor(theta, batch.X), batch, slice(None))

    def chain(self, X: np.ndarray, d_eta: np.ndarray) -> np.ndarray:
        """The gradient in the linear part of ``theta`` from the (weighted)
        gradient in ``eta``: :math:`[X^\\top r, 1^\\top r]` (of :math:`X - c`,
        a block of rows at a time; implicitly for sparse ``X``)."""
        if is_sparse(X):
            grad = rmatvec(X, d_eta, self.center)
            return np.append(grad, d_eta.sum()) if self.fit_intercept else grad
        if self.center is None:
            return self.chain_centred(X, d_eta)
        return sum(
            self.chain_centred(X[rows] - self.center, d_eta[rows])
            for rows in row_chunks(X.shape[0])
        )

    def chain_centred(self, X_rows: np.ndarray, d_eta: np.ndarray) -> np.ndarray:
        """:meth:`chain` on rows that are already centred."""
        grad = d_eta @ X_rows
        return np.append(grad, d_eta.sum()) if self.fit_intercept else grad

    def design_scores(self, X: np.ndarray, d_eta: np.ndarray) -> np.ndarray:
        """Per-row scores of the linear part: :math:`r_i [x_i, 1]`."""
        scores = self.centred(X) * d_eta[:, None]
        if self.fit_intercept:
            scores = np.column_stack([scores, d_eta])
        return scores

    # -- centred coordinates -----------------------------------------------------
    def uncentre(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` for the raw features: the intercept :math:`b - c^\\top w`."""
        theta = np.array(theta, dtype=float)
        if self.center is not None:
            theta[self.n_features] -= self.center @ theta[: self.n_features]
        return theta

    def centre(self, theta: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`uncentre`: the intercept :math:`b + c^\\top w`."""
        theta = np.array(theta, dtype=float)
        if self.center is not None:
            theta[self.n_features] += self.center @ theta[: self.n_features]
        return theta

    def reported_columns(self, columns: np.ndarray) -> np.ndarray:
        """:math:`J v` for each column :math:`v` of ``columns``, :math:`J` the
        (linear) map :meth:`uncentre`: covariances of centred coordinates become
        those of ``theta`` for the raw features, :math:`J C J^\\top`."""
        columns = np.array(columns, dtype=float)
        if self.center is not None:
            d = self.n_features
            columns[d] -= self.center @ columns[:d]
        return columns


def with_offset(eta: np.ndarray, batch: Batch, rows) -> np.ndarray:
    """``eta`` of the rows ``rows`` of ``batch`` plus their offset, if any."""
    return eta if batch.offset is None else eta + batch.offset[rows]
