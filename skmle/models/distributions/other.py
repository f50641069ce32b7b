"""The families without finite sufficient statistics: Laplace, Weibull, Student-t.

- Laplace, :math:`\\log p = -\\log 2b - |x - m|/b`: :math:`\\hat m` the (weighted)
  median and :math:`\\hat b = \\sum_i w_i |x_i - \\hat m| / W`, the mean absolute
  deviation from the median. :math:`\\ell` has no second derivative in ``m``:
  :meth:`Laplace.derivatives` returns minus the Fisher information,
  :math:`-\\mathrm{diag}(W/b^2, W)` in ``(m, log b)``.
- Weibull, :math:`\\log p = \\log k - \\log\\lambda + (k-1)L - e^{kL}`,
  :math:`L = \\log(x/\\lambda)`, ``phi = (log k, log scale)``; Newton needs the sums
  of :math:`L`, :math:`z = e^{kL}`, :math:`zL`, :math:`zL^2` at each step.
- Student-t, :math:`\\log p = \\log\\Gamma(\\tfrac{\\nu+1}2) - \\log\\Gamma(\\tfrac\\nu2)
  - \\tfrac12\\log\\nu\\pi - \\log s - \\tfrac{\\nu+1}2\\log(1 + z^2/\\nu)`,
  :math:`z = (x - m)/s`, ``phi = (log df, loc, log scale)``.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from skmle.models.distributions.base import (
    Family,
    LocationScaleMixin,
    LogPositiveMixin,
    trigamma,
    weight_total,
    weighted_sum,
)

EULER_GAMMA = 0.5772156649015329


class Laplace(LocationScaleMixin, Family):
    """Location ``loc`` and scale ``scale``, ``phi = (loc, log scale)``."""

    name, params, closed_form, needs_median = "laplace", ("loc", "scale"), True, True
    checks_in_statistics = False

    def loglik_obs(self, x, phi):
        return -np.log(2.0) - phi[1] - np.abs(x - phi[0]) * np.exp(-phi[1])

    def scores(self, x, phi):
        inv = np.exp(-phi[1])
        z = (x - phi[0]) * inv
        return np.column_stack([np.sign(z) * inv, np.abs(z) - 1.0])

    def derivatives(self, x, w, phi):
        inv, total = np.exp(-phi[1]), weight_total(w, x.shape[0])
        z = (x - phi[0]) * inv
        abs_z = weighted_sum(w, np.abs(z))
        value = -total * (np.log(2.0) + phi[1]) - abs_z
        grad = np.array([inv * weighted_sum(w, np.sign(z)), abs_z - total])
        return float(value), grad, -np.diag([total * inv * inv, total])

    def statistics(self, x, w):
        return np.zeros(0)

    def from_median(self, median, abs_dev_sum, total):
        """The closed form from the median and :math:`\\sum_i w_i|x_i - m|`."""
        if not abs_dev_sum > 0:
            raise ValueError(
                "family='laplace' cannot be fitted to a constant column (for "
                "example n_samples = 1): the scale estimate would be zero."
            )
        return np.array([median, np.log(abs_dev_sum / total)])

    def closed_parts(self, phi, stats, total):
        """At the median the mean of :math:`|z|` is 1 and zero is a subgradient."""
        value = -total * (np.log(2.0) + phi[1] + 1.0)
        inv = np.exp(-phi[1])
        return value, np.zeros(2), -np.diag([total * inv * inv, total])

    def frozen(self, natural):
        return stats.laplace(natural[0], natural[1])


class Weibull(LogPositiveMixin, Family):
    """Shape k and scale λ, ``phi = (log shape, log scale)``, x > 0
    (``scipy.stats.weibull_min`` with ``loc=0``)."""

    name, params, support = "weibull", ("shape", "scale"), "positive values"

    def in_support(self, x):
        return x > 0

    def _parts(self, x, phi):
        k = np.exp(phi[0])
        log_ratio = np.log(x) - phi[1]
        return k, log_ratio, np.exp(k * log_ratio)

    def loglik_obs(self, x, phi):
        k, log_ratio, z = self._parts(x, phi)
        return phi[0] - phi[1] + (k - 1.0) * log_ratio - z

    def scores(self, x, phi):
        k, log_ratio, z = self._parts(x, phi)
        return np.column_stack([1.0 + k * log_ratio * (1.0 - z), k * (z - 1.0)])

    def derivatives(self, x, w, phi):
        k, log_ratio, z = self._parts(x, phi)
        zl = z * log_ratio
        total, s_l, s_z, s_zl, s_zll = (
            weight_total(w, x.shape[0]),
            weighted_sum(w, log_ratio),
            weighted_sum(w, z),
            weighted_sum(w, zl),
            weighted_sum(w, zl * log_ratio),
        )
        value = total * (phi[0] - phi[1]) + (k - 1.0) * s_l - s_z
        grad = np.array([total + k * (s_l - s_zl), k * (s_z - total)])
        h_uv = -k * total + k * s_z + k * k * s_zl
        hess = np.array(
            [[k * (s_l - s_zl) - k * k * s_zll, h_uv], [h_uv, -k * k * s_z]]
        )
        return float(value), grad, hess

    def statistics(self, x, w):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_x = np.log(x)
        square = log_x @ log_x if w is None else w @ (log_x * log_x)
        return self.checked(x, np.array([weighted_sum(w, log_x), square]))

    def block_in_support(self, x):
        return True  # a finite sum of logarithms: every value is positive

    def start(self, stats, total):
        """:math:`\\mathrm{Var}\\log x = \\pi^2 / 6k^2` and
        :math:`E\\log x = \\log\\lambda - \\gamma/k`."""
        mean = stats[0] / total
        variance = stats[1] / total - mean * mean
        if not variance > 1e-28 * max(abs(mean), 1.0) ** 2:
            raise ValueError(
                "family='weibull' cannot be fitted to a constant column (for "
                "example n_samples = 1)."
            )
        k = np.pi / np.sqrt(6.0 * variance)
        return np.array([np.log(k), mean + EULER_GAMMA / k])

    def frozen(self, natural):
        return stats.weibull_min(natural[0], scale=natural[1])


class StudentT(Family):
    """Degrees of freedom, location and scale, ``phi = (log df, loc, log scale)``."""

    name, params, needs_median = "t", ("df", "loc", "scale"), True
    checks_in_statistics = False

    def natural(self, phi):
        return np.array([np.exp(phi[0]), phi[1], np.exp(phi[2])])

    def jacobian(self, phi):
        return np.array([np.exp(phi[0]), 1.0, np.exp(phi[2])])

    def to_phi(self, natural):
        return np.array([np.log(natural[0]), natural[1], np.log(natural[2])])

    def _parts(self, x, phi):
        nu, scale = np.exp(phi[0]), np.exp(phi[2])
        z = (x - phi[1]) / scale
        r = z * z / nu
        return nu, scale, z, r, 1.0 + r

    def _constant(self, nu):
        half = 0.5 * (nu + 1.0)
        c = special.gammaln(half) - special.gammaln(0.5 * nu) - 0.5 * np.log(nu * np.pi)
        psi = special.digamma(half) - special.digamma(0.5 * nu)
        return c, 0.5 * nu * psi - 0.5, psi

    def loglik_obs(self, x, phi):
        nu, _, _, r, _ = self._parts(x, phi)
        return self._constant(nu)[0] - phi[2] - 0.5 * (nu + 1.0) * np.log1p(r)

    def scores(self, x, phi):
        nu, scale, z, r, q = self._parts(x, phi)
        d_nu = self._constant(nu)[1] - 0.5 * nu * np.log1p(r) + 0.5 * (nu + 1) * r / q
        return np.column_stack(
            [d_nu, (nu + 1.0) * z / (nu * scale * q), (nu + 1.0) * r / q - 1.0]
        )

    def derivatives(self, x, w, phi):
        nu, scale, z, r, q = self._parts(x, phi)
        inv_q = 1.0 / q
        rq, zq = r * inv_q, z * inv_q
        total, s_lq, s_rq, s_rq2, s_zq, s_zq2, s_zrq2, s_q2 = (
            weight_total(w, x.shape[0]),
            weighted_sum(w, np.log1p(r)),
            weighted_sum(w, rq),
            weighted_sum(w, rq * inv_q),
            weighted_sum(w, zq),
            weighted_sum(w, zq * inv_q),
            weighted_sum(w, zq * rq),
            weighted_sum(w, inv_q * inv_q),
        )
        c, nu_dc, psi = self._constant(nu)
        half, a = 0.5 * nu, 0.5 * (nu + 1.0)
        value = total * (c - phi[2]) - a * s_lq
        grad = np.array(
            [
                total * nu_dc - half * s_lq + a * s_rq,
                (nu + 1.0) * s_zq / (nu * scale),
                (nu + 1.0) * s_rq - total,
            ]
        )
        t_a, t_half = trigamma(np.array([a, half]))
        d = half * psi + 0.25 * nu * nu * (t_a - t_half)
        h_uu = total * d - half * s_lq + nu * s_rq - a * s_rq2
        h_um = ((nu + 1.0) * s_zrq2 - s_zq) / (nu * scale)
        h_uv = nu * s_rq - (nu + 1.0) * s_rq2
        h_mm = (nu + 1.0) * (s_rq2 - s_q2) / (nu * scale * scale)
        h_mv = -2.0 * (nu + 1.0) * s_zq2 / (nu * scale)
        h_vv = -2.0 * (nu + 1.0) * s_rq2
        hess = np.array([[h_uu, h_um, h_uv], [h_um, h_mm, h_mv], [h_uv, h_mv, h_vv]])
        return float(value), grad, hess

    def statistics(self, x, w):
        return np.zeros(0)

    def from_median(self, median, abs_dev_sum, total):
        """The start: four degrees of freedom, for which :math:`E|T| = 1`, so the
        mean absolute deviation from the median is the scale."""
        if not abs_dev_sum > 0:
            raise ValueError(
                "family='t' cannot be fitted to a constant column (for example "
                "n_samples = 1): the scale estimate would be zero."
            )
        return np.array([np.log(4.0), median, np.log(abs_dev_sum / total)])

    def frozen(self, natural):
        return stats.t(natural[0], natural[1], natural[2])
