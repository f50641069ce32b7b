"""Profile likelihood in skmle.inference: the pieces, and the estimator-level profile."""

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import NotFittedError

import skmle.plotting
from skmle import GaussianMLE, LaplaceRegressor, LinearGaussianRegressor
from skmle.inference import (
    ProfileLikelihood,
    likelihood_ratio_interval,
    profile_likelihood,
    profile_on_grid,
    profile_point,
)


def test_plotting_still_exports_the_profile():
    assert skmle.plotting.profile_likelihood is profile_likelihood
    assert skmle.plotting.ProfileLikelihood is ProfileLikelihood


def quadratic(estimate, scale):
    calls = []

    def evaluate(value, start):
        calls.append((value, start))
        return -0.5 * ((value - estimate) / scale) ** 2, start + value

    return evaluate, calls


def test_likelihood_ratio_interval_of_a_quadratic_profile():
    evaluate, _ = quadratic(2.0, 0.5)
    drop = 0.5 * stats.chi2.ppf(0.95, df=1)
    lower, upper = likelihood_ratio_interval(
        evaluate, 2.0, np.zeros(1), -drop, scale=0.01
    )
    half = 0.5 * np.sqrt(2 * drop)
    assert (lower, upper) == pytest.approx((2.0 - half, 2.0 + half), abs=1e-9)


def test_an_unbounded_interval_is_an_error():
    def flat(value, start):
        return 0.0, start

    with pytest.raises(ValueError, match="unbounded"):
        likelihood_ratio_interval(flat, 0.0, np.zeros(1), -1.0, 1.0, "beta")


def test_profile_on_grid_walks_outwards_from_the_estimate():
    evaluate, calls = quadratic(0.0, 1.0)
    values = np.array([2.0, -1.0, 1.0, -2.0, 0.0])
    loglik = profile_on_grid(evaluate, 0.0, np.zeros(1), values)
    assert np.allclose(loglik, -0.5 * values**2)
    assert [value for value, _ in calls] == [-1.0, -2.0, 0.0, 1.0, 2.0]
    # Each solve starts where the previous one on the same side ended.
    assert [float(start[0]) for _, start in calls] == [0.0, -1.0, 0.0, 0.0, 1.0]


def test_profile_point_of_a_gaussian_mean_is_the_closed_form():
    x = np.random.default_rng(0).normal(1.0, 2.0, size=50)[:, None]
    model = GaussianMLE(reg_covar=0).fit(x)
    function = model.loglik_function(x)
    loglik, theta = profile_point(function, 0, 1.5, model.theta_)
    s2 = np.mean((x - 1.5) ** 2)
    assert loglik == pytest.approx(-25 * (np.log(2 * np.pi * s2) + 1), rel=1e-10)
    assert theta[0] == 1.5


def test_laplace_is_profiled_by_refitting_with_an_offset():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 2))
    y = X @ [1.0, -2.0] + 0.5 + rng.laplace(size=80)
    model = LaplaceRegressor().fit(X, y)
    profile = profile_likelihood(model, X, y, param=2, values=[-2.2, -2.0])
    expected = [
        LaplaceRegressor().fit(X[:, :1], y - b * X[:, 1]).loglik_ for b in (-2.2, -2.0)
    ]
    assert np.allclose(profile.loglik, expected, rtol=1e-10)
    assert profile.loglik_max == pytest.approx(model.loglik_, rel=1e-10)
    lower, upper = profile.lr_interval
    assert lower < model.coef_[1] < upper


def test_the_profile_of_a_linear_coefficient_touches_the_maximum():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 2))
    y = X @ [0.5, 1.0] + rng.normal(size=60)
    model = LinearGaussianRegressor().fit(X, y)
    profile = profile_likelihood(model, X, y, param="x0", values=[model.coef_[0]])
    assert profile.loglik[0] == pytest.approx(model.loglik_, rel=1e-10)
    assert profile.name == "x0"


def test_profile_checks_the_estimator_and_alpha():
    X = np.random.default_rng(0).normal(size=(20, 1))
    with pytest.raises(NotFittedError):
        profile_likelihood(GaussianMLE(), X)
    with pytest.raises(ValueError, match="alpha"):
        profile_likelihood(GaussianMLE().fit(X), X, alpha=1.5)
