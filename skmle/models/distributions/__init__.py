"""Univariate distribution families and the model of independent columns.

:data:`FAMILIES` maps a name to its family class; adding a family is a class in
one of these modules (its log-density, derivatives and start in ``phi``) and a line
here.
"""

from skmle.models.distributions.base import ExponentialFamily, Family
from skmle.models.distributions.continuous import (
    Beta,
    Exponential,
    Gamma,
    Gaussian,
    LogNormal,
)
from skmle.models.distributions.discrete import Bernoulli, Binomial, Geometric, Poisson
from skmle.models.distributions.model import ColumnsLogLikelihood
from skmle.models.distributions.other import Laplace, StudentT, Weibull

FAMILIES: dict[str, type[Family]] = {
    "bernoulli": Bernoulli,
    "binomial": Binomial,
    "poisson": Poisson,
    "geometric": Geometric,
    "exponential": Exponential,
    "gamma": Gamma,
    "beta": Beta,
    "lognormal": LogNormal,
    "weibull": Weibull,
    "laplace": Laplace,
    "t": StudentT,
    "gaussian": Gaussian,
}
"""Every family by the name the ``family`` hyperparameter takes."""

__all__ = [
    "FAMILIES",
    "ColumnsLogLikelihood",
    "ExponentialFamily",
    "Family",
]
