import json

import numpy as np
import pytest
from scipy import stats

from skmle.inference import Summary, SummaryRow, covariance_from_hessian


def test_covariance_from_hessian_is_the_inverse_information():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    information = A @ A.T + np.eye(4)
    np.testing.assert_allclose(
        covariance_from_hessian(-information), np.linalg.inv(information), rtol=1e-10
    )
    with pytest.raises(np.linalg.LinAlgError):
        covariance_from_hessian(np.diag([-1.0, 0.0]))


def test_summary_statistics_match_scipy():
    summary = Summary(
        "t", [SummaryRow("a", 1.5, 0.5), SummaryRow("b", -0.2, 0.4)], alpha=0.1
    )
    np.testing.assert_allclose(summary.z, [3.0, -0.5])
    np.testing.assert_allclose(
        summary.p_values, [2 * stats.norm.sf(3.0), 2 * stats.norm.sf(0.5)]
    )
    lo, hi = stats.norm.interval(0.9, loc=1.5, scale=0.5)
    np.testing.assert_allclose(summary.conf_int[0], [lo, hi])
    text = str(summary)
    assert "90% conf. int." in text and text.count("\n") >= 5
    as_json = json.loads(json.dumps(summary.to_dict()))
    assert as_json["params"][1]["name"] == "b"
    assert as_json["params"][0]["p_value"] == pytest.approx(2 * stats.norm.sf(3.0))
