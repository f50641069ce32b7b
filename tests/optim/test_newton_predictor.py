"""Newton on a linear predictor, on textbook GLMs with no skmle model involved.

A Gaussian log-likelihood in ``eta = X theta`` is a quadratic (one Newton step
reaches least squares); Poisson regression with the log link is a smooth concave
GLM whose maximum scipy.optimize finds independently.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import linalg, optimize

from skmle.optim import Status, newton


class PoissonRegression:
    """Mean Poisson log-likelihood :math:`\\sum_i (y_i\\eta_i - e^{\\eta_i})/n`,
    without the constant :math:`\\log y_i!`; or the Gaussian one,
    :math:`-\\sum_i (y_i - \\eta_i)^2/2n`."""

    def __init__(self, X, y, family="poisson"):
        self.X, self.y, self.family = X, y, family
        self.n = X.shape[0]
        self.steps = []

    def predictor(self, theta):
        return self.X @ theta

    def _terms(self, eta):
        if self.family == "poisson":
            mu = np.exp(eta)
            return self.y * eta - mu, self.y - mu, mu
        r = self.y - eta
        return -0.5 * r**2, r, np.ones_like(eta)

    def value(self, theta):
        return self.value_at(theta, self.predictor(theta))

    def value_at(self, theta, eta):
        return float(np.sum(self._terms(eta)[0]) / self.n)

    def line_terms(self, theta, eta, direction, step_eta):
        value, resid, curv = self._terms(eta)
        return (
            float(value.sum() / self.n),
            float(resid @ step_eta / self.n),
            float(-(curv @ step_eta**2) / self.n),
        )

    def newton_system(self, theta, eta):
        value, resid, curv = self._terms(eta)
        grad = self.X.T @ resid / self.n
        info = self.X.T @ (self.X * curv[:, None]) / self.n
        return float(value.sum() / self.n), grad, info, grad


@pytest.fixture
def poisson_data():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(300), rng.normal(size=(300, 3))])
    y = rng.poisson(np.exp(X @ np.array([0.5, 0.3, -0.4, 0.2])))
    return X, y


def test_gaussian_reaches_least_squares_in_one_step():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(size=50)
    result = newton(PoissonRegression(X, y, "gaussian"), np.zeros(4), tol=1e-10)
    expected, *_ = linalg.lstsq(X, y)
    assert result.converged and result.n_iter == 1
    assert_allclose(result.theta, expected, rtol=1e-12)


def test_poisson_regression_matches_scipy(poisson_data):
    X, y = poisson_data
    function = PoissonRegression(X, y)
    result = newton(function, np.zeros(4), tol=1e-12)
    reference = optimize.minimize(
        lambda t: -function.value(t),
        np.zeros(4),
        jac=lambda t: -function.newton_system(t, X @ t)[1],
        method="BFGS",
        options={"gtol": 1e-12},
    )
    assert result.converged
    assert_allclose(result.theta, reference.x, rtol=1e-7)
    assert_allclose(result.value, -reference.fun, rtol=1e-14)
    assert result.history.shape == (result.n_iter + 1,)
    assert np.all(np.diff(result.history) > 0)  # every accepted step raises f


def test_far_start_is_safeguarded_and_monotone(poisson_data):
    # From theta = 3 * ones the Poisson means are e^{+-10}: the full Newton step
    # overshoots and must be halved.
    X, y = poisson_data
    result = newton(PoissonRegression(X, y), np.full(4, 3.0), tol=1e-10)
    assert result.converged
    assert np.all(np.diff(result.history) > 0)
    reference = newton(PoissonRegression(X, y), np.zeros(4), tol=1e-10)
    assert_allclose(result.theta, reference.theta, rtol=1e-8)


def test_max_iter_callback_and_stop_reason(poisson_data):
    X, y = poisson_data
    seen = []
    result = newton(
        PoissonRegression(X, y),
        np.zeros(4),
        max_iter=1,
        tol=1e-14,
        callback=lambda i, theta, value: seen.append((i, value)),
    )
    assert not result.converged and result.n_iter == 1
    assert "max_iter" in result.message
    assert seen == [(1, result.value)]

    function = PoissonRegression(X, y)
    function.stop_reason = lambda theta, eta: Status.SEPARABLE
    result = newton(function, np.zeros(4), tol=1e-14)
    assert result.status is Status.SEPARABLE and not result.converged
    assert "separable" in result.message
    assert result.n_iter == 0


def test_missing_method_fails_early():
    # An objective with a predictor asks for the linear-predictor line search.
    function = SimpleNamespace(predictor=lambda theta: theta)
    with pytest.raises(ValueError, match="line_terms"):
        newton(function, np.zeros(2))


class CountingPoisson(PoissonRegression):
    """Poisson regression that counts its passes over the data; with
    ``approximate_information`` its inexact information is deliberately off."""

    def __init__(self, X, y, *, reads_data=False, approximate=False):
        super().__init__(X, y)
        self.line_search_reads_data = reads_data
        self.approximate_information = approximate
        self.calls = []

    def value_at(self, theta, eta):
        self.calls.append("value")
        return super().value_at(theta, eta)

    def line_terms(self, theta, eta, direction, step_eta):
        self.calls.append("line")
        return super().line_terms(theta, eta, direction, step_eta)

    def newton_system(self, theta, eta, exact=True):
        self.calls.append(("newton", exact, np.array(theta)))
        value, grad, info, rhs = super().newton_system(theta, eta)
        if not exact:
            # 30% too little curvature off the diagonal: a poorer Newton direction
            info = 0.7 * info + 0.3 * np.diag(np.diag(info))
        return value, grad, info, rhs


@pytest.mark.parametrize("start", [0.0, 3.0], ids=["near", "far"])
@pytest.mark.parametrize(
    ("reads_data", "approximate"), [(True, False), (False, True), (True, True)]
)
def test_pass_saving_variants_reach_the_same_maximum(
    poisson_data, start, reads_data, approximate
):
    X, y = poisson_data
    plain = CountingPoisson(X, y)
    reference = newton(plain, np.full(4, start), tol=1e-10)
    function = CountingPoisson(X, y, reads_data=reads_data, approximate=approximate)
    result = newton(function, np.full(4, start), tol=1e-10)
    assert result.converged
    assert_allclose(result.theta, reference.theta, rtol=1e-9)
    assert np.all(np.diff(result.history) > 0)
    newton_calls = [call for call in function.calls if call[0] == "newton"]
    _, exact, theta = newton_calls[-1]
    assert exact and np.array_equal(theta, result.theta)  # exact where it stopped
    if approximate:
        assert not newton_calls[0][1]  # the start's information was approximate
    else:
        # Dearer line searches never cost more passes than the plain solver
        assert len(function.calls) <= len(plain.calls)


def test_quadratic_phase_skips_the_line_terms(poisson_data):
    # Near the maximum every full step is accepted uncorrected: after the first,
    # each iteration is a single Newton system at the trial point.
    X, y = poisson_data
    function = CountingPoisson(X, y)
    result = newton(function, np.zeros(4), tol=1e-12)
    assert result.n_iter >= 3
    assert function.calls.count("line") < result.n_iter
    newton_calls = sum(1 for call in function.calls if call[0] == "newton")
    assert newton_calls >= result.n_iter + 1


def statsmodels_poisson(X, y):
    import statsmodels.api as sm

    return sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=100)


def test_default_tol_gives_full_precision(poisson_data):
    # The decrement must be small at two consecutive iterates: the step between
    # them brings the last digits (issue 12).
    X, y = poisson_data
    result = newton(PoissonRegression(X, y), np.zeros(4))
    assert result.converged
    assert_allclose(result.theta, statsmodels_poisson(X, y).params, rtol=1e-10)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_stopping_rule_does_not_depend_on_units(poisson_data, scale):
    # The Newton decrement is invariant under rescaling the features; a
    # gradient rule stopped at iteration 0 for features times 1e-6.
    X, y = poisson_data
    units = np.array([1.0, scale, 1.0, 1.0 / scale])
    result = newton(PoissonRegression(X * units, y), np.zeros(4))
    assert result.converged and result.n_iter > 0
    assert_allclose(result.theta * units, statsmodels_poisson(X, y).params, rtol=1e-9)


class HessianPoisson:
    """The same Poisson log-likelihood offered only as ``value``,
    ``value_and_grad`` and ``hessian``: Newton's dense path."""

    def __init__(self, X, y):
        self.glm = PoissonRegression(X, y)
        self.calls = []

    def value(self, theta):
        return self.glm.value(theta)

    def value_and_grad(self, theta):
        value, grad, _, _ = self.glm.newton_system(theta, self.glm.X @ theta)
        return value, grad

    def hessian(self, theta):
        self.calls.append("hessian")
        return -self.glm.newton_system(theta, self.glm.X @ theta)[2]


