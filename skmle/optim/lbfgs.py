"""L-BFGS through :func:`scipy.optimize.minimize`.

This module is the one place where skmle negates: SciPy minimises, skmle maximises.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from skmle.optim.result import (
    Callback,
    Maximisable,
    OptimizeResult,
    gradient_converged,
    require,
)


def lbfgs(
    function: Maximisable,
    theta0: np.ndarray,
    *,
    max_iter: int = 1000,
    tol: float = 1e-6,
    callback: Callback | None = None,
) -> OptimizeResult:
    """Maximise ``function`` with L-BFGS-B (no bounds).

    Stops when every component of the gradient is at most ``tol`` in absolute value
    (SciPy's ``gtol``), or when the relative change of the objective falls below a
    few machine epsilons (``ftol``), whichever comes first.
    """
    require(function, "value_and_grad", solver="lbfgs")
    # value_and_grad, not value: it is the only method required above.
    history = [function.value_and_grad(np.asarray(theta0, dtype=float))[0]]
    if not np.isfinite(history[0]):
        raise ValueError("The objective is not finite at the starting point.")

    # What SciPy sees at a point where the objective is not finite. Its line search
    # interpolates, so it needs a finite number: given inf it takes a zero step and
    # reports convergence at the point it started from. A value worse than the
    # start by 1 + |f(theta0)| fails the sufficient-decrease test, so the step is
    # shortened, and is moderate enough to keep the interpolation sane.
    rejected = -history[0] + 1.0 + abs(history[0])

    def negated(theta):
        # SciPy's line search may try a point that overflows; it is rejected below.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, grad = function.value_and_grad(theta)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return rejected, np.zeros_like(theta)
        return -value, -grad

    def record(intermediate_result):
        value = -float(intermediate_result.fun)
        history.append(value)
        if callback is not None:
            # SciPy updates x in place: hand over a copy that later iterations
            # cannot overwrite.
            callback(len(history) - 1, np.array(intermediate_result.x), value)

    result = minimize(
        negated,
        np.asarray(theta0, dtype=float),
        jac=True,
        method="L-BFGS-B",
        callback=record,
        options={
            "maxiter": max_iter,
            "gtol": tol,
            "ftol": 0.0,  # stop on the gradient (gtol), not on a stalled value
            "maxls": 50,
        },
    )
    theta = result.x
    value, grad = function.value_and_grad(theta)
    converged = bool(result.success) or gradient_converged(grad, tol)
    if result.nit >= max_iter and not gradient_converged(grad, tol):
        converged = False
    return OptimizeResult(
        theta=theta,
        value=float(value),
        history=np.asarray(history[: result.nit + 1]),
        n_iter=int(result.nit),
        converged=converged,
        message=str(result.message),
    )
