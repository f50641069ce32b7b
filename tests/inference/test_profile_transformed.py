"""Profile (likelihood-ratio) intervals of parameters reported as exp(theta_j): a
dispersion, a scale, a shape, against independent profiles (statsmodels' GLM at a
fixed dispersion, closed-form profiles of scipy.stats log-densities)."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from skmle import DistributionMLE, NegativeBinomialRegressor, StudentTRegressor

CHI2 = stats.chi2.ppf(0.95, df=1)


def _root(function, low, high):
    return optimize.brentq(function, low, high, xtol=1e-14, rtol=1e-13)


def test_negative_binomial_alpha_equals_the_glm_profile():
    """randhie's doctor visits (first 1,000 rows): for a fixed alpha, statsmodels'
    GLM with the NB2 family maximises over the coefficients; its llf is the
    profile."""
    data = sm.datasets.randhie.load_pandas()
    X = data.exog.to_numpy(float)[:1000]
    y = data.endog.to_numpy(float)[:1000]
    model = NegativeBinomialRegressor().fit(X, y)
    design = sm.add_constant(X, prepend=False)

    def profile(alpha):
        family = sm.families.NegativeBinomial(alpha=alpha)
        return sm.GLM(y, design, family=family).fit(tol=1e-13).llf

    cutoff = model.loglik_ - CHI2 / 2
    a = model.alpha_
    expected = [_root(lambda v: profile(v) - cutoff, 0.3 * a, a),
                _root(lambda v: profile(v) - cutoff, a, 3 * a)]  # fmt: skip
    got = model.conf_int(method="profile", X=X, y=y, params=["alpha"])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-7)
    # Not the Wald interval: the profile is skewed on alpha's scale.
    wald = model.conf_int(params=["alpha"])[0]
    assert abs((got[1] - a) - (a - got[0])) > 1e-3 * a
    assert not np.allclose(got, wald, rtol=1e-3)


def test_exponential_scale_has_the_closed_form_profile():
    x = sm.datasets.engel.load_pandas().data[["income"]].to_numpy()
    model = DistributionMLE(family="exponential").fit(x)
    name = next(n for n in model.param_names() if n.startswith(("scale", "rate")))
    n, total = len(x), float(x.sum())

    def loglik(value):  # of the reported parameter, a scale or a rate
        rate = 1 / value if name.startswith("scale") else value
        return n * np.log(rate) - rate * total

    estimate = n / total if name.startswith("rate") else total / n
    cutoff = loglik(estimate) - CHI2 / 2
    expected = [_root(lambda v: loglik(v) - cutoff, estimate / 3, estimate),
                _root(lambda v: loglik(v) - cutoff, estimate, estimate * 3)]  # fmt: skip
    got = model.conf_int(method="profile", X=x, params=[name])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_gamma_shape_equals_the_profile_over_the_scale():
    """For a fixed shape a the gamma's scale has the closed-form maximum mean / a."""
    x = sm.datasets.engel.load_pandas().data[["foodexp"]].to_numpy()
    model = DistributionMLE(family="gamma").fit(x)
    values = x[:, 0]

    def profile(a):
        return stats.gamma.logpdf(values, a, scale=values.mean() / a).sum()

    shape = float(np.ravel(model.shape_)[0])
    cutoff = model.loglik_ - CHI2 / 2
    expected = [_root(lambda v: profile(v) - cutoff, shape / 3, shape),
                _root(lambda v: profile(v) - cutoff, shape, shape * 3)]  # fmt: skip
    name = next(n for n in model.param_names() if n.startswith("shape"))
    got = model.conf_int(method="profile", X=x, params=[name])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_student_t_scale_is_profiled_to_the_cutoff():
    """stackloss with df held at 4 (with df free, a scale tending to 0 raises
    the likelihood without bound on these 21 rows, and the profile says so)."""
    data = sm.datasets.stackloss.load_pandas()
    X, y = data.exog.to_numpy(float), data.endog.to_numpy(float)
    model = StudentTRegressor(df=4.0).fit(X, y)
    low, high = model.conf_int(method="profile", X=X, y=y, params=["scale"])[0]
    assert 0 < low < model.scale_ < high
    # At each end the profile is the cutoff: refit with the scale held there.
    from skmle.inference.profile import profile_point

    function = model.loglik_function(X, y)
    index = model.param_blocks()["scale"][0]
    for end in (low, high):
        loglik, _ = profile_point(function, index, np.log(end), model.theta_)
        assert loglik == pytest.approx(model.loglik_ - CHI2 / 2, abs=1e-7)


def test_student_t_df_profile_on_engel():
    data = sm.datasets.engel.load_pandas().data
    X, y = data[["income"]].to_numpy(float), data["foodexp"].to_numpy(float)
    model = StudentTRegressor().fit(X, y)
    low, high = model.conf_int(method="profile", X=X, y=y, params=["df"])[0]
    assert 0 < low < model.df_ < high
    # The profile at a fixed df is the fit with that df held.
    for end in (low, high):
        held = StudentTRegressor(df=end).fit(X, y)
        assert held.loglik_ == pytest.approx(model.loglik_ - CHI2 / 2, abs=1e-6)


def test_a_combination_with_a_transformed_parameter_is_refused():
    data = sm.datasets.stackloss.load_pandas()
    X, y = data.exog.to_numpy(float), data.endog.to_numpy(float)
    model = StudentTRegressor(df=4.0).fit(X, y)
    with pytest.raises(ValueError, match="combines a parameter reported as exp"):
        model.conf_int(method="profile", X=X, y=y, params=["scale - x0"])
