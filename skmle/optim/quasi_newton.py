"""Preconditioned L-BFGS directions: Newton steps without an exact information.

Where the exact information matrix costs much more than a gradient (a
multinomial logistic regression with many classes: 19 class pairs' weighted Gram
matrices per pass, against two products with :math:`X` for the gradient),
:class:`~skmle.optim.newton_predictor.PredictorNewtonStep` first iterates on
directions :math:`d = H g` from the L-BFGS two-loop recursion (Nocedal and
Wright, *Numerical Optimization*, algorithm 7.4), whose initial inverse
curvature is not a multiple of the identity but the inverse of a cheap
approximate information :math:`M` (a preconditioner):

.. math::

    H_0 = M^{-1}, \\qquad
    H_{k+1} = (I - \\rho_k s_k y_k^\\top) H_k (I - \\rho_k y_k s_k^\\top)
              + \\rho_k s_k s_k^\\top, \\qquad \\rho_k = 1 / y_k^\\top s_k,

with :math:`s_k` the step and :math:`y_k = g_k - g_{k+1}` the fall of the gradient
(the objective is maximised, so :math:`y_k^\\top s_k > 0` where it is concave
along the step). Only the :data:`MEMORY` latest pairs are kept.

The progress measure is the *quasi-Newton decrement*
:math:`\\mu^2 = g^\\top H g = g^\\top d`: the Newton decrement with the L-BFGS
inverse in place of the inverse information (at the start, with no pairs,
:math:`g^\\top M^{-1} g`), free with the direction. It never declares
convergence; it says when an exact information is worth its pass (see
:data:`FINISH`).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy import linalg

from skmle._blas import single_blas_thread
from skmle._linalg import scaled_cholesky

REFRESH = 0.1
"""Once :math:`\\mu \\le` this times its value at the start, the preconditioner
is replaced, once, by the function's ``sampled_preconditioner`` there (the
exact information of a uniform sample of the rows, when the function offers
one): near the maximum it is much closer to the information there than the
start's, and the L-BFGS steps then gain about three times as many digits
each (measured: 10 instead of 35 steps on 20 classes, 50 features)."""
MEMORY = 10
"""Step pairs of the L-BFGS memory."""
FINISH = 1e-10
"""The quasi-Newton phase ends where :math:`\\mu \\le` this times its value at
the start: the exact information is then computed there, and the Newton
decrement it gives is below :data:`~skmle.optim.newton_predictor.FULL_PRECISION`
times the start's unless :math:`H` misjudges the curvature at the maximum by a
factor of more than :math:`(10^{-9}/10^{-10})^2 = 100` (measured: the exact
decrement there was 2e-11 to 1.1e-10 of the start's on five problems)."""
MAX_STEPS = 200
"""At most this many quasi-Newton steps; then exact Newton steps take over."""
STALL_STEPS = 8
"""The quasi-Newton phase also ends (exact Newton steps take over) when
:math:`\\mu^2` has not halved over this many steps (rounding noise in the
gradient, or a preconditioner far from the curvature)."""
CURVATURE_RTOL = 1e-10
"""A pair with :math:`y^\\top s \\le` this times :math:`\\lVert y\\rVert
\\lVert s\\rVert` is not stored (no curvature along the step)."""


class QuasiNewtonDirections:
    """The L-BFGS memory over a fixed preconditioner ``M`` (free coordinates).

    Parameters
    ----------
    preconditioner : ndarray of shape (n_free, n_free)
        Symmetric positive definite: the approximate information ``M``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If ``M`` is singular to working precision (then the exact Newton
        steps are the only route).
    """

    def __init__(self, preconditioner: np.ndarray):
        factored = scaled_cholesky(preconditioner)
        if factored is None:
            raise np.linalg.LinAlgError("the preconditioner is singular")
        self.factor, self.scale = factored
        self.pairs: deque = deque(maxlen=MEMORY)
        self.history: list[float] = []
        """:math:`\\mu^2` at the start and after each step."""
        self.earlier_steps, self.refreshed = 0, False

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """:math:`M^{-1} r`."""
        with single_blas_thread():
            return self.scale * linalg.cho_solve(
                (self.factor, True), self.scale * rhs, check_finite=False
            )

    def update(self, step: np.ndarray, fall: np.ndarray) -> None:
        """Store the pair (:math:`s`, :math:`y`) if it carries curvature."""
        curvature = float(fall @ step)
        if curvature > CURVATURE_RTOL * np.linalg.norm(fall) * np.linalg.norm(step):
            self.pairs.append((step, fall, 1.0 / curvature))

    def direction(self, rhs: np.ndarray) -> tuple[np.ndarray, float]:
        """:math:`d = H g` by the two-loop recursion, and :math:`\\mu^2 =
        g^\\top d`."""
        q = np.array(rhs, dtype=float)
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * float(s @ q)
            q -= alpha * y
            alphas.append(alpha)
        r = self.solve(q)
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas), strict=True):
            r += (alpha - rho * float(y @ r)) * s
        return r, max(float(rhs @ r), 0.0)

    def record(self, measure: float) -> None:
        """Keep :math:`\\mu^2` at a new point (the start, or after a step)."""
        self.history.append(measure)

    @property
    def steps(self) -> int:
        """Quasi-Newton steps taken (with every preconditioner)."""
        return self.earlier_steps + len(self.history) - 1

    def refresh_due(self, start_measure: float) -> bool:
        """Whether to ask for a sampled preconditioner now (see
        :data:`REFRESH`): once, the first time :math:`\\mu` is that small."""
        return not self.refreshed and self.history[-1] <= REFRESH**2 * start_measure

    def restarted(self, preconditioner: np.ndarray) -> QuasiNewtonDirections:
        """A new memory over ``preconditioner`` (the pairs, measured against
        the old one, are dropped), counting the steps taken so far.

        Raises
        ------
        numpy.linalg.LinAlgError
            If ``preconditioner`` is singular to working precision.
        """
        new = QuasiNewtonDirections(preconditioner)
        new.earlier_steps, new.refreshed = self.steps + 1, True
        return new

    def finished(self, start_measure: float) -> str | None:
        """Why the quasi-Newton phase should end here, or None."""
        measure = self.history[-1]
        if measure <= FINISH**2 * start_measure:
            return "quasi-Newton decrement at full precision"
        if self.steps >= MAX_STEPS:
            return f"{MAX_STEPS} quasi-Newton steps"
        if len(self.history) > STALL_STEPS:  # measured with one preconditioner
            if measure > 0.5 * self.history[-1 - STALL_STEPS]:
                return "quasi-Newton decrement stalled"
        return None
