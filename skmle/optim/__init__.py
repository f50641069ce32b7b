"""Optimizers: maximise a function given by value, gradient and Hessian callables.

They know nothing about models or scikit-learn. Gradient ascent, Newton's method
and EM are steps of the one loop, :func:`skmle.optim.loop.run`, which owns the
history, the tolerance, the rejection of non-finite points, the callback and the
:class:`~skmle.optim.result.OptimizeResult`; L-BFGS (SciPy's) is judged by the
same rule at the point it returns. Line searches live in
:mod:`skmle.optim.line_search`.
"""

from skmle.optim.em import em
from skmle.optim.gradient_ascent import gradient_ascent
from skmle.optim.lbfgs import lbfgs
from skmle.optim.newton import newton
from skmle.optim.result import Learned, OptimizeResult, Status

OPTIMIZERS = {"gd": gradient_ascent, "lbfgs": lbfgs, "newton": newton}
"""The generic solvers, by the name an estimator's ``solver`` parameter uses."""

SOLVER_REQUIREMENTS: dict[str, frozenset[str]] = {
    "gd": frozenset(),
    "lbfgs": frozenset(),
    "newton": frozenset({"hessian"}),
    "closed_form": frozenset({"closed_form"}),
    "em": frozenset({"em_step"}),
    "irls": frozenset({"linear_predictor"}),
    "lp": frozenset({"linear_predictor"}),
}
"""What each solver needs a model to declare in its ``capabilities`` (the names of
:data:`skmle.models.base.CAPABILITIES`), as skglm's solvers state the datafit
methods they need. The estimator checks it before dispatching."""

__all__ = [
    "OPTIMIZERS",
    "SOLVER_REQUIREMENTS",
    "Learned",
    "OptimizeResult",
    "Status",
    "em",
    "gradient_ascent",
    "lbfgs",
    "newton",
]
