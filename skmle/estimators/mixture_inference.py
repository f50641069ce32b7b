"""The standard errors of :class:`~skmle.EMGaussianMixture`: the weights and
means from the exact observed information
(:mod:`skmle.models.mixture_information`), or its sandwiches for ``cov_type``."""

from __future__ import annotations

from functools import partial

import numpy as np

from skmle._blas import single_blas_thread_when_small
from skmle.inference import Information, SingularInformation, WaldSpec
from skmle.models.mixture_information import weight_mean_scores
from skmle.optim import OptimizeResult


class MixtureInferenceMixin:
    """``_inference_blocks``, ``_wald_spec``, ``_score_rows`` and the summary's
    labels, for :class:`~skmle.EMGaussianMixture`."""

    def _inference_blocks(self) -> dict[str, np.ndarray]:
        K, d = self.n_components, self.n_features_in_
        return {"weights": np.arange(K), "means": np.arange(K, K + K * d)}

    def _wald_spec(self, objective, result: OptimizeResult) -> WaldSpec:
        """Standard errors of the weights and means, covariances held fixed.

        They come from the exact observed information of :math:`\\phi = (\\pi_1,
        \\dots, \\pi_{K-1}, \\mu)` (see
        :mod:`skmle.models.mixture_information`); the transform
        :math:`J` appends :math:`\\pi_K = 1 - \\sum_{j<K} \\pi_j`, whose error is the
        delta method's :math:`\\sqrt{\\mathbf 1^\\top V_{\\pi\\pi} \\mathbf 1}`.
        """
        K = self.n_components
        model, theta = objective.model, result.theta

        def information() -> Information:
            with single_blas_thread_when_small(theta.size):
                parts = objective.sum_batches(
                    lambda batch: model.information_parts(theta, batch)
                )
                matrix = model.observed_information(theta, parts, overwrite=True)
                return Information.from_matrix(matrix)

        def append_last_weight(columns: np.ndarray) -> np.ndarray:
            return np.insert(columns, K - 1, -columns[: K - 1].sum(axis=0), axis=0)

        spec = information
        if not result.converged:
            # Away from a maximum the information need not be positive definite;
            # a fit that stopped at max_iter has already warned: NaN, silently.
            try:
                spec = information()
            except SingularInformation:
                spec = None
        return WaldSpec(
            spec,
            self._inference_blocks(),
            transform=append_last_weight,
            singular_message=(
                "The observed information of the weights and means is not "
                "positive definite at the fitted parameters (components that "
                "coincide, or one with almost no weight): their standard errors "
                "are set to NaN."
            ),
        )

    def _parameter_labels(self, name, size, feature_names=None) -> list[str]:
        if name == "weights":
            return [f"weight[{k}]" for k in range(self.n_components)]
        features = feature_names
        if features is None:
            features = getattr(self, "feature_names_in_", None)
        if features is None:
            features = [f"x{j}" for j in range(self.n_features_in_)]
        return [f"mean[{k}][{f}]" for k in range(self.n_components) for f in features]

    def _score_rows(self, objective, result: OptimizeResult):
        """:func:`~skmle.models.mixture_information.weight_mean_scores` at the fit:
        the per-row scores in the information's coordinates."""
        return partial(weight_mean_scores, objective.model, result.theta)
