"""``MLPClassifierMLE`` against scikit-learn's ``MLPClassifier`` from the same
start, finite differences, and the same fit on weighted, chunked and Dask data."""

import warnings

import dask.array as da
import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skmle import MLPClassifierMLE, check_gradient, chunked


def fair():
    """statsmodels' affairs data: any affair (binary), six standardised features,
    rows in a fixed random order (the file lists the affairs first)."""
    frame = sm.datasets.fair.load_pandas().data
    columns = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ"]
    order = np.random.default_rng(0).permutation(len(frame))
    X = StandardScaler().fit_transform(frame[columns].to_numpy(float))[order]
    return X, (frame.affairs > 0).to_numpy(int)[order]


def anes():
    """statsmodels' anes96: party identification (7 classes) from five features."""
    frame = sm.datasets.anes96.load_pandas().data
    X = frame[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy(float)
    return StandardScaler().fit_transform(X), frame.PID.to_numpy(int)


def sklearn_from(model, theta, X, y, **params):
    """``MLPClassifier`` started at ``theta`` (``warm_start`` and its public
    ``coefs_``/``intercepts_``)."""
    reference = MLPClassifier(
        (model.n_hidden,), solver="lbfgs", max_iter=1, warm_start=True, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, y)
    W, b1, U, b2 = model.unpack(theta)
    reference.coefs_ = [W.T.copy(), U.T.copy()]
    reference.intercepts_ = [b1.copy(), b2.copy()]
    return reference


def penalised(model, theta, loglik, alpha):
    return loglik - 0.5 * alpha * (model.weight_mask() @ theta**2)


def fit_quietly(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


@pytest.mark.parametrize("dataset", [fair, anes])
def test_gradient_matches_finite_differences_at_random_points(dataset):
    X, y = dataset()
    X, y = X[:300], y[:300]
    for alpha, seed in [(0.0, 0), (0.5, 1)]:
        estimator = MLPClassifierMLE(n_hidden=6, alpha=alpha, random_state=seed)
        assert check_gradient(estimator, X, y, random_state=seed) < 1e-7


@pytest.mark.slow
def test_gradient_near_the_fit_matches_finite_differences():
    """After the fit. At the returned point itself a row can sit on a ReLU kink
    (z = 0 exactly, where L-BFGS stalls), and there the log-likelihood has only
    one-sided derivatives; a step of 1e-3 away, it is smooth again."""
    X, y = anes()
    estimator = fit_quietly(
        MLPClassifierMLE(n_hidden=5, alpha=1.0, random_state=0, max_iter=300), X, y
    )
    rng = np.random.default_rng(0)
    near = estimator.theta_ + 1e-3 * rng.standard_normal(estimator.theta_.size)
    assert check_gradient(estimator, X, y, params=near) < 1e-5
    # and the gradient there is small next to the start's: a (local) maximum
    function = estimator.loglik_function(X, y)
    _, grad = function.value_and_grad(estimator.theta_)
    _, first = function.value_and_grad(estimator.initial_params(X, y))
    assert np.abs(grad).max() < 0.01 * np.abs(first).max()


@pytest.mark.slow
@pytest.mark.parametrize("dataset", [fair, anes])
def test_same_start_same_alpha_reaches_sklearn_maximum(dataset):
    """From the same start with the same alpha, the penalised log-likelihood of
    skmle's fit is at least scikit-learn's ``-n * loss_`` (to 1e-6), and the
    probabilities agree."""
    X, y = dataset()
    X, y = X[:1500], y[:1500]
    n, alpha = X.shape[0], 1.0
    ours = fit_quietly(
        MLPClassifierMLE(
            n_hidden=4, alpha=alpha, random_state=0, tol=1e-7, max_iter=2000
        ),
        X,
        y,
    )
    start = ours.initial_params(X, y)
    reference = sklearn_from(ours.model_, start, X, y, alpha=alpha, tol=1e-10)
    reference.max_iter = 5000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, y)
    value = penalised(ours.model_, ours.theta_, ours.loglik_, alpha)
    assert value >= -n * reference.loss_ - 1e-6 * n
    assert value == pytest.approx(-n * reference.loss_, rel=1e-4)
    # the same maximum to 1e-4 of the objective; the probabilities move along
    # the flat ridge that L-BFGS stops on (kinks of ReLU), by at most 0.02
    np.testing.assert_allclose(
        ours.predict_proba(X), reference.predict_proba(X), atol=0.02
    )
    # the reported log-likelihood is sklearn's log loss at skmle's weights
    on_ours = sklearn_from(ours.model_, ours.theta_, X, y, alpha=alpha)
    expected = -log_loss(y, on_ours.predict_proba(X), normalize=False)
    assert ours.loglik_ == pytest.approx(expected, rel=1e-10)


def test_information_criteria_count_the_identified_parameters():
    X, y = anes()
    estimator = fit_quietly(
        MLPClassifierMLE(n_hidden=4, alpha=0.1, random_state=0, max_iter=50), X, y
    )
    d, H, K = X.shape[1], 4, 7
    # per hidden unit one rescaling, and one vector added to every class row
    k = (H * d + H + K * H + K) - H - (H + 1)
    on_ours = sklearn_from(estimator.model_, estimator.theta_, X, y)
    loglik = -log_loss(y, on_ours.predict_proba(X), normalize=False)
    assert estimator.aic_ == pytest.approx(-2 * loglik + 2 * k, rel=1e-10)
    assert estimator.bic_ == pytest.approx(-2 * loglik + k * np.log(len(y)), rel=1e-10)
    assert estimator.aic(X, y) == pytest.approx(estimator.aic_, rel=1e-10)


def test_summary_shows_fit_statistics_only():
    X, y = fair()
    X, y = X[:500], y[:500]
    estimator = fit_quietly(
        MLPClassifierMLE(n_hidden=3, alpha=0.5, random_state=0), X, y
    )
    table = estimator.summary()
    text = str(table)
    assert text.startswith("MLPClassifierMLE maximum a posteriori fit")
    assert "std err" not in text and "P>|z|" not in text
    assert "not identified" in text
    report = table.to_dict()
    assert report["params"] == []
    on_ours = sklearn_from(estimator.model_, estimator.theta_, X, y)
    expected = -log_loss(y, on_ours.predict_proba(X), normalize=False)
    assert report["stats"]["log-likelihood"] == pytest.approx(expected, rel=1e-10)
    assert report["stats"]["hidden units"] == 3
    assert report["stats"]["prior precision alpha"] == 0.5
    plain = fit_quietly(
        MLPClassifierMLE(n_hidden=3, alpha=0.0, random_state=0, max_iter=20), X, y
    )
    assert str(plain.summary()).startswith("MLPClassifierMLE maximum likelihood fit")
    assert not hasattr(estimator, "params_cov_") or pytest.fail("no covariance")


# The next two follow 25 L-BFGS iterations: the objectives agree to rounding, so
# the iterates agree closely; a fit run on until it stalls on a ReLU kink (where
# the rule of tol cannot hold) may stop one iteration apart.
ITERATES = {"max_iter": 25, "random_state": 0}


@pytest.mark.slow
def test_weight_two_equals_a_duplicated_row():
    X, y = anes()
    X, y = X[:400], y[:400]
    w = np.ones(400)
    w[:60] = 2.0
    options = {"n_hidden": 3, "alpha": 1.0, **ITERATES}
    weighted = fit_quietly(MLPClassifierMLE(**options), X, y, sample_weight=w)
    repeated = fit_quietly(
        MLPClassifierMLE(**options), np.vstack([X, X[:60]]), np.concatenate([y, y[:60]])
    )
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-10)
    np.testing.assert_allclose(weighted.theta_, repeated.theta_, rtol=1e-7, atol=1e-9)


