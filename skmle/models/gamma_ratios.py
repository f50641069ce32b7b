"""Differences of the log-gamma function and its derivatives at :math:`y + r` and
:math:`r`, accurate for large :math:`r`.

The negative binomial's log-density holds :math:`\\log\\Gamma(y + r) -
\\log\\Gamma(r)` with :math:`r = 1/\\alpha`; near the Poisson limit
(:math:`\\alpha \\to 0`) both terms are about :math:`r \\log r` while their
difference is about :math:`y \\log r`, so subtracting the two values of
``gammaln`` loses :math:`\\log_{10}(r \\log r)` digits (all of them by
:math:`r = 10^{15}`), and the same happens to :math:`\\psi(y + r) - \\psi(r)`
and :math:`\\psi'(y + r) - \\psi'(r)`, whose differences the score and the
information in :math:`\\log\\alpha` multiply by :math:`r` and :math:`r^2`. For
:math:`r \\ge` :data:`ASYMPTOTIC_FROM` the differences are formed from Stirling's
series instead, each term's difference in a form without cancellation:

.. math::

    \\log\\Gamma(y + r) - \\log\\Gamma(r) - y \\log r
        = (y + r - \\tfrac12) \\log(1 + y/r) - y + c(y + r) - c(r),

    \\psi(y + r) - \\psi(r) = \\log(1 + y/r) - \\big(\\tfrac{1}{2(y + r)} -
        \\tfrac{1}{2r}\\big) - \\sum_k \\frac{B_{2k}}{2k}
        \\Big(\\frac{1}{(y + r)^{2k}} - \\frac{1}{r^{2k}}\\Big),

and the derivative of the latter for :math:`\\psi'`, with :math:`c(x) = \\log\\Gamma(x)
- (x - \\frac12)\\log x + x - \\frac12 \\log 2\\pi = \\frac{1}{12x} - \\frac{1}{360x^3}
+ \\frac{1}{1260x^5} - \\frac{1}{1680x^7} + \\dots` (Bernoulli numbers
:math:`B_{2k}`); from :math:`r = 30` on the terms left out are below
:math:`10^{-15}` of the results. Below it the special functions are subtracted
directly (they lose at most about :math:`10^{-13}` relative there).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, zeta

ASYMPTOTIC_FROM = 30.0
"""From this :math:`r` on the differences come from Stirling's series."""

_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680)
"""Coefficients of :math:`x^{-1}, x^{-3}, x^{-5}, x^{-7}` in :math:`c(x)`."""
_DIGAMMA = (1 / 12, -1 / 120, 1 / 252, -1 / 240)
"""Coefficients :math:`B_{2k}/(2k)` of :math:`x^{-2k}`, k = 1..4, in
:math:`\\log x - \\frac{1}{2x} - \\psi(x)`."""


def _power_difference(y: np.ndarray, r: float, k: int) -> np.ndarray:
    """:math:`(y + r)^{-k} - r^{-k} = r^{-k}\\,\\mathrm{expm1}(-k\\,
    \\mathrm{log1p}(y/r))`: accurate to rounding relative to itself, and free of
    overflow for any :math:`r`."""
    with np.errstate(under="ignore"):
        return r ** (-k) * np.expm1(-k * np.log1p(y / r))


def log_gamma_ratio(y: np.ndarray, r: float) -> np.ndarray:
    """:math:`\\log\\Gamma(y + r) - \\log\\Gamma(r) - y \\log r`, elementwise in ``y``
    (counts, :math:`y \\ge 0`) for one :math:`r > 0`."""
    y = np.asarray(y, dtype=float)
    if r < ASYMPTOTIC_FROM:
        return gammaln(y + r) - gammaln(r) - y * np.log(r)
    series = sum(
        c * _power_difference(y, r, 2 * i + 1) for i, c in enumerate(_STIRLING)
    )
    # (y + r - 1/2) log(1 + u) - y with u = y / r, as r [(1 + u) log(1 + u) - u]
    # - log(1 + u) / 2: the bracket is (log(1 + u) - u) + u log(1 + u), about
    # u^2 / 2, with no subtraction of nearly equal terms.
    u = y / r
    log1p_u = np.log1p(u)
    bracket = log1p_minus_x(u) + u * log1p_u
    return r * bracket - 0.5 * log1p_u + series


LOG1PMX_SERIES_BELOW = 0.25
"""Below this :func:`log1p_minus_x` sums its series (30 terms: 0.25^30 / 30 is
far below rounding); above, ``log1p(x) - x`` loses at most a digit."""


def log1p_minus_x(x: np.ndarray) -> np.ndarray:
    """:math:`\\log(1 + x) - x` for :math:`x \\ge 0`, accurate to rounding relative to
    itself: :math:`\\sum_{k \\ge 2} (-1)^{k+1} x^k / k` for small :math:`x`."""
    x = np.asarray(x, dtype=float)
    small = x < LOG1PMX_SERIES_BELOW
    out = np.log1p(x) - x
    if np.any(small):
        z = x[small]
        total = np.zeros_like(z)
        power = z.copy()
        for k in range(2, 32):
            power = power * -z
            total += power / k
        out[small] = total
    return out


def digamma_difference(y: np.ndarray, r: float) -> np.ndarray:
    """:math:`\\psi(y + r) - \\psi(r)`, elementwise in ``y`` for one :math:`r > 0`."""
    y = np.asarray(y, dtype=float)
    if r < ASYMPTOTIC_FROM:
        return digamma(y + r) - digamma(r)
    series = sum(
        c * _power_difference(y, r, 2 * (i + 1)) for i, c in enumerate(_DIGAMMA)
    )
    return np.log1p(y / r) - 0.5 * _power_difference(y, r, 1) - series


def trigamma_difference(y: np.ndarray, r: float) -> np.ndarray:
    """:math:`\\psi'(y + r) - \\psi'(r)`, elementwise in ``y`` for one :math:`r > 0`:
    the derivative in :math:`r` of :func:`digamma_difference`, term by term
    (:math:`\\psi'(x) = \\frac1x + \\frac{1}{2x^2} + \\sum_k B_{2k} x^{-2k-1}`)."""
    y = np.asarray(y, dtype=float)
    if r < ASYMPTOTIC_FROM:
        return zeta(2.0, y + r) - zeta(2.0, r)
    series = sum(
        2 * (i + 1) * c * _power_difference(y, r, 2 * i + 3)
        for i, c in enumerate(_DIGAMMA)
    )
    return _power_difference(y, r, 1) + 0.5 * _power_difference(y, r, 2) + series
