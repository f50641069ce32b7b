"""LinearGaussianRegressor and LaplaceRegressor against independent references."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy import sparse, stats
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, QuantileRegressor
from sklearn.metrics import r2_score

import skmle
from skmle import LaplaceRegressor, LinearGaussianRegressor, check_gradient


def gaussian_data(seed=0, n=120, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.5][:d] + 2.0
    y = X @ np.array([1.5, -0.7, 2.0])[:d] + 4.0 + rng.normal(size=n)
    return X, y


def laplace_data(seed=0, n=150, d=3, outliers=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.array([2.0, -1.0, 0.5])[:d] + 1.0 + rng.laplace(size=n)
    mask = rng.random(n) < outliers
    y[mask] += rng.uniform(20.0, 60.0, mask.sum())
    return X, y


def lad_optimum(X, y, w=None):
    """Minimal weighted sum |r| from the primal LP (coefficients free, u, v >= 0)."""
    n = len(y)
    w = np.ones(n) if w is None else w
    X1 = np.column_stack([X, np.ones(n)])
    p = X1.shape[1]
    result = linprog(
        np.concatenate([np.zeros(p), w, w]),
        A_eq=sparse.hstack([X1, sparse.eye(n), -sparse.eye(n)], format="csc"),
        b_eq=y,
        bounds=[(None, None)] * p + [(0, None)] * (2 * n),
        method="highs",
    )
    return result.fun


def sum_abs(model, X, y, w=None):
    return float((np.ones(len(y)) if w is None else w) @ np.abs(y - model.predict(X)))


# -- LinearGaussianRegressor -----------------------------------------------------------
def test_gaussian_matches_statsmodels_ols():
    X, y = gaussian_data()
    model = LinearGaussianRegressor().fit(X, y)
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(model.intercept_, ols.params[0], rtol=1e-10)
    np.testing.assert_allclose(model.coef_, ols.params[1:], rtol=1e-10)
    assert model.loglik_ == pytest.approx(ols.llf, rel=1e-12)
    n, k = X.shape[0], X.shape[1] + 1
    assert model.sigma2_ == pytest.approx(ols.ssr / n, rel=1e-12)
    # statsmodels divides RSS by n - k; the MLE by n.
    rescale = np.sqrt((n - k) / n)
    np.testing.assert_allclose(model.coef_se_, ols.bse[1:] * rescale, rtol=1e-9)
    assert model.intercept_se_ == pytest.approx(ols.bse[0] * rescale, rel=1e-9)
    assert model.n_iter_ == 1 and model.converged_
    assert model.loglik_history_[-1] == pytest.approx(model.loglik_)
    assert model.solver_route_ == "Cholesky"


def test_gaussian_without_intercept_matches_statsmodels():
    X, y = gaussian_data(1)
    model = LinearGaussianRegressor(fit_intercept=False).fit(X, y)
    ols = sm.OLS(y, X).fit()
    np.testing.assert_allclose(model.coef_, ols.params, rtol=1e-10)
    assert model.intercept_ == 0.0
    assert model.loglik_ == pytest.approx(ols.llf, rel=1e-12)
    n = len(y)
    np.testing.assert_allclose(
        model.coef_se_, ols.bse * np.sqrt((n - 3) / n), rtol=1e-9
    )
    assert not hasattr(model, "intercept_se_")


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gaussian_solvers_reach_the_closed_form(solver, fit_intercept):
    X, y = gaussian_data(2, n=80)
    X = (X - 2.0) / [1.0, 3.0, 0.5]  # comparable scales keep gradient ascent short
    closed = LinearGaussianRegressor(fit_intercept=fit_intercept).fit(X, y)
    model = LinearGaussianRegressor(
        solver=solver, fit_intercept=fit_intercept, max_iter=5000
    ).fit(X, y)
    assert model.converged_
    np.testing.assert_allclose(model.coef_, closed.coef_, rtol=1e-5, atol=1e-6)
    assert model.intercept_ == pytest.approx(closed.intercept_, abs=1e-6)
    assert model.sigma2_ == pytest.approx(closed.sigma2_, rel=1e-5)
    assert model.loglik_ == pytest.approx(closed.loglik_, rel=1e-9)
    np.testing.assert_allclose(model.coef_se_, closed.coef_se_, rtol=1e-4)
    assert model.loglik_history_.shape == (model.n_iter_ + 1,)
    assert model.loglik_history_[-1] == pytest.approx(model.loglik_)


def test_gaussian_weights_equal_repeated_rows():
    X, y = gaussian_data(3, n=40)
    weights = np.random.default_rng(3).integers(0, 4, size=40)
    weighted = LinearGaussianRegressor().fit(X, y, sample_weight=weights)
    repeated = LinearGaussianRegressor().fit(
        X.repeat(weights, axis=0), y.repeat(weights)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    assert weighted.sigma2_ == pytest.approx(repeated.sigma2_, rel=1e-10)
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-10)
    np.testing.assert_allclose(weighted.coef_se_, repeated.coef_se_, rtol=1e-9)
    wls = sm.WLS(y, sm.add_constant(X), weights=weights).fit()
    np.testing.assert_allclose(weighted.coef_, wls.params[1:], rtol=1e-10)


def test_gaussian_predictive_distribution_and_likelihood():
    X, y = gaussian_data(4)
    model = LinearGaussianRegressor().fit(X, y)
    mean = X @ model.coef_ + model.intercept_
    np.testing.assert_allclose(model.predict(X), mean)
    dist = model.predict_dist(X)
    sigma = np.sqrt(model.sigma2_)
    np.testing.assert_allclose(dist.mean(), mean)
    np.testing.assert_allclose(dist.std(), np.full(len(y), sigma))
    logpdf = stats.norm.logpdf(y, loc=mean, scale=sigma)
    assert model.log_likelihood(X, y) == pytest.approx(logpdf.sum(), rel=1e-12)
    assert model.loglik_ == pytest.approx(logpdf.sum(), rel=1e-12)
    interval = model.predict_interval(X[:5], alpha=0.1)
    expected = np.column_stack(
        [stats.norm.ppf(0.05, mean[:5], sigma), stats.norm.ppf(0.95, mean[:5], sigma)]
    )
    np.testing.assert_allclose(interval, expected)
    assert model.score(X, y) == pytest.approx(r2_score(y, mean))
    k = X.shape[1] + 2
    assert model.aic(X, y) == pytest.approx(-2 * logpdf.sum() + 2 * k)
    assert model.bic(X, y) == pytest.approx(-2 * logpdf.sum() + k * np.log(len(y)))


def test_gaussian_ill_conditioned_uses_qr_and_matches_lstsq():
    rng = np.random.default_rng(5)
    X, y = gaussian_data(5, n=200, d=2)
    X = np.column_stack([X, X[:, 0] + 1e-7 * rng.normal(size=200)])
    model = LinearGaussianRegressor().fit(X, y)
    assert model.solver_route_ == "Householder QR"
    X1 = np.column_stack([X, np.ones(200)])
    reference = np.linalg.lstsq(X1, y, rcond=None)[0]
    np.testing.assert_allclose(model.predict(X), X1 @ reference, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(model.coef_, reference[:-1], rtol=1e-6)
    # scikit-learn's LinearRegression drops the small singular value: a worse fit.
    rss = np.sum((y - model.predict(X)) ** 2)
    assert rss < np.sum((y - LinearRegression().fit(X, y).predict(X)) ** 2)


def test_gaussian_rank_deficient_gives_the_minimum_norm_fit_and_nan_errors():
    X, y = gaussian_data(6, n=60, d=2)
    X = np.column_stack([X, 2.0 * X[:, 0], np.full(60, 3.0)])  # collinear + constant
    with pytest.warns(UserWarning, match="singular"):
        model = LinearGaussianRegressor().fit(X, y)
    centred = X - X.mean(axis=0)
    expected = np.linalg.pinv(centred) @ (y - y.mean())
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-8, atol=1e-12)
    assert model.coef_[3] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.isnan(model.coef_se_)) and np.isnan(model.intercept_se_)
    assert np.isfinite(model.loglik_)


@pytest.mark.parametrize("Estimator", [LinearGaussianRegressor, LaplaceRegressor])
def test_collinear_columns_give_nan_standard_errors(Estimator):
    X, y = gaussian_data(10, n=60, d=2)
    X = np.column_stack([X, X[:, 0] - 3.0 * X[:, 1]])
    with pytest.warns(UserWarning, match="standard errors are set to NaN"):
        model = Estimator().fit(X, y)
    assert np.all(np.isnan(model.coef_se_))
    assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.loglik_)
    assert np.isfinite(model.score(X, y))


def test_gaussian_more_features_than_samples_interpolates_with_a_warning():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(5, 8)), rng.normal(size=5)
    with (
        pytest.warns(UserWarning, match="passes through every sample"),
        pytest.warns(UserWarning, match="standard errors are set to NaN"),
    ):
        model = LinearGaussianRegressor().fit(X, y)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-10)
    assert model.sigma2_ > 0 and np.isfinite(model.loglik_)
    assert np.all(np.isfinite(model.coef_))


def test_gaussian_constant_target():
    X, _ = gaussian_data(8, n=30)
    with pytest.warns(UserWarning, match="passes through every sample"):
        model = LinearGaussianRegressor().fit(X, np.full(30, 2.5))
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)
    assert model.intercept_ == pytest.approx(2.5)
    assert model.sigma2_ == pytest.approx((np.sqrt(np.finfo(float).eps) * 2.5) ** 2)
    assert np.isfinite(model.loglik_)


@pytest.mark.parametrize("shift", [1.7e9, -3e12])
def test_gaussian_scale_ignores_an_offset_in_y(shift, recwarn):
    X, y = gaussian_data(31, n=50, d=2)
    model = LinearGaussianRegressor().fit(X, y + shift)
    assert not any("passes through" in str(w.message) for w in recwarn)
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    # y + shift is rounded to eps * |shift| (2e-7 or 5e-4 here).
    tolerance = 8 * np.finfo(float).eps * abs(shift) / np.sqrt(ols.ssr / 50)
    assert model.sigma2_ == pytest.approx(ols.ssr / 50, rel=max(tolerance, 1e-9))
    np.testing.assert_allclose(model.coef_, ols.params[1:], rtol=1e-3)


def test_laplace_lad_with_an_offset_in_y_is_not_least_squares():
    X, y = laplace_data(32, n=10, d=2)
    model = LaplaceRegressor().fit(X, y + 2.8e7)
    plain = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-6, atol=1e-7)
    assert model.intercept_ - 2.8e7 == pytest.approx(plain.intercept_, abs=1e-6)
    assert sum_abs(model, X, y + 2.8e7) <= lad_optimum(X, y) * (1 + 1e-6)


def test_gaussian_check_gradient():
    X, y = gaussian_data(9)
    assert check_gradient(LinearGaussianRegressor(), X, y, random_state=0) < 1e-6
    assert (
        check_gradient(
            LinearGaussianRegressor(fit_intercept=False), X, y, random_state=1
        )
        < 1e-6
    )


# -- LaplaceRegressor -------------------------------------------------------------------
@pytest.mark.parametrize("n", [150, 3000])  # one LP, and IRLS plus the banded LP
def test_laplace_reaches_the_lp_optimum(n):
    X, y = laplace_data(10, n=n, outliers=0.05)
    model = LaplaceRegressor().fit(X, y)
    optimum = lad_optimum(X, y)
    assert sum_abs(model, X, y) <= optimum * (1 + 1e-9)
    assert model.converged_
    assert model.scale_ == pytest.approx(sum_abs(model, X, y) / n, rel=1e-12)
    assert model.loglik_history_.shape == (model.n_iter_ + 1,)
    assert model.loglik_history_[-1] == pytest.approx(model.loglik_)
    assert model.loglik_history_[0] < model.loglik_


def test_laplace_matches_quantile_regressor():
    X, y = laplace_data(11, n=100)
    model = LaplaceRegressor().fit(X, y)
    reference = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-7, atol=1e-9)
    assert model.intercept_ == pytest.approx(reference.intercept_, abs=1e-8)


def test_laplace_likelihood_and_predictive_distribution():
    X, y = laplace_data(12)
    model = LaplaceRegressor().fit(X, y)
    median = X @ model.coef_ + model.intercept_
    logpdf = stats.laplace.logpdf(y, loc=median, scale=model.scale_)
    assert model.loglik_ == pytest.approx(logpdf.sum(), rel=1e-12)
    assert model.log_likelihood(X, y) == pytest.approx(logpdf.sum(), rel=1e-12)
    dist = model.predict_dist(X)
    np.testing.assert_allclose(dist.median(), median)
    np.testing.assert_allclose(dist.logpdf(y), logpdf)
    interval = model.predict_interval(X)
    np.testing.assert_allclose(
        interval[:, 1] - median, model.scale_ * np.log(1 / 0.05), rtol=1e-12
    )
    assert model.score(X, y) == pytest.approx(r2_score(y, median))
    assert model.aic(X, y) == pytest.approx(-2 * logpdf.sum() + 2 * 5)


def test_laplace_standard_errors_are_scale_squared_inverse_gram():
    X, y = laplace_data(13)
    weights = np.random.default_rng(13).integers(1, 4, size=len(y)).astype(float)
    model = LaplaceRegressor().fit(X, y, sample_weight=weights)
    X1 = np.column_stack([X, np.ones(len(y))])
    covariance = model.scale_**2 * np.linalg.inv(X1.T @ (weights[:, None] * X1))
    errors = np.sqrt(np.diag(covariance))
    np.testing.assert_allclose(model.coef_se_, errors[:-1], rtol=1e-10)
    assert model.intercept_se_ == pytest.approx(errors[-1], rel=1e-10)
    text = str(model.summary())
    assert "intercept" in text and "x2" in text and "lp" in text


def test_laplace_weights_equal_repeated_rows():
    X, y = laplace_data(14, n=80)
    weights = np.random.default_rng(14).integers(0, 4, size=80)
    weighted = LaplaceRegressor().fit(X, y, sample_weight=weights)
    repeated = LaplaceRegressor().fit(X.repeat(weights, axis=0), y.repeat(weights))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)
    assert weighted.scale_ == pytest.approx(repeated.scale_, rel=1e-10)
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-10)
    w = weights.astype(float)
    assert sum_abs(weighted, X, y, w) <= lad_optimum(X, y, w) * (1 + 1e-9)


def test_laplace_is_robust_to_outliers_where_least_squares_is_not():
    X, y = laplace_data(15, n=400, outliers=0.1)
    true_coef = np.array([2.0, -1.0, 0.5])
    laplace = LaplaceRegressor().fit(X, y)
    gaussian = LinearGaussianRegressor().fit(X, y)
    assert np.max(np.abs(laplace.coef_ - true_coef)) < 0.25
    assert abs(laplace.intercept_ - 1.0) < 0.25
    assert abs(gaussian.intercept_ - 1.0) > 2.0  # pulled up by the outliers


def test_laplace_gd_approaches_the_optimum():
    X, y = laplace_data(16, n=300, outliers=0.05)
    exact = LaplaceRegressor().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LaplaceRegressor(solver="gd", max_iter=3000, tol=0.0).fit(X, y)
    assert sum_abs(model, X, y) <= sum_abs(exact, X, y) * (1 + 1e-4)
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=0.05)
    assert model.loglik_ <= exact.loglik_ + 1e-9
    assert model.loglik_ == pytest.approx(exact.loglik_, rel=1e-4)
    assert np.all(np.diff(model.loglik_history_) >= 0)
    assert model.loglik_history_.shape == (model.n_iter_ + 1,)


def test_laplace_gd_stops_and_warm_starts():
    X, y = laplace_data(17, n=200)
    model = LaplaceRegressor(solver="gd", tol=1e-5).fit(X, y)
    assert model.converged_
    first = model.n_iter_
    model.set_params(warm_start=True).fit(X, y)
    assert model.n_iter_ < first


def test_laplace_more_features_than_samples_is_the_minimum_norm_interpolant():
    rng = np.random.default_rng(18)
    X, y = rng.normal(size=(6, 10)), rng.normal(size=6)
    with (
        pytest.warns(UserWarning, match="passes through every sample"),
        pytest.warns(UserWarning, match="standard errors are set to NaN"),
    ):
        model = LaplaceRegressor().fit(X, y)
    centred = X - X.mean(axis=0)
    np.testing.assert_allclose(
        model.coef_, np.linalg.pinv(centred) @ (y - y.mean()), rtol=1e-8
    )
    np.testing.assert_allclose(model.predict(X), y, atol=1e-10)
    assert np.isfinite(model.loglik_) and model.scale_ > 0


def test_laplace_constant_target_and_constant_feature():
    X, _ = laplace_data(19, n=40)
    with pytest.warns(UserWarning, match="passes through every sample"):
        model = LaplaceRegressor().fit(X, np.full(40, -1.0))
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)
    assert model.intercept_ == pytest.approx(-1.0)
    X_const = np.column_stack([X, np.ones(40)])
    _, y = laplace_data(19, n=40)
    with pytest.warns(UserWarning, match="singular"):
        with_constant = LaplaceRegressor().fit(X_const, y)
    plain = LaplaceRegressor().fit(X, y)
    np.testing.assert_allclose(with_constant.predict(X_const), plain.predict(X))
    assert np.all(np.isfinite(with_constant.coef_))


def test_laplace_check_gradient_away_from_kinks():
    X, y = laplace_data(20)
    assert check_gradient(LaplaceRegressor(), X, y, random_state=0, eps=1e-8) < 1e-5


# -- LinearGaussianRegressor.partial_fit ---------------------------------------------------
def assert_same_gaussian_fit(model, reference, rtol=1e-10):
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=rtol)
    assert model.intercept_ == pytest.approx(reference.intercept_, rel=rtol, abs=0)
    assert model.sigma2_ == pytest.approx(reference.sigma2_, rel=rtol)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=rtol)
    np.testing.assert_allclose(model.coef_se_, reference.coef_se_, rtol=rtol)
    if reference.fit_intercept:
        assert model.intercept_se_ == pytest.approx(reference.intercept_se_, rel=rtol)
    assert model.n_samples_seen_ == pytest.approx(reference.n_samples_seen_, rel=1e-14)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("cuts", [[1], [40, 41, 200], [5, 100, 250, 251]])
def test_partial_fit_equals_fit_on_all_rows_and_statsmodels(fit_intercept, cuts):
    X, y = gaussian_data(23, n=300)
    if fit_intercept:
        X += 1e4  # large means: running sums of squares would lose 8 digits here
    weights = np.random.default_rng(23).integers(0, 4, size=300).astype(float)
    weights[0] = 1.0  # a first batch of one row
    stream = LinearGaussianRegressor(fit_intercept=fit_intercept)
    for rows in np.split(np.arange(300), cuts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a first batch of 1 row
            stream.partial_fit(X[rows], y[rows], sample_weight=weights[rows])
    assert stream.solver_route_ == "Cholesky"
    whole = LinearGaussianRegressor(fit_intercept=fit_intercept).fit(
        X, y, sample_weight=weights
    )
    assert_same_gaussian_fit(stream, whole)
    design = sm.add_constant(X) if fit_intercept else X
    wls = sm.WLS(y, design, weights=weights).fit()
    params = wls.params[1:] if fit_intercept else wls.params
    np.testing.assert_allclose(stream.coef_, params, rtol=1e-9)
    # Frequency weights: the log-likelihood of each row counted w_i times.
    rss = weights @ (y - design @ wls.params) ** 2
    total = weights.sum()
    loglik = -0.5 * total * (np.log(2 * np.pi * rss / total) + 1)
    assert stream.loglik_ == pytest.approx(loglik, rel=1e-10)
    assert stream.converged_ and stream.n_iter_ == 1


def test_partial_fit_after_fit_continues_and_fit_starts_over():
    X, y = gaussian_data(24, n=200)
    model = LinearGaussianRegressor(solver="lbfgs").fit(X[:120], y[:120])
    model.partial_fit(X[120:], y[120:])
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(model.coef_, ols.params[1:], rtol=1e-10)
    assert model.loglik_ == pytest.approx(ols.llf, rel=1e-10)
    model.fit(X[:50], y[:50])
    np.testing.assert_allclose(
        model.coef_, sm.OLS(y[:50], sm.add_constant(X[:50])).fit().params[1:], rtol=1e-6
    )
    model.partial_fit(X[50:], y[50:])
    np.testing.assert_allclose(model.coef_, ols.params[1:], rtol=1e-10)


def test_partial_fit_with_fewer_rows_than_features_then_enough():
    rng = np.random.default_rng(25)
    X, y = rng.normal(size=(40, 6)), rng.normal(size=40)
    model = LinearGaussianRegressor()
    with (
        pytest.warns(UserWarning, match="passes through every sample"),
        pytest.warns(UserWarning, match="standard errors are set to NaN"),
    ):
        model.partial_fit(X[:4], y[:4])
    centred = X[:4] - X[:4].mean(axis=0)
    np.testing.assert_allclose(
        model.coef_, np.linalg.pinv(centred) @ (y[:4] - y[:4].mean()), rtol=1e-7
    )
    assert model.solver_route_.startswith("eigendecomposition")
    model.partial_fit(X[4:], y[4:])
    assert_same_gaussian_fit(model, LinearGaussianRegressor().fit(X, y))


def test_partial_fit_checks_its_input():
    X, y = gaussian_data(26, n=30)
    model = LinearGaussianRegressor().partial_fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        model.partial_fit(X[:, :2], y)
    with pytest.raises(ValueError, match="NaN"):
        model.partial_fit(np.where(X > 2.5, np.nan, X), y)
    # A batch that weighs nothing is refused on every call, as by the other
    # estimators' partial_fit (issue 13: it was accepted here, refused there).
    with pytest.raises(ValueError, match="sum to zero"):
        model.partial_fit(X[:5], y[:5], sample_weight=np.zeros(5))
    assert model.n_samples_seen_ == 30
    with pytest.raises(ValueError, match="sum to zero"):
        LinearGaussianRegressor().partial_fit(X, y, sample_weight=np.zeros(30))
    with pytest.raises(ValueError, match="fit_intercept"):
        LinearGaussianRegressor(fit_intercept="yes").partial_fit(X, y)


# -- both --------------------------------------------------------------------------------
@pytest.mark.parametrize("Estimator", [LinearGaussianRegressor, LaplaceRegressor])
def test_bad_input_raises_clear_errors(Estimator):
    X, y = laplace_data(21, n=20)
    model = Estimator().fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        model.predict_interval(X, alpha=1.5)
    with pytest.raises(ValueError, match="needs the targets"):
        model.log_likelihood(X)
    with pytest.raises(ValueError, match="NaN"):
        Estimator().fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match=r"(?i)negative"):
        Estimator().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])


@pytest.mark.parametrize("Estimator", [LinearGaussianRegressor, LaplaceRegressor])
def test_summary_uses_dataframe_names(Estimator):
    pd = pytest.importorskip("pandas")
    X, y = gaussian_data(22)
    frame = pd.DataFrame(X, columns=["age", "dose", "weight"])
    model = Estimator().fit(frame, y)
    summary = model.summary()
    text = str(summary)
    for name in ("age", "dose", "weight", "intercept"):
        assert name in text
    np.testing.assert_allclose(summary.estimates[1:], model.coef_)  # intercept first
    np.testing.assert_allclose(summary.std_errors[0], model.intercept_se_)


# -- LaplaceRegressor on badly scaled data (issue 13) ------------------------------------
def scaled_lad_case(name, X, y):
    """(X, y, sample_weight, map) for one case; ``map`` takes the reference fit on
    (X, y) to the coefficients and intercept the case must give (equivariance)."""
    n = len(y)
    cases = {
        "weights 1e20": (X, y, np.full(n, 1e20), lambda c, b: (c, b)),
        "weights 1e-12": (X, y, np.full(n, 1e-12), lambda c, b: (c, b)),
        "y times 1e150": (X, y * 1e150, None, lambda c, b: (c * 1e150, b * 1e150)),
        "y times 1e-150": (X, y * 1e-150, None, lambda c, b: (c * 1e-150, b * 1e-150)),
        "X shifted by 3e9": (X + 3e9, y, None, lambda c, b: (c, b - 3e9 * c.sum())),
        "X shifted by 1e10": (X + 1e10, y, None, lambda c, b: (c, b - 1e10 * c.sum())),
        "X times 1e150": (X * 1e150, y, None, lambda c, b: (c / 1e150, b)),
    }
    return cases[name]


@pytest.mark.parametrize("n", [100, 3000])  # one LP, and IRLS plus the banded LP
@pytest.mark.parametrize(
    "name",
    [
        "weights 1e20",
        "weights 1e-12",
        "y times 1e150",
        "y times 1e-150",
        "X shifted by 3e9",
        "X shifted by 1e10",
        "X times 1e150",
    ],
)
def test_laplace_lp_on_badly_scaled_data(name, n):
    X, y = laplace_data(33, n=n, d=2)
    reference = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    X_case, y_case, weights, expected = scaled_lad_case(name, X, y)
    model = LaplaceRegressor().fit(X_case, y_case, sample_weight=weights)
    coef, intercept = expected(reference.coef_, reference.intercept_)
    # A shift of X by c rounds x to eps * c: 2e-6 for c = 1e10.
    rtol = 1e-5 if "shifted" in name else 1e-7
    np.testing.assert_allclose(model.coef_, coef, rtol=rtol)
    assert model.intercept_ == pytest.approx(intercept, rel=rtol, abs=1e-6)
    assert model.converged_ and np.isfinite(model.loglik_)


def test_boolean_targets_are_numbers():
    X, y = laplace_data(34, n=60, d=2)
    target = y > np.median(y)
    for Estimator in (LinearGaussianRegressor, LaplaceRegressor):
        as_bool = Estimator().fit(X, target)
        as_float = Estimator().fit(X, target.astype(float))
        np.testing.assert_allclose(as_bool.coef_, as_float.coef_)
        assert as_bool.log_likelihood(X, target) == pytest.approx(as_float.loglik_)
    ols = sm.OLS(target.astype(float), sm.add_constant(X)).fit()
    np.testing.assert_allclose(
        LinearGaussianRegressor().fit(X, target).coef_, ols.params[1:], rtol=1e-10
    )


# -- data at the ends of the double range (issue 13) ---------------------------------------
@pytest.mark.parametrize("Estimator", [LinearGaussianRegressor, LaplaceRegressor])
@pytest.mark.parametrize("factor", [1e-150, 1e150])
@pytest.mark.parametrize("scaled", ["y", "X", "both"])
def test_huge_and_tiny_scales_give_the_rescaled_fit(Estimator, factor, scaled):
    X, y = gaussian_data(35, n=40, d=2)
    x_factor = factor if scaled in ("X", "both") else 1.0
    y_factor = factor if scaled in ("y", "both") else 1.0
    reference = Estimator().fit(X, y)
    model = Estimator().fit(X * x_factor, y * y_factor)
    np.testing.assert_allclose(
        model.coef_, reference.coef_ * y_factor / x_factor, rtol=1e-8
    )
    assert model.intercept_ == pytest.approx(reference.intercept_ * y_factor, rel=1e-8)
    shift = np.log(y_factor) * model.n_samples_seen_
    assert model.loglik_ == pytest.approx(reference.loglik_ - shift, rel=1e-9)
    assert np.all(np.isfinite(model.loglik_history_))
    np.testing.assert_allclose(
        model.coef_se_, reference.coef_se_ * y_factor / x_factor, rtol=1e-7
    )


@pytest.mark.parametrize("Estimator", [LinearGaussianRegressor, LaplaceRegressor])
def test_data_beyond_the_double_range_raise_clear_errors(Estimator):
    X, y = gaussian_data(36, n=30, d=2)
    with pytest.raises(ValueError, match=r"too large.*Rescale"):
        Estimator().fit(X * 1e200, y * 1e200)
    with pytest.raises(ValueError, match=r"too large.*Rescale"):
        Estimator().fit(X, np.full(30, 3e200))
    with pytest.raises(ValueError, match=r"y has values too small.*Rescale"):
        Estimator().fit(X[:1], np.array([3.46e-161]))
    with pytest.raises(ValueError, match="column 1 of X has values too small"):
        Estimator().fit(X * [1.0, 1e-200], y)


@pytest.mark.parametrize("Estimator", [LinearGaussianRegressor, LaplaceRegressor])
def test_one_row_constant_y_and_one_weighted_row_stay_finite(Estimator):
    X, y = gaussian_data(37, n=30, d=2)
    weights = np.zeros(30)
    weights[3] = 1.0
    cases = [
        (X[:1], y[:1], None, slice(0, 1)),
        (X, y, weights, slice(3, 4)),  # only row 3 counts
        (X, np.full(30, 0.1), None, slice(None)),  # constant, and 0.1 is inexact
    ]
    for X_, y_, w_, rows in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = Estimator().fit(X_, y_, sample_weight=w_)
        assert any("passes through every sample" in str(w.message) for w in caught)
        np.testing.assert_allclose(model.predict(X_[rows]), y_[rows], rtol=1e-12)
        assert np.isfinite(model.loglik_) and np.all(np.isfinite(model.loglik_history_))
        assert np.all(np.isfinite(model.coef_))
        spread = np.sqrt(np.finfo(float).eps) * np.abs(y_[rows][0])
        scale = getattr(model, "scale_", np.sqrt(getattr(model, "sigma2_", 0.0)))
        assert scale == pytest.approx(spread, rel=1e-6)


@pytest.mark.parametrize("Estimator", [LinearGaussianRegressor, LaplaceRegressor])
def test_predict_interval_accepts_numpy_floats_only_in_the_unit_interval(Estimator):
    X, y = gaussian_data(38, n=40, d=2)
    model = Estimator().fit(X, y)
    mean = X[:3] @ model.coef_ + model.intercept_
    if Estimator is LinearGaussianRegressor:
        family, scale = stats.norm, np.sqrt(model.sigma2_)
    else:
        family, scale = stats.laplace, model.scale_
    expected = np.column_stack(
        [family.ppf(0.05, mean, scale), family.ppf(0.95, mean, scale)]
    )
    for alpha in (0.1, np.float32(0.1), np.float64(0.1)):
        np.testing.assert_allclose(
            model.predict_interval(X[:3], alpha=alpha), expected, rtol=1e-6
        )
    for bad in (0, 1, 1.5, -0.1, np.float32(1.0), np.nan, "0.1", True, None, [0.1]):
        with pytest.raises(ValueError, match="alpha must be"):
            model.predict_interval(X[:3], alpha=bad)


# -- LaplaceRegressor(solver="gd"): any learning rate, an honest converged_ --------------
@pytest.mark.parametrize("learning_rate", [1e-4, 0.01, 0.3, 1.0, 30.0, 1e3])
def test_laplace_gd_reaches_the_optimum_from_any_learning_rate(learning_rate):
    X, y = laplace_data(39, n=300, outliers=0.05)
    X = X * [1.0, 10.0, 0.1] + 5.0
    optimum = lad_optimum(X, y)
    model = LaplaceRegressor(solver="gd", learning_rate=learning_rate, tol=1e-5).fit(
        X, y
    )
    assert model.converged_
    # converged_ certifies sum |r| within tol of the LP optimum.
    assert sum_abs(model, X, y) <= optimum * (1 + 1e-5)
    exact = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=0.05)


def test_laplace_gd_that_runs_out_of_iterations_says_so():
    X, y = laplace_data(40, n=300, outliers=0.05)
    with pytest.warns(ConvergenceWarning, match="relative duality gap"):
        model = LaplaceRegressor(solver="gd", max_iter=20, tol=1e-8).fit(X, y)
    assert not model.converged_ and model.n_iter_ == 20
    assert sum_abs(model, X, y) > lad_optimum(X, y) * (1 + 1e-8)


def test_laplace_gd_certifies_a_collinear_design():
    X, y = laplace_data(41, n=120, d=2)
    X = np.column_stack([X, X[:, 0] - X[:, 1]])
    with pytest.warns(UserWarning, match="standard errors are set to NaN"):
        model = LaplaceRegressor(solver="gd", tol=1e-4).fit(X, y)
    assert model.converged_
    assert sum_abs(model, X, y) <= lad_optimum(X, y) * (1 + 1e-4)


def test_laplace_gd_interpolating_gives_the_minimum_norm_fit_and_huge_weights_fail():
    rng = np.random.default_rng(42)
    X, y = rng.normal(size=(3, 5)), rng.normal(size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # floored scale, NaN errors
        model = LaplaceRegressor(solver="gd").fit(X, y)
    centred = X - X.mean(axis=0)
    np.testing.assert_allclose(
        model.coef_, np.linalg.pinv(centred) @ (y - y.mean()), rtol=1e-8
    )
    assert model.loglik_history_[-1] == pytest.approx(model.loglik_)
    for Estimator in (LinearGaussianRegressor, LaplaceRegressor):
        with pytest.raises(ValueError, match="sample_weight sums to more"):
            Estimator().fit(X, y, sample_weight=np.full(3, 1e308))


def test_partial_fit_rank_decision_ignores_the_units_of_the_columns():
    rng = np.random.default_rng(43)
    x = rng.normal(size=400)
    X = np.column_stack([x, (x + 1e-4 * rng.normal(size=400)) * 1e-4])
    y = X @ [1.0, 2e4] + rng.normal(size=400)
    model = LinearGaussianRegressor()
    for rows in np.array_split(np.arange(400), 4):
        model.partial_fit(X[rows], y[rows])
    # Cholesky declines (rcond ~ 1e-8); the direction is still resolved.
    assert model.solver_route_.startswith("eigendecomposition")
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(model.coef_, ols.params[1:], rtol=1e-5)


def test_a_column_constant_to_rounding_gets_the_minimum_norm_coefficient():
    # 0.05 repeated: its centred values are rounding noise (+-1e-18), not zero.
    # With an intercept the column carries no direction, so the minimum-norm
    # least-squares coefficient is 0 and the intercept the weighted mean of y,
    # whatever the weights, the row order or the storage.
    X = np.full((3, 1), 0.05)
    y = np.array([-0.4832193145845911, 0.4140451134860046, 1.3564501037066572])
    fits = [
        LinearGaussianRegressor().fit(X, y),
        LinearGaussianRegressor().fit(X, y, sample_weight=[2.0, 2.0, 2.0]),
        LinearGaussianRegressor().fit(np.repeat(X, 2, axis=0), np.repeat(y, 2)),
        LinearGaussianRegressor().fit(skmle.chunked(X, chunk_size=1), y),
    ]
    for fit in fits:
        assert fit.coef_[0] == 0.0
        assert_allclose(fit.intercept_, y.mean(), rtol=1e-15)


@pytest.mark.parametrize(
    "estimator",
    [LinearGaussianRegressor(), LaplaceRegressor(), LaplaceRegressor(solver="gd")],
)
def test_one_inference_path_and_no_per_fit_state_left_on_the_estimator(estimator):
    rng = np.random.default_rng(40)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 + rng.laplace(size=200)
    assert "_standard_errors" not in vars(type(estimator))
    model = estimator.fit(X, y)
    leftovers = {"_stats", "_median", "_gram_factor", "_closed_form_loglik"}
    assert not leftovers & set(vars(model))
    assert np.all(np.isfinite(model.coef_se_)) and np.isfinite(model.intercept_se_)
