"""StudentTRegressor against statsmodels' TLinearModel, scipy.stats and closed forms."""

import contextlib
import io
import warnings

import dask.array as da
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from statsmodels.miscmodels.tmodel import TLinearModel

from skmle import LinearGaussianRegressor, StudentTRegressor, check_gradient, chunked
from skmle.models.student_t import DF_BOUNDS


def load(name):
    frame = getattr(sm.datasets, name).load_pandas()
    X = np.asarray(frame.exog, dtype=float)
    return X.reshape(len(X), -1), np.asarray(frame.endog, dtype=float)


def tlinear(X, y, method="bfgs", **options):
    """TLinearModel's fit (params ``[const, coef, df, scale]``); it prints."""
    fix_df = options.pop("fix_df", False)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TLinearModel(y, sm.add_constant(X), fix_df=fix_df)
        return model.fit(method=method, disp=0, **options)


def ours_in_statsmodels_order(model):
    extra = [model.df_, model.scale_] if model.df is None else [model.scale_]
    return np.r_[model.intercept_, model.coef_, extra]


def se_in_statsmodels_order(model):
    extra = [model.df_se_, model.scale_se_] if model.df is None else [model.scale_se_]
    return np.r_[model.intercept_se_, model.coef_se_, extra]


@pytest.fixture(scope="module", params=["stackloss", "engel"])
def real_data(request):
    X, y = load(request.param)
    reference = tlinear(X, y, maxiter=5000, gtol=1e-10)
    return X, y, reference


@pytest.mark.parametrize("solver", ["newton", "em"])
def test_equals_tlinearmodel_at_its_optimum(real_data, solver):
    X, y, reference = real_data
    model = StudentTRegressor(solver=solver).fit(X, y)
    assert model.converged_
    np.testing.assert_allclose(
        ours_in_statsmodels_order(model), reference.params, rtol=1e-6
    )
    assert model.loglik_ == pytest.approx(reference.llf, rel=1e-10)
    # statsmodels' standard errors come from a numerical Hessian (we differ by
    # at most 2.4e-4 relative; on stackloss, its differences with smaller steps
    # converge to ours).
    np.testing.assert_allclose(se_in_statsmodels_order(model), reference.bse, rtol=1e-3)
    assert model.aic_ == pytest.approx(reference.aic, rel=1e-10)
    assert model.bic_ == pytest.approx(reference.bic, rel=1e-10)


def test_higher_loglik_where_tlinearmodel_stops_early():
    X, y = load("stackloss")
    # statsmodels' default, Nelder-Mead, stops (and says it converged) short of
    # the maximum.
    default = tlinear(X, y, method="nm")
    model = StudentTRegressor().fit(X, y)
    assert model.loglik_ > default.llf + 1e-9


def test_fixed_df_equals_tlinearmodel_fix_df():
    X, y = load("stackloss")
    reference = tlinear(X, y, fix_df=3.0, maxiter=5000, gtol=1e-10)
    model = StudentTRegressor(df=3.0).fit(X, y)
    np.testing.assert_allclose(
        ours_in_statsmodels_order(model), reference.params, rtol=1e-6
    )
    assert model.loglik_ == pytest.approx(reference.llf, rel=1e-10)
    assert model.df_ == 3.0 and not hasattr(model, "df_se_")
    assert model.theta_.size == X.shape[1] + 2


def test_robust_covariances_equal_tlinearmodel():
    X, y = load("stackloss")
    reference = tlinear(X, y, maxiter=5000, gtol=1e-10, cov_type="HC0")
    hc0 = StudentTRegressor(cov_type="HC0").fit(X, y)
    np.testing.assert_allclose(se_in_statsmodels_order(hc0), reference.bse, rtol=2e-3)
    # HC1 scales by n / (n - k), k counting every parameter (statsmodels' generic
    # MLE applies no correction at all).
    hc1 = StudentTRegressor(cov_type="HC1").fit(X, y)
    n, k = len(y), X.shape[1] + 3
    np.testing.assert_allclose(
        se_in_statsmodels_order(hc1),
        reference.bse * np.sqrt(n / (n - k)),
        rtol=2e-3,
    )


def test_cluster_covariance_with_one_row_per_cluster_is_hc1_times_n_ratio():
    # statsmodels' cluster correction with n clusters of one row is
    # G/(G-1) (N-1)/(N-K), HC1's N/(N-K) times (N-1)/(G-1) * G/N = 1.
    X, y = load("stackloss")
    hc1 = StudentTRegressor(cov_type="HC1").fit(X, y)
    cluster = StudentTRegressor(cov_type="cluster").fit(X, y, groups=np.arange(len(y)))
    np.testing.assert_allclose(cluster.coef_se_, hc1.coef_se_, rtol=1e-10)


def heavy_tailed(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, 3.0]
    y = X @ [1.0, -0.2, 5.0] + 2.0 + 0.5 * rng.standard_t(2.5, size=n)
    y[:40] += 200.0  # gross outliers
    return X, y


@pytest.mark.slow
def test_newton_and_em_reach_the_same_maximum_robust_to_outliers():
    X, y = heavy_tailed()
    newton = StudentTRegressor().fit(X, y)
    em = StudentTRegressor(solver="em", max_iter=2000).fit(X, y)
    assert newton.converged_ and em.converged_
    np.testing.assert_allclose(em.coef_, newton.coef_, rtol=1e-6)
    assert em.loglik_ == pytest.approx(newton.loglik_, rel=1e-12)
    assert np.all(np.abs(newton.coef_ - [1.0, -0.2, 5.0]) < 4 * newton.coef_se_)
    ols = LinearGaussianRegressor().fit(X, y)
    assert abs(ols.intercept_ - 2.0) > 2.0  # least squares is dragged by the outliers
    # The maximum, by scipy.stats: no coordinate step raises the log-likelihood.
    mean = X @ newton.coef_ + newton.intercept_
    loglik = stats.t.logpdf(y, newton.df_, loc=mean, scale=newton.scale_).sum()
    assert newton.loglik_ == pytest.approx(loglik, rel=1e-12)


