"""The inference of ``LinearGaussianRegressor``: asymptotic or exact.

``inference="asymptotic"`` is the likelihood's (the MLE
:math:`\\hat\\sigma^2 = \\mathrm{RSS}/W`, z tests); ``inference="exact"`` the
exact small-sample inference of the Gaussian linear model (the unbiased
:math:`s^2 = \\mathrm{RSS}/(W - p)`, Student's t with :math:`W - p` degrees of
freedom, :mod:`skmle.inference.small_sample`), for the covariance, the summary
and the intervals of ``predict_interval``.
"""

from __future__ import annotations

import numpy as np

from skmle.inference.prediction import gaussian_observation_interval
from skmle.inference.small_sample import residual_df, unbiased_variance_factor


class ExactInferenceMixin:
    """The hooks of :class:`~skmle.LinearGaussianRegressor` that its
    ``inference`` hyperparameter changes (``sigma2_``, ``cov_type``,
    ``fit_intercept`` and ``model_`` set by the fit)."""

    def _coef_variance_factor(self) -> float:
        """:math:`\\hat\\sigma^2`, or :math:`s^2 = \\mathrm{RSS}/(W - p)` for
        ``inference="exact"`` with ``cov_type="nonrobust"`` (NaN when
        :math:`W \\le p`). A sandwich keeps :math:`\\hat\\sigma^2`: its bread
        and the scores of its meat (:func:`location_scores`, at the MLE) must
        share one scale, which then cancels."""
        if not (self.inference == "exact" and self.cov_type == "nonrobust"):
            return self.sigma2_
        return self.sigma2_ * unbiased_variance_factor(
            self.n_samples_seen_, self._n_location()
        )

    def _n_location(self) -> int:
        """:math:`p`: the coefficients of the mean, the intercept counted."""
        return self.model_.n_features + int(self.fit_intercept)

    def _set_theta(self, theta) -> None:
        super()._set_theta(theta)
        self.df_resid_ = residual_df(self.n_samples_seen_, self._n_location())

    def _exact_t(self) -> bool:
        """Whether the tests are Student's t: ``inference="exact"`` with the
        model's covariance (a sandwich has no exact distribution)."""
        return (
            self.inference == "exact"
            and self.cov_type == "nonrobust"
            and self.df_resid_ > 0
        )

    def _summary_df_resid(self) -> float | None:
        """:math:`W - p` for ``inference="exact"`` (t tests), else None (z)."""
        return self.df_resid_ if self._exact_t() else None

    def _interval_df(self) -> float | None:
        return self._summary_df_resid()

    def _observation_variance(self) -> float:
        """The noise variance of a new observation: :math:`\\hat\\sigma^2`, or
        :math:`s^2` with ``inference="exact"`` (statsmodels' ``scale``, also
        beside a sandwich covariance, as in its ``get_prediction``)."""
        if self.inference != "exact":
            return self.sigma2_
        return self.sigma2_ * unbiased_variance_factor(
            self.n_samples_seen_, self._n_location()
        )

    def _observation_interval(self, eta, se, alpha: float) -> np.ndarray:
        """:math:`\\hat y \\pm q \\sqrt{\\mathrm{se}^2 + \\hat\\sigma^2}`: the new
        noise and the estimate's error are independent and normal. With
        ``inference="exact"``, :math:`s^2` and :math:`t_{W-p}`: the exact
        prediction interval (statsmodels' ``obs_ci_*``)."""
        return gaussian_observation_interval(
            eta, se, self._observation_variance(), alpha, self._interval_df()
        )
