"""The same objective on standardised columns: what the generic solvers see.

A model whose rows enter through a linear predictor :math:`\\eta = x^\\top w + b`
gives the same likelihood for the columns :math:`z_j = (x_j - m_j) / s_j` and the
parameters

.. math:: v_j = s_j w_j, \\qquad c = b + \\sum_j m_j w_j,

since :math:`z^\\top v + c = x^\\top w + b`. With :math:`m_j` and :math:`s_j` the
weighted mean and standard deviation of column :math:`j`, an offset in a column
(a Unix timestamp) or a scale of :math:`10^{-6}` no longer reaches the solver:
its curvature and its gradient are those of unit-variance, centred columns, and
nothing cancels when they are computed. Without an intercept nothing can absorb a
shift, so the columns are only scaled (by their root mean square).

Conventions
-----------
``theta`` is the model's own parameter vector and ``phi`` the same layout in the
standardised coordinates: :math:`\\theta = T\\phi` with :math:`T` linear. A model
declares its linear predictors with ``linear_blocks``: a list of
``(coef_indices, intercept_index or None)``, one per predictor (one per class for a
multinomial model). Parameters outside every block (a log-scale) are unchanged.
Priors stay in ``theta``: the log-prior is evaluated at :math:`T\\phi` and mapped by
the chain rule, :math:`\\nabla_\\phi = T^\\top \\nabla_\\theta`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
from scipy.linalg import solve_triangular

from skmle.models.base import Batch, LogLikelihood
from skmle.models.qr_least_squares import TriangularFactor
from skmle.models.standardised_sparse import (
    any_sparse,
    column_squares_sparse,
    rotation_of_gram,
    scaled_gram,
)

RANK_RTOL = 1e-12
"""A standardised column closer than this (relative to its length) to the span of
the columns before it makes the design rank deficient: the columns are then only
centred and scaled, not rotated, and the whitening of the solvers leaves the flat
directions out."""


@dataclass(frozen=True)
class ColumnScaling:
    """:math:`z = (x - m)\\,S^{-1} R^{-1}`, and the parameter map it implies.

    Attributes
    ----------
    mean : ndarray of shape (n_features,)
        :math:`m`; zeros when the model has no intercept to absorb a shift.
    scale : ndarray of shape (n_features,)
        The diagonal of :math:`S`, the columns' spreads; 1 for a column that is
        constant (after centring).
    rotation : ndarray of shape (n_features, n_features) or None
        :math:`R`, upper triangular, from a QR factorisation of the weighted,
        centred and scaled rows, so that the columns of :math:`z` are orthonormal
        in the weighted mean; None (:math:`R = I`) when the scaled design is rank
        deficient to :data:`RANK_RTOL`.
    blocks : tuple of (ndarray, int or None)
        The model's ``linear_blocks``.
    """

    mean: np.ndarray
    scale: np.ndarray
    rotation: np.ndarray | None
    blocks: tuple
    y_location: float = 0.0
    y_scale: float = 1.0
    log_scale_index: int | None = None

    @property
    def value_offset(self) -> float:
        """Mean log-likelihood of the data minus that of the standardised data:
        :math:`-\\log s_y`, the Jacobian of :math:`y \\mapsto (y - m_y) / s_y`."""
        return -float(np.log(self.y_scale))

    def transform(self, batch: Batch) -> Batch:
        Z = (batch.X - self.mean) / self.scale
        if self.rotation is not None:
            Z = solve_triangular(self.rotation, Z.T, trans="T", check_finite=False).T
        y = batch.y
        if self.log_scale_index is not None:
            y = (y - self.y_location) / self.y_scale
        return replace(batch, X=Z, y=y)  # side columns (offset, groups) stay

    def _coef_to_theta(self, v: np.ndarray) -> np.ndarray:
        if self.rotation is not None:
            v = solve_triangular(self.rotation, v, check_finite=False)
        return v * (self.y_scale / self.scale)

    def to_theta(self, phi: np.ndarray, direction: bool = False) -> np.ndarray:
        """:math:`\\theta` of :math:`\\phi`: :math:`w = s_y S^{-1}R^{-1} v`,
        :math:`b = s_y c + m_y - m^\\top w`, :math:`\\log s = \\log s' + \\log s_y`.

        With ``direction=True`` the map of a difference of two points (the linear
        part alone).
        """
        theta = np.array(phi, dtype=float)
        shift = 0.0 if direction else self.y_location
        for coef, intercept in self.blocks:
            theta[coef] = self._coef_to_theta(phi[coef])
            if intercept is not None:
                theta[intercept] = (
                    phi[intercept] * self.y_scale + shift - self.mean @ theta[coef]
                )
        if self.log_scale_index is not None and not direction:
            theta[self.log_scale_index] += np.log(self.y_scale)
        return theta

    def to_phi(self, theta: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_theta`."""
        phi = np.array(theta, dtype=float)
        for coef, intercept in self.blocks:
            v = theta[coef] * self.scale / self.y_scale
            phi[coef] = v if self.rotation is None else self.rotation @ v
            if intercept is not None:
                location = theta[intercept] + self.mean @ theta[coef]
                phi[intercept] = (location - self.y_location) / self.y_scale
        if self.log_scale_index is not None:
            phi[self.log_scale_index] -= np.log(self.y_scale)
        return phi

    def gradient_to_phi(self, grad: np.ndarray) -> np.ndarray:
        """:math:`A^\\top g` for the linear part :math:`A` of :meth:`to_theta`:
        :math:`s_y R^{-\\top} S^{-1} (g_w - m\\,g_b)` and :math:`s_y g_b`."""
        out = np.array(grad, dtype=float)
        for coef, intercept in self.blocks:
            shifted = grad[coef]
            if intercept is not None:
                shifted = shifted - self.mean * grad[intercept]
                out[intercept] = grad[intercept] * self.y_scale
            shifted = shifted * (self.y_scale / self.scale)
            if self.rotation is not None:
                shifted = solve_triangular(
                    self.rotation, shifted, trans="T", check_finite=False
                )
            out[coef] = shifted
        return out

    def matrix(self, n_params: int) -> np.ndarray:
        """:math:`A` as a dense (n_params, n_params) matrix (for a prior's Hessian)."""
        return np.column_stack(
            [self.to_theta(e, direction=True) for e in np.eye(n_params)]
        )


