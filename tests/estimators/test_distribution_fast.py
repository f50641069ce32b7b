"""The in-memory path of DistributionMLE.fit (skmle/estimators/distribution_fast.py)
gives the general path's fit exactly; the gamma's profile root, the tabulated
log-factorials and the shared scratch buffers against scipy.stats."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from skmle import DistributionMLE, chunked
from skmle._blas import single_blas_thread
from skmle.models.distributions.scratch import SCRATCH_ROWS

RNG = np.random.default_rng(5)
N = 150_000  # three blocks of the sums
DATA = {
    "bernoulli": (RNG.random(N) < 0.3).astype(float),
    "binomial": RNG.binomial(7, 0.4, N).astype(float),
    "poisson": RNG.poisson(3.0, N).astype(float),
    "geometric": RNG.geometric(0.3, N).astype(float),
    "exponential": RNG.exponential(2.0, N),
    "gamma": RNG.gamma(2.5, 1.3, N),
    "beta": RNG.beta(2.0, 5.0, N),
    "lognormal": RNG.lognormal(0.3, 0.8, N),
    "weibull": RNG.weibull(1.7, N) * 2.0,
    "laplace": RNG.laplace(1.0, 2.0, N),
    "t": RNG.standard_t(5.0, N) * 2.0 + 1.0,
    "gaussian": RNG.normal(1.0, 2.0, N),
}
X = np.column_stack(list(DATA.values()))
FAMILIES = list(DATA)
WEIGHTS = RNG.integers(0, 4, N).astype(float)


def fitted(estimator):
    return {
        "theta": estimator.theta_,
        "loglik": estimator.loglik_,
        "cov": estimator.params_cov_,
        "n_iter": estimator.n_iter_,
        **{f"{n}_se": getattr(estimator, f"{n}_se_") for n in estimator.param_blocks()},
    }


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_fast_path_is_the_general_path(weights):
    fast = DistributionMLE(family=FAMILIES, n_trials=7).fit(X, sample_weight=weights)
    general = DistributionMLE(family=FAMILIES, n_trials=7)
    with single_blas_thread():  # as fit: BLAS's dot products, one thread
        general._fit(X, None, weights)  # the body of fit on Dask and chunked data
    for key, value in fitted(general).items():
        np.testing.assert_array_equal(fitted(fast)[key], value, err_msg=key)
    # chunked data (the general path, other sums): equal to rounding
    chunks = DistributionMLE(family=FAMILIES, n_trials=7).fit(
        chunked(X, 40_000), sample_weight=weights
    )
    np.testing.assert_allclose(chunks.theta_, fast.theta_, rtol=1e-9, atol=1e-12)
    assert chunks.loglik_ == pytest.approx(fast.loglik_, rel=1e-12)


@pytest.mark.parametrize("shape", [0.05, 0.6, 40.0, 3000.0])
def test_gamma_profile_root_equals_scipy(shape):
    x = np.random.default_rng(1).gamma(shape, 1.3, 5000)
    model = DistributionMLE(family="gamma").fit(x[:, None])
    a, _, scale = stats.gamma.fit(x, floc=0)  # brentq on the same equation
    np.testing.assert_allclose(
        [model.shape_[0], model.scale_[0]], [a, scale], rtol=1e-9
    )
    assert model.converged_ and model.n_iter_ <= 8
    # the standard errors: the inverse Fisher information of (shape, scale),
    # n [[psi'(a), 1/s], [1/s, a/s^2]] (an exponential family: observed = expected)
    info = x.size * np.array(
        [[special.polygamma(1, a), 1 / scale], [1 / scale, a / scale**2]]
    )
    np.testing.assert_allclose(
        [model.shape_se_[0], model.scale_se_[0]],
        np.sqrt(np.diag(np.linalg.inv(info))),
        rtol=1e-6,
    )


def test_gamma_warm_start_from_far_away():
    x = DATA["gamma"][:, None]
    model = DistributionMLE(family="gamma", warm_start=True).fit(x)
    model.theta_ = np.array([np.log(500.0), 0.0])  # a poor start: the cap holds
    model.fit(x)
    a, _, _ = stats.gamma.fit(DATA["gamma"], floc=0)
    assert model.shape_[0] == pytest.approx(a, rel=1e-9)


@pytest.mark.parametrize("family", ["poisson", "binomial"])
def test_tabulated_log_factorials_equal_scipy_logpmf(family):
    x = DATA[family].copy()
    x[[10, 70_000]] = [7.0, 0.0] if family == "binomial" else [70_000.0, 0.0]
    options = {"n_trials": 7} if family == "binomial" else {}
    model = DistributionMLE(family=family, **options).fit(
        x[:, None], sample_weight=WEIGHTS
    )
    frozen = model.frozen_distributions()[0]
    reference = WEIGHTS @ frozen.logpmf(x)
    assert model.loglik_ == pytest.approx(reference, rel=1e-12)
    # a short column whose largest count exceeds its length: gammaln a row
    few = np.array([[0.0], [3.0], [1e6 if family == "poisson" else 7.0]])
    small = DistributionMLE(family=family, **options).fit(few)
    frozen = small.frozen_distributions()[0]
    assert small.loglik_ == pytest.approx(frozen.logpmf(few[:, 0]).sum(), rel=1e-12)


def test_feature_names_follow_the_last_fit():
    frame = pd.DataFrame({"income": DATA["gamma"][:1000]})
    model = DistributionMLE(family="gamma").fit(frame)
    assert list(model.feature_names_in_) == ["income"]
    model.fit(frame.to_numpy())  # an ndarray: as scikit-learn's validate_data
    assert not hasattr(model, "feature_names_in_") and model.n_features_in_ == 1
    with pytest.raises(ValueError, match="0 sample"):
        model.fit(np.empty((0, 1)))
    with pytest.raises(ValueError, match="Expected 2D array"):
        model.fit(DATA["gamma"])
    with pytest.raises(ValueError, match="'tol' parameter of DistributionMLE"):
        DistributionMLE(family="gamma", tol="small").fit(frame)


def test_threads_do_not_share_scratch_buffers():
    columns = ["gamma", "beta", "lognormal", "gaussian"]
    data = X[:, [FAMILIES.index(c) for c in columns]]
    assert data.shape[0] > 2 * SCRATCH_ROWS
    serial = [
        DistributionMLE(family=c).fit(data[:, [j]]) for j, c in enumerate(columns)
    ]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(
            pool.map(
                lambda j: DistributionMLE(family=columns[j]).fit(data[:, [j]]),
                range(len(columns)),
            )
        )
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a.theta_, b.theta_)
