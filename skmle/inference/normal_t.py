"""The sum of a normal error and Student's t noise: a prediction interval.

A new observation of a regression with Student's t noise is :math:`y = \\eta + s
T_\\nu`; the fitted :math:`\\hat\\eta` errs by about :math:`N(0, \\tau^2)` with
:math:`\\tau` its standard error, independent of the new noise. The interval of
:math:`y` around :math:`\\hat\\eta` is then the central interval of :math:`Z =
N(0, \\tau^2) + s T_\\nu`, whose distribution function has no closed form.

Student's t is a scale mixture of normals, :math:`T_\\nu = N' / \\sqrt{V/\\nu}` with
:math:`V \\sim \\chi^2_\\nu`, so given :math:`V` the sum is normal, and

.. math:: F(z) = E\\Big[\\Phi\\Big(z \\big/ \\sqrt{\\tau^2 + s^2 \\nu / V}\\Big)\\Big],
          \\qquad
          f(z) = E\\Big[\\varphi(z / \\sigma_V) / \\sigma_V\\Big], \\quad
          \\sigma_V^2 = \\tau^2 + s^2 \\nu / V:

one expectation over :math:`X = \\log V` of a bounded, smooth function, for every
ratio :math:`\\tau / s`. Its density :math:`\\log f_X(x) = \\tfrac\\nu2 x -
\\tfrac12 e^x - \\tfrac\\nu2 \\log 2 - \\log\\Gamma(\\tfrac\\nu2)` decays
exponentially to the left and doubly exponentially to the right; with :math:`x = m
+ a \\sinh t` (:func:`_mixture_rule`) both tails decay doubly exponentially in
:math:`t`, and the trapezoidal rule in :math:`t` converges
geometrically (the tanh-sinh idea). :math:`\\tau = 0` is the t distribution itself.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import special, stats

from skmle.inference.quantile_search import symmetric_quantile

STEP = 1.0 / 32.0
"""Step of the trapezoidal rule in :math:`t`."""
HALF_WIDTH = 4.5
"""The rule runs over :math:`t \\le` this (:math:`x - m \\le 45 a`), and at least
as far to the left."""
MAX_WIDTH = 2.0
"""Largest scale :math:`a` of the map :math:`x = m + a \\sinh t`."""
MIN_DF = 0.5
"""Smallest :math:`\\nu` of the rule: from here up its quantiles agree with adaptive
quadrature of the convolution (``scipy.integrate.quad``) to 1e-9 relative at
every ratio :math:`\\tau/s` for probabilities up to 0.995 (tested); below, the
quantiles lie so far in the tail (beyond :math:`10^5 s` at 0.995 for
:math:`\\nu = 0.35`) that a fixed rule no longer resolves them."""
ROWS_PER_BLOCK = 4096
"""Rows evaluated at once (each needs its own row of nodes)."""


@cache
def _mixture_rule(df: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes :math:`\\nu / V_k` and weights of :math:`E[g(V)]`,
    :math:`V \\sim \\chi^2_\\nu`, by the trapezoidal rule in :math:`t`.

    :math:`x = m + a \\sinh t` from the mode :math:`m = \\log \\nu` of
    :math:`X`, with :math:`a` its standard deviation :math:`\\psi'(\\nu/2)^{1/2}`
    capped at :data:`MAX_WIDTH` (the right tail, :math:`e^{-e^x/2}`, falls on
    the scale of 1 whatever :math:`\\nu`); the rule runs to the right over
    :math:`t \\le` :data:`HALF_WIDTH` and to the left until the tail
    :math:`e^{\\nu (x - m)/2}` is below :math:`e^{-40}`, far for a small
    :math:`\\nu`.
    """
    half = df / 2.0
    width = min(np.sqrt(special.polygamma(1, half)), MAX_WIDTH)
    left = max(HALF_WIDTH, np.arcsinh(80.0 / (df * width)))
    t = np.arange(-np.ceil(left / STEP), np.ceil(HALF_WIDTH / STEP) + 1) * STEP
    x = np.log(df) + width * np.sinh(t)
    with np.errstate(over="ignore"):
        log_density = half * x - 0.5 * np.exp(x)
    log_density -= half * np.log(2.0) + special.gammaln(half)
    weights = np.exp(log_density) * width * np.cosh(t)
    keep = weights > 0
    return df * np.exp(-x[keep]), weights[keep] / weights[keep].sum()


