"""Newton-Raphson with a line search: the one Newton behind ``solver="newton"``.

Each iteration solves the Newton system :math:`I\\,d = g`, with :math:`I` the
information (the negative Hessian, or the expected information for Fisher
scoring), and moves :math:`\\theta \\leftarrow \\theta + t\\,d` with :math:`t`
chosen by a line search. Which line search depends on what the objective offers:

- an objective with a linear predictor (``predictor``, ``value_at``,
  ``line_terms``, ``newton_system``: a GLM such as logistic regression) gets
  :class:`~skmle.optim.newton_predictor.PredictorNewtonStep`: the line search
  moves :math:`\\eta = X\\theta` without reading :math:`X` again, and the fit
  stops on the Newton decrement (the same in any coordinates of ``theta``);
- any other objective (``value``, ``value_and_grad``, ``hessian``) gets
  :class:`HessianNewtonStep`: Armijo backtracking from :math:`t = 1` until
  :math:`f(\\theta + t d) \\ge f(\\theta) + c\\,t\\,g^\\top d`, and the shared
  gradient rule. Where :math:`-H` is not positive definite (far from a maximum
  of a non-concave objective) a multiple of the identity is added until it is,
  which bends the step towards the gradient.

Both run in :func:`~skmle.optim.loop.run`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from skmle._blas import single_blas_thread_when_small
from skmle.optim.loop import GradientPoint, GradientStep, run
from skmle.optim.newton_predictor import PREDICTOR_METHODS, PredictorNewtonStep
from skmle.optim.result import Callback, OptimizeResult, TwiceDifferentiable, require


def newton_direction(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """Solve ``-hess @ d = grad``, damping ``-hess`` until it is positive definite."""
    neg_hess = -np.asarray(hess, dtype=float)
    scale = max(float(np.max(np.abs(np.diag(neg_hess)), initial=0.0)), 1e-12)
    damping = 0.0
    for _ in range(60):
        try:
            factor = cho_factor(
                neg_hess + damping * np.eye(neg_hess.shape[0]), check_finite=True
            )
            return cho_solve(factor, grad)
        except (LinAlgError, ValueError):
            damping = max(2.0 * damping, 1e-10 * scale)
    return grad / scale


class HessianNewtonStep(GradientStep):
    """A damped Newton step from a dense Hessian, with Armijo backtracking."""

    def advance(self, state: GradientPoint) -> GradientPoint | None:
        direction = newton_direction(state.grad, self.function.hessian(state.theta))
        found = self.search(state, direction, 1.0)
        return None if found is None else found[1]


def offers_predictor(function: object) -> bool:
    """Whether ``function`` offers the linear-predictor line search (it has a
    ``predictor``; the rest of :data:`PREDICTOR_METHODS` is then required)."""
    return callable(getattr(function, "predictor", None))


def newton(
    function: TwiceDifferentiable,
    theta0: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    callback: Callback | None = None,
) -> OptimizeResult:
    """Maximise ``function`` by Newton's method with a line search.

    Parameters
    ----------
    function : object
        With ``predictor``, ``value_at``, ``line_terms`` and ``newton_system``
        (see :mod:`skmle.optim.newton_predictor`), or with ``value``,
        ``value_and_grad`` and ``hessian``.
    theta0 : ndarray of shape (n_params,)
    max_iter : int, default=100
    tol : float, default=1e-6
        With a linear predictor, stop when the Newton decrement
        :math:`\\sqrt{g^\\top I^{-1} g}` is at most ``tol`` at two consecutive
        iterates (or the predicted gain is below floating-point resolution);
        otherwise when every gradient component is at most ``tol`` in absolute
        value.
    callback : callable, optional
        ``callback(iteration, theta, value)`` after each iteration.

    Returns
    -------
    OptimizeResult
        ``status`` is ``SEPARABLE`` or ``QUASI_SEPARABLE`` when the objective's
        ``stop_reason`` or ``recession_reason`` said so (then ``converged`` is
        False). With a linear predictor, ``learned`` holds the information of
        the Newton system at the returned point where it is exact.
    """
    if offers_predictor(function):
        require(function, *PREDICTOR_METHODS, solver="newton")
        step = PredictorNewtonStep(function, tol)
        # Its passes run BLAS on one thread per worker anyway: taking that limit
        # once, not at every pass and solve, saves threadpoolctl's tenth of a
        # millisecond each time (a few per cent of a fit of 200,000 rows).
        with single_blas_thread_when_small(np.size(theta0)):
            return run(step, theta0, max_iter=max_iter, callback=callback)
    else:
        require(function, "value", "value_and_grad", "hessian", solver="newton")
        step = HessianNewtonStep(function, tol)
    return run(step, theta0, max_iter=max_iter, callback=callback)
