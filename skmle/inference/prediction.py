"""Prediction intervals that include the uncertainty of the estimates.

For a linear predictor :math:`\\eta(x) = x_1^\\top \\hat\\beta` (:math:`x_1 = [x, 1]`
with an intercept) and the covariance :math:`V` of :math:`\\hat\\beta`, the
delta method (exact for a linear function) gives

.. math:: \\mathrm{se}(\\eta(x)) = \\sqrt{x_1^\\top V x_1} .

Three intervals are formed from it, with :math:`q` the ``1 - alpha/2`` quantile
of the standard normal or of Student's :math:`t_\\nu`
(:func:`~skmle.inference.small_sample.critical_value`):

* the mean (confidence) interval :math:`\\eta \\pm q\\, \\mathrm{se}`
  (:func:`mean_interval`);
* the interval of a new observation :math:`y = \\eta + e` with Gaussian noise of
  variance :math:`\\sigma^2`, :math:`\\eta \\pm q \\sqrt{\\mathrm{se}^2 +
  \\sigma^2}` (:func:`gaussian_observation_interval`), exact with the unbiased
  :math:`\\sigma^2` and :math:`t_{n-p}`;
* the same with Laplace noise of scale :math:`s`: the central quantiles of the
  sum of :math:`N(0, \\mathrm{se}^2)` (the estimate's error, asymptotically
  normal) and :math:`\\mathrm{Laplace}(0, s)` (the new noise), whose
  distribution function has the closed form of :func:`normal_laplace_cdf`
  (:func:`normal_laplace_interval`).

A response mapped through a monotone link (a probability, :math:`p =
\\mathrm{expit}(\\eta)`) gets the interval of :math:`\\eta` mapped through it
(statsmodels' "endpoint" method of ``get_prediction``), which stays inside the
range of the response (:func:`mean_interval` with ``inverse_link``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special, stats

from skmle.inference.quantile_search import symmetric_quantile
from skmle.inference.small_sample import critical_value

KINDS = ("plugin", "mean", "observation")
"""The ``kind`` of ``predict_interval``."""


def check_kind(kind: str, kinds: tuple[str, ...] = KINDS) -> str:
    """``kind`` of ``predict_interval``, checked.

    Raises
    ------
    ValueError
        When ``kind`` is not one of ``kinds``.
    """
    if not isinstance(kind, str) or kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}, got {kind!r}.")
    return kind


def design_rows(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """:math:`x_1 = [x, 1]` for each row (``X`` itself without an intercept): the
    coefficients, then the intercept, the order of the inference path's
    covariance (``_inference_blocks``)."""
    if not fit_intercept:
        return X
    return np.column_stack([X, np.ones(X.shape[0])])


def linear_predictor_se(rows: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """:math:`\\sqrt{x_1^\\top V x_1}` for each row :math:`x_1` of ``rows``.

    Parameters
    ----------
    rows : ndarray of shape (n_samples, p)
    covariance : ndarray of shape (p, p)
        :math:`V`, the covariance of the coefficients of the linear predictor
        (NaN where undefined: the errors are then NaN).

    Returns
    -------
    ndarray of shape (n_samples,)

    Notes
    -----
    The quadratic form is summed row by row in a fixed order (``np.einsum``
    without BLAS), so that a row gets the same digits whichever block of rows
    it comes in (a Dask chunk of one row or the whole array): on collinear
    data such as Longley the form cancels about eight digits, and a matrix
    product would round them differently for different block shapes.
    """
    variance = np.einsum("ij,jk,ik->i", rows, covariance, rows, optimize=False)
    return np.sqrt(np.maximum(variance, 0.0))


def mean_interval(
    eta: np.ndarray,
    se: np.ndarray,
    alpha: float,
    df: float | None = None,
    inverse_link: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """:math:`\\eta \\pm q\\, \\mathrm{se}`, mapped through ``inverse_link`` if
    given; shape (n_samples, 2)."""
    half = critical_value(alpha, df) * se
    limits = np.column_stack([eta - half, eta + half])
    return limits if inverse_link is None else inverse_link(limits)


def gaussian_observation_interval(
    eta: np.ndarray,
    se: np.ndarray,
    variance: float,
    alpha: float,
    df: float | None = None,
) -> np.ndarray:
    """:math:`\\eta \\pm q \\sqrt{\\mathrm{se}^2 + \\sigma^2}`, shape (n_samples, 2)."""
    return mean_interval(eta, np.sqrt(se**2 + variance), alpha, df)


def _normal_laplace_tails(z: np.ndarray, scale: float, tau: np.ndarray):
    """:math:`e^{\\tau^2/(2s^2) \\mp z/s}\\, \\Phi(\\pm z/\\tau - \\tau/s)`, formed in
    logarithms (:func:`scipy.special.log_ndtr`) so that neither overflows."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = tau / scale
        u = z / tau
        shift = 0.5 * ratio**2
        left = np.exp(shift - z / scale + special.log_ndtr(u - ratio))
        right = np.exp(shift + z / scale + special.log_ndtr(-u - ratio))
    return u, left, right