def normal_t_cdf_pdf(
    z: np.ndarray, scale: float, df: float, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distribution function and density of :math:`N(0, \\tau^2) + s T_\\nu` at
    ``z``, with :math:`\\tau` = ``sd`` (one per entry of ``z``) and :math:`s` =
    ``scale``:

    .. math:: F(z) = \\sum_k w_k \\Phi(z / \\sigma_k), \\quad
              f(z) = \\sum_k w_k \\varphi(z / \\sigma_k) / \\sigma_k, \\quad
              \\sigma_k^2 = \\tau^2 + s^2 \\nu / V_k,

    over the nodes :math:`V_k` of the module's rule.
    """
    z = np.asarray(z, dtype=float)
    tau = np.broadcast_to(np.asarray(sd, dtype=float), z.shape)
    ratio, weights = _mixture_rule(float(df))
    sigma = np.sqrt(tau[..., None] ** 2 + scale**2 * ratio)
    u = z[..., None] / sigma
    cdf = special.ndtr(u) @ weights
    pdf = (np.exp(-0.5 * u * u) / (np.sqrt(2.0 * np.pi) * sigma)) @ weights
    return cdf, pdf


def normal_t_quantile(
    prob: float, scale: float, df: float, sd: np.ndarray
) -> np.ndarray:
    """The ``prob`` quantile (``prob`` > 1/2) of :math:`N(0, \\tau^2) + s
    T_\\nu` for each :math:`\\tau` of ``sd``.

    The root of :math:`F(z) = p` lies between 0 and the sum of the ``(1 +
    prob)/2`` quantiles of the two terms (the union bound), and is found by
    :func:`~skmle.inference.quantile_search.symmetric_quantile` from the larger
    term's own quantile.
    """
    tau = np.asarray(sd, dtype=float)
    tail = 0.5 * (1.0 + prob)
    t_tail, t_prob = stats.t.ppf([tail, prob], df)
    z_tail, z_prob = stats.norm.ppf([tail, prob])
    high = z_tail * tau + t_tail * scale
    start = np.maximum(z_prob * tau, t_prob * scale)

    def excess_and_density(z):
        cdf, pdf = normal_t_cdf_pdf(z, scale, df, tau)
        return cdf - prob, pdf

    return symmetric_quantile(excess_and_density, high, start)


def normal_t_interval(
    eta: np.ndarray, se: np.ndarray, scale: float, df: float, alpha: float
) -> np.ndarray:
    """Central ``1 - alpha`` interval of :math:`\\eta + N(0, \\mathrm{se}^2) + s
    T_\\nu`, shape (n_samples, 2); symmetric about :math:`\\eta`. Rows are
    solved :data:`ROWS_PER_BLOCK` at a time; a NaN ``se`` gives NaN limits.

    Raises
    ------
    ValueError
        When :math:`\\nu <` :data:`MIN_DF`.
    """
    if not df >= MIN_DF:
        raise ValueError(
            f"The interval of a new observation needs degrees of freedom of at "
            f"least {MIN_DF}, got {df!r}: noise this heavy-tailed puts the "
            "interval's limits further out than its quadrature resolves; use "
            "kind='plugin' (the t quantiles of the noise alone) or kind='mean'."
        )
    se = np.asarray(se, dtype=float)
    half = np.full(se.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(se))
    for start in range(0, finite.size, ROWS_PER_BLOCK):
        rows = finite[start : start + ROWS_PER_BLOCK]
        half[rows] = normal_t_quantile(1.0 - alpha / 2.0, scale, df, se[rows])
    return np.column_stack([eta - half, eta + half])