def test_one_newton_two_line_searches_one_maximum(poisson_data):
    X, y = poisson_data
    reference = statsmodels_poisson(X, y).params
    dense = HessianPoisson(X, y)
    by_hessian = newton(dense, np.zeros(4), tol=1e-10)
    glm = CountingPoisson(X, y)
    by_predictor = newton(glm, np.zeros(4), tol=1e-10)
    for result in (by_hessian, by_predictor):
        assert result.converged and result.status is Status.CONVERGED
        assert_allclose(result.theta, reference, rtol=1e-9)
    # Each took its own path: the dense one asked for Hessians, the other moved eta.
    assert dense.calls and "line" in glm.calls
    assert by_hessian.message == "gradient below tol"
    assert "decrement" in by_predictor.message


def test_learned_information_is_the_fisher_information_at_the_optimum(poisson_data):
    X, y = poisson_data
    result = newton(PoissonRegression(X, y), np.zeros(4), tol=1e-10)
    # X^T diag(mu) X / n: the closed form of the (mean) Poisson information.
    mu = np.exp(X @ result.theta)
    assert_allclose(result.learned.information, X.T @ (X * mu[:, None]) / len(y))
    assert np.array_equal(result.learned.at, result.theta)


def test_no_learned_information_where_it_is_approximate(poisson_data):
    # Stopped after one long step from far away: the information there is the
    # approximate one, so the result does not offer it.
    X, y = poisson_data
    function = CountingPoisson(X, y, approximate=True)
    result = newton(function, np.full(4, 3.0), max_iter=1)
    assert result.status is Status.MAX_ITER
    _, exact, theta = [call for call in function.calls if call[0] == "newton"][-1]
    assert not exact and np.array_equal(theta, result.theta)
    assert result.learned.information is None


