"""Weighted moments of a Gaussian and what follows from them without the rows.

:class:`Moments` are the sufficient statistics (total weight, mean, centred
scatter); they merge exactly (:func:`~skmle.models.moments.chan_merge`), so chunked
and Dask sums equal the in-memory ones. From them: the checks that a covariance is
representable in float64, the smallest regularisation of a singular covariance,
and the log-likelihood at any Gaussian or at the maximum, in O(d^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmle.models.base import LOG_2PI
from skmle.models.moments import chan_merge
from skmle.models.precision import (
    PIVOT_FLOOR,
    TINY,
    log_det_precision_cholesky,
    precision_cholesky,
    precision_factor,
    whiten,
)


# -- weighted moments: the sufficient statistics, merged exactly ----------------------
@dataclass(frozen=True)
class Moments:
    """Weighted sufficient statistics of a Gaussian.

    ``scatter`` is :math:`\\sum_i w_i (x_i - \\bar x)(x_i - \\bar x)^\\top`, a (d, d)
    matrix for ``"full"`` and its diagonal (d,) otherwise. ``underflow`` marks the
    features whose spread in some batch was positive but whose squares underflow
    (below about 1e-145): if the merged variance is that small too, it is lost.
    """

    weight: float
    mean: np.ndarray
    scatter: np.ndarray
    underflow: np.ndarray | None = None

    @classmethod
    def from_data(cls, X, sample_weight=None, covariance_type="full") -> Moments:
        """Moments of the rows of ``X`` (``covariance_type`` "full" or "diag").

        Products of centred values that would overflow (spreads above about
        1e150) or lose digits to underflow (below about 1e-150) are formed on
        columns scaled by powers of two, which is exact: the result is what exact
        arithmetic rounds to, or ``inf`` where the scatter itself is too large for
        float64 (the estimator reports it).
        """
        X = np.asarray(X, dtype=float)
        underflow = None
        if sample_weight is not None and np.all(sample_weight == 1):
            sample_weight = None  # unit weights: skip a pass and a copy of X
        with np.errstate(over="ignore", invalid="ignore"):
            if sample_weight is None:
                weight = float(X.shape[0])
                mean = X.mean(axis=0) if X.shape[0] else np.zeros(X.shape[1])
            else:
                sample_weight = np.asarray(sample_weight, dtype=float)
                weight = float(sample_weight.sum())
                if weight > 0:
                    mean = (sample_weight @ X) / weight
                else:
                    mean = np.zeros(X.shape[1])
            centred = X - mean
            scatter = _scatter(centred, sample_weight, covariance_type)
            diagonal = np.diag(scatter) if scatter.ndim == 2 else scatter
            if not np.all(np.isfinite(diagonal) & (diagonal > TINY)):
                scale = _power_of_two_spread(centred)
                scaled = _scatter(centred / scale, sample_weight, covariance_type)
                scatter = scaled * (
                    np.outer(scale, scale) if scaled.ndim == 2 else scale**2
                )
                diagonal = np.diag(scatter) if scatter.ndim == 2 else scatter
                scaled = np.diag(scaled) if scaled.ndim == 2 else scaled
                underflow = (scaled > 0) & (diagonal <= TINY * max(weight, 1.0))
            if (
                weight > 0
                and X.shape[0] > 1
                and _mean_error_matters(mean, diagonal / weight, X.shape[0])
            ):
                # The corrected two-pass algorithm: the rounding error of the mean
                # (large beside the spread when the data sit on an offset such as
                # 1e9) is measured on the centred rows and taken out exactly,
                # S(m + delta) = S(m) - W delta delta^T.
                if sample_weight is None:
                    delta = centred.sum(axis=0) / weight
                else:
                    delta = (sample_weight @ centred) / weight
                diagonal = np.diag(scatter) if scatter.ndim == 2 else scatter
                # only where the correction is above the rounding of the scatter
                if np.all(np.isfinite(delta)) and np.any(
                    weight * delta**2 > np.finfo(float).eps * diagonal
                ):
                    mean = mean + delta
                    if scatter.ndim == 2:
                        scatter -= weight * np.outer(delta, delta)
                        diagonal = np.arange(scatter.shape[0])
                        scatter[diagonal, diagonal] = np.maximum(
                            scatter[diagonal, diagonal], 0.0
                        )
                    else:
                        scatter = np.maximum(scatter - weight * delta**2, 0.0)
        return cls(weight, mean, scatter, underflow)

    def merge(self, other: Moments) -> Moments:
        """Moments of the union of two disjoint sets of rows (:func:`chan_merge`)."""
        if other.weight == 0:
            return self
        if self.weight == 0:
            return other
        weight, mean, scatter = chan_merge(
            self.weight,
            self.mean,
            self.scatter,
            other.weight,
            other.mean,
            other.scatter,
        )
        if self.underflow is None or other.underflow is None:
            underflow = other.underflow if self.underflow is None else self.underflow
        else:
            underflow = self.underflow | other.underflow
        return Moments(float(weight), mean, scatter, underflow)

    __add__ = merge

    def covariance(self, covariance_type: str, reg_covar=0.0):
        """MLE covariance ``scatter / weight`` plus ``reg_covar`` on the diagonal.

        ``reg_covar`` is a number or one value per feature.
        """
        if covariance_type == "full":
            cov = self.scatter / self.weight
            cov.flat[:: cov.shape[0] + 1] += reg_covar
            return cov
        if covariance_type == "diag":
            return self.scatter / self.weight + reg_covar
        return float(np.mean(self.scatter / self.weight + reg_covar))


def _scatter(centred, sample_weight, covariance_type):
    weighted = centred if sample_weight is None else centred * sample_weight[:, None]
    if covariance_type == "full":
        return weighted.T @ centred
    return np.einsum("ij,ij->j", weighted, centred)


def _mean_error_matters(mean, variances, n_samples) -> bool:
    """Whether the rounding error of a computed mean can move the scatter.

    A sum of n terms rounds with relative error about :math:`\\gamma = \\log_2(n)
    \\epsilon` of the sum of their magnitudes, and the mean of :math:`|x|` is at most
    :math:`\\sqrt{m^2 + v}`; its squared error :math:`\\gamma^2 (m^2 + v)` changes
    the variance by more than rounding only where :math:`m^2 / v` is large (data far
    from zero beside their spread, such as timestamps), or where v is 0.
    """
    eps = np.finfo(float).eps
    gamma = max(np.log2(n_samples), 1.0) * eps
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = gamma**2 * (mean**2 + variances) / variances
    return bool(np.any(~(bound < eps)))


def _power_of_two_spread(centred):
    """Per column, the power of two nearest the largest ``|x - mean|`` (1 for 0)."""
    if centred.shape[0] == 0:
        return np.ones(centred.shape[1])
    spread = np.maximum(np.max(centred, axis=0), -np.min(centred, axis=0))
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    return np.ldexp(1.0, np.frexp(spread)[1])


# -- the covariance and its factor, and what to do when it is singular -----------------
OVERFLOW_MESSAGE = (
    "The covariance of X overflows float64: the values of X spread over more than "
    "about 1e150 around their mean. Rescale X, for example with "
    "sklearn.preprocessing.StandardScaler."
)
UNDERFLOW_MESSAGE = (
    "Some variances of X underflow float64 (the values of a feature vary by less "
    "than about 1e-145): their precision would overflow. Rescale X, for example "
    "with sklearn.preprocessing.StandardScaler."
)


def check_representable(moments: Moments) -> None:
    """Raise ``ValueError`` (naming the remedy) if the covariance overflows float64
    or a variance underflows it."""
    if not (np.all(np.isfinite(moments.mean)) and np.all(np.isfinite(moments.scatter))):
        raise ValueError(OVERFLOW_MESSAGE)
    scatter = moments.scatter
    variances = (np.diag(scatter) if scatter.ndim == 2 else scatter) / moments.weight
    lost = (variances > 0) & (variances <= TINY)
    if moments.underflow is not None:
        lost |= moments.underflow & (variances <= TINY)
    if np.any(lost):
        raise ValueError(UNDERFLOW_MESSAGE)


def constant_features(moments: Moments) -> np.ndarray:
    """Features whose variance is zero, or below the rounding of their values.

    A variance at most :math:`(4\\epsilon\\,|\\bar x_j|)^2` is what a column of one
    repeated value leaves after rounding (its mean need not be that value
    exactly): such a feature is constant for every purpose.
    """
    scatter = moments.scatter
    variances = (np.diag(scatter) if scatter.ndim == 2 else scatter) / moments.weight
    resolution = 4.0 * np.finfo(float).eps * np.abs(moments.mean)
    return variances <= resolution**2


def minimal_regularisation(moments: Moments, covariance_type: str):
    """The smallest regularisation, relative to each feature's variance, that makes
    the covariance positive definite: ``(reg, covariance, factor)``.

    ``reg`` has one value per feature: :math:`\\tau v_j`, with :math:`v_j` the
    feature's variance (the mean of the positive variances for a constant
    feature) and :math:`\\tau = 16\\,d\\cdot` ``PIVOT_FLOOR``, increased tenfold until
    :func:`precision_factor` accepts the result. For ``"diag"`` only the constant
    features are regularised. Returns None when every variance is zero (all rows
    with a positive weight are one point): there is no scale to be relative to.
    """
    variances = (
        np.diag(moments.scatter) if moments.scatter.ndim == 2 else moments.scatter
    )
    variances = variances / moments.weight
    positive = ~constant_features(moments)
    if not np.any(positive):
        return None
    scale = np.where(positive, variances, np.mean(variances[positive]))
    d = variances.shape[0]
    tau = 16 * PIVOT_FLOOR * d
    for _ in range(12):
        reg = tau * scale
        if covariance_type == "diag":
            reg = np.where(positive, 0.0, reg)
        covariance = moments.covariance(covariance_type, reg)
        try:
            return reg, covariance, precision_factor(covariance, covariance_type)
        except np.linalg.LinAlgError:
            tau *= 10.0
    return None  # pragma: no cover - by then tau is about 0.02 d


def loglik_from_moments(moments: Moments, mean, covariance, covariance_type) -> float:
    """Total log-likelihood of the rows summarised by ``moments`` under N(mean, cov).

    Needs no second pass over the data:
    :math:`\\ell = W(\\sum\\log R_{jj} - \\tfrac d2\\log 2\\pi)
    - \\tfrac12[\\mathrm{tr}(R^\\top S R) + W\\lVert R^\\top(\\bar x - \\mu)\\rVert^2]`.
    """
    d = moments.mean.shape[0]
    prec_chol = precision_cholesky(covariance, covariance_type)
    if covariance_type != "full":
        prec_chol = np.broadcast_to(prec_chol, (d,))
    offset = whiten(moments.mean - mean, prec_chol, covariance_type)
    if covariance_type == "full":
        spread = np.sum((moments.scatter @ prec_chol) * prec_chol)
    else:
        spread = np.sum(moments.scatter * prec_chol**2)
    logdet = log_det_precision_cholesky(prec_chol, d, covariance_type)
    if covariance_type == "spherical":
        logdet = float(np.sum(np.log(prec_chol)))
    return float(
        moments.weight * (logdet - 0.5 * d * LOG_2PI)
        - 0.5 * (spread + moments.weight * offset @ offset)
    )


def loglik_at_maximum(moments: Moments, prec_chol, reg, covariance_type: str):
    """Log-likelihood and log-prior at :math:`\\mu = \\bar x`,
    :math:`\\Sigma = S/W + \\Lambda`, the maximiser, in O(d^2) from the factor.

    There :math:`\\mathrm{tr}(\\Sigma^{-1} S) = W\\,(d - \\mathrm{tr}(\\Lambda\\Sigma^{-1}))`,
    so no product with the scatter is needed.
    """
    d = moments.mean.shape[0]
    weight = moments.weight
    reg = np.broadcast_to(np.asarray(reg, dtype=float), (d,))
    prec_chol = np.asarray(prec_chol, dtype=float)
    if covariance_type == "full":
        precision_diagonal = np.einsum("ij,ij->i", prec_chol, prec_chol)
    else:
        precision_diagonal = np.broadcast_to(prec_chol**2, (d,))
    logdet = log_det_precision_cholesky(prec_chol, d, covariance_type)
    penalty = float(reg @ precision_diagonal)
    loglik = weight * (logdet - 0.5 * d * LOG_2PI) - 0.5 * weight * (d - penalty)
    return float(loglik), -0.5 * weight * penalty


def loglik_of_diagonal(moments: Moments, variances) -> float:
    """Log-likelihood of :math:`N(\\bar x, \\mathrm{diag}(u))` for the rows summarised
    by ``moments`` (``variances`` u: one per feature, or one shared)."""
    scatter = moments.scatter
    scatter = np.diag(scatter) if scatter.ndim == 2 else scatter
    variances = np.broadcast_to(np.asarray(variances, dtype=float), scatter.shape)
    return float(
        -0.5 * moments.weight * (scatter.size * LOG_2PI + np.sum(np.log(variances)))
        - 0.5 * np.sum(scatter / variances)
    )