@pytest.mark.parametrize("solver", ["newton", "em"])
def test_gaussian_noise_puts_df_at_its_upper_bound_with_a_warning(solver):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 2))
    y = X @ [1.0, 2.0] + rng.uniform(-1, 1, size=500)  # lighter tails than normal
    with pytest.warns(UserWarning, match="df = infinity"):
        model = StudentTRegressor(solver=solver).fit(X, y)
    assert model.converged_ and model.df_ == DF_BOUNDS[1] and np.isnan(model.df_se_)
    # There the fit is least squares to O(1/df).
    ols = LinearGaussianRegressor().fit(X, y)
    np.testing.assert_allclose(model.coef_, ols.coef_, rtol=1e-3)


@pytest.mark.slow
def test_weights_are_repeated_rows_and_chunked_and_dask_fits_equal_in_memory():
    X, y = heavy_tailed(n=600, seed=2)
    weights = np.random.default_rng(3).integers(1, 3, size=600).astype(float)
    reference = StudentTRegressor().fit(X, y, sample_weight=weights)
    repeated = StudentTRegressor().fit(
        np.repeat(X, weights.astype(int), axis=0), np.repeat(y, weights.astype(int))
    )
    np.testing.assert_allclose(repeated.theta_, reference.theta_, rtol=1e-7)
    in_chunks = StudentTRegressor().fit(chunked(X, 128), y, sample_weight=weights)
    np.testing.assert_allclose(in_chunks.theta_, reference.theta_, rtol=1e-9)
    dX, dy = da.from_array(X, chunks=(250, 3)), da.from_array(y, chunks=250)
    on_dask = StudentTRegressor(cov_type="HC1").fit(dX, dy, weights)
    in_memory = StudentTRegressor(cov_type="HC1").fit(X, y, weights)
    np.testing.assert_allclose(on_dask.theta_, reference.theta_, rtol=1e-9)
    np.testing.assert_allclose(on_dask.coef_se_, in_memory.coef_se_, rtol=1e-9)
    em_on_dask = StudentTRegressor(solver="em", max_iter=1000).fit(dX, dy, weights)
    em = StudentTRegressor(solver="em", max_iter=1000).fit(X, y, weights)
    np.testing.assert_allclose(em_on_dask.theta_, em.theta_, rtol=1e-9)
    assert em_on_dask.loglik_ == pytest.approx(reference.loglik_, rel=1e-10)


def test_predictions_are_the_location_and_a_frozen_t():
    X, y = load("engel")
    model = StudentTRegressor().fit(X, y)
    location = X @ model.coef_ + model.intercept_
    np.testing.assert_allclose(model.predict(X), location, rtol=1e-14)
    dist = model.predict_dist(X)
    np.testing.assert_allclose(
        dist.logpdf(y), stats.t.logpdf(y, model.df_, location, model.scale_)
    )
    assert dist.logpdf(y).sum() == pytest.approx(model.loglik_, rel=1e-12)
    lower, upper = stats.t.interval(0.9, model.df_, location, model.scale_)
    np.testing.assert_allclose(
        model.predict_interval(X, alpha=0.1), np.column_stack([lower, upper])
    )


def test_summary_gradient_check_and_bad_input():
    X, y = load("stackloss")
    model = StudentTRegressor().fit(X, y)
    text = str(model.summary())
    assert "df" in text and "scale" in text and "intercept" in text
    assert model.param_names() == ["intercept", "x0", "x1", "x2", "scale", "df"]
    assert check_gradient(StudentTRegressor(), X, y, random_state=0) < 1e-6
    assert check_gradient(StudentTRegressor(df=2.0), X, y, random_state=0) < 1e-6
    for df in (0.0, -1.0, 2 * DF_BOUNDS[1]):
        with pytest.raises(ValueError, match="df"):
            StudentTRegressor(df=df).fit(X, y)
    with pytest.raises(ValueError):
        StudentTRegressor().fit(X, np.where(y > 20, np.nan, y))


def test_em_reports_no_convergence_away_from_the_maximum():
    X, y = load("stackloss")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = StudentTRegressor(solver="em", max_iter=5).fit(X, y)
    assert not model.converged_
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def test_the_cli_fits_student_t_from_a_csv(tmp_path, capsys):
    import json

    from skmle.cli import main

    X, y = load("engel")
    path = tmp_path / "engel.csv"
    rows = "\n".join(f"{a:.17g},{b:.17g}" for a, b in zip(X[:, 0], y, strict=True))
    path.write_text("foodexp,income\n" + rows)
    reference = tlinear(X, y, maxiter=5000, gtol=1e-10)
    for name in ("student_t", "t"):
        assert (
            main(["fit", name, "--data", str(path), "--target", "income", "--json"])
            == 0
        )
        report = json.loads(capsys.readouterr().out)
        assert report["stats"]["log-likelihood"] == pytest.approx(
            reference.llf, rel=1e-10
        )
        names = [p["name"] for p in report["params"]]
        assert names == ["intercept", "foodexp", "scale", "df"]
