"""skmle.plotting, checked by what each function draws (Agg backend)."""

import subprocess
import sys
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from sklearn.mixture import GaussianMixture

from skmle import (
    EMGaussianMixture,
    GaussianMLE,
    LaplaceRegressor,
    LinearGaussianRegressor,
    LogisticGD,
)
from skmle.plotting import (
    plot_convergence,
    plot_mixture,
    plot_predictive_interval,
    plot_profile_likelihood,
    profile_likelihood,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def correlated_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal([1.0, -2.0], [[2.0, 1.2], [1.2, 1.5]], size=n)


# -- matplotlib stays optional ----------------------------------------------------------
def test_importing_skmle_and_plotting_does_not_import_matplotlib():
    code = (
        "import sys, skmle, skmle.plotting, skmle.cli; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plotting_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "skmle\[plot\]"'):
        plot_convergence([1.0, 2.0, 3.0])


# -- plot_convergence ----------------------------------------------------------------------
def test_convergence_draws_each_history_against_iteration():
    X = correlated_data()
    fits = [
        GaussianMLE(solver=s, reg_covar=0).fit(X) for s in ("gd", "lbfgs", "newton")
    ]
    ax = plot_convergence(fits)
    lines = ax.get_lines()
    assert len(lines) == 3
    reference = stats.multivariate_normal(X.mean(axis=0), np.cov(X.T, bias=True))
    best = reference.logpdf(X).sum()
    for line, fit in zip(lines, fits, strict=True):
        x, y = line.get_data()
        assert np.array_equal(x, np.arange(fit.n_iter_ + 1))
        assert np.allclose(y, fit.loglik_history_)
        assert y[-1] == pytest.approx(best, rel=1e-9)
        assert np.all(y[:-1] <= best + 1e-6)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "GaussianMLE (gd)",
        "GaussianMLE (lbfgs)",
        "GaussianMLE (newton)",
    ]
    assert ax.get_xlabel() == "iteration"
    assert ax.get_ylim()[1] >= best


def test_convergence_gap_is_distance_to_best_on_log_scale():
    X = correlated_data()
    fits = {s: GaussianMLE(solver=s, reg_covar=0).fit(X) for s in ("gd", "newton")}
    ax = plot_convergence(fits, kind="gap")
    assert ax.get_yscale() == "log"
    best = stats.multivariate_normal(X.mean(axis=0), np.cov(X.T, bias=True))
    best = best.logpdf(X).sum()
    for line, fit in zip(ax.get_lines(), fits.values(), strict=True):
        x, y = line.get_data()
        assert np.all(y > 0)
        assert np.allclose(y, best - fit.loglik_history_[x], rtol=1e-6, atol=1e-7)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["gd", "newton"]


def test_convergence_of_a_plain_history_and_of_one_without_the_start():
    ax = plot_convergence([-5.0, -3.0, -2.5], labels=["by hand"])
    assert np.array_equal(ax.get_lines()[0].get_xdata(), [0, 1, 2])
    no_start = SimpleNamespace(loglik_history_=np.array([-3.0, -2.0]), n_iter_=2)
    ax = plot_convergence(no_start, ax=ax)
    assert np.array_equal(ax.get_lines()[1].get_xdata(), [1, 2])


def test_convergence_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        plot_convergence([1.0, 2.0], kind="loss")
    with pytest.raises(ValueError, match="labels"):
        plot_convergence([[1.0], [2.0]], labels=["one"])
    with pytest.raises(ValueError, match="1-D"):
        plot_convergence([np.ones((2, 2))])


# -- profile likelihood ----------------------------------------------------------------------
def gaussian_mean_profile(x, values):
    """Closed form: with sigma re-maximised, l_p(m) = -n/2 (log 2 pi s2(m) + 1)."""
    s2 = ((x[:, None] - values[None, :]) ** 2).mean(axis=0)
    return -0.5 * x.size * (np.log(2 * np.pi * s2) + 1.0)


def test_profile_of_a_univariate_mean_matches_the_closed_form():
    x = np.random.default_rng(1).exponential(2.0, size=60)
    model = GaussianMLE(reg_covar=0).fit(x[:, None])
    profile = profile_likelihood(model, x[:, None], alpha=0.1)
    assert np.allclose(
        profile.loglik, gaussian_mean_profile(x, profile.values), rtol=1e-10
    )
    # LR interval: n log(s2(m) / s2) = chi2 => (m - xbar)^2 = s2 (exp(q / n) - 1)
    q = stats.chi2.ppf(0.9, df=1)
    half = np.sqrt(x.var() * np.expm1(q / x.size))
    assert profile.lr_interval == pytest.approx((x.mean() - half, x.mean() + half))
    wald = stats.norm.ppf(0.95) * x.std() / np.sqrt(x.size)
    assert profile.wald_interval == pytest.approx((x.mean() - wald, x.mean() + wald))
    assert profile.estimate == pytest.approx(x.mean())
    assert profile.values.min() < profile.lr_interval[0]
    assert profile.values.max() > profile.lr_interval[1]


def test_profile_of_one_mean_with_a_full_covariance_matches_the_closed_form():
    # With mu_rest and Sigma re-maximised, |S(mu)| = |S| (1 + d0^2 / S_00), so
    # l_p(m) = -n/2 (d log 2 pi + log|S| + d + log(1 + (xbar_0 - m)^2 / S_00)).
    X = correlated_data(n=80)
    n, d = X.shape
    S = np.cov(X.T, bias=True)
    model = GaussianMLE(reg_covar=0).fit(X)
    values = np.linspace(0.0, 2.0, 9)
    profile = profile_likelihood(model, X, param="mean[x0]", values=values)
    expected = (
        -0.5
        * n
        * (
            d * np.log(2 * np.pi)
            + np.linalg.slogdet(S)[1]
            + d
            + np.log1p((X[:, 0].mean() - values) ** 2 / S[0, 0])
        )
    )
    assert np.allclose(profile.loglik, expected, rtol=1e-9)


def test_plot_profile_likelihood_draws_curve_cutoff_and_both_intervals():
    x = np.random.default_rng(2).normal(3.0, 1.5, size=40)
    model = GaussianMLE(reg_covar=0).fit(x[:, None])
    ax = plot_profile_likelihood(model, x[:, None], param="mean[x0]", n_points=25)
    curve, cutoff, estimate, *intervals = ax.get_lines()
    grid, loglik = curve.get_data()
    assert grid.size == 25
    assert np.allclose(loglik, gaussian_mean_profile(x, grid), rtol=1e-10)
    top = gaussian_mean_profile(x, np.array([x.mean()]))[0]
    assert cutoff.get_ydata()[0] == pytest.approx(top - stats.chi2.ppf(0.95, 1) / 2)
    assert estimate.get_xdata()[0] == pytest.approx(x.mean())
    half = np.sqrt(x.var() * np.expm1(stats.chi2.ppf(0.95, 1) / x.size))
    wald = 1.959964 * x.std() / np.sqrt(x.size)
    drawn = [line.get_xdata()[0] for line in intervals]
    assert drawn == pytest.approx(
        [x.mean() - half, x.mean() + half, x.mean() - wald, x.mean() + wald], rel=1e-6
    )
    assert [line.get_linestyle() for line in intervals] == ["-", "-", "--", "--"]
    assert ax.get_xlabel() == "mean[x0]"
    low, high = ax.get_xlim()
    assert low <= grid.min() and high >= grid.max()


def test_profile_rejects_unknown_parameters():
    X = correlated_data(n=30)
    model = GaussianMLE().fit(X)
    with pytest.raises(ValueError, match=r"mean\[x0\]"):
        profile_likelihood(model, X, param="sigma")
    with pytest.raises(ValueError, match="out of range"):
        profile_likelihood(model, X, param=5)


# -- plot_mixture --------------------------------------------------------------------------
def blobs(seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack(
        [
            rng.multivariate_normal(
                [0, 0, 0], [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 1]], 150
            ),
            rng.multivariate_normal(
                [6, 1, 3], [[1, -0.5, 0], [-0.5, 2, 0], [0, 0, 1]], 100
            ),
            rng.multivariate_normal([2, 6, -3], np.eye(3) * 0.5, 50),
        ]
    )


def ellipse_points(patch, n=64):
    """Points on the boundary of an Ellipse patch, from its centre, axes and angle."""
    t = np.linspace(0, 2 * np.pi, n)
    half_axes = np.column_stack(
        [patch.width / 2 * np.cos(t), patch.height / 2 * np.sin(t)]
    )
    angle = np.radians(patch.angle)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    return np.asarray(patch.center) + half_axes @ rotation.T


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_mixture_ellipses_lie_at_the_mahalanobis_radius(covariance_type):
    X = blobs()[:, :2]
    mixture = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    ax = plot_mixture(mixture, X, n_std=(1.0, 2.5))
    ellipses = ax.patches
    assert len(ellipses) == 6
    if covariance_type == "full":
        precisions = mixture.precisions_
    elif covariance_type == "tied":
        precisions = [mixture.precisions_] * 3
    elif covariance_type == "diag":
        precisions = [np.diag(p) for p in mixture.precisions_]
    else:
        precisions = [np.eye(2) * p for p in mixture.precisions_]
    for k in range(3):
        for i, radius in enumerate((1.0, 2.5)):
            patch = ellipses[2 * k + i]
            assert np.allclose(patch.center, mixture.means_[k])
            offset = ellipse_points(patch) - mixture.means_[k]
            distance = np.sqrt(np.einsum("ij,jk,ik->i", offset, precisions[k], offset))
            assert np.allclose(distance, radius, rtol=1e-6)
    points = ax.collections[0].get_offsets()
    assert np.allclose(points, X)
    colours = ax.collections[0].get_facecolors()[:, :3]
    assert len({tuple(c) for c in colours}) == 3
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    for patch in ellipses:
        boundary = ellipse_points(patch)
        assert x_low <= boundary[:, 0].min() and boundary[:, 0].max() <= x_high
        assert y_low <= boundary[:, 1].min() and boundary[:, 1].max() <= y_high
    means_drawn = np.array([line.get_xydata()[0] for line in ax.get_lines()])
    assert np.allclose(means_drawn, mixture.means_)


def test_mixture_of_more_features_shows_marginal_ellipses():
    X = blobs()
    mixture = GaussianMixture(3, random_state=0).fit(X)
    ax = plot_mixture(mixture, X, features=(0, 2), n_std=(2.0,))
    assert len(ax.patches) == 3
    for k, patch in enumerate(ax.patches):
        marginal = mixture.covariances_[k][np.ix_([0, 2], [0, 2])]
        offset = ellipse_points(patch) - mixture.means_[k, [0, 2]]
        distance = np.sqrt(
            np.einsum("ij,jk,ik->i", offset, np.linalg.inv(marginal), offset)
        )
        assert np.allclose(distance, 2.0, rtol=1e-6)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x2")


def test_mixture_of_skmle_em_gaussian_mixture():
    X = blobs()[:, :2]
    mixture = EMGaussianMixture(n_components=3, random_state=0).fit(X)
    reference = GaussianMixture(3, random_state=0).fit(X)
    ax = plot_mixture(mixture, X, n_std=(2.0,))
    centres = np.array([patch.center for patch in ax.patches])
    assert np.allclose(centres, reference.means_, atol=1e-6)
    for k, patch in enumerate(ax.patches):
        offset = ellipse_points(patch) - reference.means_[k]
        distance = np.sqrt(
            np.einsum("ij,jk,ik->i", offset, reference.precisions_[k], offset)
        )
        assert np.allclose(distance, 2.0, rtol=1e-5)


def test_mixture_needs_two_columns():
    X = blobs()[:, :1]
    mixture = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="two columns"):
        plot_mixture(mixture, X)