def test_recession_stops_with_its_status():
    # f(theta) = -e^theta rises for ever as theta -> -inf (Poisson with y = 0):
    # no maximum. The Newton direction is -1 everywhere and the corrected step
    # length exactly 2, so the iterates are -5, -7, -9, and the decrement shrinks
    # by e^-2 per step: slowly. The reason is asked from the second iterate and
    # holds at two consecutive ones.
    function = PoissonRegression(np.ones((1, 1)), np.zeros(1))
    asked = []

    def recession_reason(theta, eta, direction, step_eta):
        asked.append(float(theta[0]))
        return Status.QUASI_SEPARABLE

    function.recession_reason = recession_reason
    result = newton(function, np.array([-5.0]))
    assert result.status is Status.QUASI_SEPARABLE and not result.converged
    assert result.n_iter == 2
    assert_allclose(asked, [-7.0, -9.0], rtol=1e-12)
    assert_allclose(result.theta, [-9.0], rtol=1e-12)
    assert_allclose(result.history, -np.exp([-5.0, -7.0, -9.0]), rtol=1e-12)


@pytest.mark.parametrize("status", [Status.SEPARABLE, Status.QUASI_SEPARABLE])
def test_a_status_from_stop_reason_ends_the_run_with_it(poisson_data, status):
    X, y = poisson_data
    function = PoissonRegression(X, y)
    function.stop_reason = lambda theta, eta: status
    result = newton(function, np.zeros(4))
    assert result.status is status and status.value in result.message
    assert not result.converged and result.n_iter == 0


def test_other_stop_strings_are_refused(poisson_data):
    X, y = poisson_data
    function = PoissonRegression(X, y)
    function.stop_reason = lambda theta, eta: "told to stop"
    with pytest.raises(TypeError, match="Status"):
        newton(function, np.zeros(4))
