"""Inference at the optimum: covariances, standard errors, profile likelihood and
the summary table.

One path for every estimator: the estimator names the information at its optimum
(:class:`Information`), the map to the parameters it reports and their blocks
(:class:`WaldSpec`); :func:`block_standard_errors` does the rest.
"""

from skmle.inference.covariance import (
    Information,
    SingularInformation,
    WaldSpec,
    block_standard_errors,
    covariance_from_hessian,
)
from skmle.inference.profile import (
    ProfileLikelihood,
    likelihood_ratio_interval,
    profile_likelihood,
    profile_on_grid,
    profile_point,
)
from skmle.inference.summary import COUNT_STATS, Summary, SummaryRow, check_alpha

__all__ = [
    "COUNT_STATS",
    "Information",
    "ProfileLikelihood",
    "SingularInformation",
    "Summary",
    "SummaryRow",
    "WaldSpec",
    "block_standard_errors",
    "check_alpha",
    "covariance_from_hessian",
    "likelihood_ratio_interval",
    "profile_likelihood",
    "profile_on_grid",
    "profile_point",
]