# -- plot_predictive_interval ----------------------------------------------------------------
class NormalLinearStub:
    """Least squares with a Gaussian predictive band, built from NumPy and SciPy."""

    def fit(self, X, y):
        design = np.column_stack([np.ones(len(X)), X])
        self.theta, *_ = np.linalg.lstsq(design, y, rcond=None)
        self.sigma = np.sqrt(np.mean((y - design @ self.theta) ** 2))
        return self

    def predict(self, X):
        return np.column_stack([np.ones(len(X)), X]) @ self.theta

    def predict_interval(self, X, alpha=0.05):
        dist = stats.norm(self.predict(X), self.sigma)
        return np.column_stack([dist.ppf(alpha / 2), dist.ppf(1 - alpha / 2)])


def band_limits(collection):
    """Lower and upper edge of a fill_between band, keyed by x."""
    vertices = collection.get_paths()[0].vertices
    return vertices[:, 0], vertices[:, 1]


def test_predictive_band_with_one_feature():
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, size=(120, 1))
    y = 1.5 * X[:, 0] - 0.5 + rng.normal(scale=0.7, size=120)
    model = NormalLinearStub().fit(X, y)
    ax = plot_predictive_interval(model, X, y, alpha=0.1, n_grid=50)
    (mean_line,) = ax.get_lines()
    grid, mean = mean_line.get_data()
    assert grid.size == 50
    assert grid.min() == pytest.approx(X.min()) and grid.max() == pytest.approx(X.max())
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert np.allclose(mean, intercept + slope * grid)
    xs, ys = band_limits(ax.collections[1])
    residual_sd = np.std(y - (intercept + slope * X[:, 0]))
    half = stats.norm.ppf(0.95) * residual_sd
    distance = np.abs(ys - (intercept + slope * xs))
    assert np.allclose(distance, half, rtol=1e-8)
    assert np.allclose(ax.collections[0].get_offsets(), np.column_stack([X[:, 0], y]))
    inside = np.mean(np.abs(y - intercept - slope * X[:, 0]) <= half)
    assert f"({100 * inside:.1f}% of points inside)" in (
        ax.get_legend().get_texts()[2].get_text()
    )
    assert ax.get_ylim()[0] <= y.min() and ax.get_ylim()[1] >= y.max()


