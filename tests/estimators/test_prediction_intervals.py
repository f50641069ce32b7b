"""``predict_interval(kind=...)`` and ``predict_proba_interval`` against references.

statsmodels' ``get_prediction(X).summary_frame(alpha)``: OLS's ``mean_ci_*`` and
``obs_ci_*`` (exact, t-based) and Logit's ``ci_*`` (the logit-scale interval
mapped through expit); an independent finite-difference delta method; numerical
integration for the normal-Laplace convolution. Measured agreement (relative, largest over the
rows): Longley mean and observation limits 8e-11 and 4e-11 (3e-13 without an
intercept), with HC0/HC1 1e-10; the standard error of the mean 1.2e-8, which is
statsmodels' own distance from the exact rational-arithmetic answer (skmle's is
3.8e-9: Longley's collinearity cancels eight digits of the quadratic form);
Spector Logit 9e-13 (HC0 1.3e-12).
"""

import dask.array as da
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import integrate, stats
from scipy.special import expit

from skmle import LaplaceRegressor, LinearGaussianRegressor, LogisticGD, chunked
from skmle.inference.prediction import normal_laplace_cdf

RTOL = 1e-8


def longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


def frame_limits(frame, prefix):
    return frame[[f"{prefix}_ci_lower", f"{prefix}_ci_upper"]].to_numpy()


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_exact_intervals_equal_statsmodels_summary_frame(fit_intercept, alpha):
    X, y = longley()
    design = sm.add_constant(X, prepend=False) if fit_intercept else X
    frame = sm.OLS(y, design).fit().get_prediction(design).summary_frame(alpha)
    model = LinearGaussianRegressor(inference="exact", fit_intercept=fit_intercept)
    model.fit(X, y)
    mean = model.predict_interval(X, alpha, kind="mean")
    observation = model.predict_interval(X, alpha, kind="observation")
    np.testing.assert_allclose(mean, frame_limits(frame, "mean"), rtol=RTOL)
    np.testing.assert_allclose(observation, frame_limits(frame, "obs"), rtol=RTOL)
    half = (mean[:, 1] - mean[:, 0]) / 2 / stats.t(model.df_resid_).ppf(1 - alpha / 2)
    np.testing.assert_allclose(half, frame["mean_se"], rtol=2e-8)


def test_sandwich_intervals_equal_statsmodels_hc1_normal():
    """OLS(cov_type="HC1"): the robust covariance, normal quantiles, and the
    unbiased scale for a new observation's noise (statsmodels' ``scale``)."""
    X, y = longley()
    design = sm.add_constant(X, prepend=False)
    result = sm.OLS(y, design).fit(cov_type="HC1")
    frame = result.get_prediction(design).summary_frame(0.05)
    model = LinearGaussianRegressor(cov_type="HC1", inference="exact").fit(X, y)
    np.testing.assert_allclose(
        model.predict_interval(X, kind="mean"), frame_limits(frame, "mean"), RTOL
    )
    np.testing.assert_allclose(
        model.predict_interval(X, kind="observation"), frame_limits(frame, "obs"), RTOL
    )


def test_asymptotic_intervals_are_normal_with_the_mle_scale():
    X, y = longley()
    n, p = X.shape[0], X.shape[1] + 1
    design = sm.add_constant(X, prepend=False)
    result = sm.OLS(y, design).fit()
    covariance = result.cov_params() * (n - p) / n  # the MLE's
    se = np.sqrt(np.einsum("ij,jk,ik->i", design, covariance, design))
    sigma2 = result.ssr / n
    z = stats.norm.ppf(0.975)
    model = LinearGaussianRegressor().fit(X, y)
    fitted = result.fittedvalues
    np.testing.assert_allclose(
        model.predict_interval(X, kind="mean"),
        np.column_stack([fitted - z * se, fitted + z * se]),
        rtol=RTOL,
    )
    wide = z * np.sqrt(se**2 + sigma2)
    np.testing.assert_allclose(
        model.predict_interval(X, kind="observation"),
        np.column_stack([fitted - wide, fitted + wide]),
        rtol=RTOL,
    )
    plugin = stats.norm.interval(0.95, loc=fitted, scale=np.sqrt(sigma2))
    np.testing.assert_allclose(model.predict_interval(X), np.column_stack(plugin), RTOL)


