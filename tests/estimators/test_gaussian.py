import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmle import GaussianMLE, check_gradient

COVARIANCE_TYPES = ["full", "diag", "spherical"]
GRADIENT_SOLVERS = ["gd", "lbfgs", "newton"]


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    mixing = np.array([[2.0, 0.0, 0.0], [0.7, 1.0, 0.0], [-0.4, 0.3, 0.5]])
    return rng.standard_normal((400, 3)) @ mixing.T + np.array([1.0, -2.0, 10.0])


def numpy_covariance(X, covariance_type, weights=None):
    cov = np.cov(X, rowvar=False, bias=True, aweights=weights)
    if covariance_type == "diag":
        return np.diag(cov)
    if covariance_type == "spherical":
        return float(np.mean(np.diag(cov)))
    return cov


def dense(cov, d):
    cov = np.asarray(cov, dtype=float)
    return cov if cov.ndim == 2 else np.diag(np.broadcast_to(cov, (d,)))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_closed_form_equals_numpy_moments(X, covariance_type):
    model = GaussianMLE(covariance_type=covariance_type, reg_covar=0).fit(X)
    np.testing.assert_allclose(model.mean_, X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(
        model.covariance_, numpy_covariance(X, covariance_type), rtol=1e-12
    )
    expected = stats.multivariate_normal(
        model.mean_, dense(model.covariance_, 3)
    ).logpdf(X)
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-12)
    assert model.loglik_ == pytest.approx(expected.sum(), rel=1e-12)
    assert model.score(X) == pytest.approx(expected.mean(), rel=1e-12)
    assert model.n_iter_ == 1 and model.converged_
    # the generic solvers' start N(mean, diag(variances)), then the maximum
    start = (
        stats.multivariate_normal(
            X.mean(axis=0),
            dense(np.var(X, axis=0), 3)
            if covariance_type != "spherical"
            else np.var(X, axis=0).mean(),
        )
        .logpdf(X)
        .sum()
    )
    np.testing.assert_allclose(
        model.loglik_history_, [start, expected.sum()], rtol=1e-12
    )


def test_reg_covar_is_added_to_the_diagonal(X):
    model = GaussianMLE(reg_covar=0.25).fit(X)
    np.testing.assert_allclose(
        model.covariance_, np.cov(X, rowvar=False, bias=True) + 0.25 * np.eye(3)
    )
    summary = model.summary()
    assert summary.title == "GaussianMLE maximum a posteriori estimates"
    assert summary.stats["largest reg_covar added"] == 0.25
    assert model._is_map() and not GaussianMLE().fit(X)._is_map()
    # loglik_ is the likelihood alone; the history adds the log-prior
    prior = -0.5 * X.shape[0] * 0.25 * np.trace(np.linalg.inv(model.covariance_))
    expected = stats.multivariate_normal(model.mean_, model.covariance_).logpdf(X)
    assert model.loglik_ == pytest.approx(expected.sum(), rel=1e-12)
    assert model.loglik_history_[-1] == pytest.approx(expected.sum() + prior, rel=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("solver", GRADIENT_SOLVERS)
@pytest.mark.parametrize("reg_covar", [0.0, 0.1])
def test_every_solver_reaches_the_closed_form(X, covariance_type, solver, reg_covar):
    reference = GaussianMLE(covariance_type=covariance_type, reg_covar=reg_covar).fit(X)
    model = GaussianMLE(
        covariance_type=covariance_type, solver=solver, reg_covar=reg_covar, tol=1e-9
    ).fit(X)
    assert model.converged_
    np.testing.assert_allclose(model.mean_, reference.mean_, rtol=1e-6)
    # normwise relative: an off-diagonal entry near zero has no relative scale
    scale = np.abs(reference.covariance_).max()
    np.testing.assert_allclose(
        model.covariance_, reference.covariance_, rtol=1e-6, atol=1e-6 * scale
    )
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-9)
    assert model.loglik_history_.shape == (model.n_iter_ + 1,)
    assert np.all(np.diff(model.loglik_history_) >= -1e-9 * abs(model.loglik_))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_weight_equals_repeated_rows(X, covariance_type):
    rng = np.random.default_rng(3)
    w = rng.integers(0, 4, size=X.shape[0])
    weighted = GaussianMLE(covariance_type=covariance_type).fit(X, sample_weight=w)
    repeated = GaussianMLE(covariance_type=covariance_type).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.mean_, repeated.mean_, rtol=1e-12)
    np.testing.assert_allclose(weighted.covariance_, repeated.covariance_, rtol=1e-10)
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-10)
    np.testing.assert_allclose(
        weighted.covariance_,
        numpy_covariance(X, covariance_type, w),
        rtol=1e-10,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_partial_fit_in_chunks_equals_fit(X, covariance_type):
    rng = np.random.default_rng(4)
    w = rng.uniform(0, 2, size=X.shape[0])
    streamed = GaussianMLE(covariance_type=covariance_type)
    for rows in np.array_split(np.arange(X.shape[0]), [13, 100, 101, 350]):
        streamed.partial_fit(X[rows], sample_weight=w[rows])
    whole = GaussianMLE(covariance_type=covariance_type).fit(X, sample_weight=w)
    np.testing.assert_allclose(streamed.mean_, whole.mean_, rtol=1e-12)
    np.testing.assert_allclose(streamed.covariance_, whole.covariance_, rtol=1e-10)
    assert streamed.loglik_ == pytest.approx(whole.loglik_, rel=1e-10)
    assert streamed.n_samples_seen_ == pytest.approx(w.sum())
    np.testing.assert_allclose(streamed.mean_se_, whole.mean_se_, rtol=1e-10)


def test_partial_fit_rejects_a_different_number_of_features(X):
    model = GaussianMLE().partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :2])