@pytest.mark.slow
def test_chunked_and_dask_fits_equal_the_in_memory_fit():
    X, y = fair()
    X, y = X[:3000], y[:3000]
    options = {"n_hidden": 4, "alpha": 1.0, **ITERATES}
    memory = fit_quietly(MLPClassifierMLE(**options), X, y)
    pieces = fit_quietly(
        MLPClassifierMLE(**options),
        chunked(X, chunk_size=700),
        y,
    )
    on_dask = fit_quietly(
        MLPClassifierMLE(**options),
        da.from_array(X, chunks=(800, -1)),
        da.from_array(y, chunks=800),
    )
    for other in (pieces, on_dask):
        assert other.loglik_ == pytest.approx(memory.loglik_, rel=1e-10)
        np.testing.assert_allclose(other.theta_, memory.theta_, rtol=1e-7, atol=1e-9)
    lazy = memory.predict_proba(da.from_array(X, chunks=(800, -1))).compute()
    np.testing.assert_allclose(lazy, memory.predict_proba(X), rtol=1e-12)


@pytest.mark.slow
def test_n_init_keeps_the_best_start():
    X, y = anes()
    options = {"n_hidden": 3, "alpha": 0.1, "max_iter": 100}
    single = [
        fit_quietly(MLPClassifierMLE(**options, init=start), X, y)
        for start in _three_starts(X, y, options)
    ]
    best = fit_quietly(MLPClassifierMLE(**options, n_init=3, random_state=0), X, y)
    values = [penalised(m.model_, m.theta_, m.loglik_, 0.1) for m in single]
    assert penalised(best.model_, best.theta_, best.loglik_, 0.1) == pytest.approx(
        max(values), rel=1e-10
    )