@dataclass(frozen=True)
class DiagonalScaling:
    """Data :math:`x' = (x - m) / s` for a density whose parameters then move as
    :math:`\\phi = D\\theta + c` (a mean and a precision factor, say).

    The same interface as :class:`ColumnScaling`. The density of :math:`x` is that
    of :math:`x'` times :math:`\\prod_j 1/s_j`, hence :attr:`value_offset`.
    """

    mean: np.ndarray
    scale: np.ndarray
    factor: np.ndarray
    shift: np.ndarray
    blocks: tuple = ()

    @property
    def value_offset(self) -> float:
        return -float(np.sum(np.log(self.scale)))

    def transform(self, batch: Batch) -> Batch:
        return replace(batch, X=(batch.X - self.mean) / self.scale)

    def to_phi(self, theta: np.ndarray) -> np.ndarray:
        return self.factor * theta + self.shift

    def to_theta(self, phi: np.ndarray, direction: bool = False) -> np.ndarray:
        return (phi - (0.0 if direction else self.shift)) / self.factor

    def gradient_to_phi(self, grad: np.ndarray) -> np.ndarray:
        return grad / self.factor

    def matrix(self, n_params: int) -> np.ndarray:
        return np.diag(1.0 / self.factor)


def data_scaling(sum_rows, model) -> DiagonalScaling:
    """:class:`DiagonalScaling` for a model with a ``standardising_map``."""
    _, mean, scale, _ = column_moments(sum_rows, model.n_features)
    factor, shift, scale = model.standardising_map(mean, scale)
    return DiagonalScaling(mean, scale, factor, shift)


def _column_sums(batch: Batch) -> tuple[float, np.ndarray]:
    w = batch.sample_weight
    return float(w.sum()), w @ batch.X


def _column_squares(batch: Batch, centre: np.ndarray) -> np.ndarray:
    w, X = batch.sample_weight, batch.X
    if any_sparse(batch):
        return column_squares_sparse(X, w, centre)
    return w @ np.square(X - centre)


