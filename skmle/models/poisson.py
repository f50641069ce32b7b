"""Poisson regression with the log link: :math:`y_i \\sim \\mathrm{Poisson}(\\mu_i)`.

With the linear predictor :math:`\\eta_i = x_i^\\top w + b + o_i` (:math:`o_i` the
row's ``offset``, the log of its exposure, 0 when absent) and the mean
:math:`\\mu_i = e^{\\eta_i}`,

.. math::

    \\ell(w, b) = \\sum_i w_i \\big[y_i \\eta_i - \\mu_i - \\log y_i!\\big],
    \\qquad \\nabla_w \\ell = \\sum_i w_i (y_i - \\mu_i)\\, x_i,

    -\\nabla^2_w \\ell = X^\\top \\mathrm{diag}(w_i \\mu_i) X

(:math:`w_i` without a bold face is the sample weight). The log link is the
canonical one: the observed and the expected information are the same, Newton's
method is IRLS, and the log-likelihood is concave in :math:`(w, b)`.

Conventions
-----------
``theta = [coef (n_features), intercept (only if fit_intercept)]``:
``n_params = n_features + fit_intercept``. ``eta`` passed to the ``*_eta``
methods is :math:`Xw + b` *without* the offset (it is linear in ``theta``, which
the linear-predictor Newton step needs); they add ``batch.offset`` themselves.
Sums over rows run in chunks of :data:`~skmle.models.logistic_terms.CHUNK_ROWS`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlogy

from skmle._sparse import is_sparse
from skmle.models.base import Batch, LogLikelihood
from skmle.models.log_linear import LogLinearLayout, with_offset
from skmle.models.logistic_information import weighted_gram
from skmle.models.logistic_terms import CHUNK_ROWS, eta_chunks, row_chunks

ETA_BOUND = 700.0
"""Beyond :math:`\\eta = 700` the mean :math:`e^\\eta` overflows a double: such a
point has log-likelihood :math:`-\\infty` (rejected by every line search)."""


def poisson_terms(eta: np.ndarray, y: np.ndarray):
    """Per row: the log-density, :math:`y - \\mu` and :math:`\\mu`, from the full
    linear predictor (``inf`` for :math:`\\eta` beyond :data:`ETA_BOUND`)."""
    with np.errstate(over="ignore"):
        mu = np.exp(np.minimum(eta, ETA_BOUND + 1.0))
    mu[eta > ETA_BOUND] = np.inf
    loglik = y * eta - mu - gammaln(y + 1.0)
    return loglik, y - mu, mu


class PoissonLogLikelihood(LogLinearLayout, LogLikelihood):
    """Log-likelihood of :math:`y \\sim \\mathrm{Poisson}(e^{x^\\top w + b + o})`.

    Parameters
    ----------
    n_features : int
    fit_intercept : bool, default=True

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from skmle.models.base import Batch
    >>> from skmle.models.poisson import PoissonLogLikelihood
    >>> batch = Batch.from_arrays([[0.0], [1.0]], np.array([1.0, 3.0]))
    >>> model = PoissonLogLikelihood(n_features=1)
    >>> theta = np.array([0.5, 0.1])
    >>> bool(np.isclose(model.loglik(theta, batch),
    ...      stats.poisson.logpmf([1, 3], np.exp([0.1, 0.6])).sum()))
    True
    """

    has_hessian = True
    capabilities = frozenset({"hessian", "scores", "linear_predictor"})

    def loglik_obs(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        return poisson_terms(self.eta(theta, batch), batch.y)[0]

    def loglik_grad(self, theta: np.ndarray, batch: Batch):
        loglik, resid, _ = poisson_terms(self.eta(theta, batch), batch.y)
        w = batch.sample_weight
        return float(w @ loglik), self.chain(batch.X, w * resid)

    def scores(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Per-row gradients :math:`(y_i - \\mu_i) [x_i, 1]`, (n_samples, n_params)."""
        resid = poisson_terms(self.eta(theta, batch), batch.y)[1]
        return self.design_scores(batch.X, resid)

    def score_factors(
        self, theta: np.ndarray, batch: Batch
    ) -> tuple[np.ndarray, np.ndarray]:
        """The factors of :meth:`scores` (:mod:`skmle.inference.sandwich_sparse`):
        :math:`y_i - \\mu_i`, shape (n, 1), and no other parameter's, (n, 0)."""
        resid = poisson_terms(self.eta(theta, batch), batch.y)[1]
        return resid[:, None], np.zeros((resid.shape[0], 0))

    def hessian(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        mu = poisson_terms(self.eta(theta, batch), batch.y)[2]
        if is_sparse(batch.X):
            return -self.information(batch.X, batch.sample_weight * mu)
        return -weighted_gram(
            self.centred(batch.X),
            batch.sample_weight * mu,
            self.fit_intercept,
            nonnegative=True,
        )

    def half_deviance_obs(self, theta, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Half the unit deviance, :math:`y \\log(y/\\mu) - (y - \\mu)`, per row
        (the log-likelihood of the saturated model, :math:`\\mu = y`, less this
        one's)."""
        return xlogy(y, y) - xlogy(y, mu) - (y - mu)

    def saturated_loglik_obs(self, theta, y: np.ndarray) -> np.ndarray:
        """The log-likelihood of each row at :math:`\\mu = y` (the saturated
        model): :math:`y \\log y - y - \\log y!`."""
        return xlogy(y, y) - y - gammaln(y + 1.0)

    # -- the linear-predictor Newton interface (eta without the offset) -----------
    def loglik_eta(self, eta: np.ndarray, batch: Batch) -> float:
        """Weighted log-likelihood of a batch from its linear predictor."""
        total = 0.0
        for rows in eta_chunks(eta):
            terms = poisson_terms(with_offset(eta[rows], batch, rows), batch.y[rows])
            total += float(batch.sample_weight[rows] @ terms[0])
        return total

    def line_terms(self, eta: np.ndarray, step_eta: np.ndarray, batch: Batch):
        """:math:`\\varphi(0)`, :math:`\\varphi'(0) = \\sum_i w_i (y_i - \\mu_i) s_i`
        and :math:`\\varphi''(0) = -\\sum_i w_i \\mu_i s_i^2` along
        :math:`\\eta + t s`."""
        totals = np.zeros(3)
        for rows in eta_chunks(eta):
            w, step = batch.sample_weight[rows], step_eta[rows]
            loglik, resid, mu = poisson_terms(
                with_offset(eta[rows], batch, rows), batch.y[rows]
            )
            totals += (w @ loglik, (w * resid) @ step, -((w * mu) @ step**2))
        return float(totals[0]), float(totals[1]), float(totals[2])

    def newton_terms(self, eta: np.ndarray, batch: Batch):
        """Log-likelihood, gradient and information (:math:`\\tilde X^\\top
        \\mathrm{diag}(w_i \\mu_i) \\tilde X`, one SYRK per chunk of rows) in one
        pass. (An information estimated from sampled rows, as LogisticGD's far
        from the maximum, cost the Poisson fit an iteration more than it saved.)"""
        X, y, weight = batch.X, batch.y, batch.sample_weight
        if is_sparse(X):  # whole-batch vectors and one sparse Gram
            terms, resid, mu = poisson_terms(with_offset(eta, batch, slice(None)), y)
            info = self.information(X, weight * mu)
            return float(weight @ terms), self.chain(X, weight * resid), info
        loglik, grad = 0.0, np.zeros(self.n_params)
        info = np.zeros((self.n_params, self.n_params))
        scratch = np.empty((min(X.shape[0], CHUNK_ROWS), self.n_features))
        for rows in row_chunks(X.shape[0]):
            w = weight[rows]
            terms, resid, mu = poisson_terms(
                with_offset(eta[rows], batch, rows), y[rows]
            )
            loglik += float(w @ terms)
            X_rows = self.centred(X[rows])
            grad += self.chain_centred(X_rows, w * resid)
            scaled = scratch[: w.size]
            info += weighted_gram(
                X_rows, w * mu, self.fit_intercept, scaled, nonnegative=True
            )
        return loglik, grad, info


# -- does a maximum exist? ---------------------------------------------------------
def support_counts(batch: Batch, fit_intercept: bool) -> np.ndarray:
    """Per column of :math:`[X, 1]`, over the rows of positive weight: the sum of
    :math:`|x_{ij}|` where :math:`y_i > 0`, the sum of :math:`|x_{ij}|` and the
    sum of :math:`x_{ij}` (one sign exactly when the last two agree in size).

    Sums of disjoint batches add up (see :func:`unbounded_columns`); one pass of
    matrix-vector products, a block of rows at a time.
    """
    positive, counted = batch.y > 0, batch.sample_weight > 0
    totals = np.zeros((3, batch.X.shape[1]))
    for rows in row_chunks(batch.X.shape[0]):
        block = batch.X[rows]
        magnitude = np.abs(block)
        keep = counted[rows].astype(float)
        totals += (
            (keep * positive[rows]) @ magnitude,
            keep @ magnitude,
            keep @ block,
        )
    if fit_intercept:
        n_positive = float(np.count_nonzero(positive & counted))
        n_counted = float(np.count_nonzero(counted))
        totals = np.column_stack([totals, [n_positive, n_counted, n_counted]])
    return totals


def unbounded_columns(counts: np.ndarray) -> np.ndarray:
    """The columns along which a log-linear count likelihood rises for ever.

    A column that is zero on every row with :math:`y > 0` and of one sign on
    the others (a category in which no count was seen) lets its coefficient
    go to :math:`\\mp\\infty`: every fitted mean of those rows goes to 0, their
    observed 0, and the log-likelihood rises towards a supremum it never
    attains. No maximum likelihood estimate exists (the counterpart of
    quasi-complete separation in logistic regression).
    """
    on_positive, magnitude, total = counts
    one_sign = np.abs(total) == magnitude
    return np.flatnonzero((on_positive == 0) & one_sign & (magnitude > 0))
