"""Solvers state what they need from a model; the estimator checks before it runs."""

import numpy as np
import pytest

from skmle import (
    EMGaussianMixture,
    GaussianMLE,
    LaplaceRegressor,
    LinearGaussianRegressor,
    LogisticGD,
)
from skmle.models.base import CAPABILITIES
from skmle.optim import SOLVER_REQUIREMENTS

ESTIMATORS = [
    GaussianMLE,
    LinearGaussianRegressor,
    LaplaceRegressor,
    LogisticGD,
    EMGaussianMixture,
]


def accepted_solvers(cls) -> set[str]:
    if "solver" not in cls._parameter_constraints:
        return {cls.solver}  # one fixed solver (EM)
    (options,) = [
        c for c in cls._parameter_constraints["solver"] if hasattr(c, "options")
    ]
    return set(options.options)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_accepted_solver_states_its_requirements(cls):
    for solver in accepted_solvers(cls):
        assert solver in SOLVER_REQUIREMENTS, solver
        assert SOLVER_REQUIREMENTS[solver] <= set(CAPABILITIES)


def test_a_model_without_a_hessian_is_refused_by_newton_with_a_clear_error():
    class NoHessian(GaussianMLE):
        def _make_model(self, batch):
            model = super()._make_model(batch)
            model.capabilities = frozenset({"scores", "closed_form"})
            return model

    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="solver='newton' needs a model with hessian"):
        NoHessian(solver="newton").fit(X)
    # the same model with a solver that needs nothing works
    assert NoHessian(solver="lbfgs").fit(X).converged_
