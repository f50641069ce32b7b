"""The parameter layout of logistic regression: rows of coefficients, centred and
free coordinates (see :mod:`skmle.models.logistic` for the conventions)."""

from __future__ import annotations

import numpy as np

from skmle._sparse import is_sparse, matvec
from skmle.models.logistic_terms import row_chunks


class LogisticLayout:
    """Packing, unpacking and the changes of coordinates of ``theta``.

    Attributes
    ----------
    n_features, n_classes : int
    fit_intercept : bool
    center : ndarray of shape (n_features,) or None
        The centre of centred coordinates (with an intercept only).
    row_size : int
        ``n_features + fit_intercept``: one row of coefficients.
    n_rows : int
        Rows of coefficients: 1 for two classes, else ``n_classes``.
    n_params, n_free : int
        Length of ``theta``; of the free (identified) coordinates.
    """

    n_features: int
    n_classes: int
    fit_intercept: bool
    center: np.ndarray | None
    row_size: int
    n_rows: int
    n_params: int
    n_free: int

    @property
    def binary(self) -> bool:
        return self.n_classes == 2

    # -- layout ----------------------------------------------------------------------
    def coef_matrix(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` as the (n_rows, p) matrix: one row per class (one if binary)."""
        return np.reshape(theta, (self.n_rows, self.row_size))

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (n_rows, d) and intercepts (n_rows,) (zeros without one)."""
        W = self.coef_matrix(theta)
        d = self.n_features
        intercept = W[:, d] if self.fit_intercept else np.zeros(self.n_rows)
        return W[:, :d], intercept

    def linear_blocks(self) -> list[tuple[np.ndarray, int | None]]:
        """Each class's coefficients and intercept in ``theta`` (class-major)."""
        d, p = self.n_features, self.row_size
        return [
            (k * p + np.arange(d), k * p + d if self.fit_intercept else None)
            for k in range(self.n_rows)
        ]

    def linear_predictor(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """``eta = X W^T + b``: shape (n_samples,) for two classes, else (n, K).

        With a ``center``, ``(X - center) W^T + b``, chunk by chunk; for a
        sparse ``X``, :math:`X W^\\top - c^\\top W^\\top + b` (never densified,
        see :mod:`skmle._sparse`).
        """
        coef, intercept = self.split(theta)
        if self.binary:
            coef, intercept = coef[0], intercept[0]
        else:
            coef = coef.T
        if self.center is None or is_sparse(X):
            return matvec(X, coef, self.center) + intercept
        eta = np.empty((X.shape[0], *coef.shape[1:]))
        for rows in row_chunks(X.shape[0]):
            eta[rows] = (X[rows] - self.center) @ coef + intercept
        return eta

    def centred(self, X: np.ndarray) -> np.ndarray:
        """``X - center`` (``X`` itself without a centre)."""
        return X if self.center is None else X - self.center

    # -- centred coordinates -----------------------------------------------------------
    def uncentre(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` for the raw features: intercepts :math:`b_k - c^\\top w_k`."""
        if self.center is None:
            return np.array(theta, dtype=float)
        W = self.coef_matrix(np.array(theta, dtype=float))
        W[:, -1] -= W[:, :-1] @ self.center
        return W.ravel()

    def centre(self, theta: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`uncentre`: intercepts :math:`b_k + c^\\top w_k`."""
        if self.center is None:
            return np.array(theta, dtype=float)
        W = self.coef_matrix(np.array(theta, dtype=float))
        W[:, -1] += W[:, :-1] @ self.center
        return W.ravel()

    def reported_columns(self, columns: np.ndarray) -> np.ndarray:
        """:math:`J v` for each column :math:`v` of ``columns``: from free (and
        possibly centred) coordinates to ``theta`` for the raw features.

        :math:`J = B T`: :meth:`uncentre` (the same map :math:`T` on every row
        ``[w_k, b_k]``), then :meth:`from_free`. With :math:`C` a covariance of
        the free coordinates, the covariance of ``theta`` is :math:`J C J^\\top`.

        Parameters
        ----------
        columns : ndarray of shape (n_free, m)

        Returns
        -------
        ndarray of shape (n_params, m)
        """
        p, d, m = self.row_size, self.n_features, columns.shape[1]
        rows = np.array(columns, dtype=float).reshape(-1, p, m)
        if self.center is not None:
            rows[:, d] -= np.tensordot(self.center, rows[:, :d], axes=([0], [1]))
        if self.binary:
            return rows.reshape(p, m)
        W = np.concatenate([np.zeros((1, p, m)), rows])
        return (W - W.mean(axis=0)).reshape(self.n_params, m)

    # -- free (identified) coordinates -------------------------------------------------
    def to_free(self, vector: np.ndarray) -> np.ndarray:
        """:math:`B^\\top v`: centre each column across classes, drop class 0."""
        if self.binary:
            return vector
        V = self.coef_matrix(vector)
        return (V - V.mean(axis=0))[1:].ravel()

    def from_free(self, phi: np.ndarray) -> np.ndarray:
        """:math:`B \\phi`: class 0 gets zeros, then every column is centred."""
        if self.binary:
            return phi
        W = np.vstack([np.zeros(self.row_size), np.reshape(phi, (-1, self.row_size))])
        return (W - W.mean(axis=0)).ravel()

    def _penalised(self) -> np.ndarray:
        """1.0 for a coefficient, 0.0 for an intercept, over one row of ``W``."""
        mask = np.ones(self.row_size)
        if self.fit_intercept:
            mask[-1] = 0.0
        return mask
