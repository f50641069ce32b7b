"""Negative binomial (NB2) regression: :math:`y_i \\sim \\mathrm{NB}(\\mu_i, \\alpha)`,
:math:`\\mathrm{Var}(y_i) = \\mu_i + \\alpha\\mu_i^2`.

With :math:`\\eta_i = x_i^\\top w + b + o_i`, :math:`\\mu_i = e^{\\eta_i}` and
:math:`r = 1/\\alpha`,

.. math::

    \\log p(y_i) = \\log\\Gamma(y_i + r) - \\log\\Gamma(r) - \\log y_i!
        + y_i (\\eta_i + \\log\\alpha) - (y_i + r) \\log(1 + \\alpha\\mu_i),

    \\partial_\\eta \\log p = \\frac{y_i - \\mu_i}{1 + \\alpha\\mu_i}, \\qquad
    \\partial_{\\log\\alpha} \\log p = -r f_r, \\quad
    f_r = \\psi(y_i + r) - \\psi(r) - \\log(1 + \\alpha\\mu_i)
        + \\frac{\\alpha(\\mu_i - y_i)}{1 + \\alpha\\mu_i},

and the second derivatives :math:`\\partial^2_\\eta = -\\mu_i(1 + \\alpha y_i)/(1 +
\\alpha\\mu_i)^2`, :math:`\\partial_\\eta\\partial_{\\log\\alpha} = -\\alpha\\mu_i (y_i -
\\mu_i)/(1 + \\alpha\\mu_i)^2` and :math:`\\partial^2_{\\log\\alpha} = r f_r + r^2
f_{rr}`, :math:`f_{rr} = \\psi'(y_i + r) - \\psi'(r) + 1/r - 1/(r + \\mu_i) -
(\\mu_i - y_i)/(r + \\mu_i)^2` (:math:`\\psi` the digamma function).

Conventions
-----------
``theta = [coef (n_features), intercept (only if fit_intercept), log alpha]``:
the dispersion is stored as its logarithm, so every real ``theta`` is valid.
The linear part is laid out as in :mod:`skmle.models.poisson`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from skmle._sparse import is_sparse
from skmle.models.base import Batch, LogLikelihood
from skmle.models.gamma_ratios import (
    digamma_difference,
    log_gamma_ratio,
    trigamma_difference,
)
from skmle.models.log_linear import LogLinearLayout
from skmle.models.logistic_information import weighted_gram
from skmle.models.poisson import ETA_BOUND

LOG_ALPHA_BOUND = 50.0
"""Beyond :math:`|\\log\\alpha| = 50` the dispersion is treated as impossible
(log-likelihood :math:`-\\infty`), so no trial step reaches the range where
:math:`\\log\\Gamma(y + 1/\\alpha) - \\log\\Gamma(1/\\alpha)` loses every digit."""


class NegativeBinomialLogLikelihood(LogLinearLayout, LogLikelihood):
    """Log-likelihood of NB2 regression (see the module docstring).

    Parameters
    ----------
    n_features : int
    fit_intercept : bool, default=True

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from skmle.models.base import Batch
    >>> from skmle.models.negative_binomial import NegativeBinomialLogLikelihood
    >>> batch = Batch.from_arrays([[0.0], [1.0]], np.array([1.0, 3.0]))
    >>> model = NegativeBinomialLogLikelihood(n_features=1)
    >>> theta = np.array([0.5, 0.1, np.log(0.4)])
    >>> mu, r = np.exp([0.1, 0.6]), 1 / 0.4
    >>> bool(np.isclose(model.loglik(theta, batch),
    ...      stats.nbinom.logpmf([1, 3], r, r / (r + mu)).sum()))
    True
    """

    n_extra = 1
    has_hessian = True
    capabilities = frozenset({"hessian", "scores", "linear_predictor"})

    def log_alpha(self, theta: np.ndarray) -> float:
        return float(theta[-1])

    def terms(self, theta: np.ndarray, batch: Batch):
        """Per row: the log-density, :math:`\\mu`, :math:`\\alpha\\mu` and
        :math:`\\log(1 + \\alpha\\mu)`; and the distinct counts with each row's
        index into them (the special functions of :math:`y + r` are computed
        once per distinct count: a few dozen, not one per row)."""
        eta, log_alpha = self.eta(theta, batch), self.log_alpha(theta)
        y, alpha = batch.y, np.exp(log_alpha)
        with np.errstate(over="ignore"):
            mu = np.exp(np.minimum(eta, ETA_BOUND + 1.0))
        alpha_mu = alpha * mu
        log1p = np.log1p(alpha_mu)
        r = 1.0 / alpha
        counts = np.unique(y, return_inverse=True)
        values, index = counts
        # log Gamma(y + r) - log Gamma(r) + y log(alpha), without cancellation
        # near the Poisson limit (skmle.models.gamma_ratios).
        log_gammas = log_gamma_ratio(values, r) - gammaln(values + 1.0)
        loglik = log_gammas[index] + y * eta - (y + r) * log1p
        if abs(log_alpha) > LOG_ALPHA_BOUND:
            loglik = np.full_like(loglik, -np.inf)
        loglik[eta > ETA_BOUND] = -np.inf
        return loglik, mu, alpha_mu, log1p, counts

    def derivatives(self, theta: np.ndarray, batch: Batch, second: bool = True):
        """Per row: the log-density, :math:`\\partial_\\eta`,
        :math:`\\partial_{\\log\\alpha}` and (if ``second``) the three second
        derivatives."""
        loglik, mu, alpha_mu, log1p, (values, index) = self.terms(theta, batch)
        y, alpha = batch.y, np.exp(self.log_alpha(theta))
        r = 1.0 / alpha
        q = 1.0 + alpha_mu
        d_eta = (y - mu) / q
        digammas = digamma_difference(values, r)
        f_r = digammas[index] - log1p + alpha * (mu - y) / q
        if not second:
            return loglik, d_eta, -r * f_r
        trigammas = trigamma_difference(values, r)
        # 1/r - 1/(r + mu) as mu / (r (r + mu)): no cancellation for large r.
        f_rr = trigammas[index] + mu / (r * (r + mu)) - (mu - y) / (r + mu) ** 2
        d2_eta = -mu * (1.0 + alpha * y) / q**2
        d2_cross = -alpha_mu * (y - mu) / q**2
        d2_alpha = r * f_r + r**2 * f_rr
        return loglik, d_eta, -r * f_r, d2_eta, d2_cross, d2_alpha

    def loglik_obs(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        return self.terms(theta, batch)[0]

    def loglik_grad(self, theta: np.ndarray, batch: Batch):
        loglik, d_eta, d_alpha = self.derivatives(theta, batch, second=False)
        w = batch.sample_weight
        return float(w @ loglik), np.append(self.chain(batch.X, w * d_eta), w @ d_alpha)

    def scores(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        _, d_eta, d_alpha = self.derivatives(theta, batch, second=False)
        return np.column_stack([self.design_scores(batch.X, d_eta), d_alpha])

    def hessian(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        *_, d2_eta, d2_cross, d2_alpha = self.derivatives(theta, batch)
        w, k = batch.sample_weight, self.n_linear
        hess = np.empty((self.n_params, self.n_params))
        if is_sparse(batch.X):
            hess[:k, :k] = self.information(batch.X, w * d2_eta)
        else:
            hess[:k, :k] = weighted_gram(
                self.centred(batch.X), w * d2_eta, self.fit_intercept
            )
        hess[:k, k] = hess[k, :k] = self.chain(batch.X, w * d2_cross)
        hess[k, k] = w @ d2_alpha
        return hess

    def saturated_loglik_obs(self, theta: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The log-likelihood of each row at :math:`\\mu = y`, :math:`\\alpha`
        held at its value in ``theta``."""
        alpha = np.exp(self.log_alpha(theta))
        r = 1.0 / alpha
        return (
            log_gamma_ratio(y, r)
            - gammaln(y + 1.0)
            + xlogy(y, y)
            - (y + r) * np.log1p(alpha * y)
        )

    def half_deviance_obs(self, theta, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Half the unit deviance, :math:`y\\log(y/\\mu) - (y + r)\\log((1 +
        \\alpha y)/(1 + \\alpha\\mu))`, per row."""
        alpha = np.exp(self.log_alpha(theta))
        r = 1.0 / alpha
        return (
            xlogy(y, y)
            - xlogy(y, mu)
            - (y + r) * (np.log1p(alpha * y) - np.log1p(alpha * mu))
        )
