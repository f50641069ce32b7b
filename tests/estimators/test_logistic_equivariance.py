"""Newton's fit does not depend on the offsets and units of the features.

Property: for features ``X * scale + offset`` (offsets up to 1e9, scales from
1e-6 to 1e6), ``LogisticGD()`` gives the predictions and log-likelihood of the
fit on the standardised features, whose reference is statsmodels' Logit.
"""

import warnings

import numpy as np
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skmle import LogisticGD

RNG = np.random.default_rng(12)
X0 = RNG.normal(size=(600, 2))
Y0 = (RNG.random(600) < 1 / (1 + np.exp(-(X0 @ [1.2, -0.7] + 0.2)))).astype(int)
REFERENCE = sm.Logit(Y0, sm.add_constant(X0)).fit(disp=0, tol=1e-14)


@settings(max_examples=25, deadline=None)
@given(
    log_scale=st.lists(st.floats(-6, 6), min_size=2, max_size=2),
    # offsets in units of the column's spread: up to 1e6 spreads, so that the
    # transformed data keep ten digits of the standardised ones
    log_offset=st.lists(st.floats(-3, 6), min_size=2, max_size=2),
    sign=st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=2, max_size=2),
)
def test_offsets_and_scales_give_the_standardised_fit(log_scale, log_offset, sign):
    scale = 10.0 ** np.array(log_scale)
    offset = np.array(sign) * 10.0 ** np.array(log_offset) * scale
    offset = np.clip(offset, -1e9, 1e9)
    X = X0 * scale + offset
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticGD().fit(X, Y0)
    assert model.converged_
    assert_allclose(model.loglik_, REFERENCE.llf, rtol=1e-9)
    assert_allclose(model.coef_[0] * scale, REFERENCE.params[1:], rtol=1e-6)
    assert_allclose(
        model.predict_proba(X)[:, 1], REFERENCE.predict(sm.add_constant(X0)), atol=1e-7
    )
