"""EMGaussianMixture against scikit-learn's GaussianMixture and scipy.stats.

The main reference is scikit-learn: from the same start (explicit, or the same
random_state for every init_params) both must run the same EM iterates. Densities
are checked against scipy.stats.multivariate_normal; weights against repeated rows.
"""

import pickle
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmle import EMGaussianMixture, check_gradient

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
INIT_PARAMS = ["kmeans", "k-means++", "random", "random_from_data"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, 0.0], [0.0, 5.0, 2.0]])
    mixing = np.array([[1.0, 0.0, 0.0], [0.5, 0.8, 0.0], [-0.3, 0.2, 0.6]])
    parts = [
        rng.normal(size=(n, 3)) @ mixing.T + c
        for n, c in zip((120, 80, 100), centres, strict=True)
    ]
    return np.vstack(parts)


def explicit_start(X, covariance_type, n_components=3, seed=5):
    """A deliberately poor start, so that EM has work to do."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    means = X[rng.choice(X.shape[0], n_components, replace=False)]
    precisions = {
        "full": np.array([np.eye(d) * (k + 1.0) for k in range(n_components)]),
        "tied": np.eye(d) * 0.5,
        "diag": np.ones((n_components, d)) * np.arange(1.0, d + 1),
        "spherical": np.arange(1.0, n_components + 1),
    }[covariance_type]
    weights = np.full(n_components, 1.0 / n_components)
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def assert_same_fit(ours, theirs, X, rtol=1e-6):
    np.testing.assert_allclose(ours.weights_, theirs.weights_, rtol=rtol)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=rtol)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=rtol)
    np.testing.assert_allclose(
        ours.precisions_cholesky_, theirs.precisions_cholesky_, rtol=rtol, atol=1e-12
    )
    np.testing.assert_allclose(
        ours.precisions_, theirs.precisions_, rtol=rtol, atol=1e-12
    )
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=rtol)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.converged_ == theirs.converged_


def fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = EMGaussianMixture(**params).fit(X)
        theirs = GaussianMixture(**params).fit(X)
    return ours, theirs


# -- the same iterates as scikit-learn ------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("max_iter", [1, 25])
def test_same_em_iterates_as_sklearn_from_the_same_start(X, covariance_type, max_iter):
    ours, theirs = fit_both(
        X,
        n_components=3,
        covariance_type=covariance_type,
        max_iter=max_iter,
        tol=0,
        **explicit_start(X, covariance_type),
    )
    assert_same_fit(ours, theirs, X)
    assert ours.n_iter_ == max_iter and not ours.converged_


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_stopping_iteration_and_history_as_sklearn(X, covariance_type):
    ours, theirs = fit_both(
        X,
        n_components=3,
        covariance_type=covariance_type,
        tol=1e-6,
        **explicit_start(X, covariance_type),
    )
    assert_same_fit(ours, theirs, X)
    assert ours.converged_
    # scikit-learn's lower bounds are the per-row log-likelihoods the E-steps
    # measured, at the start and after each M-step but the last; loglik_history_
    # adds the value after the last M-step.
    n = X.shape[0]
    np.testing.assert_allclose(
        ours.loglik_history_[:-1] / n, theirs.lower_bounds_, rtol=1e-10
    )
    assert ours.loglik_history_.shape == (ours.n_iter_ + 1,)
    assert ours.loglik_ == ours.loglik_history_[-1]


@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_same_random_start_as_sklearn_for_every_init(X, init_params):
    ours, theirs = fit_both(
        X, n_components=3, init_params=init_params, random_state=7, max_iter=6, tol=0
    )
    assert_same_fit(ours, theirs, X)


def test_n_init_keeps_the_best_run(X):
    rng = np.random.RandomState(3)
    single = []
    # Four components for three clusters: some runs end with two that nearly
    # coincide, whose standard errors are undefined (a UserWarning).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(4):  # each fit draws its start from the same generator
            model = EMGaussianMixture(4, init_params="random", random_state=rng)
            single.append(model.fit(X).loglik_)
        best = EMGaussianMixture(4, init_params="random", n_init=4, random_state=3)
        best.fit(X)
    assert best.loglik_ == pytest.approx(max(single), rel=1e-12)
    assert len(set(np.round(single, 6))) > 1  # the starts differ


def test_warm_start_continues_the_previous_fit(X):
    start = explicit_start(X, "full")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = EMGaussianMixture(3, max_iter=10, tol=0, **start).fit(X)
        twice = EMGaussianMixture(3, max_iter=5, tol=0, warm_start=True, **start)
        twice.fit(X).fit(X)
    np.testing.assert_allclose(twice.means_, once.means_, rtol=1e-12)
    np.testing.assert_allclose(twice.covariances_, once.covariances_, rtol=1e-12)
    assert twice.loglik_ == pytest.approx(once.loglik_, rel=1e-13)


# -- densities and predictions --------------------------------------------------------
def scipy_log_prob(model, X):
    d = X.shape[1]
    ct, cov = model.covariance_type, model.covariances_
    dense = {
        "full": lambda k: cov[k],
        "tied": lambda k: cov,
        "diag": lambda k: np.diag(cov[k]),
        "spherical": lambda k: cov[k] * np.eye(d),
    }[ct]
    return np.column_stack(
        [
            np.log(model.weights_[k])
            + stats.multivariate_normal(model.means_[k], dense(k)).logpdf(X)
            for k in range(model.n_components)
        ]
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_densities_and_probabilities_equal_scipy(X, covariance_type):
    model = EMGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    log_prob = scipy_log_prob(model, X)
    expected = logsumexp(log_prob, axis=1)
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-10)
    assert model.score(X) == pytest.approx(expected.mean(), rel=1e-10)
    assert model.loglik_ == pytest.approx(expected.sum(), rel=1e-10)
    assert model.log_likelihood(X) == pytest.approx(expected.sum(), rel=1e-10)
    np.testing.assert_allclose(
        model.predict_proba(X), np.exp(log_prob - expected[:, None]), atol=1e-12
    )
    np.testing.assert_array_equal(model.predict(X), np.argmax(log_prob, axis=1))


def test_fit_predict_equals_fit_then_predict(X):
    labels = EMGaussianMixture(3, random_state=1).fit_predict(X)
    np.testing.assert_array_equal(
        labels, EMGaussianMixture(3, random_state=1).fit(X).predict(X)
    )


def test_aic_bic_equal_sklearn(X):
    for covariance_type in COVARIANCE_TYPES:
        ours, theirs = fit_both(
            X, n_components=3, covariance_type=covariance_type, random_state=0
        )
        assert ours.aic(X) == pytest.approx(theirs.aic(X), rel=1e-9)
        assert ours.bic(X) == pytest.approx(theirs.bic(X), rel=1e-9)


def test_sample_matches_sklearn_draws(X):
    ours, theirs = fit_both(X, n_components=3, random_state=4)
    X_ours, y_ours = ours.sample(500)
    X_theirs, y_theirs = theirs.sample(500)
    assert X_ours.shape == (500, 3)
    np.testing.assert_array_equal(y_ours, y_theirs)
    np.testing.assert_allclose(X_ours, X_theirs, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="positive integer"):
        ours.sample(0)


def test_sample_diag_has_the_fitted_moments():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(400, 2)) * [1.0, 3.0]
    model = EMGaussianMixture(covariance_type="diag").fit(X)
    draws, labels = model.sample(20000, random_state=0)
    assert set(labels) == {0}
    np.testing.assert_allclose(draws.mean(axis=0), model.means_[0], atol=0.06)
    np.testing.assert_allclose(draws.var(axis=0), model.covariances_[0], rtol=0.05)


# -- the likelihood path --------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_history_never_decreases(X, covariance_type):
    for reg_covar in (0.0, 1e-6):
        model = EMGaussianMixture(
            3,
            covariance_type=covariance_type,
            reg_covar=reg_covar,
            tol=1e-10,
            max_iter=300,
            **explicit_start(X, covariance_type),
        ).fit(X)
        steps = np.diff(model.loglik_history_)
        # reg_covar is not part of the likelihood: its pull is of order reg * n
        assert steps.min() >= -1e-9 * abs(model.loglik_) - reg_covar * X.shape[0]


def test_convergence_warning_when_max_iter_ends_the_fit(X):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        EMGaussianMixture(3, max_iter=2, random_state=0).fit(X)


def test_verbose_prints_each_iteration(X, capsys):
    EMGaussianMixture(2, verbose=2, random_state=0).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert sum("iter" in line for line in lines) >= 2
    assert "solver=em" in lines[-1]


def test_check_gradient_of_the_mixture(X):
    assert (
        check_gradient(EMGaussianMixture(3, random_state=0), X[:60], random_state=0)
        < 1e-5
    )


# -- sample weights -------------------------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_equal_repeated_rows(X, covariance_type):
    rng = np.random.default_rng(9)
    weights = rng.integers(0, 4, size=X.shape[0])
    start = explicit_start(X, covariance_type)
    params = dict(n_components=3, covariance_type=covariance_type, tol=1e-8, **start)
    weighted = EMGaussianMixture(**params).fit(X, sample_weight=weights)
    repeated = EMGaussianMixture(**params).fit(np.repeat(X, weights, axis=0))
    np.testing.assert_allclose(weighted.weights_, repeated.weights_, rtol=1e-9)
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-9)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-9)
    assert weighted.n_iter_ == repeated.n_iter_
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-11)
    assert weighted.n_samples_seen_ == weights.sum()


def test_one_component_is_the_weighted_gaussian_mle(X):
    weights = np.random.default_rng(1).uniform(0.1, 3.0, size=X.shape[0])
    model = EMGaussianMixture(reg_covar=0).fit(X, sample_weight=weights)
    mean = np.average(X, axis=0, weights=weights)
    cov = np.cov(X, rowvar=False, aweights=weights, bias=True)
    np.testing.assert_allclose(model.means_[0], mean, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_[0], cov, rtol=1e-10)
    np.testing.assert_allclose(
        model.means_se_[0], np.sqrt(np.diag(cov) / weights.sum()), rtol=1e-8
    )
    assert model.weights_se_[0] == 0.0


# -- degenerate data and bad input ----------------------------------------------------
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_huge_offset_gives_the_same_fit(X, covariance_type):
    start = explicit_start(X, covariance_type)
    params = dict(n_components=3, covariance_type=covariance_type, max_iter=20, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        near = EMGaussianMixture(**params, **start).fit(X)
        start["means_init"] = start["means_init"] + 1e8
        far = EMGaussianMixture(**params, **start).fit(X + 1e8)
    # X + 1e8 is itself rounded to ~1.5e-8.
    np.testing.assert_allclose(far.means_ - 1e8, near.means_, atol=1e-6)
    np.testing.assert_allclose(far.covariances_, near.covariances_, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_tiny_spread_stays_finite(X, covariance_type):
    model = EMGaussianMixture(3, covariance_type=covariance_type, random_state=0)
    # reg_covar swamps the spread, the components coincide: no standard errors
    with pytest.warns(UserWarning, match="standard errors"):
        model.fit(X * 1e-8 + 5.0)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.all(np.isfinite(getattr(model, name)))
    assert np.isfinite(model.loglik_)
    assert np.max(np.abs(model.covariances_)) < 2e-6  # reg_covar dominates


def test_a_component_that_loses_all_its_points_stays_finite(X):
    means = np.vstack([X[:2], [[1e4, 1e4, 1e4]]])
    model = EMGaussianMixture(
        3, means_init=means, weights_init=[0.4, 0.4, 0.2], tol=1e-8
    )
    with pytest.warns(UserWarning, match="standard errors"):
        model.fit(X)
    assert model.weights_[2] < 1e-12
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.all(np.isfinite(getattr(model, name)))
    np.testing.assert_allclose(model.covariances_[2], 1e-6 * np.eye(3), rtol=1e-6)
    assert np.isfinite(model.score(X))


def test_duplicate_points_are_kept_well_posed_by_reg_covar():
    X = np.tile([[1.0, 2.0]], (20, 1))
    with (
        pytest.warns(ConvergenceWarning, match="distinct clusters"),  # from k-means
        pytest.warns(UserWarning, match="standard errors"),
    ):
        model = EMGaussianMixture(2, random_state=0).fit(X)
    assert np.all(np.isfinite(model.covariances_))
    np.testing.assert_allclose(model.means_, np.tile([1.0, 2.0], (2, 1)), atol=1e-12)
    with pytest.raises(ValueError, match="reg_covar"):
        EMGaussianMixture(1, reg_covar=0).fit(X)


def test_more_components_than_samples_is_an_error():
    X = np.random.default_rng(0).normal(size=(3, 2))
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        EMGaussianMixture(4).fit(X)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        EMGaussianMixture(3).fit(X, sample_weight=[1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(weights_init=[0.5, 0.6, -0.1]), r"\[0, 1\]"),
        (dict(weights_init=[0.5, 0.6, 0.1]), "sum to 1"),
        (dict(weights_init=[0.5, 0.5]), "shape"),
        (dict(means_init=np.zeros((2, 3))), "shape"),
        (dict(precisions_init=np.ones((3, 3, 3))), "positive definite"),
        (dict(precisions_init=np.ones((3, 3))), "shape"),
        (dict(covariance_type="diag", precisions_init=-np.ones((3, 3))), "positive"),
    ],
)
def test_bad_initial_parameters_are_rejected(X, params, match):
    with pytest.raises(ValueError, match=match):
        EMGaussianMixture(3, **params).fit(X)


# -- scikit-learn integration and inference -------------------------------------------
def test_clone_pickle_pipeline_and_grid_search(X):
    model = EMGaussianMixture(3, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.score_samples(X), model.score_samples(X))
    assert clone(model).get_params() == model.get_params()
    pipe = make_pipeline(StandardScaler(), EMGaussianMixture(3, random_state=0)).fit(X)
    assert np.isfinite(pipe.score(X))
    search = GridSearchCV(
        EMGaussianMixture(random_state=0), {"n_components": [1, 3]}, cv=3
    )
    assert search.fit(X).best_params_ == {"n_components": 3}


def test_summary_lists_weights_and_means_with_feature_names(X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = EMGaussianMixture(2, random_state=0).fit(frame)
    summary = model.summary()
    names = [row.name for row in summary.rows]
    assert names[:2] == ["weight[0]", "weight[1]"]
    assert names[2:5] == ["mean[0][a]", "mean[0][b]", "mean[0][c]"]
    np.testing.assert_allclose(summary.estimates[2:], model.means_.ravel())
    assert np.all(np.isfinite(summary.std_errors))
    assert model.means_se_.shape == model.means_.shape
    assert "log-likelihood" in str(summary)


# -- warm starts, extreme data, memory --------------------------------------------------
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_warm_started_single_steps_converge_as_in_scikit_learn(X, covariance_type):
    # scikit-learn compares each call's first lower bound with the previous
    # call's last: refitting with max_iter=1 converges once the likelihood stops
    # moving. Same start, same iterates, same call at which converged_ turns on.
    start = explicit_start(X, covariance_type)
    ours = EMGaussianMixture(
        3, covariance_type=covariance_type, max_iter=1, warm_start=True, **start
    )
    theirs = GaussianMixture(
        3, covariance_type=covariance_type, max_iter=1, warm_start=True, **start
    )
    flags_ours, flags_theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(80):
            flags_ours.append(ours.fit(X).converged_)
            flags_theirs.append(theirs.fit(X).converged_)
    assert any(flags_theirs)
    assert flags_ours == flags_theirs
    assert_same_fit(ours, theirs, X, rtol=1e-9)


def test_a_fresh_fit_does_not_compare_with_the_previous_one(X):
    start = explicit_start(X, "full")
    model = EMGaussianMixture(3, max_iter=1, **start)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)  # warm_start=False: a new run, one step, not converged
    assert not model.converged_


@pytest.mark.parametrize("factor", [1e200, 1e160])
def test_data_too_spread_for_float64_are_a_value_error(X, factor):
    with pytest.raises(ValueError, match=r"overflow float64\. Rescale X"):
        EMGaussianMixture(2, random_state=0).fit(X * factor)


def test_a_huge_offset_is_harmless(X):
    # centred on the data's mean before any arithmetic: 1e9 timestamps fit as
    # the same data near 0 (X + 1e9 - 1e9 is exact: X rounded to 1e9's spacing)
    shifted = X + 1e9
    near_zero = shifted - 1e9
    start = explicit_start(near_zero, "full")
    moved = dict(start, means_init=start["means_init"] + 1e9)
    ours = EMGaussianMixture(3, tol=1e-8, max_iter=300, **moved).fit(shifted)
    theirs = GaussianMixture(3, tol=1e-8, max_iter=300, **start).fit(near_zero)
    np.testing.assert_allclose(ours.means_ - 1e9, theirs.means_, atol=1e-6)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-6)


def test_precisions_init_singular_to_working_precision_is_a_value_error(X):
    nearly = np.array([[1.0, 1.0 - 1e-17], [1.0 - 1e-17, 1.0]])
    precisions = np.array([np.eye(3)] * 2)
    precisions[0, :2, :2] = nearly + 1e-300 * np.eye(2)
    with pytest.raises(ValueError, match="precisions_init"):
        EMGaussianMixture(2, precisions_init=precisions).fit(X)


def test_the_log_prior_has_no_dense_hessian():
    from skmle.models.mixture import GaussianMixtureLogLikelihood

    model = GaussianMixtureLogLikelihood(2, 250, "full")
    theta = np.zeros(model.n_params)  # 63,252 parameters: 32 GB as a dense array
    value, grad, hess = model.log_prior(theta, 10.0)
    assert value == 0.0 and grad.shape == (model.n_params,) and not np.any(grad)
    assert np.ndim(hess) == 0 and hess == 0.0


@pytest.mark.parametrize(
    "name, value", [("weights_init", {}), ("precisions_init", [[None]])]
)
def test_a_start_that_is_no_array_of_numbers_is_a_value_error(name, value):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=name):
        EMGaussianMixture(n_components=1, **{name: value}).fit(X)
