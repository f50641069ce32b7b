"""Confidence intervals for the class probabilities of a multinomial logit.

With :math:`K` classes, linear predictors :math:`\\eta_j = x_1^\\top \\beta_j` and
:math:`p = \\mathrm{softmax}(\\eta)`, the log-odds of class :math:`k` against
the rest,

.. math:: \\ell_k = \\log\\frac{p_k}{1 - p_k} = \\eta_k - \\log\\sum_{j \\ne k} e^{\\eta_j},
   \\qquad
   \\frac{\\partial \\ell_k}{\\partial \\eta_j} = a_{kj} =
   \\begin{cases} 1 & j = k \\\\ -p_j / (1 - p_k) & j \\ne k, \\end{cases}

has the delta-method variance :math:`\\mathrm{se}_k^2 = \\sum_{j,l} a_{kj} a_{kl}\\,
x_1^\\top V_{jl}\\, x_1`, with :math:`V_{jl}` the covariance blocks of
:math:`\\beta_j, \\beta_l`; the interval :math:`\\mathrm{expit}(\\hat\\ell_k \\pm z\\,
\\mathrm{se}_k)` lies in (0, 1) and for two classes is the binary interval on
the logit scale (statsmodels' "endpoint" method). :math:`\\sum_j a_{kj} = 0`, so
the result is the same for any of the equivalent parameterisations (rows of
:math:`\\beta` shifted by a common vector).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax, logsumexp

from skmle.inference.small_sample import critical_value

ROWS_PER_BLOCK = 256
"""Rows whose :math:`K \\times K` blocks :math:`x_1^\\top V_{jl} x_1` are formed at once."""


def class_log_odds(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:math:`\\ell_k` and :math:`a_{kj}` of each row, shapes (n, K) and (n, K, K),
    in log space (no :math:`1 - p_k` is formed)."""
    log_prob = log_softmax(eta, axis=1)
    n, K = eta.shape
    log_rest = np.empty((n, K))
    for k in range(K):
        log_rest[:, k] = logsumexp(np.delete(log_prob, k, axis=1), axis=1)
    log_odds = log_prob - log_rest
    # a[i, k, j] = -p_j / (1 - p_k) off the diagonal, 1 on it.
    a = -np.exp(log_prob[:, None, :] - log_rest[:, :, None])
    a[:, np.arange(K), np.arange(K)] = 1.0
    return log_odds, a


def class_log_odds_se(
    rows: np.ndarray, eta: np.ndarray, covariance: np.ndarray
) -> np.ndarray:
    """:math:`\\mathrm{se}(\\hat\\ell_k)` for each row and class, shape (n, K).

    Parameters
    ----------
    rows : ndarray of shape (n, p)
        :math:`x_1` of each row (``[x, 1]`` with an intercept).
    eta : ndarray of shape (n, K)
    covariance : ndarray of shape (K p, K p)
        The covariance of the class-major coefficient rows :math:`[\\beta_1,
        \\dots, \\beta_K]`, each of length :math:`p`.
    """
    n, K = eta.shape
    p = rows.shape[1]
    blocks = covariance.reshape(K, p, K, p).transpose(1, 0, 2, 3).reshape(p, -1)
    _, a = class_log_odds(eta)
    variance = np.empty((n, K))
    for start in range(0, n, ROWS_PER_BLOCK):
        part = slice(start, start + ROWS_PER_BLOCK)
        x = rows[part]
        # S[i, j, l] = x_i^T V_jl x_i
        S = np.einsum("ijlb,ib->ijl", (x @ blocks).reshape(-1, K, K, p), x)
        variance[part] = np.einsum("ikj,ijl,ikl->ik", a[part], S, a[part])
    return np.sqrt(np.maximum(variance, 0.0))


def softmax_probability_interval(
    rows: np.ndarray, eta: np.ndarray, covariance: np.ndarray, alpha: float
) -> np.ndarray:
    """:math:`\\mathrm{expit}(\\hat\\ell_k \\pm z\\,\\mathrm{se}_k)` for each row and
    class, shape (n, K, 2) (lower, upper); NaN where the covariance is."""
    log_odds, _ = class_log_odds(eta)
    half = critical_value(alpha, None) * class_log_odds_se(rows, eta, covariance)
    return np.stack([expit(log_odds - half), expit(log_odds + half)], axis=-1)
