"""The standard errors of :class:`~skmle.GaussianMLE`: the mean and every
covariance entry, by the closed form or a sandwich
(:mod:`skmle.models.gaussian_information`)."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np

from skmle.inference import ReportedCovariance, score_meat
from skmle.models.gaussian import covariance_from_theta, unpack
from skmle.models.gaussian_information import (
    GaussianParamsCovariance,
    covariance_entries,
    covariance_indices,
    influence_rows,
)
from skmle.optim import OptimizeResult


class GaussianInferenceMixin:
    """The reported blocks ``mean`` and ``covariance`` (the entries of
    ``covariance_``: a function of ``theta_``, not entries of it), their labels,
    ``params_cov_`` and the ``_se_`` attributes, for ``cov_type``."""

    _derived_blocks = ("covariance",)

    def _fitted_covariance(self, result: OptimizeResult):
        """The covariance and the precision's factor of ``result``: exactly the
        regularised moments for the closed form (no round trip through the
        factor), else from ``theta``."""
        fit = result.learned.extras.get("covariance_fit")
        if fit is not None:
            return fit.covariance, fit.factor
        d, ct = self.model_.n_features, self.covariance_type
        theta = np.asarray(result.theta, dtype=float)
        return covariance_from_theta(theta, d, ct), unpack(theta, d, ct)[1]

    def _inference_blocks(self):
        d = self.model_.n_features
        m = covariance_indices(d, self.covariance_type)[0].size
        return {"mean": np.arange(d), "covariance": np.arange(d, d + m)}

    def _block_estimates(self, name: str) -> np.ndarray:
        if name == "covariance":
            d = self.model_.n_features
            return covariance_entries(self.covariance_, d, self.covariance_type)
        return super()._block_estimates(name)

    def _block_std_errors(self, name: str) -> np.ndarray:
        if name == "covariance":
            d = self.model_.n_features
            return covariance_entries(self.covariance_se_, d, self.covariance_type)
        return super()._block_std_errors(name)

    def _parameter_labels(self, name: str, size: int, feature_names=None) -> list[str]:
        if name != "covariance" or self.covariance_type != "full":
            return super()._parameter_labels(name, size, feature_names)
        features = feature_names
        if features is None:
            features = getattr(self, "feature_names_in_", None)
        if features is None:
            features = [f"x{j}" for j in range(self.n_features_in_)]
        rows, cols = covariance_indices(len(features), "full")
        return [
            f"covariance[{features[i]},{features[j]}]"
            for i, j in zip(rows, cols, strict=True)
        ]

    def _compute_standard_errors(self, objective, result: OptimizeResult) -> None:
        """``params_cov_``, ``mean_se_`` and ``covariance_se_``: the closed form
        of :class:`~skmle.models.gaussian_information.GaussianParamsCovariance`,
        or the sandwich of ``cov_type`` from the influence rows summed over every
        batch (:func:`~skmle.inference.score_meat`)."""
        d, ct, W = self.model_.n_features, self.covariance_type, objective.total_weight
        covariance, _ = self._fitted_covariance(result)
        if self.cov_type == "nonrobust":
            params_cov = GaussianParamsCovariance(covariance, d, W, ct)
        else:
            rows = partial(
                influence_rows,
                mean=self.mean_,
                covariance=covariance,
                reg=np.asarray(self.model_.reg_covar, dtype=float),
                covariance_type=ct,
            )
            meat = score_meat(
                objective.sum_batches,
                rows,
                self.cov_type,
                W,
                labels=objective.group_labels,
            )
            if np.isfinite(meat.factor):
                params_cov = ReportedCovariance(matrix=meat.corrected() / W**2)
            else:
                warnings.warn(meat.undefined_message, UserWarning, stacklevel=4)
                params_cov = ReportedCovariance.undefined(meat.matrix.shape[0])
        self._params_cov = params_cov
        if isinstance(params_cov, GaussianParamsCovariance):
            se = params_cov.std_errors()
        else:
            se = np.sqrt(np.maximum(params_cov.variances(), 0.0))
        self.mean_se_ = se[:d]
        self.covariance_se_ = self._as_covariance_shape(se[d:])

    def _as_covariance_shape(self, entries: np.ndarray):
        """Entries in the order of :func:`covariance_indices` in the shape of
        ``covariance_``."""
        if self.covariance_type == "spherical":
            return float(entries[0])
        if self.covariance_type == "diag":
            return entries
        d = self.model_.n_features
        matrix = np.zeros((d, d))
        matrix[np.tril_indices(d)] = entries
        return matrix + np.tril(matrix, -1).T
