"""What a fitted ``LogisticGD`` computes for new rows: scores, probabilities, classes,
and confidence intervals for the probabilities."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.utils.validation import check_is_fitted

from skmle._sklearn_compat import check_sample_weight
from skmle.data import Batch, rowwise
from skmle.inference import check_alpha
from skmle.inference.prediction import design_rows, linear_predictor_se, mean_interval
from skmle.inference.softmax_interval import softmax_probability_interval


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

    @rowwise
    def predict_proba_interval(self, X, alpha: float = 0.05):
        """Confidence intervals for the class probabilities of each row.

        The delta method on the logit scale, mapped through the logistic
        function. For two classes, with :math:`\\hat\\eta = x_1^\\top \\hat\\beta`
        (the log-odds of ``classes_[1]``, :meth:`decision_function`) and
        :math:`\\mathrm{se}(\\hat\\eta) = \\sqrt{x_1^\\top V x_1}`, :math:`V` =
        ``params_cov_`` (of ``cov_type``; with a prior, the Laplace
        approximation's posterior covariance), the interval is

        .. math:: \\big[\\mathrm{expit}(\\hat\\eta - z\\,\\mathrm{se}),\\;
           \\mathrm{expit}(\\hat\\eta + z\\,\\mathrm{se})\\big],

        :math:`z` the standard normal's ``1 - alpha/2`` quantile. It lies in
        (0, 1), unlike the delta method on the probability scale
        (:math:`\\hat p \\pm z\\, \\hat p (1 - \\hat p)\\, \\mathrm{se}`), and it is
        statsmodels' ``Logit(...).fit().get_prediction(X).summary_frame(alpha)``
        ``ci_lower``/``ci_upper`` (its default, "endpoint" method). For more
        classes the same is done for each class's log-odds against the rest,
        :math:`\\ell_k = \\log(p_k / (1 - p_k))`, whose gradient in the linear
        predictors is :math:`1` for class :math:`k` and :math:`-p_j/(1 - p_k)`
        for the others (:mod:`skmle.inference.softmax_interval`); the intervals
        of the classes of one row are marginal, each of level ``1 - alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array (the result is then a Dask array) or
            :func:`skmle.chunked` data.
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        ndarray of shape (n_samples, 2) for two classes, else (n_samples, n_classes, 2)
            Lower and upper limits (of ``classes_[1]`` for two classes, else of
            each class in the order of ``classes_``); NaN where the standard
            errors are undefined (separable classes).

        Raises
        ------
        ValueError
            For an invalid ``alpha``.
        """
        alpha = check_alpha(alpha)
        check_is_fitted(self)
        X = self._validate_for_scoring(X)
        eta = self.decision_function(X)
        rows = design_rows(X, self.model_.fit_intercept)
        covariance = self._theta_covariance()
        if not self.model_.binary:
            return softmax_probability_interval(rows, eta, covariance, alpha)
        se = linear_predictor_se(rows, covariance)
        return mean_interval(eta, se, alpha, inverse_link=expit)

    def _theta_covariance(self) -> np.ndarray:
        """The covariance of ``theta_`` in its own order (class-major rows
        ``[w_k, b_k]``), from the inference path's (its blocks
        ``[coef, intercept]``, whatever order ``params_cov_`` reports)."""
        matrix = self.__dict__["_params_cov"].matrix()
        positions = np.concatenate(list(self._inference_blocks().values()))
        covariance = np.empty_like(matrix)
        covariance[np.ix_(positions, positions)] = matrix
        return covariance
