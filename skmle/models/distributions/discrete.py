"""The count and binary families: Bernoulli, binomial, Poisson, geometric.

Each is an exponential family with one parameter and a closed form:
:math:`\\hat p = k/N` for the coin (:math:`k = \\sum_i w_i x_i`, :math:`N = W`),
:math:`\\hat p = k/(nN)` for ``n`` trials, :math:`\\hat\\lambda = \\bar x` for
Poisson, :math:`\\hat p = 1/\\bar x` for the geometric (trials up to the first
success, :math:`x \\ge 1`, as ``scipy.stats.geom``). With a conjugate prior the
closed form is the posterior mode: :math:`(k + a - 1)/(nN + a + b - 2)` under
Beta(a, b), :math:`(k + \\alpha - 1)/(N + \\beta)` under Gamma(shape α, rate β).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from skmle.models.distributions.base import (
    LOGIT_BOUND,
    LogitFamily,
    LogRateFamily,
    check_finite,
    softplus,
    weighted_sum,
)


def _integers(x):
    return x == np.floor(x)


def checked_integers(family, x, total, low=0, high=None):
    """``x`` cast to integers, after the checks of :meth:`Family.checked` for a
    support of the integers from ``low`` to ``high`` (``total``, a weighted sum
    of ``x``, is not finite when ``x`` holds NaN or infinity).

    Values equal to their cast and within the bounds are in the support: one
    cast, one comparison and the extremes, instead of ``floor`` and three
    comparisons. Anything else is checked value by value, which raises
    ``ValueError`` unless the values are integers beyond the range of ``intp``
    (then None is returned)."""
    with np.errstate(invalid="ignore"):
        k = x.astype(np.intp)  # NaN or infinity: any integer, caught below
    if (
        np.isfinite(total)
        and np.array_equal(k, x)
        and k.min() >= low
        and (high is None or k.max() <= high)
    ):
        return k
    check_finite(x)
    family.check(x)
    return None


def count_statistics(family, x, w, high=None) -> np.ndarray:
    """:math:`(\\sum_i w_i x_i, \\sum_i w_i h(x_i))` of a count family (Poisson,
    binomial) on the integers from 0 to ``high``, checked
    (:func:`checked_integers`). :math:`h` (:math:`-\\log x!`, the log binomial
    coefficient) is tabulated over ``0 .. max(x)`` and weighted by the counts of
    each value (``numpy.bincount``), instead of a ``gammaln`` a row, when that
    table is shorter than the rows."""
    total = weighted_sum(w, x)
    k = checked_integers(family, x, total, 0, high)
    if k is None or int(k.max()) >= x.shape[0]:
        return np.array([total, weighted_sum(w, family.base(x))])
    counts = np.bincount(k, weights=w)
    return np.array([total, counts @ family.base(np.arange(counts.size, dtype=float))])


def _beta_log_prior(phi, prior, n_trials=1):
    a, b = prior
    p = special.expit(phi[0])
    value = (a - 1.0) * -softplus(-phi[0]) + (b - 1.0) * -softplus(phi[0])
    grad = np.array([(a - 1.0) * (1.0 - p) - (b - 1.0) * p])
    return float(value), grad, np.array([[-(a + b - 2.0) * p * (1.0 - p)]])


class Bernoulli(LogitFamily):
    """The coin: :math:`\\log p(x) = x \\log p + (1 - x) \\log(1 - p)`, x in {0, 1}."""

    name, support, discrete = "bernoulli", "values 0 or 1", True
    n_trials = 1

    def in_support(self, x):
        return (x == 0) | (x == 1)

    def base(self, x):
        return 0.0

    def terms(self, phi):
        p = special.expit(phi[0])
        n = self.n_trials
        zero = np.zeros((1, 1, 1))
        return (
            phi,
            np.ones((1, 1)),
            zero,
            n * softplus(phi[0]),
            np.array([n * p]),
            np.array([[n * p * (1.0 - p)]]),
        )

    def closed(self, stats, total, prior=None):
        k, trials = stats[0], self.n_trials * total
        if prior is not None:
            a, b = prior
            k, trials = k + a - 1.0, trials + a + b - 2.0
        return self.to_phi(np.array([k / trials]))

    def log_prior(self, phi, prior):
        return _beta_log_prior(phi, prior)

    def frozen(self, natural):
        return stats.bernoulli(natural[0])


class Binomial(Bernoulli):
    """``n_trials`` known: :math:`\\log p(x) = \\log\\binom{n}{x} + x \\log p +
    (n - x)\\log(1 - p)`."""

    name, support = "binomial", "integers from 0 to n_trials"

    def __init__(self, n_trials: int):
        self.n_trials = int(n_trials)

    def __repr__(self):
        return f"Binomial(n_trials={self.n_trials})"

    def in_support(self, x):
        return _integers(x) & (x >= 0) & (x <= self.n_trials)

    def base(self, x):
        n = self.n_trials
        return (
            special.gammaln(n + 1.0)
            - special.gammaln(x + 1.0)
            - special.gammaln(n - x + 1.0)
        )

    def statistics(self, x, w):
        return count_statistics(self, x, w, high=self.n_trials)

    def frozen(self, natural):
        return stats.binom(self.n_trials, natural[0])


class Poisson(LogRateFamily):
    """:math:`\\log p(x) = x \\log\\lambda - \\lambda - \\log x!`, x = 0, 1, 2, ..."""

    name, support, discrete = "poisson", "non-negative integers", True

    def in_support(self, x):
        return _integers(x) & (x >= 0)

    def base(self, x):
        return -special.gammaln(x + 1.0)

    def terms(self, phi):
        rate = np.exp(phi[0])
        return (
            phi,
            np.ones((1, 1)),
            np.zeros((1, 1, 1)),
            rate,
            np.array([rate]),
            np.array([[rate]]),
        )

    def closed(self, stats, total, prior=None):
        k = stats[0]
        if prior is not None:
            shape, rate = prior
            k, total = k + shape - 1.0, total + rate
        return self.to_phi(np.array([max(k, 0.0) / total]))

    def log_prior(self, phi, prior):
        shape, rate = prior
        lam = np.exp(phi[0])
        value = (shape - 1.0) * phi[0] - rate * lam
        return (
            float(value),
            np.array([shape - 1.0 - rate * lam]),
            np.array([[-rate * lam]]),
        )

    def statistics(self, x, w):
        return count_statistics(self, x, w)

    def frozen(self, natural):
        return stats.poisson(natural[0])


class Geometric(LogitFamily):
    """Trials to the first success: :math:`\\log p(x) = (x - 1)\\log(1 - p) +
    \\log p`, x = 1, 2, ..., written :math:`x\\log(1-p) + \\mathrm{logit}\\,p`."""

    name, support, discrete = "geometric", "integers from 1 up", True

    def in_support(self, x):
        return _integers(x) & (x >= 1)

    def terms(self, phi):
        p = special.expit(phi[0])
        eta = np.array([-softplus(phi[0])])
        return (
            eta,
            np.array([[-p]]),
            np.array([[[-p * (1.0 - p)]]]),
            -phi[0],
            np.array([-1.0]),
            np.zeros((1, 1)),
        )

    def closed(self, stats, total, prior=None):
        return self.to_phi(np.array([total / stats[0]]))

    def on_boundary(self, phi) -> bool:
        return bool(phi[0] >= LOGIT_BOUND)

    def statistics(self, x, w):
        total = weighted_sum(w, x)
        checked_integers(self, x, total, low=1)
        return np.array([total, 0.0])

    def frozen(self, natural):
        return stats.geom(natural[0])
