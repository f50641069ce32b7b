"""The continuous exponential families: exponential, gamma, beta, Gaussian, log-normal.

- exponential, :math:`\\log p = \\log\\lambda - \\lambda x`: :math:`\\hat\\lambda = 1/\\bar x`.
- Gaussian, :math:`\\log p = -\\tfrac12\\log 2\\pi - \\log\\sigma - (x-\\mu)^2/2\\sigma^2`:
  :math:`\\hat\\mu = \\bar x`, :math:`\\hat\\sigma^2 = \\overline{(x - \\bar x)^2}`; the
  log-normal is the Gaussian of :math:`\\log x` (less :math:`\\log x`).
- gamma, :math:`\\log p = (\\alpha - 1)\\log x - x/\\theta - \\log\\Gamma(\\alpha) -
  \\alpha\\log\\theta`, and beta, :math:`\\log p = (a-1)\\log x + (b-1)\\log(1-x) -
  \\log B(a, b)`: no closed form; Newton on the sufficient statistics
  :math:`(\\sum w \\log x, \\sum w x)` or :math:`(\\sum w\\log x, \\sum w\\log(1-x))`,
  with :math:`\\psi` and :math:`\\psi'` (``scipy.special.digamma``/``zeta``).

The Gaussian and log-normal sums are taken about a ``centre`` (a value of the
first rows), so that the variance is not lost to cancellation when the mean is
large against the spread.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from skmle.models.base import LOG_2PI
from skmle.models.distributions.base import (
    ExponentialFamily,
    LocationScaleMixin,
    LogPositiveMixin,
    LogRateFamily,
    trigamma,
    weight_total,
    weighted_sum,
)
from skmle.models.distributions.scratch import scratch


class Exponential(LogRateFamily):
    """:math:`\\log p(x) = \\log\\lambda - \\lambda x`, x >= 0."""

    name, support, blocked = "exponential", "non-negative values", False

    def in_support(self, x):
        return x >= 0

    def block_in_support(self, x):
        return bool(np.minimum.reduce(x) >= 0)

    def statistics(self, x, w):
        return self.checked(x, np.array([weighted_sum(w, x), 0.0]))

    def terms(self, phi):
        rate = np.exp(phi[0])
        return (
            np.array([-rate]),
            np.array([[-rate]]),
            np.array([[[-rate]]]),
            -phi[0],
            np.array([-1.0]),
            np.zeros((1, 1)),
        )

    def closed(self, stats, total, prior=None):
        if not stats[0] > 0:
            raise ValueError(
                "family='exponential' cannot be fitted to a column of zeros: the "
                "rate would be infinite. Choose another family."
            )
        return self.to_phi(np.array([total / stats[0]]))

    def frozen(self, natural):
        return stats.expon(scale=1.0 / natural[0])


def _constant(name):
    return ValueError(
        f"family={name!r} cannot be fitted to a constant column (for example "
        "n_samples = 1): the scale estimate would be zero. Remove the column or "
        "choose a discrete family."
    )


class Gaussian(LocationScaleMixin, ExponentialFamily):
    """:math:`x \\sim N(\\mu, \\sigma^2)` with ``phi = (mu, log sigma)``."""

    name, params, closed_form, n_t = "gaussian", ("mu", "sigma"), True, 2

    def __init__(self, centre: float = 0.0):
        self.centre = float(centre)

    def __repr__(self):
        return f"{type(self).__name__}(centre={self.centre!r})"

    def _y(self, x):
        return x - self.centre

    def features(self, x):
        y = self._y(x)
        return np.column_stack([y, y * y])

    def base(self, x):
        return -0.5 * LOG_2PI

    def statistics(self, x, w):
        y = np.subtract(x, self.centre, out=scratch(x.shape[0]))
        wy = y if w is None else np.multiply(w, y, out=scratch(x.shape[0], 1))
        total = weight_total(w, x.shape[0])
        return self.checked(x, np.array([wy.sum(), wy @ y, -0.5 * LOG_2PI * total]))

    def terms(self, phi):
        m, tau = phi[0] - self.centre, np.exp(-2.0 * phi[1])
        d2_eta = np.array(
            [[[0.0, -2 * tau], [-2 * tau, 4 * m * tau]], [[0.0, 0.0], [0.0, -2 * tau]]]
        )
        return (
            np.array([m * tau, -0.5 * tau]),
            np.array([[tau, -2 * m * tau], [0.0, tau]]),
            d2_eta,
            0.5 * m * m * tau + phi[1],
            np.array([m * tau, 1.0 - m * m * tau]),
            np.array([[tau, -2 * m * tau], [-2 * m * tau, 2 * m * m * tau]]),
        )

    def closed(self, stats, total, prior=None):
        m = stats[0] / total
        variance = stats[1] / total - m * m
        if not variance > 1e-28 * max(stats[1] / total, 1e-300):
            raise _constant(self.name)
        return np.array([self.centre + m, 0.5 * np.log(variance)])

    def frozen(self, natural):
        return stats.norm(natural[0], natural[1])


class LogNormal(Gaussian):
    """:math:`\\log x \\sim N(\\mu, \\sigma^2)`, x > 0 (``scipy.stats.lognorm`` with
    ``s = sigma``, ``scale = exp(mu)``)."""

    name, support = "lognormal", "positive values"

    def in_support(self, x):
        return x > 0

    def _y(self, x):
        return np.log(x) - self.centre

    def base(self, x):
        return -np.log(x) - 0.5 * LOG_2PI

    def statistics(self, x, w):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log(x, out=scratch(x.shape[0]))
        y -= self.centre
        wy = y if w is None else np.multiply(w, y, out=scratch(x.shape[0], 1))
        total, s_y = weight_total(w, x.shape[0]), wy.sum()
        base = -(s_y + self.centre * total) - 0.5 * LOG_2PI * total
        return self.checked(x, np.array([s_y, wy @ y, base]))

    def block_in_support(self, x):
        return True  # a finite sum of logarithms: every value is positive

    def frozen(self, natural):
        return stats.lognorm(natural[1], scale=np.exp(natural[0]))


class Gamma(LogPositiveMixin, ExponentialFamily):
    """Shape α and scale θ, ``phi = (log shape, log scale)``, x > 0."""

    name, params, support, n_t = "gamma", ("shape", "scale"), "positive values", 2

    def in_support(self, x):
        return x > 0

    def features(self, x):
        return np.column_stack([np.log(x), x])

    def base(self, x):
        return -np.log(x)

    def statistics(self, x, w):
        """:math:`(\\sum w\\log x, \\sum w x, -\\sum w\\log x)`: one logarithm a row."""
        with np.errstate(divide="ignore", invalid="ignore"):
            log_x = weighted_sum(w, np.log(x, out=scratch(x.shape[0])))
        return self.checked(x, np.array([log_x, weighted_sum(w, x), -log_x]))

    def block_in_support(self, x):
        return True  # a finite sum of logarithms: every value is positive

    def terms(self, phi):
        shape, scale = np.exp(phi)
        psi, psi1 = special.digamma(shape), trigamma(shape)
        d2_eta = np.array([[[shape, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, -1 / scale]]])
        d_a = np.array([shape * (psi + phi[1]), shape])
        d2_a = np.array([[d_a[0] + shape**2 * psi1, shape], [shape, 0.0]])
        return (
            np.array([shape, -1.0 / scale]),
            np.diag([shape, 1.0 / scale]),
            d2_eta,
            special.gammaln(shape) + shape * phi[1],
            d_a,
            d2_a,
        )

    def start(self, stats, total):
        """Minka's approximation to the shape from :math:`s = \\log\\bar x -
        \\overline{\\log x}`, and the scale :math:`\\bar x / \\alpha`."""
        mean = stats[1] / total
        s = np.log(mean) - stats[0] / total
        if not s > 1e-14:
            raise _constant(self.name)
        shape = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
        return np.log([shape, mean / shape])

    def profile_mle(self, stats, total, phi):
        """The MLE from the start ``phi``, by Newton's method on the profile
        equation of the shape alone: with the scale at its maximum
        :math:`\\bar x/\\alpha`, the shape solves

        .. math:: f(u) = \\log\\alpha - \\psi(\\alpha) - s = 0, \\quad
           \\alpha = e^u, \\quad s = \\log\\bar x - \\overline{\\log x} > 0,

        :math:`f'(u) = 1 - \\alpha\\psi'(\\alpha) < 0`; :math:`f` falls from
        :math:`+\\infty` to :math:`-s`, so the root is unique (steps capped at 1 in
        ``u``). A few scalar iterations, no pass over the rows; returns ``(phi,
        iterations)``."""
        mean = stats[1] / total
        s = float(np.log(mean) - stats[0] / total)
        u, iterations = float(phi[0]), 0
        while iterations < 100:
            iterations += 1
            shape = np.exp(u)
            f = u - special.digamma(shape) - s
            slope = 1.0 - shape * trigamma(shape)
            step = min(max(float(-f / slope), -1.0), 1.0)
            if not np.isfinite(step):
                break
            u += step
            if abs(step) <= 1e-15 * max(abs(u), 1.0):
                break
        return np.array([u, np.log(mean) - u]), iterations

    def frozen(self, natural):
        return stats.gamma(natural[0], scale=natural[1])


class Beta(LogPositiveMixin, ExponentialFamily):
    """Shapes a and b, ``phi = (log a, log b)``, 0 < x < 1."""

    name, params, support, n_t = (
        "beta",
        ("a", "b"),
        "values strictly between 0 and 1",
        2,
    )

    def in_support(self, x):
        return (x > 0) & (x < 1)

    def features(self, x):
        return np.column_stack([np.log(x), np.log1p(-x), x, x * x])

    def base(self, x):
        return -np.log(x) - np.log1p(-x)

    def terms(self, phi):
        a, b = np.exp(phi)
        psi_a, psi_b, psi_ab = special.digamma([a, b, a + b])
        t_a, t_b, t_ab = trigamma(np.array([a, b, a + b]))
        d_a = np.array([a * (psi_a - psi_ab), b * (psi_b - psi_ab)])
        d2_a = np.array(
            [
                [d_a[0] + a * a * (t_a - t_ab), -a * b * t_ab],
                [-a * b * t_ab, d_a[1] + b * b * (t_b - t_ab)],
            ]
        )
        d2_eta = np.array([[[a, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, b]]])
        log_beta = special.gammaln(a) + special.gammaln(b) - special.gammaln(a + b)
        return np.array([a, b]), np.diag([a, b]), d2_eta, log_beta, d_a, d2_a

    def statistics(self, x, w):
        """Sums of :math:`\\log x`, :math:`\\log(1-x)` (the sufficient statistics),
        :math:`x` and :math:`x^2` (the start)."""
        buffer = scratch(x.shape[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            log_x = weighted_sum(w, np.log(x, out=buffer))
            log_1mx = weighted_sum(w, np.log1p(np.negative(x, out=buffer), out=buffer))
        moment = x @ x if w is None else w @ np.multiply(x, x, out=buffer)
        return self.checked(
            x,
            np.array([log_x, log_1mx, weighted_sum(w, x), moment, -log_x - log_1mx]),
        )

    def block_in_support(self, x):
        return True  # finite sums of log x and log(1 - x): 0 < x < 1

    def start(self, stats, total):
        """The method of moments: :math:`a + b = m(1-m)/v - 1`."""
        mean = stats[2] / total
        variance = stats[3] / total - mean * mean
        if not variance > 0:
            raise _constant(self.name)
        size = max(mean * (1.0 - mean) / variance - 1.0, 1e-3)
        return np.log([mean * size, (1.0 - mean) * size])

    def frozen(self, natural):
        return stats.beta(natural[0], natural[1])
