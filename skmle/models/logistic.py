"""Logistic regression: a Bernoulli sigmoid or a multinomial softmax of linear scores.

For two classes, with :math:`y_i \\in \\{0, 1\\}` and the log-odds
:math:`\\eta_i = x_i^\\top w + b`,

.. math::

    \\ell(w, b) = \\sum_i w_i \\big[y_i \\log\\sigma(\\eta_i)
        + (1 - y_i) \\log\\sigma(-\\eta_i)\\big],
    \\qquad \\nabla_w \\ell = \\sum_i w_i (y_i - \\sigma(\\eta_i))\\, x_i,

    -\\nabla^2_w \\ell = X^\\top \\mathrm{diag}\\big(w_i\\,\\sigma(\\eta_i)\\sigma(-\\eta_i)\\big) X.

For :math:`K > 2` classes, with scores :math:`\\eta_{ik} = x_i^\\top w_k + b_k` and
:math:`p_{ik} = \\mathrm{softmax}_k(\\eta_i)`,

.. math::

    \\ell(W) = \\sum_i w_i \\Big[\\eta_{i y_i} - \\log\\sum_k e^{\\eta_{ik}}\\Big],
    \\qquad \\nabla_{w_k} \\ell = \\sum_i w_i ([y_i = k] - p_{ik})\\, x_i,

    -\\nabla^2_{w_k w_l} \\ell = X^\\top \\mathrm{diag}\\big(w_i\\,p_{ik}([k = l] - p_{il})\\big) X.

(:math:`w_i` without a class index is the sample weight.) Both are computed in log
space (``log_expit``, ``log_softmax``), so scores of any finite size are safe.

The optional L2 penalty ``alpha`` is the log-density of a Gaussian prior
:math:`N(0, \\alpha^{-1} I)` on the coefficients (not the intercepts):
:math:`\\log\\pi = -\\tfrac{\\alpha}{2}\\sum_k \\lVert w_k \\rVert^2`. It is not
divided by the number of samples: ``alpha`` is scikit-learn's ``1 / C``.

Conventions
-----------
- ``y`` holds class indices ``0 .. K-1`` (the estimator's ``classes_`` order).
- ``p = n_features + fit_intercept`` values per row of coefficients; the intercept
  is the **last** entry of each row.
- Two classes: ``theta = [w_1, ..., w_d, b]``, one row; ``eta`` has shape
  (n_samples,) and is the log-odds of class 1.
- ``K > 2`` classes: ``theta`` is the (K, p) matrix ``W`` flattened row by row
  (C order, **class-major**: ``theta[k*p:(k+1)*p]`` is class ``k``); ``eta`` has
  shape (n_samples, K).
- The softmax does not change when one vector is added to every row of ``W``. The
  canonical parameters have **rows summing to zero** (every column of ``W``
  centred across classes). Solvers starting there stay there: each column of the
  gradient sums to zero over the classes, and so does the prior's. The
  *free coordinates* used for Newton steps and standard errors are the rows of
  classes ``1 .. K-1``, with ``theta = B phi`` mapping them back (fill class 0
  with zeros, then centre the columns); for two classes ``B`` is the identity.
- The per-row derivatives are taken in ``eta`` and the chain rule is applied once
  (``grad = X.T @ resid``): the linear-predictor split. Sums over rows run in
  chunks of :data:`CHUNK_ROWS` so a Hessian needs no (n, p) temporary.
- With a ``center`` (:class:`LogisticLogLikelihood`), ``theta`` is in centred
  coordinates: every score is :math:`(x - c)^\\top w_k + b_k`;
  :meth:`LogisticLogLikelihood.uncentre` maps it to the raw features.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import reduce
from itertools import pairwise

import numpy as np
from scipy.special import log_softmax

from skmle._blas import single_blas_thread
from skmle.data import add_results
from skmle.models.base import Batch, LogLikelihood
from skmle.models.objective import Objective

CHUNK_ROWS = 4096
"""Rows per block in the Hessian sums: a (4096, p) block stays in cache."""
SAMPLED_CHUNKS = 4
"""An approximate information matrix (``exact=False``) uses one chunk of rows in
this many."""

SEPARABLE_MESSAGE = "the classes are linearly separable"
"""The Newton solver's stop reason when an iterate separates the classes."""


QUASI_SEPARABLE_MESSAGE = "the classes are quasi-completely separable"
"""The Newton solver's stop reason when a step is a direction of recession that
leaves some samples on the boundary (quasi-complete separation)."""
RECESSION_RTOL = 1e-3
"""Margins of a step within this fraction of its largest score change count as
zero (see :func:`recession_message`)."""


