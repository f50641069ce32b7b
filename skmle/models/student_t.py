"""Linear regression with Student-t noise: :math:`y = x^\\top w + b + e`, :math:`e \\sim t_\\nu(0, s)`.

With :math:`z = (y - x^\\top w - b)/s` the log-density of a row is

.. math::

    \\log p = \\log\\Gamma\\big(\\tfrac{\\nu+1}{2}\\big) - \\log\\Gamma\\big(\\tfrac{\\nu}{2}\\big)
    - \\tfrac12\\log(\\nu\\pi) - \\log s - \\tfrac{\\nu+1}{2}\\log\\big(1 + z^2/\\nu\\big),

the density of ``scipy.stats.t(nu, loc=x @ w + b, scale=s)`` (:math:`s` is the
scale of the t, not its standard deviation). With the weight
:math:`u = (\\nu+1)/(\\nu+z^2)` (the E-step weight of EM),

.. math::

    s\\,\\partial_r \\log p = -u z, \\qquad
    \\partial_{\\log s} \\log p = u z^2 - 1, \\qquad
    \\partial_{\\log\\nu} \\log p = \\tfrac{\\nu}{2}\\Big(\\psi\\big(\\tfrac{\\nu+1}{2}\\big)
    - \\psi\\big(\\tfrac{\\nu}{2}\\big) - \\log\\big(1 + z^2/\\nu\\big)
    + \\frac{u z^2 - 1}{\\nu}\\Big),

and the exact second derivatives of :meth:`StudentTLogLikelihood.hessian`
(derived in ``docs/user_guide/student_t.rst``; checked against differences in
``tests/models/test_student_t.py``).

Conventions
-----------
``theta = [coef (n_features), intercept (if fit_intercept), log s, log nu]``, the
last entry only when :math:`\\nu` is estimated (``df=None``); a fixed ``df`` is
a constant of the model. :math:`\\nu` outside :data:`DF_BOUNDS` has
log-likelihood :math:`-\\infty` (the boundary an estimator reports).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, polygamma

from skmle.models.base import Batch
from skmle.models.linear import LinearLogLikelihood

LOG_SQRT_PI = 0.5 * float(np.log(np.pi))
LOG_GAMMA_HALF = float(gammaln(0.5))

DF_BOUNDS = (1e-2, 1e4)
"""The degrees of freedom an estimate may take. Above :math:`10^4` the t is a
normal distribution to within :math:`10^{-4}` in log-density and the profile in
:math:`\\nu` is flat to rounding; below :math:`10^{-2}` the likelihood is
degenerate (the scale then runs to zero on rows fitted exactly)."""

# The bounds on log nu, with room for the rounding of log and exp.
LOG_DF_LOW, LOG_DF_HIGH = np.log(DF_BOUNDS[0]) - 1e-12, np.log(DF_BOUNDS[1]) + 1e-12


def log_normaliser(df: float) -> float:
    """:math:`\\log\\Gamma(\\frac{\\nu+1}{2}) - \\log\\Gamma(\\frac{\\nu}{2}) -
    \\frac12\\log(\\nu\\pi)`, by :math:`\\log B(\\frac{\\nu}{2}, \\frac12)`, which keeps its
    digits for large :math:`\\nu` where the two log-gammas nearly cancel."""
    return (
        LOG_GAMMA_HALF - float(betaln(0.5 * df, 0.5)) - 0.5 * np.log(df) - LOG_SQRT_PI
    )


class StudentTLogLikelihood(LinearLogLikelihood):
    """Log-likelihood of :math:`y \\sim t_\\nu(x^\\top w + b, s)`.

    Parameters
    ----------
    n_features : int
    fit_intercept : bool, default=True
    df : float or None, default=None
        :math:`\\nu` fixed at this value, or None to make :math:`\\log\\nu` the last
        entry of ``theta``.
    """

    has_hessian = True
    capabilities = frozenset({"hessian", "scores", "linear_predictor", "em_step"})

    def __init__(self, n_features: int, fit_intercept: bool = True, df=None):
        super().__init__(n_features, fit_intercept)
        self.df = None if df is None else float(df)
        self.n_params += int(self.df is None)

    # -- layout --------------------------------------------------------------------
    def pack(self, coef, intercept: float, log_scale: float, log_df=None) -> np.ndarray:
        """``[coef, intercept, log s]``, then ``log_df`` when :math:`\\nu` is free."""
        theta = super().pack(coef, intercept, log_scale)
        return theta if self.df is not None else np.append(theta, float(log_df))

    def degrees_of_freedom(self, theta: np.ndarray) -> float:
        """:math:`\\nu` at ``theta`` (the fixed ``df``, or :math:`e^{\\theta_{-1}}`
        rounded into :data:`DF_BOUNDS`)."""
        if self.df is not None:
            return self.df
        return float(np.clip(np.exp(theta[-1]), *DF_BOUNDS))

    def standardised_residuals(self, theta: np.ndarray, batch: Batch):
        if self.df is None and not LOG_DF_LOW <= theta[-1] <= LOG_DF_HIGH:
            return None
        return super().standardised_residuals(theta, batch)

    # -- the noise -----------------------------------------------------------------
    def noise_terms(self, z, log_scale, df=None):
        """:math:`\\log p`, :math:`s\\,\\partial_r\\log p = -uz` and
        :math:`\\partial_{\\log s}\\log p = uz^2 - 1` at :math:`\\nu` = ``df``
        (the model's ``df`` by default)."""
        df = self.df if df is None else df
        z2 = z * z
        u = (df + 1.0) / (df + z2)
        logp = log_normaliser(df) - log_scale - 0.5 * (df + 1.0) * np.log1p(z2 / df)
        return logp, -u * z, (df + 1.0) * (z2 / (df + z2)) - 1.0

    def noise_terms_at(self, z, theta):
        df = self.degrees_of_freedom(theta)
        terms = self.noise_terms(z, self.unpack(theta)[2], df)
        if self.df is not None:
            return terms
        return (*terms, self._d_log_df(z * z, df, terms[2]))

    @staticmethod
    def _d_log_df(z2, df, d_log_scale):
        """:math:`\\partial_{\\log\\nu}\\log p` per row."""
        psi = digamma(0.5 * (df + 1.0)) - digamma(0.5 * df)
        return 0.5 * df * (psi - np.log1p(z2 / df)) + 0.5 * d_log_scale

    def em_weights(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """The E-step weights :math:`u_i = (\\nu+1)/(\\nu+z_i^2)`, the expected
        precision of each row's normal given its residual."""
        df = self.degrees_of_freedom(theta)
        z = self.standardised_residuals(theta, batch)
        return (df + 1.0) / (df + z * z)

    # -- second derivatives ----------------------------------------------------------
    def hessian(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """The exact Hessian in ``theta``. Per row, with :math:`D = \\nu + z^2`,

        .. math::

            \\partial^2_{\\eta} = -\\frac{(\\nu+1)(\\nu-z^2)}{s^2 D^2}, \\quad
            \\partial_\\eta\\partial_{\\log s} = -\\frac{2\\nu(\\nu+1) z}{s D^2}, \\quad
            \\partial^2_{\\log s} = -\\frac{2\\nu(\\nu+1) z^2}{D^2},

            \\partial_\\eta\\partial_{\\log\\nu} = \\frac{\\nu z (z^2 - 1)}{s D^2}, \\quad
            \\partial_{\\log s}\\partial_{\\log\\nu} = \\frac{\\nu z^2 (z^2 - 1)}{D^2},

            \\partial^2_{\\log\\nu} = \\nu g + \\nu^2 g', \\qquad
            g = \\partial_\\nu \\log p = \\tfrac12\\Big(\\psi\\big(\\tfrac{\\nu+1}{2}\\big)
            - \\psi\\big(\\tfrac{\\nu}{2}\\big) - \\frac1\\nu - \\log\\frac{D}{\\nu}
            + \\frac{(\\nu+1) z^2}{\\nu D}\\Big)

        (:meth:`_d2_log_df`).
        """
        z = self.standardised_residuals(theta, batch)
        if z is None:
            return np.full((self.n_params, self.n_params), np.nan)
        log_scale = self.unpack(theta)[2]
        inv_s = np.exp(-log_scale)
        df = self.degrees_of_freedom(theta)
        w = batch.sample_weight
        # In v = z^2 / D, u = (nu + 1) / D and z / D, nothing overflows for the
        # largest z allowed (Z_BOUND).
        z2 = z * z
        inv_d = 1.0 / (df + z2)
        u, v, z_d = (df + 1.0) * inv_d, z2 * inv_d, z * inv_d
        hess = self.design_hessian(
            batch,
            -(inv_s**2) * w * u * (1.0 - 2.0 * v),
            -2.0 * inv_s * w * u * df * z_d,
            -2.0 * df * float(w @ (u * v)),
        )
        if self.df is None:
            j = self.log_scale_index()
            eta_df = inv_s * w * df * z_d * (v - inv_d)
            d, k = self.n_features, self.n_params - 1
            hess[:d, k] = hess[k, :d] = batch.X.T @ eta_df
            if self.fit_intercept:
                hess[d, k] = hess[k, d] = eta_df.sum()
            hess[j, k] = hess[k, j] = df * float(w @ (v * (v - inv_d)))
            hess[k, k] = float(w @ self._d2_log_df(z2, df))
        return hess

    def _d2_log_df(self, z2, df):
        """:math:`\\partial^2_{\\log\\nu}\\log p` per row:
        :math:`\\nu g + \\nu^2 g'` with :math:`g = \\partial_\\nu \\log p`."""
        u, v = (df + 1.0) / (df + z2), z2 / (df + z2)
        first = self._d_log_df(z2, df, (df + 1.0) * v - 1.0)
        trigamma = polygamma(1, 0.5 * (df + 1.0)) - polygamma(1, 0.5 * df)
        # d/dnu of log(nu / D) + (nu + 1) z^2 / (nu D) - 1 / nu, in v = z^2 / D:
        rest = v * (1.0 - u) / df + (1.0 - v) / (df * df)
        return first + 0.25 * df * df * trigamma + 0.5 * df * df * rest
