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

The weighted, centred cross-products and :class:`LinearMoments` (the same
statistics for chunks of rows, merged exactly) live in
:mod:`skmle.models.linear_moments` and are re-exported here.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import scipy.sparse as sp

from skmle._sparse import is_sparse, matvec, rmatvec, weighted_gram
from skmle.models.base import Batch, LogLikelihood
from skmle.models.linear_moments import (
    BLOCK_ROWS,
    LinearMoments,
    WeightedSums,
    centred_cross_products,
)

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
        return theta[:d], intercept, float(theta[self.log_scale_index()])

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
        """Where the log noise scale sits in ``theta`` (a location-scale model):
        after the coefficients and the intercept (a noise model with shape
        parameters stores them after it)."""
        return self.n_features + int(self.fit_intercept)

    def linear_predictor(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """:math:`\\eta = X w + b`, shape (n_samples,)."""
        coef, intercept, _ = self.unpack(theta)
        return matvec(X, coef) + intercept

    def residuals(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        return batch.y - self.linear_predictor(theta, batch.X)

    def design(self, X: np.ndarray) -> np.ndarray:
        """The columns the location coefficients multiply: ``X``, then a column of
        ones with an intercept (the design a least-absolute-deviation solver sees)."""
        if not self.fit_intercept:
            return X
        if is_sparse(X):
            return sp.csr_array(sp.hstack([X, np.ones((X.shape[0], 1))]))
        return np.column_stack([X, np.ones(X.shape[0])])

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
        residuals = batch.y - matvec(batch.X, coef) - intercept
        return float(batch.sample_weight @ self.residual_statistic(residuals))

    # Optional: for noise whose scale maximises the likelihood in closed form
    # given one sum over the rows (Gaussian, Laplace); noise_terms is enough
    # for everything else.
    def residual_statistic(self, residuals: np.ndarray) -> np.ndarray:
        """:math:`\\rho(r)` per row (:math:`r^2` or :math:`|r|`)."""
        raise NotImplementedError(self._no_profile())

    def mean_loglik(self, residual_mean: float, scale: float) -> float:
        """Mean log-density per unit of weight at scale ``scale`` when the weighted
        mean of :math:`\\rho(r)` is ``residual_mean``."""
        raise NotImplementedError(self._no_profile())

    def scale_from(self, residual_mean: float) -> float:
        """The maximum-likelihood scale given the weighted mean of :math:`\\rho(r)`."""
        raise NotImplementedError(self._no_profile())

    def _no_profile(self) -> str:
        return (
            f"{type(self).__name__}'s scale has no closed form from one sum over "
            "the residuals"
        )

    # -- the noise model -------------------------------------------------------------
    @abstractmethod
    def noise_terms(
        self, z: np.ndarray, log_scale: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row, from the standardised residual :math:`z = r / s`:
        :math:`\\log p(r)`, :math:`s\\,\\partial_r \\log p` and
        :math:`\\partial_{\\log s} \\log p`."""

    def noise_terms_at(self, z: np.ndarray, theta: np.ndarray) -> tuple:
        """:meth:`noise_terms` at ``theta``: :math:`\\log p`,
        :math:`s\\,\\partial_r \\log p`, then the derivatives in every noise
        parameter in ``theta``'s order (:math:`\\log s`, then any shape
        parameter a subclass stores after it)."""
        return self.noise_terms(z, self.unpack(theta)[2])

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
        return self.noise_terms_at(z, theta)[0]

    def loglik(self, theta: np.ndarray, batch: Batch) -> float:
        z = self.standardised_residuals(theta, batch)
        if z is None:
            return -np.inf
        return float(batch.sample_weight @ self.noise_terms_at(z, theta)[0])

    def loglik_grad(self, theta: np.ndarray, batch: Batch) -> tuple[float, np.ndarray]:
        z = self.standardised_residuals(theta, batch)
        if z is None:
            return -np.inf, np.zeros(self.n_params)
        log_scale = self.unpack(theta)[2]
        w = batch.sample_weight
        logp, s_d_r, *d_noise = self.noise_terms_at(z, theta)
        d_eta = -np.exp(-log_scale) * (w * s_d_r)  # r = y - eta
        parts = [rmatvec(batch.X, d_eta)]
        if self.fit_intercept:
            parts.append([d_eta.sum()])
        parts.extend([w @ d] for d in d_noise)
        return float(w @ logp), np.concatenate(parts)

    def scores(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Per-row gradients of :meth:`loglik_obs`, shape (n_samples, n_params):
        :math:`[-s^{-1} \\partial_z \\log p\\, x_i, -s^{-1} \\partial_z \\log p,
        \\partial_{\\log s} \\log p]` (a subgradient at a kink)."""
        z = self.standardised_residuals(theta, batch)
        if z is None:
            raise ValueError("The scores are not finite at these parameters.")
        log_scale = self.unpack(theta)[2]
        _, s_d_r, *d_noise = self.noise_terms_at(z, theta)
        d_eta = -np.exp(-log_scale) * s_d_r
        parts = [batch.X * d_eta[:, None]]
        if self.fit_intercept:
            parts.append(d_eta[:, None])
        parts.extend(d[:, None] for d in d_noise)
        return np.hstack(parts)

    def score_factors(
        self, theta: np.ndarray, batch: Batch
    ) -> tuple[np.ndarray, np.ndarray]:
        """The factors of :meth:`scores` (:mod:`skmle.inference.sandwich_sparse`):
        :math:`a_i = -s^{-1} \\partial_z \\log p(z_i)`, shape (n, 1), and the
        noise parameters' scores :math:`b_i` (:math:`\\partial_{\\log s}`, then
        any shape parameter), shape (n, m); row :math:`i` of :meth:`scores` is
        :math:`[a_i x_i, a_i, b_i]`."""
        z = self.standardised_residuals(theta, batch)
        if z is None:
            raise ValueError("The scores are not finite at these parameters.")
        _, s_d_r, *d_noise = self.noise_terms_at(z, theta)
        d_eta = -np.exp(-self.unpack(theta)[2]) * s_d_r
        return d_eta[:, None], np.column_stack(d_noise)

    def design_hessian(
        self, batch: Batch, eta_eta: np.ndarray, eta_scale: np.ndarray, scale_scale
    ) -> np.ndarray:
        """Assemble the Hessian from per-row second derivatives in ``eta``.

        ``eta_eta`` (n,), ``eta_scale`` (n,) and ``scale_scale`` (a number) are
        the weighted second derivatives in :math:`(\\eta, \\log s)`; the design
        :math:`[X, 1]` carries them to ``theta``. Rows and columns of shape
        parameters after :math:`\\log s` are left zero for a subclass to fill.
        """
        X = batch.X
        d, k, j = self.n_features, self.n_params, self.log_scale_index()
        hess = np.zeros((k, k))
        if is_sparse(X):
            hess[:d, :d] = weighted_gram(X, eta_eta, False)
        else:
            hess[:d, :d] = X.T @ (X * eta_eta[:, None])
        hess[:d, j] = hess[j, :d] = rmatvec(X, eta_scale)
        if self.fit_intercept:
            hess[:d, d] = hess[d, :d] = rmatvec(X, eta_eta)
            hess[d, d] = eta_eta.sum()
            hess[d, j] = hess[j, d] = eta_scale.sum()
        hess[j, j] = scale_scale
        return hess


__all__ = [
    "BLOCK_ROWS",
    "LOG_SCALE_BOUND",
    "Z_BOUND",
    "LinearLogLikelihood",
    "LinearMoments",
    "WeightedSums",
    "centred_cross_products",
]