def step_margins(step_eta: np.ndarray, y: np.ndarray, weight: np.ndarray):
    """``(scale, worst, best)`` of how a step moves each row toward its own class.

    The margin of row :math:`i` is :math:`s_i` (the step of the log-odds, signed
    by the class) for two classes, :math:`s_{i y_i} - \\max_{k \\ne y_i} s_{ik}`
    for more; ``worst`` and ``best`` are its smallest and largest value over the
    rows with positive weight, ``scale`` the largest :math:`|s_{ik}|`.
    """
    rows = weight > 0
    step, y = step_eta[rows], y[rows]
    if step.size == 0:
        return np.array([0.0, np.inf, -np.inf])
    if step.ndim == 1:
        margin = np.where(y == 1, step, -step)
    else:
        index = np.arange(step.shape[0])
        other = step.copy()
        other[index, y] = -np.inf
        margin = step[index, y] - other.max(axis=1)
    return np.array([np.abs(step).max(), margin.min(), margin.max()])


def recession_message(parts) -> str | None:
    """Whether a step is a direction of recession, from :func:`step_margins` of
    the blocks of rows.

    If no row's margin is negative and some is positive, the log-likelihood
    rises along the step for ever: no maximum exists. Some margins zero (samples
    on the boundary, whose probabilities stay put while the others go to 0 or
    1) is quasi-complete separation: :data:`QUASI_SEPARABLE_MESSAGE`. All
    positive is complete separation, which gives None here: the iterates soon
    separate the classes, and :meth:`LogisticObjective.stop_reason` stops there. Margins within
    :data:`RECESSION_RTOL` of the largest change of a score count as zero: near
    the end of such a fit the step is the direction of recession plus a
    vanishing correction.
    """
    parts = np.atleast_2d(np.asarray(parts, dtype=float))
    scale, worst, best = parts[:, 0].max(), parts[:, 1].min(), parts[:, 2].max()
    tolerance = RECESSION_RTOL * scale
    if not scale > 0 or worst < -tolerance or best <= tolerance:
        return None
    # All margins positive, however small: complete separation, left to the
    # separation test of the iterates, which stops at coefficients that do
    # separate the classes. On a quasi-complete separation the step's vanishing
    # correction moves the samples on the boundary both ways.
    return None if worst > 0 else QUASI_SEPARABLE_MESSAGE


def row_chunks(n_rows: int):
    """Consecutive slices of :data:`CHUNK_ROWS` rows covering ``n_rows``."""
    return (slice(start, start + CHUNK_ROWS) for start in range(0, n_rows, CHUNK_ROWS))


# -- per-row terms in the linear predictor --------------------------------------------
def eta_terms(eta: np.ndarray, y: np.ndarray):
    """Per-row log-likelihood and derivatives in ``eta``.

    Returns ``(loglik_obs, resid, prob, curv)``: the log-likelihood of each row; the
    gradient in ``eta`` (``y - p``, one-hot minus softmax for K > 2); for K > 2 the
    softmax probabilities (``None`` for two classes, where no block needs them);
    and ``curv = p (1 - p)``, the diagonal curvature, per class for K > 2.

    For two classes everything comes from :math:`z = \\pm\\eta` (the score of the
    observed class), one exponential :math:`e = e^{-|z|} \\le 1` and one division
    :math:`u = 1 / (1 + e) = \\sigma(|z|)`: :math:`\\log\\sigma(z) = \\min(z, 0) -
    \\log(1 + e)`, :math:`q = e u = \\sigma(-|z|)`, :math:`\\sigma(-z) = q` or
    :math:`u` by the sign of :math:`z`, and :math:`p (1-p) = q u`. Nothing
    overflows and nothing loses relative accuracy for large :math:`|\\eta|`. For
    K > 2, :math:`1 - p_k` is ``-expm1(log p_k)``, accurate when :math:`p_k` is
    near 1.
    """
    if eta.ndim == 1:
        sign = np.where(y == 1, 1.0, -1.0)
        z = sign * eta
        e = np.exp(-np.abs(z))
        u = 1.0 / (1.0 + e)
        q = e * u
        loglik_obs = np.minimum(z, 0.0) - np.log1p(e)
        other = np.where(z >= 0, q, u)  # sigma(-z) = 1 - P(observed class)
        return loglik_obs, sign * other, None, q * u
    log_prob = log_softmax(eta, axis=1)
    rows = np.arange(eta.shape[0])
    prob = np.exp(log_prob)
    resid = -prob
    resid[rows, y] += 1.0
    return log_prob[rows, y], resid, prob, prob * -np.expm1(log_prob)


