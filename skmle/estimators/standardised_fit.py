"""The generic solvers, run where the problem is well conditioned.

:func:`maximise_standardised` is what ``solver="gd"``, ``"lbfgs"`` and
``"newton"`` do for every estimator: the columns of a linear predictor (and the
response of a regression) are standardised (:mod:`skmle.models.standardised`), the
solver runs whitened by the curvature (:func:`~skmle.optim.whitened.maximise_whitened`,
which also checks the stopping rule at the point returned), and the result is
mapped back, at the minimum-norm point where the maximum is flat.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from skmle.models.objective import Objective
from skmle.models.standardised import (
    StandardisedObjective,
    column_scaling,
    data_scaling,
    minimum_norm,
)
from skmle.optim import OptimizeResult
from skmle.optim.whitened import maximise_whitened


def maximise_standardised(
    optimizer, objective: Objective, theta0: np.ndarray, **options
) -> OptimizeResult:
    """Maximise ``objective`` with ``optimizer`` in standardised, whitened
    coordinates; the result is in the model's own ``theta``.

    Parameters
    ----------
    optimizer : callable
        One of :data:`skmle.optim.OPTIMIZERS`.
    objective : Objective
    theta0 : ndarray of shape (n_params,)
    **options
        Passed to the optimizer (``max_iter``, ``tol``, ``callback``, ...).
    """
    model = objective.model
    function, scaling = objective, None
    blocks = getattr(model, "linear_blocks", None)
    if blocks is not None:
        log_scale = getattr(model, "log_scale_index", None)
        scaling = column_scaling(
            objective.sum_batches,
            blocks(),
            model.n_features,
            None if log_scale is None else log_scale(),
        )
    elif hasattr(model, "standardising_map"):
        scaling = data_scaling(objective.sum_batches, model)
    if scaling is not None:
        function = StandardisedObjective(objective, scaling)
        theta0 = scaling.to_phi(theta0)
    result, null = maximise_whitened(optimizer, function, theta0, **options)
    if scaling is None:
        return result
    offset = scaling.value_offset
    theta = scaling.to_theta(result.theta)
    directions = [scaling.to_theta(v, direction=True) for v in null.T]
    null = np.column_stack(directions) if directions else null
    return dataclasses.replace(
        result,
        theta=minimum_norm(theta, null, scaling.blocks),
        value=result.value + offset,
        history=result.history + offset,
    )
