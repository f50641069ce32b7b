"""The threaded scan for NaN and infinity gives scikit-learn's errors.

Reference: scikit-learn's own ``check_array`` messages on the same arrays.
"""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.utils import check_array

from skmle import LogisticGD
from skmle._finite import THREADED_FROM, check_finite


def sklearn_message(X):
    with pytest.raises(ValueError) as error:
        check_array(X, input_name="X", estimator=LogisticGD())
    return str(error.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("row", [0, -1])  # in the first block and the last
def test_large_arrays_raise_sklearns_error(bad, row):
    X = np.ones((THREADED_FROM // 4 + 1, 4))
    X[row, 2] = bad
    with pytest.raises(ValueError) as error:
        check_finite(X, "LogisticGD")
    assert str(error.value) == sklearn_message(X)


def test_finite_values_whose_sum_overflows_pass():
    X = np.full((THREADED_FROM // 2, 2), 1e308)
    check_finite(X, "LogisticGD")  # sklearn's exact scan decides: finite


def test_assume_finite_skips_the_scan():
    X = np.ones((THREADED_FROM, 2))
    X[5, 1] = np.nan
    with config_context(assume_finite=True):
        check_finite(X, "LogisticGD")


def test_fit_reports_nan_as_sklearn_does():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((THREADED_FROM // 5 + 3, 5))
    y = (X[:, 0] > 0).astype(int)
    X[-2, 3] = np.nan
    with pytest.raises(ValueError) as error:
        LogisticGD().fit(X, y)
    assert str(error.value) == sklearn_message(X)