def test_predictive_band_with_several_features_is_drawn_against_the_mean():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=80)
    model = NormalLinearStub().fit(X, y)
    ax = plot_predictive_interval(model, X, y)
    (mean_line,) = ax.get_lines()
    x, mean = mean_line.get_data()
    assert np.all(np.diff(x) >= 0)
    assert np.allclose(x, mean)
    assert np.allclose(np.sort(x), np.sort(model.predict(X)))
    assert ax.get_xlabel() == "predicted mean"


# -- the regressors ------------------------------------------------------------------------
def regression_data(n=80, seed=0, noise="laplace"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    e = rng.laplace(size=n) if noise == "laplace" else rng.normal(size=n)
    return X, X @ [1.0, -0.5] + 0.3 + e


def least_absolute_deviations(A, r):
    """min sum |r - A c| through the dual LP: max r^T u, A^T u = 0, |u| <= 1."""
    dual = optimize.linprog(
        -r, A_eq=A.T, b_eq=np.zeros(A.shape[1]), bounds=(-1, 1), method="highs"
    )
    return -dual.fun


def test_profile_of_a_gaussian_regression_coefficient_is_least_squares():
    X, y = regression_data(noise="normal")
    n = len(y)
    model = LinearGaussianRegressor().fit(X, y)
    values = np.linspace(0.5, 1.5, 7)
    profile = profile_likelihood(model, X, y, param="x0", values=values)
    others = np.column_stack([X[:, 1], np.ones(n)])
    for value, loglik in zip(values, profile.loglik, strict=True):
        offset = y - value * X[:, 0]
        _, rss, *_ = np.linalg.lstsq(others, offset, rcond=None)
        assert loglik == pytest.approx(-n / 2 * (np.log(2 * np.pi * rss[0] / n) + 1))
    # RSS(b) = RSS + (b - b_hat)^2 / [(X1'X1)^-1]_00, so the LR interval is closed form
    design = np.column_stack([X, np.ones(n)])
    fit, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    c00 = np.linalg.inv(design.T @ design)[0, 0]
    half = np.sqrt(rss[0] * np.expm1(stats.chi2.ppf(0.95, 1) / n) * c00)
    assert profile.lr_interval == pytest.approx((fit[0] - half, fit[0] + half))
    wald = stats.norm.ppf(0.975) * np.sqrt(rss[0] / n * c00)
    assert profile.wald_interval == pytest.approx((fit[0] - wald, fit[0] + wald))


@pytest.mark.parametrize(
    ("n_features", "param"), [(2, "x0"), (2, "intercept"), (1, "x0")]
)
def test_profile_of_a_laplace_regression_parameter_is_least_absolute_deviations(
    n_features, param
):
    X, y = regression_data()
    X = X[:, :n_features]
    n = len(y)
    model = LaplaceRegressor().fit(X, y)
    values = model.intercept_ + np.linspace(-0.4, 0.4, 5)
    if param == "x0":
        values = model.coef_[0] + np.linspace(-0.4, 0.4, 5)
    profile = profile_likelihood(model, X, y, param=param, values=values)
    for value, loglik in zip(values, profile.loglik, strict=True):
        if param == "x0":
            design = np.column_stack([X[:, 1:], np.ones(n)])
            total = least_absolute_deviations(design, y - value * X[:, 0])
        else:
            total = least_absolute_deviations(X, y - value)
        # with s = sum|r| / n re-maximised: l_p = -n log(2 s) - n
        assert loglik == pytest.approx(-n * np.log(2 * total / n) - n, rel=1e-9)
    low, high = profile.lr_interval
    assert low < profile.estimate < high


def test_predictive_band_of_the_gaussian_regressor():
    X, y = regression_data(noise="normal")
    X = X[:, :1]
    model = LinearGaussianRegressor().fit(X, y)
    ax = plot_predictive_interval(model, X, y, alpha=0.2)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    sigma = np.std(y - intercept - slope * X[:, 0])
    xs, ys = band_limits(ax.collections[1])
    distance = np.abs(ys - (intercept + slope * xs))
    assert np.allclose(distance, stats.norm.ppf(0.9) * sigma, rtol=1e-8)


def test_predictive_band_of_the_laplace_regressor():
    X, y = regression_data()
    model = LaplaceRegressor().fit(X, y)
    ax = plot_predictive_interval(model, X, y, alpha=0.1)
    (mean_line,) = ax.get_lines()
    fitted = np.sort(mean_line.get_xdata())
    design = np.column_stack([X, np.ones(len(y))])
    scale = least_absolute_deviations(design, y) / len(y)
    # Laplace(0, s): P(|e| > t) = exp(-t / s), so the 90% interval is +- s log(10)
    xs, ys = band_limits(ax.collections[1])
    assert np.allclose(np.abs(ys - xs), scale * np.log(10.0), rtol=1e-6)
    assert np.allclose(
        fitted, np.sort(design @ np.append(model.coef_, model.intercept_))
    )


def test_profile_of_a_logistic_coefficient_matches_an_offset_glm():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, 2))
    y = (rng.random(150) < 1 / (1 + np.exp(-(X @ [1.0, -0.8] + 0.2)))).astype(int)
    model = LogisticGD().fit(X, y)
    values = model.coef_[0, 0] + np.linspace(-0.6, 0.6, 5)
    profile = profile_likelihood(model, X, y, param="x0", values=values)
    others = sm.add_constant(X[:, 1])
    for value, loglik in zip(values, profile.loglik, strict=True):
        glm = sm.GLM(y, others, family=sm.families.Binomial(), offset=value * X[:, 0])
        assert loglik == pytest.approx(glm.fit(tol=1e-12).llf, rel=1e-8)
    low, high = profile.lr_interval
    assert low < model.coef_[0, 0] < high
