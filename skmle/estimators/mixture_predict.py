"""Prediction and sampling from a fitted :class:`~skmle.EMGaussianMixture`."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skmle.data import rowwise


class MixturePredictionMixin:
    """Responsibilities, labels and draws of a fitted mixture (``model_``,
    ``theta_``, ``weights_``, ``means_`` and ``covariances_``)."""

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X, sample_weight=sample_weight).predict(X)

    @rowwise
    def predict_proba(self, X):
        """Posterior probability of each component for each row (responsibilities).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = self._validate_for_scoring(X)
        return self.model_.log_responsibilities(self.theta_, X)[1]

    @rowwise
    def predict(self, X):
        """Most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_for_scoring(X)
        return np.argmax(self.model_.weighted_log_prob(self.theta_, X), axis=1)

    def sample(self, n_samples=1, random_state=None):
        """Draw rows from the fitted mixture.

        Component counts are multinomial in ``weights_``; rows come out grouped by
        component, as scikit-learn's ``GaussianMixture.sample``.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None
            Defaults to the estimator's ``random_state`` (as scikit-learn does).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if not (isinstance(n_samples, Integral) and n_samples >= 1):
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        counts = rng.multinomial(n_samples, self.weights_)
        d = self.means_.shape[1]
        ct = self.covariance_type
        parts = []
        for k, (mean, count) in enumerate(zip(self.means_, counts, strict=True)):
            if ct in ("full", "tied"):
                cov = self.covariances_[k] if ct == "full" else self.covariances_
                parts.append(rng.multivariate_normal(mean, cov, int(count)))
            else:
                scale = np.sqrt(self.covariances_[k])
                parts.append(mean + rng.standard_normal((int(count), d)) * scale)
        labels = np.repeat(np.arange(self.n_components), counts)
        return np.vstack(parts), labels
