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

import numpy as np

from skmle._sparse import is_sparse
from skmle.models.base import Batch, LogLikelihood
from skmle.models.logistic_dense import dense_newton_terms
from skmle.models.logistic_information import information_blocks
from skmle.models.logistic_layout import LogisticLayout
from skmle.models.logistic_separation import correctly_separated
from skmle.models.logistic_sparse import (
    sparse_chain,
    sparse_information_blocks,
    sparse_newton_terms,
)
from skmle.models.logistic_terms import (
    CHUNK_ROWS,
    eta_chunks,
    eta_terms,
    loglik_obs_from_eta,
    row_chunks,
)

__all__ = [
    "CHUNK_ROWS",
    "LogisticLogLikelihood",
    "eta_terms",
    "loglik_obs_from_eta",
]


# -- the log-likelihood -----------------------------------------------------------------
class LogisticLogLikelihood(LogisticLayout, LogLikelihood):
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
        (no copy of the data); see
        :func:`~skmle.models.logistic_terms.column_center`.

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
    capabilities = frozenset({"hessian", "scores", "linear_predictor"})

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
            for rows in eta_chunks(eta)
        )

    def loglik_grad(self, theta, batch: Batch):
        eta = self.linear_predictor(theta, batch.X)
        loglik_obs, resid, _, _ = eta_terms(eta, batch.y)
        weighted = resid * (
            batch.sample_weight if resid.ndim == 1 else batch.sample_weight[:, None]
        )
        return float(batch.sample_weight @ loglik_obs), self._chain(batch.X, weighted)

    def scores(self, theta, batch: Batch) -> np.ndarray:
        """Per-row gradients of the log-likelihood (unweighted), (n_samples,
        n_params): row :math:`i` is :math:`r_{ik} \\tilde x_i` for every class
        row :math:`k` of ``theta`` (class-major), with :math:`r_i` the gradient in
        ``eta`` and :math:`\\tilde x_i = [x_i - c, 1]`."""
        eta = self.linear_predictor(theta, batch.X)
        resid = np.reshape(eta_terms(eta, batch.y)[1], (eta.shape[0], -1))
        X = self.centred(batch.X)
        if self.fit_intercept:
            X = np.column_stack([X, np.ones(X.shape[0])])
        return (resid[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)

    def score_factors(self, theta, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """The factors of :meth:`scores` (:mod:`skmle.inference.sandwich_sparse`):
        the gradient :math:`r_{ik}` in each class row's ``eta``, shape (n,
        n_rows), and no other parameter's, shape (n, 0)."""
        eta = self.linear_predictor(theta, batch.X)
        resid = np.reshape(eta_terms(eta, batch.y)[1], (eta.shape[0], -1))
        return resid, np.zeros((eta.shape[0], 0))

    def _chain(self, X: np.ndarray, weighted_resid: np.ndarray) -> np.ndarray:
        """Gradient in ``theta`` from the weighted gradient in ``eta``.

        ``X`` is raw; with a ``center`` the products run on ``X - center`` chunk
        by chunk (``r^T X - (1^T r) c`` would cancel).
        """
        if is_sparse(X):
            return sparse_chain(X, weighted_resid, self.center, self.fit_intercept)
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
        if is_sparse(batch.X):
            classes = range(self.n_rows)
            return -sparse_information_blocks(
                batch.X, self.center, self.fit_intercept, batch.sample_weight,
                prob, curv, classes,
            )  # fmt: skip
        return -information_blocks(
            self.centred(batch.X),
            self.fit_intercept,
            batch.sample_weight,
            prob,
            curv,
            range(self.n_rows),
        )

    def newton_terms(
        self,
        eta: np.ndarray,
        batch: Batch,
        exact: bool | None = True,
        single: bool = False,
        along: tuple | None = None,
    ):
        """Log-likelihood, gradient, information and the separation test, in one pass.

        Returns ``(loglik, grad, info, separated)``: the gradient in ``theta``, the
        information (negative Hessian) in free coordinates, and whether ``eta``
        puts every row with positive weight strictly on its own class's side
        (:func:`correctly_separated`). Dense rows are taken in chunks
        (:func:`~skmle.models.logistic_dense.dense_newton_terms`: the per-row
        terms on larger ones, the products with ``X`` on :data:`CHUNK_ROWS`
        rows); each chunk of ``X`` is read from memory once, for the gradient
        and for its share of the information matrix, whose scaled copy goes
        into one reused buffer.

        With ``exact=False`` the information is estimated from a systematic
        sample of the rows, one chunk in :data:`SAMPLED_CHUNKS` (scaled up by
        the ratio of total to sampled weight), in about a third of the time: a
        Newton direction far from the maximum needs no more. With
        ``exact=None`` no information is computed (``info`` is the scalar
        0.0): the solver reuses an earlier one, or needs none (its
        quasi-Newton phase). With ``single=True`` (dense rows) the products of
        the information are in single precision (see
        :func:`~skmle.models.logistic_information.weighted_gram`): half the
        flops of its symmetric updates, for an information that only steers a
        step. The log-likelihood, gradient and separation test always use
        every row, in double precision.

        ``along = (direction, step_out, eta_out)`` asks for all this at
        ``eta + X direction`` (a Newton step's full trial point) instead of at
        ``eta``: each chunk's predictor of ``direction`` is formed while the
        chunk is in cache and written to ``step_out``, the sum to ``eta_out``
        (arrays shaped as ``eta``), so the step costs no pass of its own.
        """
        if is_sparse(batch.X):
            if along is not None:
                direction, step_out, eta_out = along
                step_out[...] = self.linear_predictor(direction, batch.X)
                eta = np.add(eta, step_out, out=eta_out)
            return sparse_newton_terms(self, eta, batch, exact)
        return dense_newton_terms(self, eta, batch, exact, single, along)

    def line_terms(self, eta: np.ndarray, step_eta: np.ndarray, batch: Batch):
        """Log-likelihood at ``eta`` and its derivatives along ``eta + t * step_eta``.

        :math:`\\varphi'(0) = \\sum_i w_i r_i^\\top s_i` and
        :math:`\\varphi''(0) = -\\sum_i w_i s_i^\\top (\\mathrm{diag}(p_i) - p_i
        p_i^\\top) s_i`, with :math:`r` the gradient in ``eta`` and :math:`s` the
        step of ``eta`` (for two classes :math:`-\\sum_i w_i p_i(1-p_i) s_i^2`).
        """
        totals = np.zeros(3)
        for rows in eta_chunks(eta):
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
