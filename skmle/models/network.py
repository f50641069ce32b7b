"""One hidden ReLU layer and a softmax output: a neural network's log-likelihood.

The model, for a row :math:`x` (the forward pass of the lecture notes):

.. math::

    z = W x + b_1, \\qquad h = \\mathrm{ReLU}(z), \\qquad
    \\vartheta = U h + b_2, \\qquad \\hat y = \\mathrm{softmax}(\\vartheta),

and the log-likelihood of the observed class :math:`y` (one-hot :math:`\\mathbf y`)
is minus the notes' cross-entropy,
:math:`\\log \\hat y_y = \\vartheta_y - \\log \\sum_k e^{\\vartheta_k}`. With the
notes' error signals, vectorised over the rows (row :math:`i` of each matrix is one
sample, :math:`w_i` its weight),

.. math::

    \\delta_1 = \\hat Y - Y, \\qquad \\delta_2 = (\\delta_1 U) \\circ 1[H > 0],

the gradient of :math:`\\ell = \\sum_i w_i \\log \\hat y_{i, y_i}` is, block by
block (the notes' :math:`\\partial J / \\partial \\cdot` with the sign flipped,
since skmle ascends),

.. math::

    \\nabla_U \\ell = -\\delta_1^\\top \\mathrm{diag}(w) H, \\quad
    \\nabla_{b_2} \\ell = -\\delta_1^\\top w, \\quad
    \\nabla_W \\ell = -\\delta_2^\\top \\mathrm{diag}(w) X, \\quad
    \\nabla_{b_1} \\ell = -\\delta_2^\\top w.

Each is one matrix product over the rows (BLAS), never a loop over samples.

Conventions
-----------
- ``n_outputs`` is 1 for two classes (:math:`\\vartheta` is the log-odds of class
  1, the softmax of :math:`[0, \\vartheta]`, as scikit-learn's ``MLPClassifier``
  and ``LogisticGD`` parameterise it) and ``n_classes`` otherwise (one score per
  class, the notes' softmax; only differences between the scores are identified).
- ``theta = [W.ravel(), b1, U.ravel(), b2]`` with ``W`` of shape
  ``(n_hidden, n_features)`` and ``U`` of shape ``(n_outputs, n_hidden)``, the
  notes' :math:`W \\in \\mathbb R^{D_h \\times D_x}` and
  :math:`U \\in \\mathbb R^{N_c \\times D_h}`, row-major. scikit-learn's
  ``coefs_`` are the transposes: ``W = coefs_[0].T``, ``U = coefs_[1].T``.
- ``y`` holds class indices ``0 .. n_classes - 1``.
- The prior, when ``alpha > 0``, is Gaussian with precision ``alpha`` on the
  weights ``W`` and ``U`` (not on the intercepts):
  :math:`\\log\\pi = -\\tfrac{\\alpha}{2}(\\lVert W\\rVert^2 + \\lVert U\\rVert^2)`.
- No Hessian: the solvers use the gradient only.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from scipy.special import logsumexp

from skmle._threads import available_threads, thread_map
from skmle.data.batch import Batch
from skmle.models.base import LogLikelihood
from skmle.models.logistic_terms import row_chunks


class NetworkLogLikelihood(LogLikelihood):
    """Multinomial log-likelihood of a one-hidden-layer ReLU network.

    Parameters
    ----------
    n_features : int
    n_hidden : int
        Width :math:`D_h` of the hidden layer.
    n_classes : int
        At least 2.
    alpha : float, default=0.0
        Precision of the Gaussian prior on the weights (0: none).
    """

    def __init__(self, n_features: int, n_hidden: int, n_classes: int, alpha=0.0):
        self.n_features = int(n_features)
        self.n_hidden = int(n_hidden)
        self.n_classes = int(n_classes)
        self.n_outputs = 1 if self.n_classes == 2 else self.n_classes
        self.alpha = float(alpha)
        d, h, k = self.n_features, self.n_hidden, self.n_outputs
        # Ends of the blocks W, b1, U, b2 in theta.
        self._ends = np.cumsum([h * d, h, k * h, k])
        self.n_params = int(self._ends[-1])

    # -- layout ----------------------------------------------------------------------
    def unpack(self, theta: np.ndarray):
        """Views ``(W, b1, U, b2)`` of ``theta`` (see the module's Conventions)."""
        W, b1, U, b2 = np.split(np.asarray(theta), self._ends[:-1])
        return (
            W.reshape(self.n_hidden, self.n_features),
            b1,
            U.reshape(self.n_outputs, self.n_hidden),
            b2,
        )

    def pack(self, W, b1, U, b2) -> np.ndarray:
        """The flat ``theta`` of the four blocks (shapes as :meth:`unpack`)."""
        parts = (W, b1, U, b2)
        shapes = [p.shape for p in self.unpack(np.zeros(self.n_params))]
        for part, shape in zip(parts, shapes, strict=True):
            if np.shape(part) != shape:
                raise ValueError(
                    f"A block of shape {np.shape(part)} where the network of "
                    f"{self.n_features} features, {self.n_hidden} hidden units and "
                    f"{self.n_outputs} outputs needs {shape}."
                )
        return np.concatenate([np.ravel(p) for p in parts]).astype(float)

    def random_theta(self, init: str, rng: np.random.RandomState) -> np.ndarray:
        """A random ``theta``: ``"glorot"``, every weight and intercept of a layer
        uniform on :math:`\\pm\\sqrt{6 / (\\text{fan}_{in} + \\text{fan}_{out})}`
        (scikit-learn's start for a ReLU network), or ``"he"``, weights normal
        with variance :math:`2 / \\text{fan}_{in}` and zero intercepts. It
        depends on the shapes only, never on the data."""
        layers = [(self.n_features, self.n_hidden), (self.n_hidden, self.n_outputs)]
        blocks = []
        for fan_in, fan_out in layers:
            if init == "glorot":
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                blocks.append(rng.uniform(-bound, bound, (fan_out, fan_in)))
                blocks.append(rng.uniform(-bound, bound, fan_out))
            else:
                blocks.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)))
                blocks.append(np.zeros(fan_out))
        return self.pack(*blocks)

    def weight_mask(self) -> np.ndarray:
        """1.0 at the weights of ``W`` and ``U`` (the penalised entries), 0.0 at the
        intercepts."""
        mask = np.zeros(self.n_params)
        W_end, b1_end, U_end, _ = self._ends
        mask[:W_end] = 1.0
        mask[b1_end:U_end] = 1.0
        return mask

    # -- forward pass --------------------------------------------------------------
    def hidden(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """:math:`H = \\mathrm{ReLU}(X W^\\top + b_1)`, shape (n_samples, n_hidden)."""
        W, b1, _, _ = self.unpack(theta)
        Z = X @ W.T
        Z += b1
        return np.maximum(Z, 0.0, out=Z)

    def output_scores(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """:math:`\\vartheta = H U^\\top + b_2`: shape (n_samples,) for two classes
        (the log-odds of class 1), else (n_samples, n_classes)."""
        _, _, U, b2 = self.unpack(theta)
        scores = self.hidden(theta, X) @ U.T + b2
        return scores[:, 0] if self.n_outputs == 1 else scores

    def _log_softmax(self, scores: np.ndarray) -> np.ndarray:
        """:math:`\\log\\hat Y`, shape (n_samples, n_classes), by ``logsumexp``:
        no exponential of a large score is ever formed."""
        if self.n_outputs == 1:
            scores = np.column_stack([np.zeros(scores.shape[0]), scores])
        return scores - logsumexp(scores, axis=1, keepdims=True)

    def loglik_obs(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        def block_obs(rows: slice) -> np.ndarray:
            scores = self.output_scores(theta, batch.X[rows])
            return self._log_softmax(scores)[np.arange(scores.shape[0]), batch.y[rows]]

        parts = [
            np.concatenate(part)
            for part in thread_map(
                lambda group: [block_obs(rows) for rows in group], row_groups(batch)
            )
        ]
        return np.concatenate(parts) if parts else np.zeros(0)

    # -- backward pass ---------------------------------------------------------------
    def loglik_grad(self, theta: np.ndarray, batch: Batch) -> tuple[float, np.ndarray]:
        """The weighted log-likelihood and its gradient, by backpropagation.

        Summed over blocks of :data:`~skmle.models.logistic_terms.CHUNK_ROWS`
        rows, whose temporaries (:math:`H`, the error signals) stay in cache, in
        one thread per CPU with single-threaded BLAS (:func:`row_groups`).
        """

        def group_sum(group: list[slice]) -> tuple[float, np.ndarray]:
            value, grad = 0.0, np.zeros(self.n_params)
            for rows in group:
                block_value, block_grad = self._block_loglik_grad(
                    theta, batch.X[rows], batch.y[rows], batch.sample_weight[rows]
                )
                value += block_value
                grad += block_grad
            return value, grad

        parts = thread_map(group_sum, row_groups(batch))
        value = float(sum(part[0] for part in parts))
        return value, np.sum([part[1] for part in parts], axis=0)

    def _block_loglik_grad(self, theta, X, y, weight) -> tuple[float, np.ndarray]:
        """:meth:`loglik_grad` on one block of rows: the notes' backward pass.

        One forward pass keeps :math:`H`; the error signals :math:`-\\delta_1`
        and :math:`-\\delta_2` (scaled by the row weights) give the four blocks
        as matrix products over the rows.
        """
        _, _, U, b2 = self.unpack(theta)
        rows = np.arange(X.shape[0])
        H = self.hidden(theta, X)
        scores = H @ U.T + b2
        log_prob = self._log_softmax(scores[:, 0] if self.n_outputs == 1 else scores)
        value = float(weight @ log_prob[rows, y])
        # minus delta1 = Y - Y_hat, each row scaled by its weight.
        resid = -np.exp(log_prob)
        resid[rows, y] += 1.0
        if self.n_outputs == 1:
            # d/d(theta) of log softmax([0, theta]) is the class-1 column.
            resid = resid[:, 1:]
        resid *= weight[:, None]
        grad_U = resid.T @ H
        grad_b2 = column_sums(resid)
        # minus delta2 = (minus delta1) U o 1[H > 0]: ReLU'(z) read from h itself.
        signal = resid @ U
        signal *= H > 0.0
        grad_W = signal.T @ X
        grad_b1 = column_sums(signal)
        return value, np.concatenate([grad_W.ravel(), grad_b1, grad_U.ravel(), grad_b2])

    # -- prior -------------------------------------------------------------------------
    @property
    def has_prior(self) -> bool:
        return self.alpha > 0.0

    def log_prior(self, theta: np.ndarray, total_weight: float):
        """:math:`-\\tfrac{\\alpha}{2}(\\lVert W\\rVert^2 + \\lVert U\\rVert^2)`, its
        gradient, and ``None`` for the Hessian: the network offers none (the
        likelihood's is not formed either), and a dense (n_params, n_params)
        matrix for every call would cost more than the fit."""
        if not self.has_prior:
            return 0.0, np.zeros(theta.shape[0]), None
        penalised = self.alpha * self.weight_mask()
        return -0.5 * float(penalised @ theta**2), -penalised * theta, None


def column_sums(matrix: np.ndarray) -> np.ndarray:
    """The column sums of ``matrix`` as one matrix-vector product (BLAS)."""
    return np.ones(matrix.shape[0]) @ matrix


def row_groups(batch: Batch) -> list[list[slice]]:
    """The batch's blocks of :data:`~skmle.models.logistic_terms.CHUNK_ROWS` rows,
    dealt into one contiguous group per thread (fewer when there are few blocks).

    Each group runs in its own thread (:func:`skmle._threads.thread_map`) with
    BLAS on one thread: the products of a block are too small for BLAS threads
    to pay, and on a busy machine their spin-waiting costs several times the
    work. The groups and the order of the sums depend only on the number of
    rows, so a fit is reproducible.
    """
    blocks = list(row_chunks(batch.X.shape[0]))
    n_groups = max(1, min(available_threads(), len(blocks)))
    bounds = np.linspace(0, len(blocks), n_groups + 1).round().astype(int)
    return [blocks[start:stop] for start, stop in pairwise(bounds)]
