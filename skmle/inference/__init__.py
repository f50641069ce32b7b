"""Inference at the optimum: covariances, standard errors, profile likelihood and
the summary table.

One path for every estimator: the estimator names the information at its optimum
(:class:`Information`), the map to the parameters it reports and their blocks
(:class:`WaldSpec`); :func:`reported_covariance` and :func:`block_standard_errors`
do the rest, the sandwich covariances (:mod:`skmle.inference.sandwich`) included.
"""

from skmle.inference.covariance import (
    Information,
    ReportedCovariance,
    SingularInformation,
    WaldSpec,
    block_standard_errors,
    covariance_from_hessian,
    reported_covariance,
)
from skmle.inference.hypothesis import TestResult, lr_test, wald_test
from skmle.inference.profile import (
    ProfileLikelihood,
    contrast_point,
    likelihood_ratio_interval,
    profile_on_grid,
    profile_point,
)
from skmle.inference.profile_fit import profile_intervals, profile_likelihood
from skmle.inference.restrictions import parameter_row, parse_restrictions
from skmle.inference.sandwich import (
    COV_TYPES,
    ScoreMeat,
    check_cov_type,
    score_meat,
)
from skmle.inference.summary import COUNT_STATS, Summary, SummaryRow, check_alpha

__all__ = [
    "COUNT_STATS",
    "COV_TYPES",
    "Information",
    "ProfileLikelihood",
    "ReportedCovariance",
    "ScoreMeat",
    "SingularInformation",
    "Summary",
    "SummaryRow",
    "TestResult",
    "WaldSpec",
    "block_standard_errors",
    "check_alpha",
    "check_cov_type",
    "contrast_point",
    "covariance_from_hessian",
    "likelihood_ratio_interval",
    "lr_test",
    "parameter_row",
    "parse_restrictions",
    "profile_intervals",
    "profile_likelihood",
    "profile_on_grid",
    "profile_point",
    "reported_covariance",
    "score_meat",
    "wald_test",
]