def normal_laplace_cdf(z: np.ndarray, scale: float, sd: np.ndarray) -> np.ndarray:
    """Distribution function of :math:`N(0, \\tau^2) + \\mathrm{Laplace}(0, s)`.

    With :math:`\\tau` = ``sd`` and :math:`s` = ``scale`` (independent terms),

    .. math:: F(z) = \\Phi(z/\\tau)
       - \\tfrac12 e^{\\tau^2/(2s^2) - z/s}\\, \\Phi(z/\\tau - \\tau/s)
       + \\tfrac12 e^{\\tau^2/(2s^2) + z/s}\\, \\Phi(-z/\\tau - \\tau/s),

    from :math:`F(z) = E[F_L(z - N)]`; its density is
    :math:`f(z) = \\frac{1}{2s}\\big(e^{\\tau^2/(2s^2) - z/s}\\, \\Phi(z/\\tau -
    \\tau/s) + e^{\\tau^2/(2s^2) + z/s}\\, \\Phi(-z/\\tau - \\tau/s)\\big)` (the
    normal density's terms cancel). :math:`\\tau = 0` gives the Laplace
    distribution function.
    """
    z = np.asarray(z, dtype=float)
    tau = np.asarray(sd, dtype=float)
    u, left, right = _normal_laplace_tails(z, scale, tau)
    with np.errstate(invalid="ignore"):
        value = special.ndtr(u) - 0.5 * left + 0.5 * right
    laplace = stats.laplace.cdf(z, scale=scale)
    return np.where(tau > 0, np.clip(value, 0.0, 1.0), laplace)


def normal_laplace_quantile(
    prob: float, scale: float, sd: np.ndarray, n_iter: int = 100
) -> np.ndarray:
    """The ``prob`` quantile (``prob`` > 1/2) of :func:`normal_laplace_cdf`, for
    each :math:`\\tau` of ``sd``: Newton's method on :math:`F(z) = p`,
    safeguarded by bisection.

    The root lies between 0 and the sum of the ``(1 + prob)/2`` quantiles of the
    two terms (the union bound :math:`P(N + L > a + b) \\le P(N > a) + P(L >
    b)`); each step narrows that bracket by the sign of :math:`F - p` and takes
    the Newton step where it stays inside, the midpoint elsewhere, from the
    normal quantile of the same variance, until the step reaches rounding
    (:func:`~skmle.inference.quantile_search.symmetric_quantile`).
    """
    tau = np.asarray(sd, dtype=float)
    tail = 0.5 * (1.0 + prob)
    high = stats.norm.ppf(tail) * tau + stats.laplace.ppf(tail, scale=scale)
    # Start from the normal quantile of the same variance, tau^2 + 2 s^2 (the
    # Laplace quantile itself where tau = 0).
    z = np.where(
        tau > 0,
        stats.norm.ppf(prob) * np.sqrt(tau**2 + 2.0 * scale**2),
        stats.laplace.ppf(prob, scale=scale),
    )
    positive = tau > 0

    def excess_and_density(z):
        u, left, right = _normal_laplace_tails(z, scale, tau)
        with np.errstate(invalid="ignore"):
            excess = special.ndtr(u) - 0.5 * left + 0.5 * right - prob
            density = (left + right) / (2.0 * scale)
        excess = np.where(positive, excess, stats.laplace.cdf(z, scale=scale) - prob)
        density = np.where(positive, density, stats.laplace.pdf(z, scale=scale))
        return excess, density

    return symmetric_quantile(excess_and_density, high, z, n_iter)


def normal_laplace_interval(
    eta: np.ndarray, se: np.ndarray, scale: float, alpha: float
) -> np.ndarray:
    """Central ``1 - alpha`` interval of :math:`\\eta + N(0, \\mathrm{se}^2) +
    \\mathrm{Laplace}(0, s)`, shape (n_samples, 2); symmetric about
    :math:`\\eta`."""
    half = normal_laplace_quantile(1.0 - alpha / 2.0, scale, se)
    return np.column_stack([eta - half, eta + half])