def loglik_obs_from_eta(eta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Log-likelihood of each row from its linear predictor (log space).

    For two classes :math:`\\log\\sigma(z) = \\min(z, 0) - \\log(1 + e^{-|z|})` with
    :math:`z = \\pm\\eta`, as in :func:`eta_terms`.
    """
    if eta.ndim == 1:
        z = np.where(y == 1, eta, -eta)
        return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))
    return log_softmax(eta, axis=1)[np.arange(eta.shape[0]), y]


def correctly_separated(eta: np.ndarray, y: np.ndarray, weight: np.ndarray) -> bool:
    """Whether every row with positive weight scores its own class strictly highest."""
    rows = weight > 0
    eta, y = eta[rows], y[rows]
    if eta.ndim == 1:
        return bool(np.all(np.where(y == 1, eta, -eta) > 0))
    index = np.arange(eta.shape[0])
    own = eta[index, y].copy()
    eta = eta.copy()
    eta[index, y] = -np.inf
    return bool(np.all(own > eta.max(axis=1)))


def weighted_gram(
    X: np.ndarray,
    factor: np.ndarray,
    fit_intercept: bool,
    scratch: np.ndarray | None = None,
    *,
    nonnegative: bool = False,
) -> np.ndarray:
    """:math:`\\tilde X^\\top \\mathrm{diag}(f) \\tilde X`, with :math:`\\tilde X = [X, 1]`
    if there is an intercept, without forming :math:`\\tilde X`.

    The block of ``X`` is :math:`X^\\top S` with :math:`S = \\mathrm{diag}(f) X`; when
    ``nonnegative`` (:math:`f \\ge 0`) it is the Gram matrix of
    :math:`\\mathrm{diag}(\\sqrt f) X` instead, one symmetric rank-k update (SYRK:
    half the work of a general product, and exactly symmetric). The intercept's
    row and column are :math:`X^\\top f` and :math:`\\sum_i f_i`. ``scratch``, a
    C-contiguous buffer of ``X``'s shape, receives the scaled copy (a contiguous
    target is markedly faster to write than a column slice).
    """
    n, d = X.shape
    out = np.empty((d + fit_intercept, d + fit_intercept))
    if scratch is None:
        scratch = np.empty((n, d))
    if nonnegative:
        root = np.sqrt(factor)
        scaled = np.multiply(X, root[:, None], out=scratch)
        out[:d, :d] = scaled.T @ scaled
        cross = root @ scaled if fit_intercept else None
    else:
        scaled = np.multiply(X, factor[:, None], out=scratch)
        out[:d, :d] = X.T @ scaled
        cross = np.ones(n) @ scaled if fit_intercept else None
    if fit_intercept:
        out[:d, d] = out[d, :d] = cross
        out[d, d] = factor.sum()
    return out


def information_blocks(
    X: np.ndarray,
    fit_intercept: bool,
    weight: np.ndarray,
    prob: np.ndarray | None,
    curv: np.ndarray,
    classes,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """Negative Hessian of the log-likelihood in the coefficients of ``classes``.

    Block (k, l) is :math:`\\tilde X^\\top \\mathrm{diag}(w\\,p_k([k=l] -
    p_l))\\tilde X`, :math:`\\tilde X = [X, 1]` with an intercept: one BLAS
    product per class pair and block of rows (:func:`weighted_gram`; a diagonal
    block has a nonnegative factor and takes the SYRK route). One SYRK of the
    class-scaled rows :math:`\\sqrt{w}\\,[p_k \\tilde X]_k` does as many flops and
    was measured 2.7 times slower (20 classes, 50 features): writing the wide
    scaled copy and its output costs more than the per-pair calls.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    fit_intercept : bool
    weight : ndarray of shape (n_samples,)
    prob : ndarray of shape (n_samples, K) or None
        Softmax probabilities, for the off-diagonal blocks (None for two classes).
    curv : ndarray of shape (n_samples,) or (n_samples, K)
        ``p (1 - p)`` from :func:`eta_terms`.
    classes : sequence of int
        Classes whose blocks to return (``[0]`` for two classes).
    scratch : ndarray of shape (n_samples, n_features), optional
        Reused for the scaled copy of ``X``.
    """
    p = X.shape[1] + fit_intercept
    if curv.ndim == 1:
        curv = curv[:, None]
    m = len(classes)
    info = np.empty((m * p, m * p))
    for a, k in enumerate(classes):
        info[a * p : (a + 1) * p, a * p : (a + 1) * p] = weighted_gram(
            X, weight * curv[:, k], fit_intercept, scratch, nonnegative=True
        )
        for b in range(a + 1, m):
            l = classes[b]  # noqa: E741
            factor = weight * prob[:, k] * prob[:, l]
            block = -weighted_gram(X, factor, fit_intercept, scratch)
            info[a * p : (a + 1) * p, b * p : (b + 1) * p] = block
            info[b * p : (b + 1) * p, a * p : (a + 1) * p] = block.T
    return info


CENTER_ABOVE = 4.0
"""A column is centred when its mean exceeds this many spreads (the Gram matrix
of ``[x, 1]`` then has a condition number above about ``1 + 2 * 4**2``)."""
CENTER_SAMPLE_ROWS = 8192
"""Rows of the systematic sample that decides the centre."""


def column_center(X: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """The centre for :class:`LogisticLogLikelihood`'s ``center``, or None.

    From rows ``X`` (all of them, or a sample; weights ``weight``): the weighted
    column means where a column's absolute mean exceeds :data:`CENTER_ABOVE` times
    its weighted spread, 0 elsewhere; None when no column needs it (the fast
    path: nothing is subtracted). A column constant over ``X`` is centred at
    its value exactly, so that it becomes exactly zero (and collinear with the
    intercept, as it is). The centre need not be the exact mean of all rows:
    any point within a few spreads of it conditions the problem, and the fit is
    the same maximum in other coordinates.
    """
    X = np.asarray(X, dtype=float)
    if X.shape[0] == 0:
        return None
    weight = np.asarray(weight, dtype=float)
    if not weight.sum() > 0:
        weight = np.ones(X.shape[0])
    total = weight.sum()
    mean = weight @ X / total
    spread = np.sqrt(np.maximum(weight @ (X - mean) ** 2 / total, 0.0))
    constant = np.all(X == X[0], axis=0)
    mean = np.where(constant, X[0], mean)
    offset = np.abs(mean) > CENTER_ABOVE * spread
    offset &= mean != 0
    if not np.any(offset):
        return None
    return np.where(offset, mean, 0.0)


def sample_rows(n_rows: int, size: int = CENTER_SAMPLE_ROWS) -> np.ndarray:
    """Indices of a systematic sample of at most ``size`` of ``n_rows`` rows."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.linspace(0, n_rows - 1, size).astype(np.intp)


