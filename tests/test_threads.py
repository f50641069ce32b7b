"""Fits in several threads at once: BLAS limits restored, results unchanged (issue 13,
item 5)."""

import threading

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import linprog
from sklearn.mixture import GaussianMixture
from threadpoolctl import OpenBLASController, ThreadpoolController, threadpool_info

from skmle import (
    EMGaussianMixture,
    LaplaceRegressor,
    LinearGaussianRegressor,
    LogisticGD,
)
from skmle._blas import single_blas_thread


def blas_threads() -> list[int]:
    return [
        lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"
    ]


@pytest.fixture
def three_blas_threads():
    """BLAS set to three threads (a limit other than the default and one), with no
    thread left controlling OpenBLAS, as at the start of a fresh process."""
    limiter = ThreadpoolController().limit(limits=3, user_api="blas")
    OpenBLASController.clear_controlling_thread(force=True)
    assert blas_threads() and set(blas_threads()) == {3}
    yield 3
    limiter.restore_original_limits()
    OpenBLASController.clear_controlling_thread(force=True)


def in_thread(function):
    """Run ``function`` in a new thread; return its result (or raise its error)."""
    result = {}

    def target():
        try:
            result["value"] = function()
        except BaseException as error:  # re-raised in the calling thread
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_nested_contexts_limit_blas_and_restore_it(three_blas_threads):
    with single_blas_thread():
        assert set(blas_threads()) == {1}
        with single_blas_thread():
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}
    assert set(blas_threads()) == {3}


def test_a_context_off_the_main_thread_limits_blas(three_blas_threads):
    def inside():
        with single_blas_thread():
            return blas_threads()

    assert set(in_thread(inside)) == {1}
    assert set(blas_threads()) == {3}


def test_overlapping_contexts_in_two_threads_restore_the_original_limits(
    three_blas_threads,
):
    # The interleaving that left BLAS on one thread: B enters while A holds the
    # limit, A leaves first, B leaves last (and finds no thread controlling it).
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with single_blas_thread():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():
        a_in.wait(10)
        with single_blas_thread():
            b_in.set()
            a_out.wait(10)
            seen["after A left"] = blas_threads()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(seen["after A left"]) == {1}
    assert set(blas_threads()) == {3}


def test_a_users_own_limit_takes_precedence_and_is_restored(three_blas_threads):
    from threadpoolctl import threadpool_limits

    X = np.random.default_rng(0).normal(size=(200, 3))
    with threadpool_limits(limits=2, user_api="blas"):
        in_thread(lambda: EMGaussianMixture(2, random_state=0).fit(X))
        assert set(blas_threads()) == {2}
        EMGaussianMixture(2, random_state=0).fit(X)  # in this (controlling) thread
        assert set(blas_threads()) == {2}

        def inside():
            with single_blas_thread():
                return blas_threads()

        # This thread still controls OpenBLAS: another thread's limit is a no-op.
        assert set(in_thread(inside)) == {2}
        assert set(blas_threads()) == {2}
    assert set(blas_threads()) == {3}


# -- four fits at once ---------------------------------------------------------------
def regression_data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3000, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 1.5 + rng.laplace(size=3000)
    return X, y


def mixture_data(seed):
    rng = np.random.default_rng(seed)
    centres = np.array([[-4.0, 0.0], [4.0, 1.0]])
    X = np.vstack([c + rng.normal(size=(700, 2)) for c in centres])
    return X, centres


def fit_linear(seed):
    X, y = regression_data(seed)
    model = LinearGaussianRegressor().fit(X, y)
    return np.r_[model.coef_, model.intercept_]


def linear_reference(seed):
    X, y = regression_data(seed)
    design = np.column_stack([X, np.ones(len(y))])
    return np.linalg.lstsq(design, y, rcond=None)[0]


def fit_laplace(seed):
    X, y = regression_data(seed)
    model = LaplaceRegressor().fit(X, y)
    return np.r_[model.coef_, model.intercept_]


def laplace_reference(seed):
    """An independent exact LAD: the LP solved by SciPy's HiGHS."""
    X, y = regression_data(seed)
    n, d = X.shape
    design = np.column_stack([X, np.ones(n)])
    cost = np.r_[np.zeros(d + 1), np.ones(2 * n)]
    equality = np.hstack([design, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * (d + 1) + [(0, None)] * (2 * n)
    solution = linprog(cost, A_eq=equality, b_eq=y, bounds=bounds, method="highs")
    return solution.x[: d + 1]


def fit_mixture(seed):
    X, centres = mixture_data(seed)
    model = EMGaussianMixture(
        2, means_init=centres, tol=1e-8, max_iter=500, random_state=0
    ).fit(X)
    return model.means_


def mixture_reference(seed):
    # In the main thread, after the others: scikit-learn's own GaussianMixture
    # also leaves BLAS on one thread when fitted in overlapping threads.
    X, centres = mixture_data(seed)
    reference = GaussianMixture(
        2, means_init=centres, tol=1e-8, max_iter=500, random_state=0
    )
    return reference.fit(X).means_


def fit_logistic(seed):
    X, y = regression_data(seed)
    labels = (y > np.median(y)).astype(int)
    model = LogisticGD(tol=1e-10).fit(X, labels)
    return np.r_[model.coef_.ravel(), model.intercept_]


def logistic_reference(seed):
    """statsmodels' Logit on the same rows."""
    X, y = regression_data(seed)
    labels = (y > np.median(y)).astype(int)
    fit = sm.Logit(labels, sm.add_constant(X)).fit(disp=0, tol=1e-14)
    return np.r_[fit.params[1:], fit.params[0]]


FITS = {
    "linear": (fit_linear, linear_reference),
    "laplace": (fit_laplace, laplace_reference),
    "logistic": (fit_logistic, logistic_reference),
    "mixture": (fit_mixture, mixture_reference),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_four_threads_fitting_at_once_leave_blas_as_found_and_fit_right(
    three_blas_threads, name
):
    fit, reference = FITS[name]
    start = threading.Barrier(4)
    results = {}

    def work(seed):
        start.wait(10)
        results[seed] = [fit(seed) for _ in range(3)]

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(blas_threads()) == {3}
    for seed in range(4):
        expected = reference(seed)
        for estimate in results[seed]:
            np.testing.assert_allclose(estimate, expected, rtol=1e-6, atol=1e-6)