@pytest.mark.parametrize("estimator", [LinearGaussianRegressor, LaplaceRegressor])
@pytest.mark.parametrize("kind", ["mean", "observation"])
def test_dask_and_chunked_rows_give_the_in_memory_interval(estimator, kind):
    X, y = longley()
    X = X / X.std(axis=0)
    model = estimator().fit(X, y)
    expected = model.predict_interval(X, 0.1, kind=kind)
    lazy = model.predict_interval(da.from_array(X, chunks=(5, 6)), 0.1, kind=kind)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12)
    pieces = model.predict_interval(chunked(X, 7), 0.1, kind=kind)
    np.testing.assert_allclose(pieces, expected, rtol=1e-12)


def test_bad_kind_is_refused():
    X, y = longley()
    model = LinearGaussianRegressor().fit(X, y)
    with pytest.raises(ValueError, match="kind"):
        model.predict_interval(X, kind="confidence")


# -- LaplaceRegressor: the median's interval and a new observation's ---------------
def engel():
    data = sm.datasets.engel.load_pandas().data
    return data[["income"]].to_numpy(float), data["foodexp"].to_numpy(float)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_laplace_mean_interval_is_the_delta_method(cov_type):
    X, y = engel()
    model = LaplaceRegressor(cov_type=cov_type).fit(X, y)
    design = np.column_stack([X, np.ones(len(y))])
    # Independently: the standard errors of the reported parameters and their
    # correlation give the variance of x b + c.
    se_b, se_c = model.coef_se_[0], model.intercept_se_
    covariance = model.params_cov_[0, 1]
    variance = X[:, 0] ** 2 * se_b**2 + se_c**2 + 2 * X[:, 0] * covariance
    centre = design @ np.r_[model.coef_, model.intercept_]
    half = stats.norm.ppf(0.95) * np.sqrt(variance)
    np.testing.assert_allclose(
        model.predict_interval(X, 0.1, kind="mean"),
        np.column_stack([centre - half, centre + half]),
        rtol=1e-12,
    )


def test_normal_laplace_cdf_is_the_convolution():
    scale = 1.7
    for tau in (0.05, 1.0, 30.0):
        for z in (-3.0, 0.4, 60.0):

            def density(u, z=z, tau=tau):
                return stats.norm.pdf(u, scale=tau) * stats.laplace.cdf(
                    z - u, scale=scale
                )

            expected = integrate.quad(
                density, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13, limit=200
            )[0]
            got = normal_laplace_cdf(np.array([z]), scale, np.array([tau]))[0]
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-14)


def test_laplace_observation_interval_holds_its_probability():
    X, y = engel()
    model = LaplaceRegressor().fit(X, y)
    limits = model.predict_interval(X, 0.1, kind="observation")
    centre = model.predict(X)
    se = 0.5 * np.diff(model.predict_interval(X, 0.1, kind="mean"), axis=1)[:, 0]
    se /= stats.norm.ppf(0.95)
    # By simulation: the estimate's normal error plus new Laplace noise.
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(200_000, 1)) * se[:3] + stats.laplace.rvs(
        scale=model.scale_, size=(200_000, 3), random_state=rng
    )
    inside = np.mean(
        (draws >= (limits[:3, 0] - centre[:3]))
        & (draws <= (limits[:3, 1] - centre[:3])),
        axis=0,
    )
    np.testing.assert_allclose(inside, 0.9, atol=0.003)
    plugin = model.predict_interval(X, 0.1)
    assert np.all(limits[:, 1] - limits[:, 0] > plugin[:, 1] - plugin[:, 0])


# -- LogisticGD: the probability's interval -----------------------------------------
def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog.to_numpy(float), data.endog.to_numpy(float)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_logistic_interval_equals_statsmodels_logit_summary_frame(cov_type):
    X, y = spector()
    design = sm.add_constant(X, prepend=False)
    result = sm.Logit(y, design).fit(
        disp=0, method="newton", tol=1e-12, cov_type=cov_type
    )
    frame = result.get_prediction(design).summary_frame(0.05)
    model = LogisticGD(tol=1e-10, cov_type=cov_type).fit(X, y)
    np.testing.assert_allclose(
        model.predict_proba_interval(X),
        frame[["ci_lower", "ci_upper"]].to_numpy(),
        rtol=1e-8,
    )


