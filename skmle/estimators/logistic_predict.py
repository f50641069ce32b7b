"""What a fitted ``LogisticGD`` computes for new rows: scores, probabilities, classes."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.utils.validation import check_is_fitted

from skmle._sklearn_compat import check_sample_weight
from skmle.data import Batch, rowwise


class LogisticPredictionMixin:
    """Scoring and prediction of a fitted ``LogisticGD`` (``classes_``, ``model_``
    and ``theta_`` set by the fit)."""

    def _scoring_batch(self, X, y=None, sample_weight=None) -> Batch:
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.log_likelihood needs the class labels y."
            )
        X = self._validate_for_scoring(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"y has shape {y.shape}; expected ({X.shape[0]},), one label per row."
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels not seen in fit: {list(unknown)}; the classes are "
                f"{list(self.classes_)}."
            )
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, np.searchsorted(self.classes_, y), sample_weight)

    @rowwise
    def decision_function(self, X):
        """Linear scores: the log-odds of ``classes_[1]``, or one score per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.model_.linear_predictor(self.theta_, self._validate_for_scoring(X))

    @rowwise
    def predict_log_proba(self, X):
        """Log-probability of each class, computed in log space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        eta = self.decision_function(X)
        if eta.ndim == 1:
            return np.column_stack([log_expit(-eta), log_expit(eta)])
        return log_softmax(eta, axis=1)

    @rowwise
    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        eta = self.decision_function(X)
        if eta.ndim == 1:
            return np.column_stack([expit(-eta), expit(eta)])
        return softmax(eta, axis=1)

    @rowwise
    def predict(self, X):
        """The most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        eta = self.decision_function(X)
        index = (eta > 0).astype(int) if eta.ndim == 1 else np.argmax(eta, axis=1)
        return self.classes_[index]
