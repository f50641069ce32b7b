"""Log-densities of ``X`` for the estimators whose model is a distribution of ``X``."""

from __future__ import annotations

import numpy as np
from sklearn.base import DensityMixin
from sklearn.utils.validation import check_is_fitted

from skmle.data import rowwise
from skmle.models.base import Batch


class LogDensityMixin(DensityMixin):
    """``score_samples`` and ``score`` from the fitted model's ``loglik_obs``.

    For :class:`~skmle.GaussianMLE` and :class:`~skmle.EMGaussianMixture`: the
    estimator supplies ``model_``, ``theta_`` and ``_validate_for_scoring``.
    """

    @rowwise
    def score_samples(self, X):
        """Log-density :math:`\\log p(x_i; \\hat\\theta)` of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array (the result is then a Dask array) or
            :func:`skmle.chunked` data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_for_scoring(X)
        return self.model_.loglik_obs(self.theta_, Batch(X, None, np.ones(X.shape[0])))

    def score(self, X, y=None, sample_weight=None):
        """Mean (weighted) log-density per row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        return float(np.average(self.score_samples(X), weights=sample_weight))
