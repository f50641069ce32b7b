"""The model layer's interface: a log-likelihood over a flat parameter vector.

Conventions
-----------
- ``theta`` is a 1-D float array; each model documents its layout at the top of its
  module. Positive quantities (variances, scales) are stored unconstrained
  (log scale, Cholesky factor with log diagonal), so any real ``theta`` is valid.
- Every method takes one :class:`Batch` of rows and returns a *sum over those rows*
  weighted by ``batch.sample_weight``. Sums over disjoint batches add up to the sum
  over all rows, which is what lets a fit run chunk by chunk or on a cluster.
- Higher is better: these are log-likelihoods, never losses.

No scikit-learn here: NumPy arrays in, numbers out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from skmle.data.batch import Batch

LOG_2PI = float(np.log(2.0 * np.pi))
""":math:`\\log 2\\pi`, of every Gaussian density."""


class LogLikelihood(ABC):
    """A log-likelihood :math:`\\ell(\\theta) = \\sum_i w_i \\log p(x_i, y_i; \\theta)`.

    Subclasses implement :meth:`loglik_obs` and :meth:`loglik_grad`; they set
    ``has_hessian = True`` and implement :meth:`hessian` when the Hessian (or the
    negative Fisher information, for models whose Hessian is not informative) is
    cheap. ``n_params`` is the length of ``theta``.
    """

    has_hessian: bool = False
    n_params: int
    capabilities: frozenset[str] = frozenset()
    """What the model offers beyond value and gradient, by name (see
    :data:`CAPABILITIES`); a solver states which ones it requires."""

    @abstractmethod
    def loglik_obs(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Unweighted log-density of each row, shape (n_samples,)."""

    def loglik(self, theta: np.ndarray, batch: Batch) -> float:
        """Weighted sum of :meth:`loglik_obs`."""
        return float(batch.sample_weight @ self.loglik_obs(theta, batch))

    @abstractmethod
    def loglik_grad(self, theta: np.ndarray, batch: Batch) -> tuple[float, np.ndarray]:
        """The weighted log-likelihood and its gradient in ``theta``."""

    def scores(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Per-row gradients of the log-density (unweighted), shape
        (n_samples, n_params): the rows of the Jacobian, whose weighted outer
        products make the sandwich ("robust") covariance."""
        raise NotImplementedError(f"{type(self).__name__} has no per-row scores")

    def hessian(self, theta: np.ndarray, batch: Batch) -> np.ndarray:
        """Hessian of the weighted log-likelihood, shape (n_params, n_params)."""
        raise NotImplementedError(f"{type(self).__name__} has no analytic Hessian")

    def log_prior(
        self, theta: np.ndarray, total_weight: float
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-prior (penalty) added to the objective: value, gradient, Hessian.

        The default is the flat prior (plain maximum likelihood). The Hessian may
        be anything that adds to a dense (n_params, n_params) array: here the
        scalar 0, never a dense matrix of zeros (memory quadratic in the
        parameters for nothing).
        """
        return 0.0, np.zeros(theta.shape[0]), 0.0

    @property
    def has_prior(self) -> bool:
        return False


CAPABILITIES = {
    "hessian": "an analytic Hessian or Fisher information (Newton, standard errors)",
    "scores": "per-row gradients (sandwich and cluster covariances)",
    "closed_form": "the maximum from sufficient statistics",
    "linear_predictor": "theta enters through X @ W + b (column standardising)",
    "em_step": "an expectation-maximisation update",
}
"""The capability names a model may declare in ``capabilities``."""
