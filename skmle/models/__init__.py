"""Models: log-likelihoods, gradients and Hessians over a flat parameter vector.

Pure NumPy: nothing here imports scikit-learn or the estimators.
"""

from skmle.models.base import Batch, LogLikelihood
from skmle.models.objective import Objective

__all__ = ["Batch", "LogLikelihood", "Objective"]