def test_standard_errors_of_the_mean(X):
    model = GaussianMLE(reg_covar=0).fit(X)
    expected = X.std(axis=0) / np.sqrt(X.shape[0])
    np.testing.assert_allclose(model.mean_se_, expected, rtol=1e-12)
    summary = model.summary()
    d = X.shape[1]  # the mean's rows come first, then the covariance entries
    np.testing.assert_allclose(summary.estimates[:d], model.mean_)
    np.testing.assert_allclose(summary.z[:d], model.mean_ / expected, rtol=1e-12)
    np.testing.assert_allclose(
        summary.conf_int[:d, 1], model.mean_ + stats.norm.ppf(0.975) * expected
    )
    text = str(summary)
    assert "mean[x0]" in text and "AIC" in text and "closed_form" in text


def test_standard_errors_from_the_observed_information_agree(X):
    # The generic route (inverse Hessian of the log-likelihood in theta) against the
    # closed form sqrt(diag(Sigma) / n) that GaussianMLE reports.
    model = GaussianMLE(reg_covar=0).fit(X)
    objective = model._objective_for_data(X)
    from skmle.estimators.base import GradientAscentMixin
    from skmle.inference import block_standard_errors

    spec = GradientAscentMixin._wald_spec(model, objective, None)
    generic = block_standard_errors(spec)["mean"]
    np.testing.assert_allclose(generic, model.mean_se_, rtol=1e-8)


def test_aic_and_bic(X):
    model = GaussianMLE(covariance_type="diag").fit(X)
    loglik = model.log_likelihood(X)
    assert loglik == pytest.approx(model.loglik_, rel=1e-12)
    n_params = 3 + 3
    assert model.aic(X) == pytest.approx(-2 * loglik + 2 * n_params)
    assert model.bic(X) == pytest.approx(-2 * loglik + n_params * np.log(X.shape[0]))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_has_the_fitted_moments(X, covariance_type):
    model = GaussianMLE(covariance_type=covariance_type).fit(X)
    draws = model.sample(200_000, random_state=0)
    assert draws.shape == (200_000, 3)
    np.testing.assert_allclose(draws.mean(axis=0), model.mean_, atol=0.02)
    np.testing.assert_allclose(
        np.cov(draws, rowvar=False), dense(model.covariance_, 3), atol=0.03
    )


