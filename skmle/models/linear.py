"""Linear regression with a location-scale noise model: :math:`y = x^\\top w + b + e`.

The noise :math:`e` has density :math:`\\frac{1}{s} f(e / s)` with scale :math:`s`;
the residual is :math:`r = y - \\eta`, :math:`\\eta = x^\\top w + b`. By the chain
rule, for any such noise,

.. math::

    \\nabla_w \\ell = -\\sum_i w_i\\, \\partial_r \\log p(r_i)\\, x_i, \\qquad
    \\partial_b \\ell = -\\sum_i w_i\\, \\partial_r \\log p(r_i), \\qquad
    \\partial_{\\log s} \\ell = \\sum_i w_i\\, \\partial_{\\log s} \\log p(r_i),

so a noise model supplies only the log-density of a residual and its two partial
derivatives (:class:`LinearLogLikelihood`), and this module does the plumbing.

Conventions
-----------
``theta = [coef (n_features), intercept (only if fit_intercept), log scale]``:
``n_params = n_features + fit_intercept + 1``. The scale is the noise standard
deviation for Gaussian noise and the Laplace scale for Laplace noise; storing its
logarithm lets a gradient step never make it negative.

The helpers at the bottom compute the weighted, centred cross-products
:math:`\\sum_i w_i (x_i - \\bar x)(x_i - \\bar x)^\\top` and
:math:`\\sum_i w_i (x_i - \\bar x)(y_i - \\bar y)` block by block, so a
(1,000,000, 50) ``X`` is never copied whole, and :class:`LinearMoments`, the
same statistics for chunks of rows, merged exactly (the least-squares fit of data
read in pieces, and ``partial_fit``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np

from skmle._blas import single_blas_thread
from skmle.models.base import Batch, LogLikelihood
from skmle.models.moments import chan_merge

BLOCK_ROWS = 1 << 14
"""Rows per block in the centred cross-products: a few MB of temporary memory."""

LOG_SCALE_BOUND = 700.0
"""Beyond :math:`|\\log s| = 700` (:math:`s` outside about :math:`10^{\\pm 304}`, near the
ends of the double range) the scale is treated as impossible (log-likelihood
:math:`-\\infty`), so that no trial step of an optimizer overflows; scales of data
from :math:`10^{-150}` to :math:`10^{150}` are well inside."""

Z_BOUND = 1e140
"""Largest standardised residual allowed: its square, summed over many rows, stays a
finite double."""


class LinearLogLikelihood(LogLikelihood):
    """Log-likelihood of a linear model with location-scale noise.

    Subclasses implement :meth:`noise_terms`.

    Parameters
    ----------
    n_features : int
    fit_intercept : bool, default=True
    """

    capabilities = frozenset({"linear_predictor", "scores"})

    def __init__(self, n_features: int, fit_intercept: bool = True):
        self.n_features = int(n_features)
        self.fit_intercept = bool(fit_intercept)
        self.n_params = self.n_features + int(self.fit_intercept) + 1

    # -- layout --------------------------------------------------------------------
    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, float, float]:
        """``(coef, intercept, log_scale)``; the intercept is 0 without one."""
        d = self.n_features
        intercept = float(theta[d]) if self.fit_intercept else 0.0
        return theta[:d], intercept, float(theta[-1])

    def pack(self, coef, intercept: float, log_scale: float) -> np.ndarray:
        """Inverse of :meth:`unpack` (``intercept`` is dropped without one)."""
        parts = [np.asarray(coef, dtype=float).ravel()]
        if self.fit_intercept:
            parts.append([float(intercept)])
        parts.append([float(log_scale)])
        return np.concatenate(parts)

    def linear_blocks(self) -> list[tuple[np.ndarray, int | None]]:
        """The linear predictor's coefficients and intercept in ``theta``."""
        d = self.n_features
        return [(np.arange(d), d if self.fit_intercept else None)]

    def log_scale_index(self) -> int:
        """Where the log noise scale sits in ``theta`` (a location-scale model)."""
        return self.n_params - 1

    def linear_predictor(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """:math:`\\eta = X w + b`, shape (n_samples,)."""
        coef, intercept, _ = self.unpack(theta)
        return X @ coef + intercept

    def residuals(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        return batch.y - self.linear_predictor(theta, batch.X)

    def design(self, X: np.ndarray) -> np.ndarray:
        """The columns the location coefficients multiply: ``X``, then a column of
        ones with an intercept (the design a least-absolute-deviation solver sees)."""
        return np.column_stack([X, np.ones(X.shape[0])]) if self.fit_intercept else X

    def design_rows(self, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(design, y, sample_weight)`` of a batch, for solvers over a design."""
        return self.design(batch.X), batch.y, batch.sample_weight

    def location(self, beta: np.ndarray) -> tuple[np.ndarray, float]:
        """``(coef, intercept)`` from coefficients of :meth:`design`."""
        beta = np.asarray(beta, dtype=float)
        d = self.n_features
        return beta[:d], float(beta[d]) if self.fit_intercept else 0.0

    # -- the noise's sufficient statistic of the residuals ---------------------------
    def residual_sum(self, coef: np.ndarray, intercept: float, batch: Batch) -> float:
        """:math:`\\sum_i w_i \\rho(r_i)`, :math:`r = y - Xw - b`, with :math:`\\rho`
        the noise's statistic (:meth:`residual_statistic`): the one sum that the
        log-likelihood's profile in the scale needs."""
        residuals = batch.y - batch.X @ coef - intercept
        return float(batch.sample_weight @ self.residual_statistic(residuals))

    @abstractmethod
    def residual_statistic(self, residuals: np.ndarray) -> np.ndarray:
        """:math:`\\rho(r)` per row (:math:`r^2` or :math:`|r|`)."""

    @abstractmethod
    def mean_loglik(self, residual_mean: float, scale: float) -> float:
        """Mean log-density per unit of weight at scale ``scale`` when the weighted
        mean of :math:`\\rho(r)` is ``residual_mean``."""

    @abstractmethod
    def scale_from(self, residual_mean: float) -> float:
        """The maximum-likelihood scale given the weighted mean of :math:`\\rho(r)`."""

    # -- the noise model -------------------------------------------------------------
    @abstractmethod
    def noise_terms(
        self, z: np.ndarray, log_scale: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row, from the standardised residual :math:`z = r / s`:
        :math:`\\log p(r)`, :math:`s\\,\\partial_r \\log p` and
        :math:`\\partial_{\\log s} \\log p`."""

    def standardised_residuals(self, theta: np.ndarray, batch: Batch):
        """:math:`z = r / s`, or None where :math:`s` or :math:`z^2` leaves the
        floating-point range (the log-likelihood is then :math:`-\\infty`: a
        line search rejects the step instead of overflowing)."""
        _, _, log_scale = self.unpack(theta)
        if not abs(log_scale) <= LOG_SCALE_BOUND:
            return None
        # A huge residual over a tiny scale may overflow: inf, then rejected below.
        with np.errstate(over="ignore", invalid="ignore"):
            z = self.residuals(theta, batch) / np.exp(log_scale)
        if z.size and not np.max(np.abs(z)) <= Z_BOUND:
            return None
        return z

    def loglik_obs(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        z = self.standardised_residuals(theta, batch)
        if z is None:
            return np.full(batch.X.shape[0], -np.inf)
        return self.noise_terms(z, self.unpack(theta)[2])[0]

    def loglik(self, theta: np.ndarray, batch: Batch) -> float:
        z = self.standardised_residuals(theta, batch)
        if z is None:
            return -np.inf
        return float(
            batch.sample_weight @ self.noise_terms(z, self.unpack(theta)[2])[0]
        )

    def loglik_grad(self, theta: np.ndarray, batch: Batch) -> tuple[float, np.ndarray]:
        z = self.standardised_residuals(theta, batch)
        if z is None:
            return -np.inf, np.zeros(self.n_params)
        log_scale = self.unpack(theta)[2]
        w = batch.sample_weight
        logp, s_d_r, d_log_scale = self.noise_terms(z, log_scale)
        d_eta = -np.exp(-log_scale) * (w * s_d_r)  # r = y - eta
        parts = [batch.X.T @ d_eta]
        if self.fit_intercept:
            parts.append([d_eta.sum()])
        parts.append([w @ d_log_scale])
        return float(w @ logp), np.concatenate(parts)

    def scores(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Per-row gradients of :meth:`loglik_obs`, shape (n_samples, n_params):
        :math:`[-s^{-1} \\partial_z \\log p\\, x_i, -s^{-1} \\partial_z \\log p,
        \\partial_{\\log s} \\log p]` (a subgradient at a kink)."""
        z = self.standardised_residuals(theta, batch)
        if z is None:
            raise ValueError("The scores are not finite at these parameters.")
        log_scale = self.unpack(theta)[2]
        _, s_d_r, d_log_scale = self.noise_terms(z, log_scale)
        d_eta = -np.exp(-log_scale) * s_d_r
        parts = [batch.X * d_eta[:, None]]
        if self.fit_intercept:
            parts.append(d_eta[:, None])
        parts.append(d_log_scale[:, None])
        return np.hstack(parts)

    def design_hessian(
        self, batch: Batch, eta_eta: np.ndarray, eta_scale: np.ndarray, scale_scale
    ) -> np.ndarray:
        """Assemble the Hessian from per-row second derivatives in ``eta``.

        ``eta_eta`` (n,), ``eta_scale`` (n,) and ``scale_scale`` (a number) are
        the weighted second derivatives in :math:`(\\eta, \\log s)`; the design
        :math:`[X, 1]` carries them to ``theta``.
        """
        X = batch.X
        d, k = self.n_features, self.n_params
        hess = np.empty((k, k))
        hess[:d, :d] = X.T @ (X * eta_eta[:, None])
        hess[:d, -1] = hess[-1, :d] = X.T @ eta_scale
        if self.fit_intercept:
            hess[:d, d] = hess[d, :d] = X.T @ eta_eta
            hess[d, d] = eta_eta.sum()
            hess[d, -1] = hess[-1, d] = eta_scale.sum()
        hess[-1, -1] = scale_scale
        return hess


# -- weighted centred cross-products, block by block ---------------------------------
@dataclass(frozen=True)
class WeightedSums:
    """:math:`W = \\sum w_i`, :math:`\\sum w_i x_i` and :math:`\\sum w_i y_i`."""

    weight: float
    x: np.ndarray
    y: float

    @classmethod
    def from_batch(cls, batch: Batch) -> WeightedSums:
        w = batch.sample_weight
        return cls(float(w.sum()), w @ batch.X, float(w @ batch.y))

    def __add__(self, other: WeightedSums) -> WeightedSums:
        return WeightedSums(
            self.weight + other.weight, self.x + other.x, self.y + other.y
        )

    def means(self) -> tuple[np.ndarray, float]:
        return self.x / self.weight, self.y / self.weight


def centred_cross_products(
    batch: Batch, x_mean: np.ndarray, y_mean: float
) -> tuple[np.ndarray, np.ndarray]:
    """:math:`\\sum_i w_i \\tilde x_i \\tilde x_i^\\top` and :math:`\\sum_i w_i \\tilde x_i \\tilde y_i`.

    :math:`\\tilde x_i = x_i - \\bar x`, :math:`\\tilde y_i = y_i - \\bar y`. Centring
    before multiplying avoids the cancellation of :math:`X^\\top X - W \\bar x \\bar
    x^\\top` when the means are large. Rows are processed in blocks of
    :data:`BLOCK_ROWS`, and each block's Gram matrix is a symmetric rank-k update
    (``Z.T @ Z`` with ``Z`` scaled by :math:`\\sqrt{w_i}`, which NumPy hands to
    BLAS SYRK: half the work of a general product). BLAS runs on one thread here:
    the many short products of a blocked pass gain little from a second one, and
    on a busy machine its spin-waiting made the pass ten times slower.
    """
    gram, cross, _ = _centred_products(batch, x_mean, y_mean)
    return gram, cross


def _centred_products(
    batch: Batch, x_mean: np.ndarray, y_mean: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`centred_cross_products` and :math:`\\sum_i w_i \\tilde y_i^2`."""
    X, y, w = batch.X, batch.y, batch.sample_weight
    d = X.shape[1]
    gram = np.zeros((d, d))
    cross = np.zeros(d)
    square = 0.0
    offset = 0.0
    unit = bool(np.all(w == 1.0))
    with single_blas_thread():
        for start in range(0, X.shape[0], BLOCK_ROWS):
            rows = slice(start, start + BLOCK_ROWS)
            z = X[rows] - x_mean
            t = y[rows] - y_mean
            if not unit:
                root = np.sqrt(w[rows])
                z *= root[:, None]
                t = t * root
                offset += float(root @ t)
            else:
                offset += float(t.sum())
            gram += z.T @ z
            cross += z.T @ t
            square += float(t @ t)
    # The corrected two-pass sum of squares (Chan, Golub and LeVeque): the
    # rounded mean leaves sum w (y - mean) = offset, not 0, which would otherwise
    # count as spread (a constant y of 10^6 rows would look 10^-13 wide).
    total = float(w.sum())
    if total > 0:
        square = max(square - (offset / total) * offset, 0.0)
    return gram, cross, square


@dataclass(frozen=True)
class LinearMoments:
    """Weighted, centred second moments of :math:`(x, y)`: the sufficient statistics
    of the Gaussian linear model.

    With :math:`W = \\sum_i w_i`, the weighted means :math:`\\bar x, \\bar y`,
    :math:`\\tilde x_i = x_i - \\bar x` and :math:`\\tilde y_i = y_i - \\bar y`:

    .. math:: S_{xx} = \\sum_i w_i \\tilde x_i \\tilde x_i^\\top, \\quad
       S_{xy} = \\sum_i w_i \\tilde x_i \\tilde y_i, \\quad
       S_{yy} = \\sum_i w_i \\tilde y_i^2 .

    Moments of disjoint sets of rows merge exactly with Chan et al.'s update
    (:meth:`merge`, also ``+``; :func:`~skmle.models.moments.chan_merge`), so they can be computed chunk by chunk, on Dask
    workers, or as rows stream in (``partial_fit``). Being centred, they do not
    lose the precision that running sums of squares lose when the means are
    large compared with the spread.

    Attributes
    ----------
    weight : float
    x_mean : ndarray of shape (n_features,)
    y_mean : float
    xx : ndarray of shape (n_features, n_features)
    xy : ndarray of shape (n_features,)
    yy : float

    Examples
    --------
    >>> import numpy as np
    >>> from skmle.models.base import Batch
    >>> from skmle.models.linear import LinearMoments
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(100, 2)), rng.normal(size=100)
    >>> whole = LinearMoments.from_batch(Batch(X, y, np.ones(100)))
    >>> parts = LinearMoments.from_batch(Batch(X[:30], y[:30], np.ones(30)))
    >>> parts = parts + LinearMoments.from_batch(Batch(X[30:], y[30:], np.ones(70)))
    >>> bool(np.allclose(parts.xx, whole.xx, rtol=1e-12))
    True
    """

    weight: float
    x_mean: np.ndarray
    y_mean: float
    xx: np.ndarray
    xy: np.ndarray
    yy: float

    @classmethod
    def from_batch(cls, batch: Batch) -> LinearMoments:
        w = batch.sample_weight
        weight = float(w.sum())
        d = batch.X.shape[1]
        if not weight > 0:
            return cls(0.0, np.zeros(d), 0.0, np.zeros((d, d)), np.zeros(d), 0.0)
        # Values beyond 1e154 overflow here: the caller sees non-finite moments
        # and can say so, instead of a RuntimeWarning from deep inside.
        with np.errstate(over="ignore", invalid="ignore"):
            x_mean = (w @ batch.X) / weight
            y_mean = float(w @ batch.y) / weight
            xx, xy, yy = _centred_products(batch, x_mean, y_mean)
        return cls(weight, x_mean, y_mean, xx, xy, yy)

    def merge(self, other: LinearMoments) -> LinearMoments:
        """Moments of the union of two disjoint sets of rows (Chan et al., 1979).

        .. math:: \\bar x = \\bar x_a + \\delta_x W_b / W, \\quad
           S_{xx} = S_{xx}^a + S_{xx}^b + \\delta_x \\delta_x^\\top W_a W_b / W,

        with :math:`\\delta_x = \\bar x_b - \\bar x_a`, and the same for
        :math:`S_{xy}` (with :math:`\\delta_x \\delta_y`) and :math:`S_{yy}`.
        """
        if other.weight == 0:
            return self
        if self.weight == 0:
            return other
        weight, mean, scatter = chan_merge(
            self.weight,
            np.append(self.x_mean, self.y_mean),
            self._scatter(),
            other.weight,
            np.append(other.x_mean, other.y_mean),
            other._scatter(),
        )
        d = self.x_mean.shape[0]
        return LinearMoments(
            float(weight),
            mean[:d],
            float(mean[d]),
            scatter[:d, :d],
            scatter[:d, d],
            float(scatter[d, d]),
        )

    def _scatter(self) -> np.ndarray:
        """The centred scatter of :math:`(x, y)` as one matrix."""
        return np.block([[self.xx, self.xy[:, None]], [self.xy[None, :], self.yy]])

    __add__ = merge

    def normal_equations(
        self, fit_intercept: bool
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """:math:`(G, c, s)` of least squares: :math:`\\min_w\\, w^\\top G w - 2 c^\\top w + s`.

        With an intercept they are the centred :math:`S_{xx}, S_{xy}, S_{yy}`;
        without one, the raw weighted products :math:`X^\\top W X = S_{xx} + W
        \\bar x \\bar x^\\top`, :math:`X^\\top W y = S_{xy} + W \\bar x \\bar y`
        and :math:`y^\\top W y = S_{yy} + W \\bar y^2`.
        """
        if fit_intercept:
            return self.xx, self.xy, self.yy
        w = self.weight
        return (
            self.xx + w * np.outer(self.x_mean, self.x_mean),
            self.xy + w * self.x_mean * self.y_mean,
            self.yy + w * self.y_mean**2,
        )
