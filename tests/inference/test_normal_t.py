"""The normal-plus-Student's-t convolution against adaptive quadrature and its limits,
and StudentTRegressor's interval of a new observation built on it."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import integrate, optimize, special, stats

from skmle import StudentTRegressor
from skmle.inference.normal_t import (
    MIN_DF,
    normal_t_cdf_pdf,
    normal_t_interval,
    normal_t_quantile,
)

SCALE = 2.0


def convolution_cdf(z: float, scale: float, df: float, tau: float) -> float:
    """:math:`P(\\tau N + s T \\le z)` by ``scipy.integrate.quad`` over the normal."""
    if tau == 0:
        return special.stdtr(df, z / scale)

    def integrand(x):
        return (
            np.exp(-0.5 * x * x)
            / np.sqrt(2 * np.pi)
            * special.stdtr(df, (z - tau * x) / scale)
        )

    return integrate.quad(
        integrand, -np.inf, np.inf, epsabs=1e-15, epsrel=1e-13, limit=500
    )[0]


@pytest.mark.parametrize("df", [MIN_DF, 1.0, 4.0, 60.0])
@pytest.mark.parametrize("ratio", [0.0, 0.05, 0.99, 1.01, 5.0, 100.0])
def test_cdf_and_density_equal_quadrature(df, ratio):
    tau = ratio * SCALE
    z = np.array([0.3, 4.0, 40.0])
    cdf, pdf = normal_t_cdf_pdf(z, SCALE, df, np.full(3, tau))
    expected = [convolution_cdf(v, SCALE, df, tau) for v in z]
    np.testing.assert_allclose(cdf, expected, rtol=0, atol=1e-12)
    # The density is the derivative of the distribution function.
    h = 1e-4 * (1.0 + z)
    upper, _ = normal_t_cdf_pdf(z + h, SCALE, df, np.full(3, tau))
    lower, _ = normal_t_cdf_pdf(z - h, SCALE, df, np.full(3, tau))
    np.testing.assert_allclose(pdf, (upper - lower) / (2 * h), rtol=1e-6, atol=1e-14)


@pytest.mark.parametrize("df", [MIN_DF, 1.0, 30.0])
@pytest.mark.parametrize("ratio", [0.01, 1.0, 100.0])
def test_quantiles_equal_the_root_of_the_quadrature(df, ratio):
    tau = ratio * SCALE
    for prob in (0.95, 0.995):
        got = normal_t_quantile(prob, SCALE, df, np.array([tau]))[0]
        expected = optimize.brentq(
            lambda z: convolution_cdf(z, SCALE, df, tau) - prob,  # noqa: B023
            0.0,
            1e5 * (SCALE + tau),
            xtol=1e-14,
            rtol=1e-14,
        )
        assert got == pytest.approx(expected, rel=1e-9)


def test_limits_are_the_t_and_the_normal_quantiles():
    # No estimation error: the t quantile; a huge df: the normal of the summed
    # variance.
    t_only = normal_t_quantile(0.975, SCALE, 2.5, np.array([0.0]))[0]
    assert t_only == pytest.approx(SCALE * stats.t.ppf(0.975, 2.5), rel=1e-12)
    tau = 3.0
    nearly_normal = normal_t_quantile(0.975, SCALE, 1e8, np.array([tau]))[0]
    normal = stats.norm.ppf(0.975) * np.hypot(tau, SCALE)
    assert nearly_normal == pytest.approx(normal, rel=1e-7)


def test_interval_is_symmetric_and_keeps_nan_rows():
    eta = np.array([1.0, -2.0, 5.0])
    se = np.array([0.5, np.nan, 4.0])
    limits = normal_t_interval(eta, se, SCALE, 3.0, 0.1)
    assert np.all(np.isnan(limits[1]))
    np.testing.assert_allclose(limits[[0, 2]].mean(axis=1), eta[[0, 2]], rtol=1e-15)
    half = normal_t_quantile(0.95, SCALE, 3.0, se[[0, 2]])
    np.testing.assert_allclose(limits[[0, 2], 1] - eta[[0, 2]], half, rtol=1e-15)


def test_too_few_degrees_of_freedom_is_a_clear_error():
    with pytest.raises(ValueError, match="degrees of freedom of at least"):
        normal_t_interval(np.zeros(1), np.ones(1), SCALE, 0.3, 0.05)


# -- StudentTRegressor(kind="observation") -----------------------------------------
def stackloss():
    frame = sm.datasets.stackloss.load_pandas()
    return np.asarray(frame.exog, dtype=float), np.asarray(frame.endog, dtype=float)


def test_student_t_observation_interval_on_stackloss():
    X, y = stackloss()
    model = StudentTRegressor().fit(X, y)
    alpha = 0.1
    centre = model.predict(X)
    mean = model.predict_interval(X, alpha, kind="mean")
    se = (mean[:, 1] - centre) / stats.norm.ppf(1 - alpha / 2)
    limits = model.predict_interval(X, alpha, kind="observation")
    # Row by row against the quadrature's root, with the fit's own se, scale, df.
    for row in (0, 7, 20):
        expected = optimize.brentq(
            lambda z: (
                convolution_cdf(z, model.scale_, model.df_, se[row])  # noqa: B023
                - (1 - alpha / 2)
            ),
            0.0,
            1e6,
            xtol=1e-13,
        )
        assert limits[row, 1] - centre[row] == pytest.approx(expected, rel=1e-9)
        assert centre[row] - limits[row, 0] == pytest.approx(expected, rel=1e-9)
    # Wider than the plug-in interval, which leaves the estimate's error out.
    plugin = model.predict_interval(X, alpha)
    assert np.all(limits[:, 1] - limits[:, 0] > plugin[:, 1] - plugin[:, 0])


def test_student_t_observation_interval_holds_its_probability():
    X, y = stackloss()
    model = StudentTRegressor(df=4.0).fit(X, y)
    limits = model.predict_interval(X[:3], 0.1, kind="observation")
    centre = model.predict(X[:3])
    mean = model.predict_interval(X[:3], 0.1, kind="mean")
    se = (mean[:, 1] - centre) / stats.norm.ppf(0.95)
    # By simulation: the estimate's normal error plus new t noise.
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(200_000, 1)) * se + model.scale_ * rng.standard_t(
        4.0, size=(200_000, 3)
    )
    inside = np.mean(
        (draws >= limits[:, 0] - centre) & (draws <= limits[:, 1] - centre), axis=0
    )
    np.testing.assert_allclose(inside, 0.9, atol=0.003)