@pytest.mark.parametrize(
    "X_bad",
    [
        np.column_stack([np.arange(10.0), np.ones(10)]),  # a constant column
        np.random.default_rng(0).normal(size=(3, 5)),  # fewer rows than columns
    ],
)
@pytest.mark.parametrize("solver", ["closed_form", "newton"])
def test_singular_covariance_warns_and_is_regularised_minimally(X_bad, solver):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match=r"singular.*maximum a posteriori"):
            model = GaussianMLE(solver=solver).fit(X_bad)
    assert np.all(np.isfinite(model.covariance_))
    assert np.isfinite(model.loglik_)
    assert "maximum a posteriori" in str(model.summary())
    if solver != "closed_form":
        return  # so ill-conditioned a maximum may need more than max_iter steps
    sample = np.cov(X_bad, rowvar=False, bias=True)
    added = model.covariance_ - sample
    # only the diagonal moves, by a tiny fraction of each variance (the mean of
    # the variances for a constant column)
    np.testing.assert_allclose(added - np.diag(np.diag(added)), 0, atol=1e-12)
    scale = np.where(np.diag(sample) > 0, np.diag(sample), np.diag(sample).mean())
    assert np.all(np.diag(added) > 0)
    assert np.all(np.diag(added) <= 1e-8 * scale)
    np.linalg.cholesky(model.covariance_)


def test_explicit_reg_covar_too_small_for_the_scale_is_a_clear_error():
    X_bad = np.column_stack([np.arange(10.0), np.arange(10.0)]) * 1e12
    with pytest.raises(ValueError, match=r"singular.*Increase reg_covar"):
        GaussianMLE(reg_covar=1e-6).fit(X_bad)


def test_collinear_data_never_raise_linalgerror_whatever_the_row_order():
    # x3 = x0 + x1 exactly: in floating point the last Cholesky pivot is
    # rounding noise whose sign depends on the order of the rows.
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(50, 3))
    Z = np.column_stack([Z, Z[:, 0] + Z[:, 1]])
    covariances = []
    for seed in range(6):
        order = np.random.default_rng(seed).permutation(50)
        with pytest.warns(UserWarning, match="singular"):
            covariances.append(GaussianMLE().fit(Z[order]).covariance_)
    for cov in covariances[1:]:
        np.testing.assert_allclose(cov, covariances[0], rtol=1e-10)


