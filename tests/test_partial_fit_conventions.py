"""One convention across the estimators with ``partial_fit``: a batch whose sample
weights are all zero is a ValueError (scikit-learn's ``SGDClassifier`` and
``_check_sample_weight`` reject it too), and the model is left as it was."""

import numpy as np
import pytest

from skmle import GaussianMLE, LinearGaussianRegressor, LogisticGD

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 2))
y = X[:, 0] + rng.normal(size=20)
CASES = {
    "gaussian": (GaussianMLE, (X,), {}),
    "linear": (LinearGaussianRegressor, (X, y), {}),
    "logistic": (LogisticGD, (X, (y > 0).astype(int)), {"classes": [0, 1]}),
}


@pytest.mark.parametrize("name", CASES)
def test_a_zero_weight_batch_is_a_value_error_and_changes_nothing(name):
    cls, data, options = CASES[name]
    model = cls().partial_fit(*data, **options)
    before = model.theta_.copy()
    with pytest.raises(ValueError, match=r"(?i)weight"):
        model.partial_fit(*data, sample_weight=np.zeros(20))
    np.testing.assert_array_equal(model.theta_, before)
    with pytest.raises(ValueError, match=r"(?i)weight"):
        cls().partial_fit(*data, sample_weight=np.zeros(20), **options)
