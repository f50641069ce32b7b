"""What a univariate family is: its log-density in unconstrained coordinates.

Conventions
-----------
- A family has ``k`` natural parameters (``params``, the names of
  ``scipy.stats``: ``p``, ``rate``, ``shape``/``scale``, ...) and stores them as an
  unconstrained vector ``phi`` of length ``k``: a positive parameter as its
  logarithm, a probability as its logit, a location as itself. Each natural
  parameter is a function of one coordinate of ``phi``, so the Jacobian
  :math:`\\partial\\,\\mathrm{natural} / \\partial \\phi` is diagonal
  (:meth:`Family.jacobian`) and the delta method maps the standard errors.
- Every weighted method takes a column ``x`` and its weights ``w`` and returns a
  sum over the rows, as the models of :mod:`skmle.models.base` do.
- An exponential family (:class:`ExponentialFamily`) writes its log-density as
  :math:`\\log p(x) = T(x)^\\top \\eta(\\phi) - A(\\phi) + h(x)`, so the weighted
  sums :math:`S = \\sum_i w_i T(x_i)`, :math:`W` and :math:`H = \\sum_i w_i h(x_i)`
  give the log-likelihood, gradient and Hessian at every ``phi`` without another
  pass over the rows (and ``partial_fit`` merges them by ``+``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

LOGIT_BOUND = 40.0
""":math:`|\\mathrm{logit}\\,p|` stored for an estimate on the edge, p = 0 or 1
(:math:`e^{-40} \\approx 4\\cdot 10^{-18}`): theta stays finite, the reported ``p``
is exactly 0 or 1."""
LOG_BOUND = -690.0
"""``log rate`` stored for a rate estimated as 0 (all counts zero)."""


def unit_weights(w) -> bool:
    """Whether ``w`` is the read-only vector of ones of an unweighted fit
    (:func:`ones_view`): every sum over the rows is then a plain sum."""
    return w is None or (
        w.ndim == 1 and w.strides == (0,) and w.size > 0 and w[0] == 1.0
    )


def ones_view(n_rows: int) -> np.ndarray:
    """``n_rows`` weights of 1 that occupy no memory (a broadcast view): no
    pass to write them, and :func:`unit_weights` recognises them."""
    return np.broadcast_to(np.float64(1.0), (n_rows,))


def weighted_sum(w, values):
    """:math:`\\sum_i w_i v_i` (``w`` None: unit weights, a plain sum)."""
    if w is not None:
        return w @ values
    if values.ndim == 1:
        return values.sum()
    return np.array([values[:, k].sum() for k in range(values.shape[1])])


def weight_total(w, n_rows: int) -> float:
    """:math:`W = \\sum_i w_i` (``w`` None: ``n_rows``)."""
    return float(n_rows) if w is None else float(w.sum())


def check_finite(x: np.ndarray) -> None:
    """Raise scikit-learn's ``ValueError`` for NaN or infinity in ``x`` (its
    message, without importing it below the estimators)."""
    if np.isnan(x).any():
        raise ValueError("Input X contains NaN.")
    if np.isinf(x).any():
        raise ValueError(
            f"Input X contains infinity or a value too large for {x.dtype!r}."
        )


def trigamma(x):
    """:math:`\\psi'(x) = \\zeta(2, x)`, the Hurwitz zeta function: the value of
    ``scipy.special.polygamma(1, x)``, which computes exactly this behind a
    Python wrapper five times slower on a scalar."""
    return special.zeta(2.0, x)


def softplus(z):
    """:math:`\\log(1 + e^z)`, without overflow."""
    return np.logaddexp(0.0, z)


class Family:
    """A univariate distribution family in the coordinates ``phi``.

    Subclasses set ``name``, ``params``, ``support`` (for messages) and implement
    :meth:`natural`, :meth:`jacobian`, :meth:`to_phi`, :meth:`in_support`,
    :meth:`loglik_obs`, :meth:`derivatives`, :meth:`scores`, :meth:`frozen`,
    :meth:`statistics` (weighted sums for the start or the closed form) and
    :meth:`start`. A closed form sets ``closed_form = True`` and implements
    :meth:`closed`.
    """

    name: str = ""
    params: tuple[str, ...] = ()
    support: str = "any real number"
    discrete: bool = False
    closed_form: bool = False
    sufficient: bool = False
    """Whether :meth:`statistics` is sufficient (Newton needs no further pass)."""
    needs_median: bool = False
    """Whether the fit needs the column's weighted median (Laplace, Student-t)."""
    blocked: bool = True
    """Whether :meth:`statistics` makes temporaries of the rows' size, and is
    therefore summed by blocks that stay in cache
    (:func:`~skmle.models.distributions.model.blocked_sum`); plain reductions
    (the exponential's sum and minimum) read the column at once."""
    checks_in_statistics: bool = True
    """Whether :meth:`statistics` checks the values itself (finite and in the
    support, in the same pass as the sums: :meth:`checked`), so that the
    estimator's validation need not scan the rows."""

    @property
    def n_params(self) -> int:
        return len(self.params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def check(self, x: np.ndarray) -> None:
        """Raise ``ValueError`` if a value of ``x`` (finite, checked before) is
        outside the support."""
        if self.support == Family.support:
            return
        bad = ~self.in_support(x)
        if np.any(bad):
            value = x[np.argmax(bad)]
            raise ValueError(
                f"family={self.name!r} needs {self.support}, got {value!r}. "
                "Transform the column or choose another family."
            )

    def in_support(self, x: np.ndarray) -> np.ndarray:
        """Whether each (finite) value is in the support."""
        return np.ones(x.shape, dtype=bool)

    def block_in_support(self, x: np.ndarray) -> bool:
        """Whether every value of a block is in the support, given that the
        block's statistics are finite (a family whose statistics are logarithms
        of the values has nothing left to test)."""
        return self.support == Family.support or bool(np.all(self.in_support(x)))

    def checked(self, x: np.ndarray, stats: np.ndarray) -> np.ndarray:
        """``stats`` of the block ``x``, after the checks of the values: a
        non-finite sum (NaN or infinity in ``x``, or a logarithm outside the
        support) or a value outside the support raises ``ValueError`` with the
        message of ``sklearn.utils.validation.assert_all_finite``
        (:func:`check_finite`) or of :meth:`check`; a sum that only overflowed
        passes."""
        if not (np.all(np.isfinite(stats)) and self.block_in_support(x)):
            check_finite(x)
            self.check(x)
        return stats

    def log_prior(self, phi, prior) -> tuple[float, np.ndarray, np.ndarray]:
        raise ValueError(
            f"family={self.name!r} has no conjugate prior in skmle; prior is for "
            "'bernoulli' and 'binomial' (Beta(a, b)) and 'poisson' "
            "(Gamma(shape, rate)). Set prior=None."
        )

    def on_boundary(self, phi) -> bool:
        """Whether the estimate sits on the edge of the parameter space."""
        return False

    def start(self, stats: np.ndarray, total: float) -> np.ndarray:
        raise NotImplementedError

    def closed_parts(self, phi, stats, total):
        """``(value, grad, hess)`` at the closed form, without a pass over the rows."""
        raise NotImplementedError

    def closed(self, stats: np.ndarray, total: float, prior=None) -> np.ndarray:
        raise NotImplementedError


class ExponentialFamily(Family):
    """:math:`\\log p(x) = T(x)^\\top\\eta(\\phi) - A(\\phi) + h(x)`.

    Subclasses give :meth:`features` (the columns of :math:`T`, then any extra
    moments the start needs), :meth:`base` (:math:`h`) and :meth:`terms`:
    :math:`\\eta`, its Jacobian, its second derivatives, :math:`A`, its gradient
    and its Hessian, all in ``phi``. The ``n_t`` first features are :math:`T`.
    """

    sufficient = True
    n_t: int = 1

    def features(self, x: np.ndarray) -> np.ndarray:
        return x[:, None]

    def base(self, x: np.ndarray):
        return 0.0

    def terms(self, phi: np.ndarray):
        raise NotImplementedError

    def statistics(self, x: np.ndarray, w) -> np.ndarray:
        """:math:`(\\sum_i w_i T(x_i), \\ldots, \\sum_i w_i h(x_i))`, checked
        (:meth:`Family.checked`); ``w`` None: unit weights."""
        h = self.base(x)
        total = weight_total(w, x.shape[0]) if np.isscalar(h) else 0.0
        base = h * total if np.isscalar(h) else weighted_sum(w, h)
        return self.checked(x, np.append(weighted_sum(w, self.features(x)), base))

    def stats_derivatives(self, stats: np.ndarray, total: float, phi: np.ndarray):
        """Weighted log-likelihood, gradient and Hessian from :meth:`statistics`."""
        eta, d_eta, d2_eta, a, d_a, d2_a = self.terms(phi)
        s = stats[: self.n_t]
        value = s @ eta - total * a + stats[-1]
        grad = d_eta.T @ s - total * d_a
        hess = np.einsum("m,mij->ij", s, d2_eta) - total * d2_a
        return float(value), grad, hess

    def closed_parts(self, phi, stats, total):
        return self.stats_derivatives(stats, total, phi)

    def derivatives(self, x, w, phi):
        return self.stats_derivatives(
            self.statistics(x, w), weight_total(w, x.shape[0]), phi
        )

    def loglik_obs(self, x, phi):
        eta, _, _, a, _, _ = self.terms(phi)
        return self.features(x)[:, : self.n_t] @ eta - a + self.base(x)

    def scores(self, x, phi):
        _, d_eta, _, _, d_a, _ = self.terms(phi)
        return self.features(x)[:, : self.n_t] @ d_eta - d_a

    def start(self, stats, total):
        return self.closed(stats, total)


class LogitFamily(ExponentialFamily):
    """Families with one probability ``p`` stored as ``phi = logit p``."""

    params = ("p",)
    closed_form = True

    def natural(self, phi):
        p = special.expit(phi)
        return np.where(phi <= -LOGIT_BOUND, 0.0, np.where(phi >= LOGIT_BOUND, 1.0, p))

    def jacobian(self, phi):
        p = self.natural(phi)
        return p * (1.0 - p)

    def to_phi(self, natural):
        p = np.clip(natural, 0.0, 1.0)
        with np.errstate(divide="ignore"):
            return np.clip(special.logit(p), -LOGIT_BOUND, LOGIT_BOUND)

    def on_boundary(self, phi) -> bool:
        return bool(np.max(np.abs(phi)) >= LOGIT_BOUND)


class LogRateFamily(ExponentialFamily):
    """Families with one positive ``rate`` stored as ``phi = log rate``."""

    params = ("rate",)
    closed_form = True

    def natural(self, phi):
        return np.where(phi <= LOG_BOUND, 0.0, np.exp(phi))

    def jacobian(self, phi):
        return self.natural(phi)

    def to_phi(self, natural):
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(natural), LOG_BOUND)

    def on_boundary(self, phi) -> bool:
        return bool(np.min(phi) <= LOG_BOUND)


class LocationScaleMixin:
    """``phi = (location, log scale)`` with a positive second parameter."""

    def natural(self, phi):
        return np.array([phi[0], np.exp(phi[1])])

    def jacobian(self, phi):
        return np.array([1.0, np.exp(phi[1])])

    def to_phi(self, natural):
        return np.array([natural[0], np.log(natural[1])])


class LogPositiveMixin:
    """Every natural parameter positive, stored as its logarithm."""

    def natural(self, phi):
        return np.exp(phi)

    def jacobian(self, phi):
        return np.exp(phi)

    def to_phi(self, natural):
        return np.log(natural)
