"""The density of the errors at the median, for the covariance of median regression.

The least-absolute-deviation estimate :math:`\\hat\\beta` solves
:math:`\\sum_i w_i \\psi(r_i) x_i = 0` with :math:`\\psi(r) = \\tau - 1\\{r < 0\\}`
(:math:`\\tau = 1/2`); its asymptotic covariance is the sandwich

.. math:: V = H^{-1} M H^{-1}, \\qquad H = f(0) \\sum_i w_i x_i x_i^\\top, \\qquad
   M = \\sum_i w_i \\psi(r_i)^2 x_i x_i^\\top ,

with :math:`f(0)` the density of the errors at their median (its inverse is the
"sparsity"). Laplace errors of scale :math:`s` have :math:`f(0) = 1/(2s)`; without
that assumption :math:`f(0)` is estimated by a kernel density of the residuals at
zero, as statsmodels' ``QuantReg`` (and Stata 12's ``qreg``) do:

.. math:: \\hat f(0) = \\frac{1}{W h} \\sum_i w_i K(r_i / h), \\qquad
   K(u) = \\tfrac34 (1 - u^2)\\, 1\\{|u| \\le 1\\}

(Epanechnikov), with the bandwidth of Hall and Sheather (1988) in the units of
the residuals,

.. math:: h = \\min\\Big(\\mathrm{sd}(y), \\frac{\\mathrm{IQR}(r)}{1.34}\\Big)
   \\big(\\Phi^{-1}(\\tau + h_n) - \\Phi^{-1}(\\tau - h_n)\\big), \\qquad
   h_n = W^{-1/3} z_{0.975}^{2/3}
   \\Big(\\frac{1.5\\, \\phi(\\Phi^{-1}(\\tau))^2}{2 \\Phi^{-1}(\\tau)^2 + 1}\\Big)^{1/3},

:math:`\\mathrm{sd}(y)` the (weighted, divided by :math:`W`) standard deviation of
the response and :math:`\\mathrm{IQR}(r)` the interquartile range of the
residuals by linear interpolation (NumPy's default percentile) of the sample with
each row repeated as often as its weight. The formulas here take the summaries;
the passes over the rows that produce them are the estimator's.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

MEDIAN = 0.5
IQR_TO_SD = 1.34
"""The interquartile range of a normal distribution in standard deviations
(1.349, rounded as in statsmodels and Stata)."""


def hall_sheather(n_obs: float, q: float = MEDIAN, alpha: float = 0.05) -> float:
    """Hall and Sheather's bandwidth :math:`h_n` on the probability scale.

    Examples
    --------
    >>> round(hall_sheather(235.0), 6)
    0.157439
    """
    z = stats.norm.ppf(q)
    ratio = 1.5 * stats.norm.pdf(z) ** 2 / (2.0 * z**2 + 1.0)
    return float(
        n_obs ** (-1.0 / 3.0)
        * stats.norm.ppf(1.0 - alpha / 2.0) ** (2.0 / 3.0)
        * ratio ** (1.0 / 3.0)
    )


def residual_bandwidth(
    n_obs: float, y_std: float, iqr: float, q: float = MEDIAN
) -> float:
    """:math:`h` in the units of the residuals (see the module)."""
    h_n = hall_sheather(n_obs, q)
    spread = min(y_std, iqr / IQR_TO_SD)
    return float(spread * (stats.norm.ppf(q + h_n) - stats.norm.ppf(q - h_n)))


def epanechnikov(u: np.ndarray) -> np.ndarray:
    """:math:`K(u) = \\frac34 (1 - u^2)` on :math:`|u| \\le 1`, else 0."""
    u = np.asarray(u, dtype=float)
    return np.where(np.abs(u) <= 1.0, 0.75 * (1.0 - u**2), 0.0)


def interpolation_ranks(total_weight: float, prob: float) -> tuple[float, float, float]:
    """Where the ``prob`` percentile of the repeated sample lies.

    With :math:`W` the total weight, the position is :math:`(W - 1) p` in the
    sorted sample counted from 0; returns the masses that the values at its
    floor :math:`t` and at :math:`t + 1` must reach (:math:`t + 1` and
    :math:`t + 2`, the second capped at :math:`W`) and the fraction
    :math:`(W - 1)p - t` between them (NumPy's "linear" method on repeated rows).
    """
    position = (total_weight - 1.0) * prob
    floor = math.floor(position)
    return floor + 1.0, min(floor + 2.0, total_weight), position - floor


def median_density_problem(density: float, bandwidth: float) -> str | None:
    """Why a density estimate is unusable (not positive and finite: residuals
    all zero, or none near the median), with what to do; None when it is fine."""
    if np.isfinite(density) and density > 0 and bandwidth > 0:
        return None
    return (
        "The kernel estimate of the error density at the median is "
        f"{density!r} (bandwidth {bandwidth!r}): the residuals are all zero or "
        "none lies within a bandwidth of the median, so the sandwich covariance "
        'is undefined and the standard errors are NaN. Use cov_type="nonrobust" '
        "(the Laplace model)."
    )
