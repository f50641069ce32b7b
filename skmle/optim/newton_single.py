"""When a Newton step may be steered by a single-precision information.

:class:`~skmle.optim.newton_predictor.PredictorNewtonStep` asks a function with
``single_information`` for an information in single precision (half the flops
of its symmetric updates) where that information will only steer the next
step: the point it belongs to cannot be the last one (whose information gives
the verdict and the standard errors, and must be exact), and the problem is
well conditioned enough for single-precision products to leave the step
accurate. :class:`SingleSteering` decides; it reads the solver's decrements
(``decrement2``, ``start_decrement2``, ``quadratic_ratio``, ``small``) and its
last factorisation (``factored``).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

LAST_MARGIN = 1e4
"""In Newton's quadratic phase the next squared decrement is about :math:`q
\\lambda^4` (:math:`q` the largest ratio seen so far, 1 before any); the next
point may be the last when this over ``LAST_MARGIN`` is at the full-precision
threshold (:data:`~skmle.optim.newton_predictor.FULL_PRECISION`): then its
information is the result's, and exact."""
SINGLE_RCOND = 1e-3
"""A single-precision information steers the next step only where the current
one, Jacobi-scaled, has a reciprocal condition number (LAPACK's estimate) of at
least this: its products, each within about :math:`10^{-6}` of its size, then
move the step by about :math:`10^{-3}` of its length at most, and the next
squared decrement by a factor of :math:`10^{-6}`."""
SINGLE_RANGE = (1e-20, 1e20)
"""Diagonal entries of the information per unit of weight (the mean squared
scaled feature) within which single precision neither overflows nor loses
small rows to underflow."""


class SingleSteering:
    """:meth:`steers_only`, for
    :class:`~skmle.optim.newton_predictor.PredictorNewtonStep`."""

    def steers_only(self, point, full_precision: float) -> bool:
        """Whether the next information may be single precision: it will only
        steer a step (the next point cannot be the last, see
        :data:`LAST_MARGIN`, with ``full_precision`` the solver's relative
        threshold on the decrement; the decrement is above ``tol``) and this
        one is well conditioned and in range (:data:`SINGLE_RCOND`,
        :data:`SINGLE_RANGE`)."""
        if not self.single or point.frozen or point.quasi or self.small:
            return False
        threshold = full_precision**2 * self.start_decrement2
        if self.quadratic_ratio * self.decrement2**2 <= LAST_MARGIN * threshold:
            return False
        if self.factored is None or self.factored[0] is not point.information:
            return False
        return well_conditioned(*self.factored)


def well_conditioned(information: np.ndarray, cholesky) -> bool:
    """Whether ``information`` (with its Jacobi-scaled Cholesky factor
    ``(factor, scale)``, None if singular) is in :data:`SINGLE_RANGE` and has
    a reciprocal condition number of at least :data:`SINGLE_RCOND`."""
    diagonal = np.diag(information)
    low, high = SINGLE_RANGE
    if cholesky is None or not (low <= diagonal.min() and diagonal.max() <= high):
        return False
    factor, scale = cholesky
    scaled_norm = float(np.abs(information * np.outer(scale, scale)).sum(0).max())
    rcond, status = lapack.dpocon(factor, scaled_norm, uplo="L")
    return status == 0 and rcond >= SINGLE_RCOND
