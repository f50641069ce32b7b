"""Centred weighted moments of disjoint sets of rows, merged exactly.

Sufficient statistics kept as a total weight :math:`W`, a mean :math:`\\bar x` and a
centred scatter :math:`S = \\sum_i w_i (x_i - \\bar x)(x_i - \\bar x)^\\top` merge
without the cancellation of running sums of squares (Chan, Golub and LeVeque, 1979):

.. math:: W = W_a + W_b, \\quad \\bar x = \\bar x_a + \\delta\\, W_b / W, \\quad
   S = S_a + S_b + \\delta \\delta^\\top\\, W_a W_b / W, \\quad
   \\delta = \\bar x_b - \\bar x_a .

This is the one copy of that update: the Gaussian's moments, the mixture's E-step
sums (one set per component) and the linear model's moments of :math:`(x, y)` all
merge with :func:`chan_merge`.
"""

from __future__ import annotations

import numpy as np


def chan_merge(
    weight_a, mean_a, scatter_a, weight_b, mean_b, scatter_b
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge two sets of centred moments; leading axes are independent sets.

    Parameters
    ----------
    weight_a, weight_b : float or ndarray of shape (...)
        Total weights; a zero weight contributes nothing (its mean is ignored).
    mean_a, mean_b : ndarray of shape (..., d)
    scatter_a, scatter_b : ndarray of shape (..., d, d) or (..., d)
        Full scatter matrices, or their diagonals.

    Returns
    -------
    weight, mean, scatter
        The moments of the union, shaped as the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([[0.0], [2.0]]), np.array([[4.0]])
    >>> def moments(x):
    ...     m = x.mean(axis=0)
    ...     return float(len(x)), m, ((x - m) ** 2).sum(axis=0)
    >>> weight, mean, scatter = chan_merge(*moments(a), *moments(b))
    >>> float(weight), mean.tolist(), scatter.tolist()
    (3.0, [2.0], [8.0])
    """
    weight_a = np.asarray(weight_a, dtype=float)
    weight_b = np.asarray(weight_b, dtype=float)
    mean_a, mean_b = np.asarray(mean_a, dtype=float), np.asarray(mean_b, dtype=float)
    total = weight_a + weight_b
    share = np.divide(weight_b, total, out=np.zeros_like(total), where=total > 0)
    delta = np.where(weight_a[..., None] > 0, mean_b - mean_a, 0.0)
    mean = np.where(weight_a[..., None] > 0, mean_a + delta * share[..., None], mean_b)
    factor = weight_a * share
    if np.ndim(scatter_a) == mean_a.ndim + 1:
        correction = factor[..., None, None] * (
            delta[..., :, None] * delta[..., None, :]
        )
    else:
        correction = factor[..., None] * delta**2
    return total, mean, scatter_a + scatter_b + correction
