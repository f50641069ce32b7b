"""The standard errors of ``LogisticGD``: its blocks, information and scores.

The information is the solver's, in free (identified) and possibly centred
coordinates :math:`\\phi`, with :math:`\\theta = B \\phi` (class 0 pinned at zero,
then the rows centred across classes, for more than two classes); the per-row
scores in the same coordinates are :math:`B^\\top s_i` of the model's scores
:math:`s_i` in ``theta``, so the sandwich of ``cov_type`` is formed where the
inverse information is (:mod:`skmle.inference.sandwich`).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import clone

from skmle.data import Batch
from skmle.estimators.logistic_baseline import LogisticBaselineMixin
from skmle.estimators.logistic_outcome import SEPARATED, SINGULAR_MESSAGE
from skmle.inference import Information, WaldSpec
from skmle.inference.sandwich_sparse import RowScores, sparse_sandwich
from skmle.models.logistic import LogisticLogLikelihood
from skmle.optim import OptimizeResult


def free_scores(
    batch: Batch, model: LogisticLogLikelihood, theta: np.ndarray
) -> np.ndarray:
    """The per-row scores in free coordinates, :math:`B^\\top s_i` for each row
    (each column of coefficients centred across classes, class 0 dropped)."""
    return free_columns(model.scores(theta, batch), model)


def free_columns(scores: np.ndarray, model: LogisticLogLikelihood) -> np.ndarray:
    """:math:`B^\\top s` of each row :math:`s` of ``theta``'s ``scores``
    (:func:`free_scores`)."""
    if model.binary:
        return scores
    rows = scores.reshape(scores.shape[0], model.n_rows, model.row_size)
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows[:, 1:].reshape(scores.shape[0], -1)


class LogisticInferenceMixin(LogisticBaselineMixin):
    """``_inference_blocks``, ``_wald_spec``, ``_score_rows``, ``_n_parameters``,
    the summary's labels, ``loglik_function`` in raw coordinates and
    ``baseline_coef``, for :class:`~skmle.LogisticGD`."""

    def _inference_blocks(self) -> dict[str, np.ndarray]:
        model = self.model_
        index = np.arange(model.n_params).reshape(model.n_rows, model.row_size)
        blocks = {"coef": index[:, : model.n_features].ravel()}
        if model.fit_intercept:
            blocks["intercept"] = index[:, -1]
        return blocks

    def _wald_spec(self, objective, result: OptimizeResult) -> WaldSpec:
        """The information at the solution in free (and possibly centred)
        coordinates, mapped to ``theta`` for the raw features by
        :meth:`~skmle.models.logistic.LogisticLogLikelihood.reported_columns`
        (uncentring, then the rows summing to zero); none on separable data."""
        blocks = self._inference_blocks()
        if result.status in SEPARATED:
            return WaldSpec(None, blocks)
        matrix = result.learned.information
        return WaldSpec(
            lambda: Information.from_matrix(matrix),
            blocks,
            transform=objective.model.reported_columns,
            singular_message=SINGULAR_MESSAGE,
        )

    @sparse_sandwich
    def _score_rows(self, objective, result: OptimizeResult):
        """:func:`free_scores` at the solution, in the objective's (possibly
        centred) coordinates."""
        model = objective.model
        columns = partial(free_columns, model=model)
        return RowScores(model, result.learned.at, columns)

    def loglik_function(self, X, y=None, sample_weight=None):
        """The log-likelihood bound to data, as a function of ``theta`` for the
        raw features (as ``theta_`` is): without the centring that
        ``solver="newton"`` applies to its own iterates (see
        :meth:`~skmle.estimators.likelihood_api.LikelihoodFunctionMixin.loglik_function`)."""
        work = (
            clone(self).set_params(solver="lbfgs")
            if self.solver == "newton"
            else clone(self)
        )
        return work._objective_for_data(X, y, sample_weight)

    def _n_parameters(self) -> int:
        """Identified parameters: (n_classes - 1) rows of coefficients for K > 2."""
        return int(self.model_.n_free)

    def _parameter_labels(self, name: str, size: int, feature_names=None) -> list[str]:
        if self.model_.binary:
            return super()._parameter_labels(name, size, feature_names)
        features = feature_names
        if features is None:
            features = getattr(self, "feature_names_in_", None)
        if features is None:
            features = [f"x{j}" for j in range(self.n_features_in_)]
        if name == "intercept":
            return [f"{c}:intercept" for c in self.classes_]
        return [f"{c}:{f}" for c in self.classes_ for f in features]
