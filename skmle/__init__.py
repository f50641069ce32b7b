"""skmle: maximum likelihood estimation, the scikit-learn way."""

from skmle.data.chunked import chunked
from skmle.estimators.base import GradientAscentMixin
from skmle.estimators.distribution import DistributionMLE
from skmle.estimators.distribution_select import compare_distributions
from skmle.estimators.gaussian import GaussianMLE
from skmle.estimators.laplace import LaplaceRegressor
from skmle.estimators.linear_gaussian import LinearGaussianRegressor
from skmle.estimators.logistic import LogisticGD
from skmle.estimators.mixture import EMGaussianMixture
from skmle.estimators.negative_binomial import NegativeBinomialRegressor
from skmle.estimators.network import MLPClassifierMLE
from skmle.estimators.poisson import PoissonMLERegressor
from skmle.estimators.student_t import StudentTRegressor
from skmle.gradcheck import check_gradient

__version__ = "0.1.0"

__all__ = [
    "DistributionMLE",
    "EMGaussianMixture",
    "GaussianMLE",
    "GradientAscentMixin",
    "LaplaceRegressor",
    "LinearGaussianRegressor",
    "LogisticGD",
    "MLPClassifierMLE",
    "NegativeBinomialRegressor",
    "PoissonMLERegressor",
    "StudentTRegressor",
    "__version__",
    "check_gradient",
    "chunked",
    "compare_distributions",
]
