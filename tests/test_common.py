"""scikit-learn's estimator checks over every estimator skmle exports."""

import inspect

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmle


def all_estimators():
    return [
        obj()
        for name in skmle.__all__
        if inspect.isclass(obj := getattr(skmle, name))
        and issubclass(obj, BaseEstimator)
    ]


@parametrize_with_checks(all_estimators())
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
