"""The upper quantile of a symmetric distribution, for many distributions at once.

Prediction intervals that include the estimates' uncertainty need the quantile of
a convolution (the estimate's normal error plus the model's noise) for each row,
a distribution with a distribution function but no closed-form inverse.
:func:`symmetric_quantile` solves :math:`F(z) = p` for all rows together by
Newton's method, safeguarded by bisection on a bracket that every step narrows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ROUNDING_STEPS = 4.0
"""Newton stops once no row's step exceeds this many units in the last place."""


def symmetric_quantile(
    excess_and_density: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    high: np.ndarray,
    start: np.ndarray,
    n_iter: int = 100,
) -> np.ndarray:
    """The root :math:`z \\in [0, \\text{high}]` of :math:`F(z) - p`, per row.

    ``excess_and_density(z)`` returns :math:`F(z) - p` and the density
    :math:`f(z)` at the trial points; :math:`F(0) - p < 0 \\le F(\\text{high}) -
    p` (a quantile above the median of a distribution symmetric about 0, with
    ``high`` a bound on it). Each step keeps the bracket on the side of the sign
    of :math:`F - p` and takes the Newton step :math:`z - (F - p)/f` where it
    stays inside the bracket, the midpoint elsewhere, from ``start``, until no
    step moves more than rounding (or ``n_iter`` steps).
    """
    high = np.asarray(high, dtype=float).copy()
    low = np.zeros_like(high)
    z = np.clip(np.asarray(start, dtype=float), low, high)
    for _ in range(n_iter):
        excess, density = excess_and_density(z)
        below = excess < 0
        low = np.where(below, z, low)
        high = np.where(below, high, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = z - excess / density
        inside = (step >= low) & (step <= high)
        new = np.where(inside, step, 0.5 * (low + high))
        moved = np.abs(new - z) > ROUNDING_STEPS * np.finfo(float).eps * np.abs(z)
        z = new
        if not np.any(moved):
            break
    return z