def _scaled_factor(batch: Batch, centre: np.ndarray, scale: np.ndarray):
    rows = np.sqrt(batch.sample_weight)[:, None] * ((batch.X - centre) / scale)
    return TriangularFactor.of_rows(rows)


def _response_sum(batch: Batch) -> float:
    return float(batch.sample_weight @ batch.y)


def _response_squares(batch: Batch, centre: float) -> float:
    return float(batch.sample_weight @ np.square(batch.y - centre))


def column_moments(sum_rows, n_features: int, centred: bool = True):
    """Total weight, weighted column means and spreads, in two passes.

    Returns ``(weight, mean, scale, constant)``: ``mean`` is zero when not
    ``centred`` (``scale`` is then the root mean square); a column constant to
    rounding error relative to its own size gets ``scale`` 1 and is flagged in
    ``constant`` (its coefficient, if any, is not identified).
    """
    mean = np.zeros(n_features)
    weight, sums = sum_rows(_column_sums)
    if centred:
        mean = sums / weight
    squares = sum_rows(partial(_column_squares, centre=mean))
    scale = np.sqrt(np.maximum(squares, 0.0) / weight)
    constant = ~(scale > 64 * np.finfo(float).eps * np.abs(mean))
    return weight, mean, np.where(constant, 1.0, scale), constant


def column_scaling(
    sum_rows, blocks, n_features: int, log_scale_index: int | None = None
) -> ColumnScaling:
    """Weighted column means and spreads, in two passes (no cancellation).

    Parameters
    ----------
    sum_rows : callable
        ``sum_rows(per_batch)`` adds a picklable per-batch function over all rows
        (an objective's ``sum_batches``).
    blocks : list of (ndarray, int or None)
        The model's ``linear_blocks``.
    n_features : int
    log_scale_index : int, optional
        For a location-scale model of ``y`` (a regression), the index of its log
        noise scale: ``y`` is then centred and scaled too.
    """
    centred = all(intercept is not None for _, intercept in blocks)
    weight, mean, scale, tiny = column_moments(sum_rows, n_features, centred)
    rotation = None
    if n_features > 1 and not np.any(tiny) and sum_rows(any_sparse) > 0:
        gram = sum_rows(partial(scaled_gram, centre=mean, scale=scale))
        rotation = rotation_of_gram(gram, weight)
    elif n_features > 1 and not np.any(tiny):
        R = sum_rows(partial(_scaled_factor, centre=mean, scale=scale)).r
        R = R / np.sqrt(weight)
        # The scaled columns have unit norm, so |R_jj| is the distance of column j
        # from the span of the columns before it, relative to its own length.
        if R.shape == (n_features, n_features) and np.all(
            np.abs(np.diag(R)) > RANK_RTOL
        ):
            rotation = R
    if log_scale_index is None:
        return ColumnScaling(mean, scale, rotation, tuple(blocks))
    y_location = sum_rows(_response_sum) / weight if centred else 0.0
    y_square = sum_rows(partial(_response_squares, centre=y_location)) / weight
    y_scale = float(np.sqrt(y_square))
    if not (np.isfinite(y_scale) and y_scale > 0):
        y_scale = 1.0
    return ColumnScaling(
        mean, scale, rotation, tuple(blocks), y_location, y_scale, log_scale_index
    )


def _transformed(per_batch, scaling: ColumnScaling, batch: Batch):
    return per_batch(scaling.transform(batch))