# -- the log-likelihood -----------------------------------------------------------------
class LogisticLogLikelihood(LogLikelihood):
    """Binary (``n_classes=2``) or multinomial logistic log-likelihood over ``theta``.

    Parameters
    ----------
    n_features : int
    n_classes : int
        At least 2; two classes use the sigmoid and one row of coefficients.
    fit_intercept : bool, default=True
    alpha : float, default=0.0
        Precision of the Gaussian prior on the coefficients (the L2 penalty
        :math:`\\tfrac{\\alpha}{2}\\lVert W \\rVert^2`, intercepts excluded).
    center : ndarray of shape (n_features,), default=None
        With an intercept only: read ``theta`` in *centred coordinates*, the
        linear predictor being :math:`(x - c)^\\top w_k + b_k`. The same
        likelihood in other coordinates (the coefficients are unchanged, the
        intercept of the raw features is :math:`b_k - c^\\top w_k`, see
        :meth:`uncentre`), but every product runs on :math:`x - c`: where a
        feature's mean is large against its spread (timestamps, a shift of
        1e6), the information matrix of :math:`[x, 1]` is nearly singular and
        the linear predictor loses digits to cancellation, while for
        :math:`[x - c, 1]` neither happens. The subtraction runs chunk by chunk
        (no copy of the data); see :func:`column_center`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle.models.base import Batch
    >>> from skmle.models.logistic import LogisticLogLikelihood
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> batch = Batch.from_arrays(X, np.array([0, 0, 1, 1]))
    >>> model = LogisticLogLikelihood(n_features=1, n_classes=2)
    >>> round(model.loglik(np.zeros(2), batch), 6)  # 4 rows with p = 1/2
    -2.772589
    """

    has_hessian = True

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        fit_intercept: bool = True,
        alpha: float = 0.0,
        center: np.ndarray | None = None,
    ):
        if n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, got {n_classes}.")
        if center is not None and not fit_intercept:
            raise ValueError(
                "center needs fit_intercept=True (an intercept absorbs it)."
            )
        self.center = None if center is None else np.asarray(center, dtype=float)
        self.n_features = int(n_features)
        self.n_classes = int(n_classes)
        self.fit_intercept = bool(fit_intercept)
        self.alpha = float(alpha)
        self.row_size = self.n_features + self.fit_intercept
        self.n_rows = 1 if self.binary else self.n_classes
        self.n_params = self.n_rows * self.row_size
        self.n_free = (self.n_classes - 1) * self.row_size

    @property
    def binary(self) -> bool:
        return self.n_classes == 2

    # -- layout ----------------------------------------------------------------------
    def coef_matrix(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` as the (n_rows, p) matrix: one row per class (one if binary)."""
        return np.reshape(theta, (self.n_rows, self.row_size))

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (n_rows, d) and intercepts (n_rows,) (zeros without one)."""
        W = self.coef_matrix(theta)
        d = self.n_features
        intercept = W[:, d] if self.fit_intercept else np.zeros(self.n_rows)
        return W[:, :d], intercept

    def linear_blocks(self) -> list[tuple[np.ndarray, int | None]]:
        """Each class's coefficients and intercept in ``theta`` (class-major)."""
        d, p = self.n_features, self.row_size
        return [
            (k * p + np.arange(d), k * p + d if self.fit_intercept else None)
            for k in range(self.n_rows)
        ]

    def linear_predictor(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """``eta = X W^T + b``: shape (n_samples,) for two classes, else (n, K).

        With a ``center``, ``(X - center) W^T + b``, chunk by chunk.
        """
        coef, intercept = self.split(theta)
        if self.binary:
            coef, intercept = coef[0], intercept[0]
        else:
            coef = coef.T
        if self.center is None:
            return X @ coef + intercept
        eta = np.empty((X.shape[0], *coef.shape[1:]))
        for rows in row_chunks(X.shape[0]):
            eta[rows] = (X[rows] - self.center) @ coef + intercept
        return eta

    def centred(self, X: np.ndarray) -> np.ndarray:
        """``X - center`` (``X`` itself without a centre)."""
        return X if self.center is None else X - self.center

    # -- centred coordinates -----------------------------------------------------------
    def uncentre(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` for the raw features: intercepts :math:`b_k - c^\\top w_k`."""
        if self.center is None:
            return np.array(theta, dtype=float)
        W = self.coef_matrix(np.array(theta, dtype=float))
        W[:, -1] -= W[:, :-1] @ self.center
        return W.ravel()

    def centre(self, theta: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`uncentre`: intercepts :math:`b_k + c^\\top w_k`."""
        if self.center is None:
            return np.array(theta, dtype=float)
        W = self.coef_matrix(np.array(theta, dtype=float))
        W[:, -1] += W[:, :-1] @ self.center
        return W.ravel()

    def uncentre_covariance(self, covariance: np.ndarray) -> np.ndarray:
        """A covariance of rows of centred coefficients, for the raw features.

        ``covariance`` is over any number of stacked rows ``[w_k, b_k]`` (free
        coordinates included): :meth:`uncentre` is the same linear map
        :math:`T` on every row, so the result is :math:`T C T^\\top`.
        """
        if self.center is None:
            return covariance
        p, d = self.row_size, self.n_features
        m = covariance.shape[0] // p
        C = np.array(covariance, dtype=float).reshape(m, p, m, p)
        C[:, d] -= np.tensordot(C[:, :d], self.center, axes=([1], [0]))
        C[:, :, :, d] -= np.tensordot(C[:, :, :, :d], self.center, axes=([3], [0]))
        return C.reshape(m * p, m * p)

    # -- free (identified) coordinates -------------------------------------------------
    def to_free(self, vector: np.ndarray) -> np.ndarray:
        """:math:`B^\\top v`: centre each column across classes, drop class 0."""
        if self.binary:
            return vector
        V = self.coef_matrix(vector)
        return (V - V.mean(axis=0))[1:].ravel()

    def from_free(self, phi: np.ndarray) -> np.ndarray:
        """:math:`B \\phi`: class 0 gets zeros, then every column is centred."""
        if self.binary:
            return phi
        W = np.vstack([np.zeros(self.row_size), np.reshape(phi, (-1, self.row_size))])
        return (W - W.mean(axis=0)).ravel()

    def _penalised(self) -> np.ndarray:
        """1.0 for a coefficient, 0.0 for an intercept, over one row of ``W``."""
        mask = np.ones(self.row_size)
        if self.fit_intercept:
            mask[-1] = 0.0
        return mask

    # -- per batch -------------------------------------------------------------------
    def loglik_obs(self, theta, batch: Batch) -> np.ndarray:
        return loglik_obs_from_eta(self.linear_predictor(theta, batch.X), batch.y)

    def loglik_eta(self, eta: np.ndarray, batch: Batch) -> float:
        """Weighted log-likelihood of a batch from its linear predictor.

        In chunks of rows, as every sum here: the temporaries stay in cache.
        """
        weight, y = batch.sample_weight, batch.y
        return sum(
            float(weight[rows] @ loglik_obs_from_eta(eta[rows], y[rows]))
            for rows in row_chunks(eta.shape[0])
        )

    def loglik_grad(self, theta, batch: Batch):
        eta = self.linear_predictor(theta, batch.X)
        loglik_obs, resid, _, _ = eta_terms(eta, batch.y)
        weighted = resid * (
            batch.sample_weight if resid.ndim == 1 else batch.sample_weight[:, None]
        )
        return float(batch.sample_weight @ loglik_obs), self._chain(batch.X, weighted)

    def _chain(self, X: np.ndarray, weighted_resid: np.ndarray) -> np.ndarray:
        """Gradient in ``theta`` from the weighted gradient in ``eta``.

        ``X`` is raw; with a ``center`` the products run on ``X - center`` chunk
        by chunk (``r^T X - (1^T r) c`` would cancel).
        """
        if self.center is None:
            return self._chain_centred(X, weighted_resid)
        r = np.reshape(weighted_resid, (X.shape[0], -1))
        return sum(
            self._chain_centred(X[rows] - self.center, r[rows])
            for rows in row_chunks(X.shape[0])
        )

    def _chain_centred(self, X_rows: np.ndarray, weighted_resid: np.ndarray):
        """:meth:`_chain` on rows that are already centred."""
        r = np.reshape(weighted_resid, (X_rows.shape[0], -1))
        grad = r.T @ X_rows
        if self.fit_intercept:
            grad = np.hstack([grad, r.sum(axis=0)[:, None]])
        return grad.ravel()

    def hessian(self, theta, batch: Batch) -> np.ndarray:
        """Hessian in ``theta`` (singular along the softmax shift when K > 2)."""
        eta = self.linear_predictor(theta, batch.X)
        _, _, prob, curv = eta_terms(eta, batch.y)
        return -information_blocks(
            self.centred(batch.X),
            self.fit_intercept,
            batch.sample_weight,
            prob,
            curv,
            range(self.n_rows),
        )

    def newton_terms(self, eta: np.ndarray, batch: Batch, exact: bool = True):
        """Log-likelihood, gradient, information and the separation test, in one pass.

        Returns ``(loglik, grad, info, separated)``: the gradient in ``theta``, the
        information (negative Hessian) in free coordinates, and whether ``eta``
        puts every row with positive weight strictly on its own class's side
        (:func:`correctly_separated`). The rows are taken in chunks of
        :data:`CHUNK_ROWS`; each chunk of ``X`` is read from memory once, for the
        gradient and for its share of the information matrix, whose scaled copy
        goes into one reused buffer.

        With ``exact=False`` the information is estimated from a systematic
        sample of the rows, one chunk in :data:`SAMPLED_CHUNKS` (scaled up by
        the ratio of total to sampled weight), in about a third of the time: a
        Newton direction far from the maximum needs no more. The log-likelihood,
        gradient and separation test always use every row.
        """
        X, y, weight = batch.X, batch.y, batch.sample_weight
        n = X.shape[0]
        classes = [0] if self.binary else list(range(1, self.n_classes))
        loglik = 0.0
        grad = np.zeros(self.n_params)
        info = np.zeros((self.n_free, self.n_free))
        separated = True
        scratch = np.empty((min(CHUNK_ROWS, n), self.n_features))
        every = 1 if exact else SAMPLED_CHUNKS
        sampled_weight = 0.0
        for index, rows in enumerate(row_chunks(n)):
            w = weight[rows]
            loglik_obs, resid, prob, curv = eta_terms(eta[rows], y[rows])
            loglik += float(w @ loglik_obs)
            weighted = resid * (w if resid.ndim == 1 else w[:, None])
            X_rows = self.centred(X[rows])
            grad += self._chain_centred(X_rows, weighted)
            if index % every == 0:
                info += information_blocks(
                    X_rows,
                    self.fit_intercept,
                    w,
                    prob,
                    curv,
                    classes,
                    scratch[: w.size],
                )
                sampled_weight += float(w.sum())
            separated = separated and correctly_separated(eta[rows], y[rows], w)
        if every > 1 and sampled_weight > 0:
            info *= float(weight.sum()) / sampled_weight
        return loglik, grad, info, separated

    def line_terms(self, eta: np.ndarray, step_eta: np.ndarray, batch: Batch):
        """Log-likelihood at ``eta`` and its derivatives along ``eta + t * step_eta``.

        :math:`\\varphi'(0) = \\sum_i w_i r_i^\\top s_i` and
        :math:`\\varphi''(0) = -\\sum_i w_i s_i^\\top (\\mathrm{diag}(p_i) - p_i
        p_i^\\top) s_i`, with :math:`r` the gradient in ``eta`` and :math:`s` the
        step of ``eta`` (for two classes :math:`-\\sum_i w_i p_i(1-p_i) s_i^2`).
        """
        totals = np.zeros(3)
        for rows in row_chunks(eta.shape[0]):
            weight, step = batch.sample_weight[rows], step_eta[rows]
            loglik_obs, resid, prob, curv = eta_terms(eta[rows], batch.y[rows])
            if step.ndim == 1:
                slope = (weight * resid) @ step
                curvature = -((weight * curv) @ step**2)
            else:
                slope = weight @ np.einsum("ik,ik->i", resid, step)
                mean_step = np.einsum("ik,ik->i", prob, step)
                spread = np.einsum("ik,ik->i", prob, step**2) - mean_step**2
                curvature = -(weight @ spread)
            totals += (weight @ loglik_obs, slope, curvature)
        loglik, slope, curvature = totals
        return float(loglik), float(slope), float(curvature)

    def separates(self, eta: np.ndarray, batch: Batch) -> bool:
        """Whether every row with positive weight is strictly on its class's side.

        If so, scaling the parameters up drives the log-likelihood to 0: the data
        are linearly separable and no maximum likelihood estimate exists.
        """
        return correctly_separated(eta, batch.y, batch.sample_weight)

    # -- prior -----------------------------------------------------------------------
    @property
    def has_prior(self) -> bool:
        return self.alpha > 0

    def log_prior(self, theta, total_weight):
        """:math:`-\\tfrac{\\alpha}{2}\\lVert W\\rVert^2` over the coefficients only.

        Returns the value, gradient and the dense Hessian the generic interface
        asks for. The objectives below never build that (n_params, n_params)
        matrix: they use :meth:`log_prior_value_grad` and the diagonal
        :meth:`prior_precision`.
        """
        value, grad = self.log_prior_value_grad(theta)
        return value, grad, -np.diag(self.prior_precision())

    def prior_precision(self) -> np.ndarray:
        """Diagonal of the negative Hessian of the log-prior in ``theta``:
        ``alpha`` for a coefficient, 0 for an intercept."""
        return np.tile(self._penalised(), self.n_rows) * self.alpha

    def log_prior_value_grad(self, theta) -> tuple[float, np.ndarray]:
        """Value and gradient of the log-prior, in O(n_params) time and memory."""
        if not self.has_prior:
            return 0.0, np.zeros(self.n_params)
        precision = self.prior_precision()
        return -0.5 * float(precision @ theta**2), -precision * theta

    def prior_information(self) -> np.ndarray:
        """Negative Hessian of the log-prior in free coordinates, :math:`B^\\top A B`.

        For K > 2, :math:`B^\\top B = I - J/K` on the class index, so this is
        :math:`\\alpha (I_{K-1} - J/K) \\otimes \\mathrm{diag}(\\text{penalised})`.
        """
        diag = np.diag(self._penalised() * self.alpha)
        if self.binary:
            return diag
        m = self.n_classes - 1
        return np.kron(np.eye(m) - 1.0 / self.n_classes, diag)


# -- the objective with the linear-predictor interface ---------------------------------
MIN_ROWS_PER_THREAD = 16384
"""Below this many rows per thread, a sum over rows runs in the calling thread."""

_pool: tuple[int, ThreadPoolExecutor] | None = None


def _thread_pool() -> ThreadPoolExecutor:
    """A process-wide pool, started once: starting threads per sum costs more than
    the sum on a busy machine. A forked child gets a new pool of its own."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(available_threads()))
    return _pool[1]


def available_threads() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class DiagonalPriorObjective(Objective):
    """:class:`~skmle.models.objective.Objective` whose log-prior is never a dense
    matrix: its value and gradient take O(n_params) (the generic objective asks
    the model for the full Hessian just to read a scalar), and
    :meth:`hessian` adds the diagonal prior precision in place."""

    model: LogisticLogLikelihood

    def value(self, theta: np.ndarray) -> float:
        prior, _ = self.model.log_prior_value_grad(theta)
        return (self.loglik(theta) + prior) / self.total_weight

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        model = self.model
        total, grad = self.sum_batches(lambda b: model.loglik_grad(theta, b))
        prior, prior_grad = model.log_prior_value_grad(theta)
        return (
            (total + prior) / self.total_weight,
            (grad + prior_grad) / self.total_weight,
        )

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        model = self.model
        hess = np.array(self.sum_batches(lambda b: model.hessian(theta, b)))
        hess[np.diag_indices_from(hess)] -= model.prior_precision()
        return hess / self.total_weight


class LogisticObjective(DiagonalPriorObjective):
    """:class:`~skmle.models.objective.Objective` plus what
    :func:`~skmle.optim.linear_newton.linear_newton` needs: the linear predictor
    over all rows (batches stacked), the objective and its derivatives along a
    line from it, and Newton steps.

    Sums over rows run in parallel: the rows are cut into one block per thread
    (``n_threads``, default all available CPUs; at least
    :data:`MIN_ROWS_PER_THREAD` rows each), each block is summed in its own thread
    with BLAS held to one thread, and the block sums are added in a fixed order.

    Each exact :meth:`newton_system` keeps the total information matrix (free
    coordinates, prior included) and the point it was computed at in
    ``information`` and ``information_theta`` (standard errors at the fitted
    parameters then need no further pass over the data); every one keeps whether
    its point separates the classes, which :meth:`stop_reason` reports.
    """

    approximate_information = True
    """:meth:`newton_system` takes ``exact=False`` (information from sampled rows)."""

    information: np.ndarray | None = None
    information_theta: np.ndarray | None = None
    _last_eta: np.ndarray | None = None
    _last_separated: bool = False

    def __init__(self, model, batches, n_threads: int | None = None):
        batches = list(batches)
        self.n_threads = available_threads() if n_threads is None else int(n_threads)
        self.n_rows_total = sum(b.X.shape[0] for b in batches)
        self._blocks = self._cut(batches)
        super().__init__(model, batches)

    def _cut(self, batches):
        """``(block, rows)`` pairs: a Batch of consecutive rows and its slice of eta."""
        blocks, offset = [], 0
        for batch in batches:
            n = batch.X.shape[0]
            k = max(1, min(self.n_threads, n // MIN_ROWS_PER_THREAD))
            cuts = np.linspace(0, n, k + 1).astype(int)
            for lo, hi in pairwise(cuts):
                part = Batch(batch.X[lo:hi], batch.y[lo:hi], batch.sample_weight[lo:hi])
                blocks.append((part, slice(offset + lo, offset + hi)))
            offset += n
        return blocks

    def _run(self, per_block) -> list:
        """``per_block(block, rows)`` for every block, in parallel when several.

        BLAS stays on one thread even when there is one block: the chunks are too
        small for its threads to pay, and on a busy machine they cost far more.
        """
        with single_blas_thread():
            if len(self._blocks) == 1:
                return [per_block(*self._blocks[0])]
            return list(
                _thread_pool().map(lambda block: per_block(*block), self._blocks)
            )

    def sum_batches(self, per_batch):
        """Sum ``per_batch`` over the blocks of rows (parallel, fixed order)."""
        return reduce(add_results, self._run(lambda block, rows: per_batch(block)))

    def predictor(self, theta: np.ndarray) -> np.ndarray:
        n = self.n_rows_total
        eta = np.empty((n,) if self.model.binary else (n, self.model.n_classes))
        coef, intercept = self.model.split(theta)
        if not np.any(coef):  # the usual start: no pass over X needed
            eta[...] = intercept[0] if self.model.binary else intercept
            return eta

        def fill(block, rows):
            eta[rows] = self.model.linear_predictor(theta, block.X)

        self._run(fill)
        return eta

    def _prior_value(self, theta) -> float:
        return self.model.log_prior_value_grad(theta)[0]

    def value_at(self, theta: np.ndarray, eta: np.ndarray) -> float:
        total = sum(self._run(lambda b, rows: self.model.loglik_eta(eta[rows], b)))
        return (total + self._prior_value(theta)) / self.total_weight

    def line_terms(self, theta, eta, direction, step_eta):
        parts = self._run(
            lambda b, rows: self.model.line_terms(eta[rows], step_eta[rows], b)
        )
        loglik, slope, curvature = (sum(values) for values in zip(*parts, strict=True))
        if self.model.has_prior:
            value, grad = self.model.log_prior_value_grad(theta)
            loglik += value
            slope += float(grad @ direction)
            curvature -= float(self.model.prior_precision() @ direction**2)
        return (
            loglik / self.total_weight,
            slope / self.total_weight,
            curvature / self.total_weight,
        )

    def information_at(self, eta: np.ndarray, exact: bool = True):
        """Total log-likelihood, gradient, information (prior included), separated."""
        parts = self._run(
            lambda b, rows: self.model.newton_terms(eta[rows], b, exact=exact)
        )
        loglik = sum(part[0] for part in parts)
        grad = sum(part[1] for part in parts)
        info = sum(part[2] for part in parts) + self.model.prior_information()
        return loglik, grad, info, all(part[3] for part in parts)

    def newton_system(self, theta: np.ndarray, eta: np.ndarray, exact: bool = True):
        """Mean objective and gradient, and the Newton system in free coordinates.

        With ``exact=False`` the information is estimated from a sample of the
        rows (see :meth:`LogisticLogLikelihood.newton_terms`).
        """
        model = self.model
        loglik, grad, info, separated = self.information_at(eta, exact)
        if exact:
            self.information, self.information_theta = info, np.array(theta)
        self._last_eta, self._last_separated = eta, separated
        _, prior_grad = model.log_prior_value_grad(theta)
        grad = (grad + prior_grad) / self.total_weight
        value = (loglik + self._prior_value(theta)) / self.total_weight
        return value, grad, info / self.total_weight, model.to_free(grad)

    def expand(self, free_step: np.ndarray) -> np.ndarray:
        """A Newton step in free coordinates as a direction in ``theta``."""
        return self.model.from_free(free_step)

    def stop_reason(self, theta: np.ndarray, eta: np.ndarray) -> str | None:
        """:data:`SEPARABLE_MESSAGE` when ``alpha == 0`` and ``eta`` separates."""
        if self.model.alpha > 0:
            return None
        # newton_system has just tested this very eta on its pass over the rows.
        separated = (
            self._last_separated if eta is self._last_eta else self.separated(eta)
        )
        return SEPARABLE_MESSAGE if separated else None

    def separated(self, eta: np.ndarray) -> bool:
        """Whether ``eta`` puts every row with positive weight on its class's side."""
        return all(self._run(lambda b, rows: self.model.separates(eta[rows], b)))

    def recession_reason(self, theta, eta, direction, step_eta) -> str | None:
        """:func:`recession_message` of the step ``step_eta`` when ``alpha == 0``."""
        if self.model.alpha > 0:
            return None
        return recession_message(
            self._run(
                lambda b, rows: step_margins(step_eta[rows], b.y, b.sample_weight)
            )
        )