def test_wine_default_is_the_exact_mle():
    from sklearn.datasets import load_wine

    W = load_wine().data
    C = np.cov(W, rowvar=False, bias=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GaussianMLE().fit(W)
    error = np.abs(model.covariance_ - C) / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    assert np.max(error) <= 1e-12
    assert model.summary().title == "GaussianMLE maximum likelihood estimates"


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_tiny_variances_are_not_swamped(covariance_type):
    X = np.random.default_rng(0).normal(size=(200, 3)) * np.sqrt(2.9e-10) + 5.0
    model = GaussianMLE(covariance_type=covariance_type).fit(X)
    np.testing.assert_allclose(
        model.covariance_, numpy_covariance(X, covariance_type), rtol=1e-12
    )


@pytest.mark.parametrize(
    "factor, match",
    [(1e200, "overflows"), (1e-150, "underflow"), (1e-170, "underflow")],
)
@pytest.mark.parametrize("solver", ["closed_form", "lbfgs"])
def test_extreme_scales_are_a_value_error_naming_the_remedy(factor, match, solver):
    X = np.random.default_rng(0).normal(size=(50, 3)) * factor
    with pytest.raises(ValueError, match=f"{match}.*Rescale X"):
        GaussianMLE(solver=solver).fit(X)


@pytest.mark.parametrize("factor", [1e140, 1e-140])
def test_large_and_small_but_representable_scales_are_exact(factor):
    X = np.random.default_rng(0).normal(size=(50, 3)) @ np.array(
        [[1.0, 0.3, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]]
    )
    model = GaussianMLE().fit(X * factor)
    reference = np.cov(X, rowvar=False, bias=True) * factor**2
    np.testing.assert_allclose(model.covariance_, reference, rtol=1e-12)
    expected = stats.multivariate_normal(model.mean_ / factor, reference / factor**2)
    assert model.loglik_ == pytest.approx(
        expected.logpdf(X).sum() - X.size * np.log(factor), rel=1e-10
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_huge_offsets_like_timestamps(covariance_type):
    rng = np.random.default_rng(0)
    offset = np.array([1.7e9, 1e9])
    X = rng.normal(size=(300, 2)) * [60.0, 1e-3] + offset
    # X - offset is exact (Sterbenz): the reference never sees the offset
    model = GaussianMLE(covariance_type=covariance_type).fit(X)
    expected = numpy_covariance(X - offset, covariance_type)
    np.testing.assert_allclose(model.covariance_, expected, rtol=1e-12)
    np.testing.assert_allclose(
        model.mean_ - offset, (X - offset).mean(axis=0), atol=1e-6
    )


def test_one_row_or_identical_rows_are_a_value_error():
    with pytest.raises(ValueError, match="n_samples = 1"):
        GaussianMLE().fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match="same point"):
        GaussianMLE(covariance_type="spherical").fit(np.ones((5, 3)))
    # a chosen regularisation is a Gaussian of that variance
    model = GaussianMLE(reg_covar=0.5).fit(np.ones((5, 3)))
    np.testing.assert_allclose(model.covariance_, 0.5 * np.eye(3))


def test_zero_weight_rows_are_ignored_and_all_zero_weights_rejected(X):
    w = np.ones(X.shape[0])
    w[::3] = 0
    model = GaussianMLE().fit(X, sample_weight=w)
    np.testing.assert_allclose(
        model.covariance_, np.cov(X[w > 0], rowvar=False, bias=True), rtol=1e-12
    )
    for call in ("fit", "partial_fit"):
        with pytest.raises(ValueError, match="non-zero"):
            getattr(GaussianMLE(), call)(X[:5], sample_weight=np.zeros(5))
    fitted = GaussianMLE().partial_fit(X)
    with pytest.raises(ValueError, match="non-zero"):
        fitted.partial_fit(X[:5], sample_weight=np.zeros(5))


def test_partial_fit_after_changing_covariance_type_is_an_error(X):
    model = GaussianMLE().partial_fit(X[:100])
    model.set_params(covariance_type="diag")
    with pytest.raises(ValueError, match="covariance_type changed"):
        model.partial_fit(X[100:])
    # diag and spherical keep the same statistics: spherical continues exactly
    model = GaussianMLE(covariance_type="diag").partial_fit(X[:100])
    model.set_params(covariance_type="spherical").partial_fit(X[100:])
    assert model.covariance_ == pytest.approx(np.var(X, axis=0).mean(), rel=1e-12)


@pytest.mark.parametrize("solver", GRADIENT_SOLVERS)
def test_generic_solvers_start_at_the_data_scale(solver):
    # Independent features at scales 1e-6 .. 1e6, one on an offset of 1e9: the
    # diagonal start is the diagonal MLE already, and no solver moves it off.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)) * [1e-6, 1.0, 1e6] + [0.0, 5.0, 1e9]
    C = np.cov(X - [0.0, 0.0, 1e9], rowvar=False, bias=True)
    model = GaussianMLE(covariance_type="diag", solver=solver).fit(X)
    assert model.converged_ and model.n_iter_ <= 2
    np.testing.assert_allclose(model.covariance_, np.diag(C), rtol=1e-9)
    start = GaussianMLE(covariance_type="diag", solver=solver)
    start.fit(X)
    assert start.loglik_history_[0] == pytest.approx(model.loglik_, rel=1e-12)


def test_weight_two_starts_where_a_duplicated_row_does(X):
    w = np.ones(X.shape[0])
    w[:7] = 2
    a = GaussianMLE(solver="gd", max_iter=3)
    b = GaussianMLE(solver="gd", max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, sample_weight=w)
        b.fit(np.vstack([X, X[:7]]))
    np.testing.assert_allclose(a.loglik_history_, b.loglik_history_, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"covariance_type": "tied"}, "covariance_type"),
        ({"solver": "sgd"}, "solver"),
        ({"reg_covar": -1.0}, "reg_covar"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_hyperparameters_are_rejected(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianMLE(**kwargs).fit(X)


def test_bad_data_is_rejected(X):
    X_nan = X.copy()
    X_nan[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GaussianMLE().fit(X_nan)
    with pytest.raises(ValueError, match=r"(?i)negative"):
        GaussianMLE().fit(X, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match=r"non-zero|sum to zero"):
        GaussianMLE(solver="lbfgs").fit(X, sample_weight=np.zeros(X.shape[0]))


def test_max_iter_gives_a_convergence_warning(X):
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        model = GaussianMLE(solver="gd", max_iter=3).fit(X)
    assert model.n_iter_ == 3 and not model.converged_


def test_a_fixed_learning_rate_that_would_diverge_is_safeguarded(X):
    # A step of 50 on the mean log-likelihood overshoots wildly; the halving
    # safeguard keeps every accepted step finite and uphill.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GaussianMLE(
            covariance_type="diag", solver="gd", learning_rate=50.0, max_iter=2000
        ).fit(X)
    reference = GaussianMLE(covariance_type="diag").fit(X)
    assert np.all(np.isfinite(model.loglik_history_))
    assert np.all(np.diff(model.loglik_history_) >= 0)
    assert model.loglik_ == pytest.approx(reference.loglik_, rel=1e-6)


def test_warm_start_continues_from_the_previous_fit(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GaussianMLE(solver="gd", max_iter=5, warm_start=True, reg_covar=0)
        model.fit(X)
        first = model.loglik_
        model.fit(X)
    assert model.loglik_history_[0] == pytest.approx(first, rel=1e-12)
    assert model.loglik_ > first


def test_verbose_prints_per_iteration_and_at_the_end(X, capsys):
    GaussianMLE(solver="newton", verbose=2).fit(X)
    out = capsys.readouterr().out
    assert "iter    1" in out and "converged=True" in out


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_check_gradient_is_small(X, covariance_type):
    assert check_gradient(GaussianMLE(covariance_type=covariance_type), X) < 1e-6


def test_pipeline_cross_validation_and_grid_search(X):
    pipe = make_pipeline(StandardScaler(), GaussianMLE())
    scores = cross_val_score(pipe, X, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    search = GridSearchCV(
        GaussianMLE(), {"covariance_type": COVARIANCE_TYPES}, cv=3
    ).fit(X)
    # correlated features: the full covariance has the best held-out likelihood
    assert search.best_params_ == {"covariance_type": "full"}


def test_clone_and_pickle_keep_the_fit(X):
    model = GaussianMLE().fit(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.score_samples(X), model.score_samples(X))
    assert not hasattr(clone(model), "mean_")


def test_dataframe_feature_names_appear_in_the_summary(X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["height", "weight", "age"])
    model = GaussianMLE().fit(frame)
    np.testing.assert_array_equal(model.feature_names_in_, ["height", "weight", "age"])
    assert "mean[weight]" in str(model.summary())


finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(
    shift=st.lists(finite, min_size=3, max_size=3),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**16),
)
def test_shift_and_scale_equivariance(shift, scale, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3)) @ rng.normal(size=(3, 3))
    base = GaussianMLE(reg_covar=0).fit(X)
    moved = GaussianMLE(reg_covar=0).fit(scale * X + np.array(shift))
    np.testing.assert_allclose(
        moved.mean_, scale * base.mean_ + np.array(shift), rtol=1e-9, atol=1e-9 * scale
    )
    np.testing.assert_allclose(
        moved.covariance_,
        scale**2 * base.covariance_,
        rtol=1e-7,
        atol=1e-9 * scale**2 * np.abs(base.covariance_).max(),
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_row_order_does_not_matter(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(25, 3))
    w = rng.uniform(0, 2, size=25)
    order = rng.permutation(25)
    a = GaussianMLE().fit(X, sample_weight=w)
    b = GaussianMLE().fit(X[order], sample_weight=w[order])
    np.testing.assert_allclose(a.mean_, b.mean_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.covariance_, b.covariance_, rtol=1e-10, atol=1e-15)
