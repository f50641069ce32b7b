import functools
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


# -- summary() arguments (issue 13, item 6) ----------------------------------------------
@functools.cache
def fitted_estimators():
    from skmle import (
        EMGaussianMixture,
        GaussianMLE,
        LaplaceRegressor,
        LinearGaussianRegressor,
        LogisticGD,
    )

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + rng.normal(size=80)
    return [
        GaussianMLE().fit(X),
        LinearGaussianRegressor().fit(X, y),
        LaplaceRegressor().fit(X, y),
        LogisticGD().fit(X, (y > 0).astype(int)),
        EMGaussianMixture(2, random_state=0).fit(X),
    ]


@pytest.mark.parametrize("alpha", [1.5, 1.0, 0.0, -0.1, np.float64(2.0), "0.05", True])
def test_summary_rejects_alpha_outside_zero_one(alpha):
    for model in fitted_estimators():
        with pytest.raises(ValueError, match=r"alpha must be .* between 0 and 1"):
            model.summary(alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):
        Summary("t", [SummaryRow("a", 1.0, 0.5)], alpha=alpha)


def test_summary_accepts_numpy_alpha_and_its_interval_is_the_wald_interval():
    model = fitted_estimators()[1]  # LinearGaussianRegressor
    for alpha in (np.float32(0.1), np.float64(0.1), 0.1):
        summary = model.summary(alpha=alpha)
        assert "90% conf. int." in str(summary)
        lo, hi = stats.norm.interval(0.9, loc=model.coef_[0], scale=model.coef_se_[0])
        np.testing.assert_allclose(
            summary.conf_int[1], [lo, hi], rtol=1e-6
        )  # intercept first
        assert summary.conf_int[0, 0] < summary.conf_int[0, 1]


def test_summary_feature_names_of_the_wrong_length_name_the_expected_length():
    for model in fitted_estimators():
        for names in (["a", "b"], ["a", "b", "c", "d"], "abc"):
            with pytest.raises(ValueError, match="feature_names") as error:
                model.summary(feature_names=names)
            if not isinstance(names, str):
                assert "3 features" in str(error.value)
        rows = [row.name for row in model.summary(feature_names=("u", "v", "w")).rows]
        assert any("u" in name for name in rows)
        assert not any("x0" in name for name in rows)
