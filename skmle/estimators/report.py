"""What a fitted estimator reports about its fit: AIC, BIC and ``summary()``."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skmle.inference import Summary, SummaryRow, check_alpha


class FitReportMixin:
    """``aic``, ``bic`` and ``summary()`` of a fitted
    :class:`~skmle.estimators.base.GradientAscentMixin` estimator, from
    ``loglik_``, the ``<block>_`` and ``<block>_se_`` attributes and
    ``_inference_blocks()``."""

    def _n_parameters(self) -> int:
        """Number of free parameters, for AIC and BIC."""
        return int(self.model_.n_params)

    @property
    def params_cov_(self) -> np.ndarray:
        """The covariance matrix of the reported estimates, in the order of
        :meth:`param_names` (statsmodels' ``cov_params()``, the intercept
        first): the inverse information, or the sandwich of ``cov_type`` where
        the estimator has one.

        Its diagonal is the square of the ``<block>_se_``. Formed from the fit's
        factor on the first access (for thousands of parameters the whole matrix
        costs far more than the standard errors), then kept.
        """
        covariance = self.__dict__.get("_params_cov")
        if covariance is None:
            raise AttributeError(
                f"{type(self).__name__} has no params_cov_: it is set by fit, for "
                "an estimator with standard errors."
            )
        order = self._report_order()
        return covariance.matrix()[np.ix_(order, order)]

    # -- the order of the reported parameters ----------------------------------------
    _derived_blocks: tuple[str, ...] = ()
    """Reported blocks that are functions of ``theta`` rather than entries of it
    (GaussianMLE's covariance): :meth:`param_blocks` leaves them out."""

    def _reported_blocks(self) -> dict[str, np.ndarray]:
        """:meth:`_inference_blocks` in the order of the summary: the intercept
        first, as statsmodels, R and Stata print it, then the others as the
        estimator lists them."""
        blocks = self._inference_blocks()
        first = {name: idx for name, idx in blocks.items() if name == "intercept"}
        return first | {name: idx for name, idx in blocks.items() if name not in first}

    def _report_order(self) -> np.ndarray:
        """Positions, in the inference path's order (:meth:`_inference_blocks`,
        block after block), of the reported parameters in the summary's order."""
        sizes = {
            name: self._block_estimates(name).size for name in self._inference_blocks()
        }
        starts = dict(zip(sizes, np.cumsum([0, *sizes.values()])[:-1], strict=True))
        parts = [
            np.arange(starts[name], starts[name] + sizes[name])
            for name in self._reported_blocks()
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=int)

    def _block_estimates(self, name: str) -> np.ndarray:
        """The estimates of block ``name``, flat (``<name>_`` by default)."""
        return np.ravel(getattr(self, f"{name}_"))

    def _block_std_errors(self, name: str) -> np.ndarray:
        """Their standard errors, flat (``<name>_se_`` by default)."""
        return np.ravel(getattr(self, f"{name}_se_"))

    def _set_information_criteria(self) -> None:
        """``aic_`` and ``bic_`` from ``loglik_`` and ``n_samples_seen_``."""
        k = self._n_parameters()
        self.aic_ = -2.0 * self.loglik_ + 2.0 * k
        self.bic_ = -2.0 * self.loglik_ + k * np.log(self.n_samples_seen_)

    def aic(self, X, y=None) -> float:
        """Akaike information criterion :math:`-2\\ell + 2k` on ``X`` (lower is better)."""
        return -2.0 * self.log_likelihood(X, y) + 2.0 * self._n_parameters()

    def bic(self, X, y=None) -> float:
        """Bayesian information criterion :math:`-2\\ell + k\\log n` (lower is better)."""
        n_samples = np.shape(X)[0]
        return -2.0 * self.log_likelihood(X, y) + self._n_parameters() * np.log(
            n_samples
        )

    # -- summary -------------------------------------------------------------------
    def _summary_rows(self, feature_names=None) -> list[SummaryRow]:
        """One row per reported parameter, labelled by :meth:`param_names`, in
        its order (the intercept first)."""
        blocks = self._reported_blocks()
        estimates = [self._block_estimates(name) for name in blocks]
        errors = [self._block_std_errors(name) for name in blocks]
        return [
            SummaryRow(label, float(e), float(s))
            for label, e, s in zip(
                self.param_names(feature_names),
                np.concatenate(estimates) if estimates else [],
                np.concatenate(errors) if errors else [],
                strict=True,
            )
        ]

    def _parameter_labels(self, name: str, size: int, feature_names=None) -> list[str]:
        features = feature_names
        if features is None:
            features = getattr(self, "feature_names_in_", None)
        if features is None:
            features = [f"x{j}" for j in range(self.n_features_in_)]
        if name == "coef" and size == len(features):
            return [str(f) for f in features]
        if size == 1 and name == "intercept":
            return [name]
        if size == len(features):
            return [f"{name}[{f}]" for f in features]
        if size == 1:
            return [name]
        return [f"{name}[{j}]" for j in range(size)]

    def _check_feature_names_arg(self, feature_names):
        """``summary``'s ``feature_names`` as a list of ``n_features_in_`` strings."""
        if feature_names is None:
            return None
        if isinstance(feature_names, str) or not np.iterable(feature_names):
            raise ValueError(
                "feature_names must be a sequence of names, one per feature, got "
                f"{feature_names!r}."
            )
        names = [str(name) for name in feature_names]
        if len(names) != self.n_features_in_:
            raise ValueError(
                f"feature_names has {len(names)} names but {type(self).__name__} "
                f"was fitted on {self.n_features_in_} features: give "
                f"{self.n_features_in_} names, one per feature."
            )
        return names

    def summary(self, alpha: float = 0.05, feature_names=None) -> Summary:
        """Table of estimates with standard errors, z, p-values and intervals.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals are central ``1 - alpha`` Wald intervals; ``alpha`` must
            lie strictly between 0 and 1.
        feature_names : sequence of str, default=None
            One name per feature (``n_features_in_`` of them) for the rows; by
            default ``feature_names_in_`` when the model was fitted on a
            DataFrame, else ``x0, x1, ...``.

        Returns
        -------
        Summary
            ``str()`` gives the table; ``to_dict()`` the same as plain types.
            Its ``stats["covariance"]`` names the covariance of the standard
            errors: ``"nonrobust"`` (the inverse information), ``"HC0"``,
            ``"HC1"`` or ``"cluster"`` (the sandwiches of ``cov_type``).

        Raises
        ------
        ValueError
            When ``alpha`` is not in (0, 1), or ``feature_names`` does not have
            ``n_features_in_`` names.
        """
        check_is_fitted(self)
        alpha = check_alpha(alpha)
        feature_names = self._check_feature_names_arg(feature_names)
        stats = {
            "log-likelihood": self.loglik_,
            "n parameters": self._n_parameters(),
            "AIC": self.aic_,
            "BIC": self.bic_,
            "n samples": self.n_samples_seen_,
        }
        if self._inference_blocks():
            stats["covariance"] = getattr(self, "cov_type", "nonrobust")
        prior = float(getattr(self, "alpha", 0.0) or 0.0)
        if prior > 0:
            stats["prior precision alpha"] = prior
        stats.update(
            {
                "solver": self.solver,
                "iterations": self.n_iter_,
                "converged": self.converged_,
            }
        )
        # With a prior the estimates maximise the posterior, and the standard
        # errors are the Laplace approximation's posterior standard deviations.
        kind = "maximum a posteriori" if prior > 0 else "maximum likelihood"
        return Summary(
            title=f"{type(self).__name__} {kind} estimates",
            rows=self._summary_rows(feature_names),
            stats=stats,
            alpha=alpha,
            df_resid=self._summary_df_resid(),
        )

    def _summary_df_resid(self) -> float | None:
        """Degrees of freedom of the t tests in ``summary()``; ``None`` for the
        normal (Wald z) tests of the likelihood. Estimators with an exact
        small-sample inference override it."""
        return None
