"""The univariate families against scipy.stats and central differences."""

import numpy as np
import pytest
from scipy import stats

from skmle.data.batch import Batch
from skmle.models.distributions import FAMILIES, ColumnsLogLikelihood
from skmle.models.distributions.discrete import Binomial

RNG = np.random.default_rng(0)
CASES = {
    "bernoulli": (RNG.binomial(1, 0.3, 60), [0.3]),
    "binomial": (RNG.binomial(7, 0.4, 60), [0.35]),
    "poisson": (RNG.poisson(3.0, 60), [2.5]),
    "geometric": (RNG.geometric(0.3, 60), [0.25]),
    "exponential": (RNG.exponential(2.0, 60), [0.4]),
    "gamma": (RNG.gamma(2.5, 1.5, 60), [2.0, 1.7]),
    "beta": (RNG.beta(2.0, 5.0, 60), [1.5, 4.0]),
    "lognormal": (RNG.lognormal(0.5, 0.7, 60), [0.4, 0.8]),
    "weibull": (RNG.weibull(1.5, 60) * 2.0, [1.3, 2.2]),
    "laplace": (RNG.laplace(1.0, 2.0, 60), [0.8, 1.7]),
    "t": (RNG.standard_t(4.0, 60) * 2.0 + 1.0, [3.0, 0.9, 1.8]),
    "gaussian": (RNG.normal(3.0, 2.0, 60), [2.5, 1.5]),
}


def family_of(name, x):
    if name == "binomial":
        return Binomial(7)
    if name in ("gaussian", "lognormal"):
        centre = x[0] if name == "gaussian" else np.log(x[0])
        return FAMILIES[name](centre)
    return FAMILIES[name]()


def central_gradient(function, phi, h=1e-6):
    return np.array(
        [
            (function(phi + h * e) - function(phi - h * e)) / (2 * h)
            for e in np.eye(phi.size)
        ]
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_family_against_scipy_and_differences(name):
    x, natural = CASES[name]
    x = np.asarray(x, dtype=float)
    family = family_of(name, x)
    phi = family.to_phi(np.asarray(natural, dtype=float))
    frozen = family.frozen(family.natural(phi))
    reference = frozen.logpmf(x) if family.discrete else frozen.logpdf(x)
    np.testing.assert_allclose(family.loglik_obs(x, phi), reference, rtol=1e-12)
    np.testing.assert_allclose(family.natural(phi), natural, rtol=1e-12)
    w = RNG.uniform(0.5, 2.0, x.size)
    value, grad, hess = family.derivatives(x, w, phi)
    assert value == pytest.approx(w @ reference, rel=1e-12)
    np.testing.assert_allclose(
        grad,
        central_gradient(lambda p: w @ family.loglik_obs(x, p), phi),
        rtol=1e-6,
        atol=1e-6,
    )
    np.testing.assert_allclose(w @ family.scores(x, phi), grad, rtol=1e-10, atol=1e-10)
    jac = central_gradient(lambda p: family.natural(p), phi)
    np.testing.assert_allclose(
        np.diag(np.atleast_2d(jac)), family.jacobian(phi), rtol=1e-6
    )
    if name == "laplace":  # minus the Fisher information: W / b^2 and W
        b = natural[1]
        np.testing.assert_allclose(
            -np.diag(hess), [w.sum() / b**2, w.sum()], rtol=1e-12
        )
        return
    numeric = np.array(
        [
            (
                family.derivatives(x, w, phi + 1e-6 * e)[1]
                - family.derivatives(x, w, phi - 1e-6 * e)[1]
            )
            / 2e-6
            for e in np.eye(phi.size)
        ]
    )
    np.testing.assert_allclose(hess, numeric, rtol=1e-6, atol=1e-5)


def test_model_weights_and_chunks():
    names = ["gamma", "poisson", "t"]
    X = np.column_stack([np.asarray(CASES[n][0], float) for n in names])
    model = ColumnsLogLikelihood([family_of(n, X[:, j]) for j, n in enumerate(names)])
    theta = np.concatenate(
        [
            f.to_phi(np.asarray(CASES[n][1], float))
            for f, n in zip(model.families, names, strict=True)
        ]
    )
    whole = Batch(X, None, np.ones(60))
    twice = Batch(X[:10], None, np.full(10, 2.0))
    dup = Batch(np.vstack([X[:10], X[:10]]), None, np.ones(20))
    np.testing.assert_allclose(
        model.loglik_grad(theta, twice)[1], model.loglik_grad(theta, dup)[1]
    )
    np.testing.assert_allclose(model.hessian(theta, twice), model.hessian(theta, dup))
    parts = [Batch(X[:25], None, np.ones(25)), Batch(X[25:], None, np.ones(35))]
    np.testing.assert_allclose(
        sum(model.hessian(theta, b) for b in parts), model.hessian(theta, whole)
    )
    reference = sum(
        stats.gamma(2.0, scale=1.7).logpdf(X[:, 0])
        + stats.poisson(2.5).logpmf(X[:, 1])
        + stats.t(3.0, 0.9, 1.8).logpdf(X[:, 2])
    )
    assert model.loglik(theta, whole) == pytest.approx(reference, rel=1e-12)


def test_the_documented_rayleigh_family():
    """The family of docs/user_guide/distributions.rst ("Adding a family")."""
    import re
    from pathlib import Path

    from skmle.estimators.distribution_solve import solve_columns

    page = Path(__file__).parents[2] / "docs" / "user_guide" / "distributions.rst"
    code = re.search(
        r"Adding a family.*?code-block:: python\n\n(.*?)\nAdd it",
        page.read_text(),
        re.S,
    )
    namespace = {}
    exec("\n".join(line[4:] for line in code.group(1).splitlines()), namespace)
    family = namespace["Rayleigh"]()
    x = RNG.rayleigh(1.7, 200)
    phi = np.log([1.3])
    reference = stats.rayleigh(scale=1.3).logpdf(x)
    np.testing.assert_allclose(family.loglik_obs(x, phi), reference, rtol=1e-12)
    w = np.ones_like(x)
    _, grad, hess = family.derivatives(x, w, phi)
    np.testing.assert_allclose(
        grad, central_gradient(lambda p: family.loglik_obs(x, p).sum(), phi), rtol=1e-6
    )
    numeric = (
        family.derivatives(x, w, phi + 1e-6)[1]
        - family.derivatives(x, w, phi - 1e-6)[1]
    ) / 2e-6
    np.testing.assert_allclose(hess[0], numeric, rtol=1e-6)
    model = ColumnsLogLikelihood([family])
    stats_ = model.statistics(Batch(x[:, None], None, w))
    result = solve_columns(model, stats_, float(x.size), None, 10, 1e-10)
    _, scale = stats.rayleigh.fit(x, floc=0)
    assert np.exp(result.theta[0]) == pytest.approx(scale, rel=1e-10)
