"""The Gaussian's maximum from its moments, and the objective that carries them.

One pass over the rows gives the weighted :class:`~skmle.models.gaussian_moments.Moments`;
everything :class:`~skmle.GaussianMLE` needs for a fit follows from them: the
regularisation (``reg_covar``, or the smallest one that makes a singular covariance
positive definite), the maximiser, the log-likelihood there, and the diagonal start
of the gradient solvers. They are computed once per fit and kept on the
:class:`GaussianObjective`, not on the estimator.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from skmle.models.gaussian import (
    GaussianLogLikelihood,
    pack_diagonal_factor,
    pack_factor,
)
from skmle.models.gaussian_moments import (
    Moments,
    check_representable,
    constant_features,
    loglik_at_maximum,
    loglik_of_diagonal,
    minimal_regularisation,
)
from skmle.models.objective import Objective
from skmle.models.precision import precision_factor
from skmle.optim import OptimizeResult
from skmle.optim.result import Learned
from skmle.status import Status


@dataclass(frozen=True)
class CovarianceFit:
    """The closed form of one set of moments: theta, the covariance and its factor
    (both exactly as computed, not round-tripped through theta), the regularisation
    (one value per feature), the log-likelihood and the log-prior there."""

    theta: np.ndarray
    covariance: object
    factor: np.ndarray
    reg: np.ndarray
    loglik: float
    log_prior: float


def covariance_fit(
    moments: Moments, covariance_type: str, reg_covar: float, stacklevel: int = 2
) -> CovarianceFit:
    """The maximiser from the moments, and the regularisation it needed.

    Raises ``ValueError`` when no Gaussian can be fitted; warns when the covariance
    was singular and the smallest regularisation was added.
    """
    check_representable(moments)
    reg = np.full(moments.mean.shape[0], float(reg_covar))
    covariance = moments.covariance(covariance_type, reg)
    try:
        if reg_covar == 0 and np.any(constant_features(moments)):
            raise np.linalg.LinAlgError("a constant feature")
        factor = precision_factor(covariance, covariance_type)
    except np.linalg.LinAlgError:
        if reg_covar > 0:
            raise ValueError(
                "The regularised covariance of X is still numerically singular: "
                f"reg_covar={reg_covar} is too small for the scale of X. "
                "Increase reg_covar, or set it to 0 to have GaussianMLE choose "
                "the smallest regularisation that works."
            ) from None
        found = minimal_regularisation(moments, covariance_type)
        if found is None:
            raise ValueError(
                "GaussianMLE cannot estimate a covariance: all samples with a "
                "positive weight are the same point (for example, n_samples = "
                "1). Fit more than one distinct sample, or set reg_covar > 0 "
                "to fit a Gaussian of variance reg_covar."
            ) from None
        reg, covariance, factor = found
        scatter = moments.scatter
        variances = np.diag(scatter) if scatter.ndim == 2 else scatter
        variances = variances / moments.weight
        tau = float(
            np.max(reg / np.where(variances > 0, variances, np.inf), initial=0.0)
        )
        amount = (
            f"{tau:.1e} times each variance"
            if covariance_type == "full"
            else "a small variance to each constant feature"
        )
        warnings.warn(
            "The sample covariance of X is singular (a constant feature, "
            "features that are linear combinations of others, or fewer "
            "distinct samples than features), so the Gaussian MLE does not "
            f"exist. GaussianMLE added {amount} to the diagonal, the smallest "
            "such regularisation that makes it positive definite: the fit is "
            "a maximum a posteriori estimate (see reg_covar). Remove the "
            "redundant features, or set reg_covar > 0 to choose the "
            "regularisation.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    theta = pack_factor(moments.mean, factor, covariance_type)
    loglik, prior = loglik_at_maximum(moments, factor, reg, covariance_type)
    return CovarianceFit(theta, covariance, factor, reg, loglik, prior)


class GaussianObjective(Objective):
    """The objective of one Gaussian fit, with the moments of its rows and the
    closed form they give (see the module docstring).

    Parameters
    ----------
    model : GaussianLogLikelihood
        Built with the regularisation of ``fit``.
    rows : Rows or None
        None for a fit from merged moments alone (``partial_fit``).
    moments : Moments
    fit : CovarianceFit
    """

    def __init__(self, model: GaussianLogLikelihood, rows, moments, fit):
        super().__init__(model, rows)
        self.moments = moments
        self.fit = fit
        self._set_total_weight(moments.weight)

    def start_variances(self):
        """Diagonal start of the gradient solvers: each feature's (regularised)
        variance, or their mean for ``"spherical"``."""
        moments = self.moments
        scatter = moments.scatter
        diagonal = np.diag(scatter) if scatter.ndim == 2 else scatter
        variances = diagonal / moments.weight + self.model.reg_covar
        if self.model.covariance_type == "spherical":
            return float(np.mean(variances))
        return variances

    def start_theta(self) -> np.ndarray:
        """The weighted mean and the diagonal of the (regularised) covariance."""
        variances = self.start_variances()
        mean, covariance_type = self.moments.mean, self.model.covariance_type
        if covariance_type == "full":
            return pack_diagonal_factor(mean, 1.0 / np.sqrt(variances))
        factor = 1.0 / np.sqrt(np.atleast_1d(variances))
        return pack_factor(mean, factor, covariance_type)

    def closed_form_result(self) -> OptimizeResult:
        """The maximum as a result: one "iteration" from the generic solvers' start,
        as the regressors' closed forms report it; ``learned`` holds the fit."""
        fit, moments = self.fit, self.moments
        weight = moments.weight
        start = loglik_of_diagonal(moments, self.start_variances())
        start += self.model.log_prior(self.start_theta(), weight)[0]
        value = fit.loglik + fit.log_prior
        return OptimizeResult(
            theta=fit.theta,
            value=value / weight,
            history=np.array([start / weight, value / weight]),
            n_iter=1,
            converged=True,
            message="closed form",
            status=Status.CLOSED_FORM,
            learned=Learned(loglik=fit.loglik, extras={"covariance_fit": fit}),
        )