class StandardisedObjective:
    """An objective's mean penalised log-likelihood, in ``phi`` coordinates.

    Parameters
    ----------
    objective : Objective
        The objective on the original columns; only its model, its ``sum_batches`` and its
        ``total_weight`` are used.
    scaling : ColumnScaling

    The log-likelihood terms are computed on standardised rows, so no value or
    gradient suffers the cancellation of large column offsets; each batch is
    standardised as it is read (for Dask, on the worker).
    """

    def __init__(self, objective, scaling: ColumnScaling):
        self.objective = objective
        self.model: LogLikelihood = objective.model
        self.scaling = scaling
        self.total_weight = float(objective.total_weight)
        rows = getattr(objective, "rows", None)
        # Sparse rows are standardised implicitly: the objective in phi is the
        # raw one at theta = T phi (T the affine map of to_theta), its gradient
        # A^T g and its Hessian A^T H A, so no dense copy of X is ever made.
        self.implicit = bool(objective.sum_batches(any_sparse))
        # Rows in memory are standardised once (a copy of X); a store of chunks
        # or a Dask array is standardised batch by batch as it is read (the
        # Parts of Rows.prepared).
        self._parts = None
        if rows is not None and not self.implicit:
            self._parts = rows.prepared(scaling.transform)

    @property
    def has_hessian(self) -> bool:
        return bool(self.model.has_hessian)

    def sum_batches(self, per_batch):
        if self._parts is not None:
            return self._parts.map_sum(per_batch)
        return self.objective.sum_batches(
            partial(_transformed, per_batch, self.scaling)
        )

    def _prior(self, phi: np.ndarray):
        if not self.model.has_prior:
            return 0.0, 0.0, None
        theta = self.scaling.to_theta(phi)
        value, grad, hess = self.model.log_prior(theta, self.total_weight)
        return value, self.scaling.gradient_to_phi(grad), hess

    def value(self, phi: np.ndarray) -> float:
        if self.implicit:
            theta = self.scaling.to_theta(phi)
            return self.objective.value(theta) - self.scaling.value_offset
        model = self.model
        total = self.sum_batches(lambda b: model.loglik(phi, b))
        return (float(total) + self._prior(phi)[0]) / self.total_weight

    def value_and_grad(self, phi: np.ndarray) -> tuple[float, np.ndarray]:
        if self.implicit:
            value, grad = self.objective.value_and_grad(self.scaling.to_theta(phi))
            offset = self.scaling.value_offset
            return value - offset, self.scaling.gradient_to_phi(grad)
        model = self.model
        total, grad = self.sum_batches(lambda b: model.loglik_grad(phi, b))
        prior, prior_grad, _ = self._prior(phi)
        return (float(total) + prior) / self.total_weight, (
            grad + prior_grad
        ) / self.total_weight

    def hessian(self, phi: np.ndarray) -> np.ndarray:
        if self.implicit:
            T = self.scaling.matrix(self.model.n_params)
            return T.T @ self.objective.hessian(self.scaling.to_theta(phi)) @ T
        model = self.model
        hess = self.sum_batches(lambda b: model.hessian(phi, b))
        _, _, prior_hess = self._prior(phi)
        if prior_hess is not None:
            n = self.model.n_params
            # The prior's Hessian may be a scalar or a diagonal: adding it to a
            # dense zero matrix makes it one dense matrix either way.
            T = self.scaling.matrix(n)
            hess = hess + T.T @ (np.zeros((n, n)) + prior_hess) @ T
        return hess / self.total_weight


def minimum_norm(theta: np.ndarray, directions: np.ndarray, blocks) -> np.ndarray:
    """The canonical point of ``theta + span(directions)``, a flat set of maxima.

    First the coefficients of the linear predictors get the smallest Euclidean
    norm (the minimum-norm least-squares solution for collinear columns, centred
    coefficients across the classes of a softmax), then, among what is left, the
    intercepts. ``directions`` are the null directions of the curvature in
    ``theta``'s coordinates.
    """
    if directions.shape[1] == 0 or not blocks:
        return theta
    basis, _ = np.linalg.qr(directions)
    coef = np.concatenate([c for c, _ in blocks])
    intercepts = np.array([i for _, i in blocks if i is not None], dtype=int)
    theta = np.array(theta, dtype=float)
    theta, rest = _least_norm_along(theta, basis, coef)
    if intercepts.size and rest.shape[1]:
        theta, _ = _least_norm_along(theta, rest, intercepts)
    return theta


def _least_norm_along(theta, basis, rows):
    """Move ``theta`` within ``span(basis)`` (orthonormal columns) to minimise the
    norm of ``theta[rows]``; also return the directions that leave those rows
    unchanged."""
    u, singular, vt = np.linalg.svd(basis[rows], full_matrices=True)
    rank = int(np.sum(singular > 1e-8))
    if rank:
        shift = vt[:rank].T @ ((u[:, :rank].T @ -theta[rows]) / singular[:rank])
        theta = theta + basis @ shift
    return theta, basis @ vt[rank:].T
