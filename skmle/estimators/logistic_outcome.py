"""How a ``LogisticGD`` fit ended: separation, its warning, the singular information."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning

from skmle.status import Status

SEPARATED = (Status.SEPARABLE, Status.QUASI_SEPARABLE)
"""The statuses of a fit on data for which no maximum exists."""

SINGULAR_MESSAGE = (
    "The observed information of LogisticGD is singular at the fitted "
    "parameters (collinear features, or more features than samples): "
    "the maximum is not unique, and standard errors are set to NaN."
)


class PerfectSeparationWarning(ConvergenceWarning):
    """The classes are completely or quasi-completely separable, so no maximum
    likelihood estimate exists."""


def separation_message(status: Status, n_iter: int) -> str:
    """The :class:`PerfectSeparationWarning` of a fit that stopped with ``status``
    (``SEPARABLE`` or ``QUASI_SEPARABLE``) at iteration ``n_iter``."""
    if status is Status.QUASI_SEPARABLE:
        message = (
            "The classes are quasi-completely separable: a direction of the "
            "coefficients moves every sample toward its own class or leaves it "
            "where it is, so the log-likelihood rises along it for ever, the "
            "fitted probabilities of some samples go to 0 or 1, and no maximum "
            "likelihood estimate exists (the coefficients along that direction "
            "are infinite). Returning the finite coefficients of iteration "
            f"{n_iter}, where the solver proved it; standard errors are "
            "NaN (they would only measure where the solver stopped). Set "
            "alpha > 0 (a Gaussian prior on the coefficients) for a unique "
            "estimate."
        )
    else:
        message = (
            "The classes are linearly separable (a hyperplane puts every sample "
            "on the side of its own class), so the log-likelihood approaches 0 "
            "as the coefficients grow and no maximum likelihood estimate "
            f"exists. Returning the finite coefficients of iteration "
            f"{n_iter}; standard errors are NaN. Set alpha > 0 (a "
            "Gaussian prior on the coefficients) for a unique estimate."
        )
    return message