def test_logistic_interval_is_a_finite_difference_delta_method():
    X, y = spector()
    model = LogisticGD(tol=1e-10).fit(X, y)
    beta = np.r_[model.coef_.ravel(), model.intercept_]
    design = np.column_stack([X, np.ones(len(y))])
    step = 1e-6
    # d p / d beta by central differences, then the delta method on p.
    gradient = np.column_stack(
        [
            (expit(design @ (beta + step * e)) - expit(design @ (beta - step * e)))
            / (2 * step)
            for e in np.eye(beta.size)
        ]
    )
    names = ["x0", "x1", "x2", "intercept"]  # the order of beta
    index = [model.param_names().index(name) for name in names]
    covariance = model.params_cov_[np.ix_(index, index)]
    se_p = np.sqrt(np.einsum("ij,jk,ik->i", gradient, covariance, gradient))
    p = model.predict_proba(X)[:, 1]
    se_eta = se_p / (p * (1 - p))
    z = stats.norm.ppf(0.975)
    eta = np.log(p / (1 - p))
    expected = expit(np.column_stack([eta - z * se_eta, eta + z * se_eta]))
    np.testing.assert_allclose(model.predict_proba_interval(X), expected, rtol=1e-7)
    lazy = model.predict_proba_interval(da.from_array(X, chunks=(10, 3)))
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-7)


def anes96():
    data = sm.datasets.anes96.load_pandas()
    X = data.exog[["logpopul", "age", "educ", "income"]].to_numpy(float)
    return X, data.endog.to_numpy(int)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_multinomial_intervals_equal_a_delta_method_on_statsmodels_mnlogit(cov_type):
    """Seven party identifications (anes96): statsmodels' MNLogit estimates and
    covariance, the log-odds of each class against the rest differentiated by
    central differences of its own ``predict``, and the endpoint interval."""
    X, y = anes96()
    design = sm.add_constant(X, prepend=False)
    result = sm.MNLogit(y, design).fit(
        method="newton", tol=1e-12, disp=0, cov_type=cov_type
    )
    flat = np.asarray(result.params).ravel(order="F")  # the order of cov_params
    covariance = np.asarray(result.cov_params())
    np.testing.assert_allclose(
        np.sqrt(np.diag(covariance)), np.asarray(result.bse).ravel(order="F")
    )
    rows = design[:40]
    shape = result.params.shape

    def log_odds(params):
        p = result.model.predict(params.reshape(shape, order="F"), rows)
        return np.log(p / (1 - p))

    step = 1e-6
    jacobian = np.stack(
        [
            (log_odds(flat + step * e) - log_odds(flat - step * e)) / (2 * step)
            for e in np.eye(flat.size)
        ],
        axis=-1,
    )
    se = np.sqrt(np.einsum("ikm,mn,ikn->ik", jacobian, covariance, jacobian))
    z = stats.norm.ppf(0.95)
    centre = log_odds(flat)
    expected = np.stack([expit(centre - z * se), expit(centre + z * se)], axis=-1)

    model = LogisticGD(tol=1e-10, cov_type=cov_type).fit(X, y)
    got = model.predict_proba_interval(X[:40], alpha=0.1)
    assert got.shape == (40, 7, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    lazy = model.predict_proba_interval(da.from_array(X[:40], chunks=(15, 4)))
    np.testing.assert_allclose(lazy.compute(), model.predict_proba_interval(X[:40]))


def test_multinomial_intervals_hold_the_estimate():
    X, y = anes96()
    model = LogisticGD().fit(X, y)
    limits = model.predict_proba_interval(X)
    p = model.predict_proba(X)
    assert np.all(limits[..., 0] < p) and np.all(p < limits[..., 1])
    assert np.all((limits > 0) & (limits < 1))


def test_plot_draws_the_band_of_the_kind_asked_for():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skmle.plotting import plot_predictive_interval

    X, y = engel()
    model = LaplaceRegressor().fit(X, y)
    ax = plot_predictive_interval(model, X, y, alpha=0.1, kind="mean", n_grid=5)
    band = ax.collections[-1].get_paths()[0].vertices
    grid = np.linspace(X.min(), X.max(), 5)[:, None]
    limits = model.predict_interval(grid, 0.1, kind="mean")
    np.testing.assert_allclose(np.sort(band[:, 1]).min(), limits[:, 0].min())
    assert "mean interval" in ax.get_legend().get_texts()[-1].get_text()
    with pytest.raises(ValueError, match="kind"):
        plot_predictive_interval(model, X, y, kind="band")
