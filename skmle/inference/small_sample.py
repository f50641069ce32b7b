"""Small-sample inference: residual degrees of freedom and critical values.

The exact inference of the Gaussian linear model (statsmodels' ``OLS``, R's
``lm``) divides the residual sum of squares by the residual degrees of freedom
:math:`\\nu = n - p` instead of :math:`n`, and refers the Wald statistics and
intervals to Student's :math:`t_\\nu` instead of the standard normal. With
frequency weights (skmle's convention: a weight of 2 is a duplicated row)
:math:`n = \\sum_i w_i`, so integer weights give what repeated rows give.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def residual_df(n_obs: float, n_params: int) -> float:
    """:math:`\\nu = n - p`, the residual degrees of freedom.

    Parameters
    ----------
    n_obs : float
        :math:`n = \\sum_i w_i`.
    n_params : int
        :math:`p`, the coefficients of the mean (the intercept counted, the
        scale not).

    Returns
    -------
    float
        Not positive when there are no more observations than coefficients:
        then the unbiased scale and the t distribution are undefined.

    Examples
    --------
    >>> residual_df(16.0, 7)
    9.0
    """
    return float(n_obs) - float(n_params)


def critical_value(alpha: float, df: float | None = None) -> float:
    """The ``1 - alpha/2`` quantile of Student's :math:`t_\\nu` (``df``
    :math:`\\nu`), or of the standard normal when ``df`` is None: the half-width
    of a central ``1 - alpha`` interval in standard errors.

    Parameters
    ----------
    alpha : float
        In (0, 1).
    df : float or None, default=None

    Returns
    -------
    float

    Examples
    --------
    >>> round(critical_value(0.05), 6), round(critical_value(0.05, 9), 6)
    (1.959964, 2.262157)
    """
    distribution = stats.norm if df is None else stats.t(df)
    return float(distribution.ppf(1.0 - alpha / 2.0))


def unbiased_variance_factor(n_obs: float, n_params: int) -> float:
    """:math:`n / (n - p)`, from the maximum-likelihood variance
    :math:`\\mathrm{RSS}/n` to the unbiased :math:`\\mathrm{RSS}/(n - p)`; NaN
    when :math:`n \\le p`.

    Examples
    --------
    >>> unbiased_variance_factor(16.0, 7)
    1.7777777777777777
    """
    df = residual_df(n_obs, n_params)
    return float(n_obs) / df if df > 0 else np.nan
