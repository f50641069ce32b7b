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
