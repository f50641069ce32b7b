"""Multivariate Gaussian: :math:`x \\sim N(\\mu, \\Sigma)`.

Log-likelihood, with the precision written through its Cholesky factor
:math:`\\Sigma^{-1} = R R^\\top` (:math:`R` lower triangular):

.. math::

    \\ell(\\mu, R) = W\\Big(\\sum_j \\log R_{jj} - \\tfrac{d}{2}\\log 2\\pi\\Big)
        - \\tfrac12 \\sum_i w_i \\lVert R^\\top (x_i - \\mu) \\rVert^2,
    \\qquad W = \\sum_i w_i

    \\nabla_\\mu \\ell = R R^\\top \\sum_i w_i (x_i - \\mu), \\qquad
    \\nabla_R \\ell = W\\,\\mathrm{diag}(1/R_{jj}) - S(\\mu) R,\\quad
    S(\\mu) = \\sum_i w_i (x_i - \\mu)(x_i - \\mu)^\\top

The optional ``reg_covar`` :math:`\\lambda` (a number, or one value per feature) is
a log-prior :math:`-\\tfrac{W}{2}\\sum_j \\lambda_j (\\Sigma^{-1})_{jj}
= -\\tfrac{W}{2}\\,\\mathrm{tr}(\\Lambda\\Sigma^{-1})`, whose maximiser is
:math:`\\hat\\Sigma = S(\\hat\\mu)/W + \\Lambda`, :math:`\\Lambda =
\\mathrm{diag}(\\lambda)`: the same answer as adding ``reg_covar`` to the diagonal of
the sample covariance. Its Hessian is diagonal and is returned as a
:class:`DiagonalMatrix`, never as a dense (n_params, n_params) array.

Conventions
-----------
``theta = [mu (d), precision-Cholesky parameters]``, where the second part is

- ``"full"``: the lower triangle of :math:`R` in ``numpy.tril_indices`` order
  (d(d+1)/2 values), the diagonal entries stored as :math:`\\log R_{jj}`;
- ``"diag"``: :math:`\\log R_{jj} = -\\log \\sigma_j` (d values);
- ``"spherical"``: one :math:`\\log r = -\\log \\sigma` (1 value).

Any real ``theta`` is a valid Gaussian: a gradient step cannot make a variance
negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from skmle.models.base import Batch, LogLikelihood

COVARIANCE_TYPES = ("full", "diag", "spherical")
LOG_2PI = np.log(2.0 * np.pi)


def n_covariance_params(n_features: int, covariance_type: str) -> int:
    return {
        "full": n_features * (n_features + 1) // 2,
        "diag": n_features,
        "spherical": 1,
    }[covariance_type]


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
        """Moments of the union of two disjoint sets of rows (Chan et al., 1979).

        .. math:: \\bar x = \\bar x_a + \\delta\\,W_b/W, \\quad
           S = S_a + S_b + \\delta\\delta^\\top W_a W_b / W, \\quad
           \\delta = \\bar x_b - \\bar x_a
        """
        weight = self.weight + other.weight
        if other.weight == 0:
            return self
        if self.weight == 0:
            return other
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.weight / weight)
        factor = self.weight * other.weight / weight
        if self.scatter.ndim == 2:
            correction = factor * np.outer(delta, delta)
        else:
            correction = factor * delta**2
        if self.underflow is None or other.underflow is None:
            underflow = other.underflow if self.underflow is None else self.underflow
        else:
            underflow = self.underflow | other.underflow
        return Moments(
            weight, mean, self.scatter + other.scatter + correction, underflow
        )

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
TINY = 1e-290
"""Smallest variance kept: below it (near float64's smallest normal number, 2.2e-308)
products of deviations lose digits, and the precision would overflow."""

PIVOT_FLOOR = 64 * np.finfo(float).eps
"""Times ``n_features``: the smallest Cholesky pivot (squared) of the correlation
matrix for which a covariance counts as positive definite. Below it some feature is,
up to rounding error, a linear combination of the others: the pivot's sign is then
decided by the rounding of the sums (it changes with the order of the rows), not by
the data."""


def precision_factor(covariance, covariance_type: str) -> np.ndarray:
    """Lower factor R with :math:`R R^\\top = \\Sigma^{-1}` (the inverse standard
    deviations for diag, their (1,) array for spherical).

    The full matrix is factored in correlation form
    :math:`\\Sigma = D^{1/2} A D^{1/2}`, so the test below does not depend on the units
    of the features: :math:`A = U U^\\top` with :math:`U` upper triangular (the
    Cholesky factor of the row- and column-reversed matrix), and then
    :math:`R = D^{-1/2} U^{-\\top}`.

    Raises ``numpy.linalg.LinAlgError`` when the covariance is not numerically
    positive definite: a variance not in ``(TINY, inf)``, or a squared pivot of
    :math:`A` below ``PIVOT_FLOOR * n_features``.
    """
    if covariance_type == "full":
        covariance = np.asarray(covariance, dtype=float)
        variances = np.diag(covariance)
        _check_variances(variances)
        d = variances.shape[0]
        inverse_std = 1.0 / np.sqrt(variances)
        reversed_std = inverse_std[::-1]
        # J A J (J reverses the order) in one pass; it is symmetric, so its
        # transpose is the same matrix in Fortran order and LAPACK copies nothing.
        reversed_correlation = covariance[::-1, ::-1] * np.outer(
            reversed_std, reversed_std
        )
        lower, info = lapack.dpotrf(
            reversed_correlation.T, lower=1, clean=1, overwrite_a=1
        )
        if info != 0 or np.min(np.diag(lower)) ** 2 < PIVOT_FLOOR * d:
            raise np.linalg.LinAlgError("the covariance is numerically singular")
        inverse, info = lapack.dtrtri(lower, lower=1, overwrite_c=1)
        if info != 0:  # pragma: no cover - positive pivots make L invertible
            raise np.linalg.LinAlgError("singular triangular factor")
        # J A J = L L^T gives A = U U^T with U = J L J, and U^{-T} = J L^{-T} J.
        return inverse.T[::-1, ::-1] * inverse_std[:, None]
    variances = np.atleast_1d(np.asarray(covariance, dtype=float))
    _check_variances(variances)
    return 1.0 / np.sqrt(variances)


def _check_variances(variances) -> None:
    if not np.all(np.isfinite(variances) & (variances > TINY)):
        raise np.linalg.LinAlgError("a variance is not positive")


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


# -- packing ----------------------------------------------------------------------------
def precision_cholesky(covariance, covariance_type: str):
    """Lower Cholesky factor R of the precision (vector of diagonal for diag/spherical).

    Raises ``numpy.linalg.LinAlgError`` when the covariance is not positive definite.
    """
    if covariance_type == "full":
        # Factor the covariance as U U^T with U upper triangular (Cholesky of the
        # row- and column-reversed matrix); then R = U^{-T} is lower triangular and
        # R R^T = (U U^T)^{-1}. No inverse of the covariance is formed.
        reversed_chol = linalg.cholesky(covariance[::-1, ::-1], lower=True)
        upper = reversed_chol[::-1, ::-1]
        return linalg.solve_triangular(upper, np.eye(upper.shape[0]), lower=False).T
    variances = np.asarray(covariance, dtype=float)
    if np.any(variances <= 0):
        raise np.linalg.LinAlgError("a variance is not positive")
    return 1.0 / np.sqrt(variances)


def pack(mean, covariance, covariance_type: str) -> np.ndarray:
    """``theta`` from a mean and a covariance (see the module's conventions)."""
    return pack_factor(
        mean, precision_cholesky(covariance, covariance_type), covariance_type
    )


def pack_factor(mean, prec_chol, covariance_type: str) -> np.ndarray:
    """``theta`` from a mean and the precision's lower Cholesky factor."""
    if covariance_type == "full":
        d = len(mean)
        # A boolean mask reads the lower triangle in tril_indices (row-major)
        # order, faster than two index arrays; row j's diagonal entry is at
        # j (j + 3) / 2 in that order.
        values = prec_chol[np.tri(d, dtype=bool)]
        on_diag = _tril_diagonal(d)
        values[on_diag] = np.log(values[on_diag])
        return np.concatenate([mean, values])
    return np.concatenate([mean, np.log(np.atleast_1d(prec_chol))])


def pack_diagonal_factor(mean, diagonal) -> np.ndarray:
    """``theta`` (``"full"``) of a diagonal precision factor, without a (d, d) array."""
    d = len(mean)
    values = np.zeros(d * (d + 1) // 2)
    values[_tril_diagonal(d)] = np.log(diagonal)
    return np.concatenate([mean, values])


def _tril_diagonal(d: int) -> np.ndarray:
    """Positions of the diagonal in the lower triangle in ``tril_indices`` order."""
    j = np.arange(d)
    return j * (j + 3) // 2


def unpack(theta, n_features: int, covariance_type: str):
    """Mean and precision Cholesky factor from ``theta``.

    The factor is (d, d) lower triangular for ``"full"``, the (d,) diagonal for
    ``"diag"``, and a (1,) array for ``"spherical"``.
    """
    mean = theta[:n_features]
    rest = theta[n_features:]
    if covariance_type == "full":
        rows, cols = np.tril_indices(n_features)
        prec_chol = np.zeros((n_features, n_features))
        prec_chol[rows, cols] = rest
        diagonal = np.arange(n_features)
        prec_chol[diagonal, diagonal] = np.exp(prec_chol[diagonal, diagonal])
        return mean, prec_chol
    return mean, np.exp(rest)


def covariance_from_theta(theta, n_features: int, covariance_type: str):
    """The covariance (full (d, d), diag (d,), spherical float) ``theta`` encodes."""
    _, prec_chol = unpack(theta, n_features, covariance_type)
    if covariance_type == "full":
        cov_chol_t = linalg.solve_triangular(prec_chol, np.eye(n_features), lower=True)
        return cov_chol_t.T @ cov_chol_t
    variances = 1.0 / prec_chol**2
    return variances if covariance_type == "diag" else float(variances[0])


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


# -- the log-likelihood -----------------------------------------------------------------
class GaussianLogLikelihood(LogLikelihood):
    """Log-likelihood of :math:`N(\\mu, \\Sigma)` over ``theta`` (see the module doc).

    Parameters
    ----------
    n_features : int
    covariance_type : {"full", "diag", "spherical"}
    reg_covar : float or array-like of shape (n_features,), default=0.0
        Strength of the log-prior that adds ``reg_covar`` to the fitted variances
        (stored as one value per feature).
    """

    has_hessian = True

    def __init__(self, n_features: int, covariance_type: str = "full", reg_covar=0.0):
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}")
        self.n_features = n_features
        self.covariance_type = covariance_type
        self.reg_covar = np.broadcast_to(
            np.asarray(reg_covar, dtype=float), (n_features,)
        ).copy()
        self.n_params = n_features + n_covariance_params(n_features, covariance_type)

    def standardising_map(self, mean, scale):
        """How ``theta`` moves when the data become :math:`x' = (x - m) / s`.

        :math:`\\mu' = (\\mu - m) / s`, and the precision factor :math:`R` of
        :math:`Z = (X - \\mu) R` becomes :math:`S R` (row :math:`i` times
        :math:`s_i`: :math:`\\log R_{ii}` moves by :math:`\\log s_i`). A spherical
        covariance allows one scale only, the geometric mean of ``scale``.

        Returns
        -------
        factor, shift : ndarray of shape (n_params,)
            :math:`\\theta' = \\mathrm{factor}\\,\\theta + \\mathrm{shift}`.
        scale : ndarray of shape (n_features,)
            The scales to divide the data by.
        """
        d = self.n_features
        if self.covariance_type == "spherical":
            scale = np.full(d, np.exp(np.mean(np.log(scale))))
        if self.covariance_type == "full":
            rows, cols = np.tril_indices(d)
            on_diagonal = rows == cols
            rest_factor = np.where(on_diagonal, 1.0, scale[rows])
            rest_shift = np.where(on_diagonal, np.log(scale[rows]), 0.0)
        elif self.covariance_type == "diag":
            rest_factor, rest_shift = np.ones(d), np.log(scale)
        else:
            rest_factor, rest_shift = np.ones(1), np.log(scale[:1])
        factor = np.concatenate([1.0 / scale, rest_factor])
        shift = np.concatenate([-mean / scale, rest_shift])
        return factor, shift, scale

    def _unpack(self, theta):
        return unpack(theta, self.n_features, self.covariance_type)

    def loglik_obs(self, theta, batch: Batch) -> np.ndarray:
        mean, prec_chol = self._unpack(theta)
        z = whiten(batch.X - mean, prec_chol, self.covariance_type)
        logdet = log_det_precision_cholesky(
            prec_chol, self.n_features, self.covariance_type
        )
        return (
            logdet - 0.5 * self.n_features * LOG_2PI - 0.5 * np.einsum("ij,ij->i", z, z)
        )

    def _statistics(self, theta, batch: Batch):
        mean, prec_chol = self._unpack(theta)
        w = batch.sample_weight
        centred = batch.X - mean
        z = whiten(centred, prec_chol, self.covariance_type)
        weight = float(w.sum())
        logdet = log_det_precision_cholesky(
            prec_chol, self.n_features, self.covariance_type
        )
        value = weight * (logdet - 0.5 * self.n_features * LOG_2PI) - 0.5 * float(
            w @ np.einsum("ij,ij->i", z, z)
        )
        return mean, prec_chol, w, centred, z, weight, value

    def loglik_grad(self, theta, batch: Batch):
        _, prec_chol, w, centred, z, weight, value = self._statistics(theta, batch)
        d = self.n_features
        if self.covariance_type == "full":
            grad_mean = prec_chol @ (z.T @ w)
            scatter_r = centred.T @ (z * w[:, None])  # S(mu) R
            rows, cols = np.tril_indices(d)
            grad_r = -scatter_r[rows, cols]
            on_diag = rows == cols
            grad_r[on_diag] = weight + grad_r[on_diag] * prec_chol[rows, cols][on_diag]
            return value, np.concatenate([grad_mean, grad_r])
        sum_centred = centred.T @ w
        scatter_diag = (centred**2).T @ w
        if self.covariance_type == "diag":
            grad_mean = prec_chol**2 * sum_centred
            grad_log = weight - prec_chol**2 * scatter_diag
        else:
            r2 = prec_chol[0] ** 2
            grad_mean = r2 * sum_centred
            grad_log = np.array([weight * d - r2 * scatter_diag.sum()])
        return value, np.concatenate([grad_mean, grad_log])

    def hessian(self, theta, batch: Batch) -> np.ndarray:
        mean, prec_chol = self._unpack(theta)
        w = batch.sample_weight
        centred = batch.X - mean
        weight = float(w.sum())
        sum_centred = centred.T @ w
        d = self.n_features
        hess = np.zeros((self.n_params, self.n_params))
        if self.covariance_type == "full":
            precision = prec_chol @ prec_chol.T
            scatter = centred.T @ (centred * w[:, None])
            rows, cols = np.tril_indices(d)
            on_diag = rows == cols
            jac = np.where(on_diag, prec_chol[rows, cols], 1.0)
            # second derivatives of -1/2 tr(R^T S R) in the raw entries of R
            h_rr = -scatter[rows[:, None], rows[None, :]] * (
                cols[:, None] == cols[None, :]
            )
            grad_raw = -(scatter @ prec_chol)[rows, cols]
            h_rr = jac[:, None] * h_rr * jac[None, :]
            h_rr[on_diag, on_diag] += (grad_raw * jac)[on_diag]
            # cross terms: d/dmu_k of -(S(mu) R)_ab = [a=k] (s^T R)_b + s_a R_kb
            s_r = sum_centred @ prec_chol
            h_mr = (rows[None, :] == np.arange(d)[:, None]) * s_r[cols][None, :]
            h_mr = h_mr + sum_centred[rows][None, :] * prec_chol[:, cols]
            h_mr = h_mr * jac[None, :]
            hess[:d, :d] = -weight * precision
            hess[:d, d:] = h_mr
            hess[d:, :d] = h_mr.T
            hess[d:, d:] = h_rr
            return hess
        scatter_diag = (centred**2).T @ w
        r2 = (
            prec_chol**2
            if self.covariance_type == "diag"
            else np.full(d, prec_chol[0] ** 2)
        )
        hess[:d, :d] = np.diag(-weight * r2)
        if self.covariance_type == "diag":
            hess[d:, d:] = np.diag(-2.0 * r2 * scatter_diag)
            cross = np.diag(2.0 * r2 * sum_centred)
        else:
            hess[d, d] = -2.0 * r2[0] * scatter_diag.sum()
            cross = (2.0 * r2 * sum_centred)[:, None]
        hess[:d, d:] = cross
        hess[d:, :d] = cross.T
        return hess

    @property
    def has_prior(self) -> bool:
        return bool(np.any(self.reg_covar > 0))

    def log_prior(self, theta, total_weight):
        """:math:`-\\tfrac{W}{2}\\sum_j \\lambda_j (R R^\\top)_{jj}`, its gradient and
        Hessian (a :class:`DiagonalMatrix`: the prior is a sum of squares of single
        entries of theta, or of their exponentials)."""
        n, d = self.n_params, self.n_features
        grad = np.zeros(n)
        if not self.has_prior:
            return 0.0, grad, DiagonalMatrix(np.zeros(n))
        hess = np.zeros(n)
        strength = total_weight * self.reg_covar  # (d,)
        _, prec_chol = self._unpack(theta)
        if self.covariance_type == "full":
            rows, cols = np.tril_indices(d)
            raw = prec_chol[rows, cols]
            on_diag = rows == cols
            per_entry = strength[rows]
            value = -0.5 * float(per_entry @ raw**2)
            g = -per_entry * raw
            g[on_diag] *= raw[on_diag]
            h = -per_entry
            h[on_diag] = -2.0 * per_entry[on_diag] * raw[on_diag] ** 2
        elif self.covariance_type == "diag":
            value = -0.5 * float(strength @ prec_chol**2)
            g = -strength * prec_chol**2
            h = 2.0 * g
        else:
            value = -0.5 * float(strength.sum()) * float(prec_chol[0] ** 2)
            g = np.array([-float(strength.sum()) * prec_chol[0] ** 2])
            h = 2.0 * g
        grad[d:] = g
        hess[d:] = h
        return value, grad, DiagonalMatrix(hess)


class DiagonalMatrix:
    """A diagonal (n, n) matrix stored as its diagonal, which adds to dense arrays.

    ``dense + DiagonalMatrix(v)`` is ``dense + np.diag(v)`` without forming
    ``np.diag(v)``: a log-prior's Hessian costs O(n_params) memory, not
    O(n_params^2), when only the likelihood's Hessian is dense (or when no
    Hessian is wanted at all, as in every call of ``Objective.value``).
    """

    __array_ufunc__ = None  # make ``ndarray + DiagonalMatrix`` call __radd__

    def __init__(self, diagonal):
        self.diagonal = np.asarray(diagonal, dtype=float)
        self.shape = (self.diagonal.size, self.diagonal.size)

    def __add__(self, other):
        if isinstance(other, DiagonalMatrix):
            return DiagonalMatrix(self.diagonal + other.diagonal)
        out = np.array(other, dtype=float, copy=True)
        if out.ndim == 0:
            return self.toarray() + out
        out.flat[:: out.shape[0] + 1] += self.diagonal
        return out

    __radd__ = __add__

    def __mul__(self, factor):
        return DiagonalMatrix(self.diagonal * factor)

    __rmul__ = __mul__

    def __truediv__(self, divisor):
        return DiagonalMatrix(self.diagonal / divisor)

    def __array__(self, dtype=None, copy=None):
        return self.toarray() if dtype is None else self.toarray().astype(dtype)

    def toarray(self) -> np.ndarray:
        return np.diag(self.diagonal)


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