def _three_starts(X, y, options):
    """The starts of ``n_init=3, random_state=0``: Glorot draws in turn from one
    RandomState, the uniform bounds of scikit-learn's initialisation."""
    rng = np.random.RandomState(0)
    d, H, K = X.shape[1], options["n_hidden"], len(np.unique(y))
    starts = []
    for _ in range(3):
        blocks = []
        for fan_in, fan_out in [(d, H), (H, K)]:
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            blocks.append(rng.uniform(-bound, bound, (fan_out, fan_in)).ravel())
            blocks.append(rng.uniform(-bound, bound, fan_out))
        starts.append(np.concatenate(blocks))
    return starts


@pytest.mark.slow
def test_partial_fit_follows_its_step_schedule_and_approaches_the_fit():
    X, y = fair()
    X, y = X[:2000], y[:2000]
    stream = MLPClassifierMLE(n_hidden=4, alpha=0.1, random_state=0)
    start = stream.initial_params(X, y)
    function = stream.loglik_function(X[:100], y[:100])
    stream.partial_fit(X[:100], y[:100], classes=[0, 1])
    # gamma_0 of "auto" is an Armijo step, 1/2^j, and the first step is gamma_0
    # times the gradient of the batch's mean objective (N_1 = W_1, so the
    # prior's share is the objective's), here from finite differences
    gamma = stream.initial_step_size_
    assert np.log2(gamma) == round(np.log2(gamma)) and gamma <= 1.0
    gain = function.value(stream.theta_) - function.value(start)
    slope = np.sum(_central(function.value, start) ** 2)
    assert gain >= 1e-4 * gamma * slope
    numeric = _central(function.value, start)
    np.testing.assert_allclose(stream.theta_ - start, gamma * numeric, atol=1e-7)
    rng = np.random.default_rng(0)
    gaps = []
    exact = fit_quietly(MLPClassifierMLE(n_hidden=4, alpha=0.1, random_state=0), X, y)
    for _ in range(15):
        for rows in np.array_split(rng.permutation(2000), 20):
            stream.partial_fit(X[rows], y[rows])
        gaps.append(exact.loglik_ - stream.log_likelihood(X, y))
    # within 6% of L-BFGS's maximum after 15 passes, and closing in
    assert 0 <= gaps[-1] < 0.06 * abs(exact.loglik_)
    assert gaps[-1] < 0.5 * gaps[0]
    assert stream.t_ == 1 + 15 * 20 == stream.n_iter_
    assert stream.n_samples_seen_ == 100 + 15 * 2000
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifierMLE().partial_fit(X, y)


def _central(f, theta, step=1e-6):
    out = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        out[j] = (f(theta + e) - f(theta - e)) / (2 * step)
    return out


def test_init_array_of_the_wrong_length_is_a_clear_error():
    X, y = anes()
    with pytest.raises(ValueError, match="init as an array must be"):
        MLPClassifierMLE(n_hidden=3, init=np.zeros(5)).fit(X, y)


def test_cli_fits_the_network(tmp_path, capsys):
    from skmle.cli import main

    X, y = fair()
    path = tmp_path / "fair.csv"
    rows = [
        ",".join(f"{v:.6f}" for v in r) + f",{t}"
        for r, t in zip(X[:300], y[:300], strict=True)
    ]
    path.write_text("a,b,c,d,e,f,y\n" + "\n".join(rows))
    status = main(
        [
            "fit",
            "network",
            "--data",
            str(path),
            "--target",
            "y",
            "--param",
            "n_hidden=3",
            "--param",
            "random_state=0",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert (
        "MLPClassifierMLE maximum a posteriori fit" in out and "hidden units: 3" in out
    )


def test_convergence_plot_draws_the_history():
    import matplotlib

    matplotlib.use("Agg")
    from skmle.plotting.convergence import plot_convergence

    X, y = anes()
    fits = [
        fit_quietly(
            MLPClassifierMLE(n_hidden=3, solver=s, random_state=0, max_iter=30), X, y
        )
        for s in ("lbfgs", "gd")
    ]
    ax = plot_convergence(fits)
    lines = ax.get_lines()
    assert len(lines) >= 2
    np.testing.assert_allclose(lines[0].get_ydata()[-1], fits[0].loglik_history_[-1])
