"""skmle: maximum likelihood estimation, the scikit-learn way."""

from skmle.data.chunked import chunked
from skmle.estimators.base import GradientAscentMixin
from skmle.estimators.gaussian import GaussianMLE
from skmle.estimators.laplace import LaplaceRegressor
from skmle.estimators.linear_gaussian import LinearGaussianRegressor
from skmle.estimators.logistic import LogisticGD
from skmle.estimators.mixture import EMGaussianMixture
from skmle.estimators.network import MLPClassifierMLE
from skmle.gradcheck import check_gradient

__version__ = "0.1.0"

__all__ = [
    "EMGaussianMixture",
    "GaussianMLE",
    "GradientAscentMixin",
    "LaplaceRegressor",
    "LinearGaussianRegressor",
    "LogisticGD",
    "MLPClassifierMLE",
    "__version__",
    "check_gradient",
    "chunked",
]
