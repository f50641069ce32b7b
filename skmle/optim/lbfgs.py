"""L-BFGS through :func:`scipy.optimize.minimize`.

This module is the one place where skmle negates: SciPy minimises, skmle maximises.
SciPy's ``success`` flag is advice, not the verdict: the result is converged only
when skmle's own rule (every gradient component within ``tol`` of zero) holds at
the point returned.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from skmle.optim.result import (
    Callback,
    Maximisable,
    OptimizeResult,
    Status,
    gradient_converged,
    judged_result,
    require,
)

MAX_RESTARTS = 4
"""Times L-BFGS is restarted with an empty memory when SciPy stops (a line search
that found no decrease, say) before the gradient rule holds."""


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
    (SciPy's ``gtol``). When SciPy stops for another reason (its line search found
    no better point) and the rule does not hold, the search restarts from the
    point reached with an empty memory, up to :data:`MAX_RESTARTS` times within
    ``max_iter`` iterations in all; ``converged`` is the rule at the final point,
    and ``status`` ``CONVERGED``, ``MAX_ITER``, or ``STALLED`` (SciPy found no
    better point and the rule does not hold).
    """
    require(function, "value_and_grad", solver="lbfgs")
    theta = np.asarray(theta0, dtype=float)
    # value_and_grad, not value: it is the only method required above.
    value, grad = function.value_and_grad(theta)
    if not np.isfinite(value):
        raise ValueError("The objective is not finite at the starting point.")
    history = [value]
    n_iter, message = 0, "gradient below tol"
    for _ in range(MAX_RESTARTS + 1):
        if gradient_converged(grad, tol) or n_iter >= max_iter:
            break
        theta, value, grad, nit, message = _run_scipy(
            function, theta, value, max_iter - n_iter, tol, history, n_iter, callback
        )
        n_iter += nit
        if nit == 0:
            break
    if n_iter >= max_iter:
        reason, status = f"max_iter={max_iter} reached", Status.MAX_ITER
    else:
        reason, status = message, Status.STALLED
    return judged_result(theta, value, history, n_iter, grad, tol, reason, status)


def _run_scipy(function, theta0, value0, max_iter, tol, history, offset, callback):
    """One L-BFGS run from ``theta0``; appends to ``history`` as it goes."""
    # What SciPy sees at a point where the objective is not finite. Its line search
    # interpolates, so it needs a finite number: given inf it takes a zero step and
    # reports convergence at the point it started from. A value worse than the
    # start by 1 + |f(theta0)| fails the sufficient-decrease test, so the step is
    # shortened, and is moderate enough to keep the interpolation sane.
    rejected = -value0 + 1.0 + abs(value0)
    start = len(history)

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
            callback(
                offset + len(history) - start, np.array(intermediate_result.x), value
            )

    result = minimize(
        negated,
        np.array(theta0, dtype=float),
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
    del history[start + int(result.nit) :]
    theta = np.asarray(result.x, dtype=float)
    value, grad = function.value_and_grad(theta)
    if not np.isfinite(value) or value < value0:
        # Never hand back a point worse than the start of this run.
        theta, (value, grad) = np.array(theta0), function.value_and_grad(theta0)
        del history[start:]
        return theta, value, grad, 0, str(result.message)
    return theta, float(value), grad, int(result.nit), str(result.message)
