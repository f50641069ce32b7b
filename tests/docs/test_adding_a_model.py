"""The "Adding a model" page's code runs, and does what the page says it does."""

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

PAGE = Path(__file__).resolve().parents[2] / "docs" / "adding_a_model.rst"


def code_blocks() -> list[str]:
    """The ``.. code-block:: python`` bodies of the page, dedented, in order."""
    blocks, lines = [], PAGE.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and not nxt.startswith("    "):
                break
            body.append(nxt[4:])
        blocks.append("\n".join(body).strip("\n"))
    return blocks


def block_with(text: str) -> str:
    (block,) = [b for b in code_blocks() if text in b]
    return block


@pytest.fixture(scope="module")
def cauchy():
    """The page's model and estimator, as the modules it tells you to write."""
    model_code = block_with("class CauchyLogLikelihood")
    estimator_code = block_with("class CauchyRegressor")
    modules = {}
    for name, code in [
        ("skmle.models.cauchy", model_code),
        ("skmle.estimators.cauchy", estimator_code),
    ]:
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(compile(code, f"<{name} from {PAGE.name}>", "exec"), module.__dict__)
        modules[name] = module
    yield modules["skmle.estimators.cauchy"].CauchyRegressor
    for name in modules:
        del sys.modules[name]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = X @ [1.0, -2.0] + 0.5 + rng.standard_cauchy(300)
    return X, y


def test_the_page_walks_through_a_model_and_an_estimator():
    assert "def scores" in block_with("class CauchyLogLikelihood")
    assert re.search(
        r"class CauchyRegressor\(GradientAscentMixin",
        block_with("class CauchyRegressor"),
    )


def test_cauchy_regressor_maximises_the_scipy_likelihood(cauchy, data):
    from skmle import check_gradient

    X, y = data
    assert check_gradient(cauchy(), X, y, random_state=0) < 1e-6
    fits = {s: cauchy(solver=s, max_iter=2000).fit(X, y) for s in ("newton", "lbfgs")}
    model = fits["newton"]
    assert model.converged_
    expected = stats.cauchy.logpdf(
        y, X @ model.coef_ + model.intercept_, model.scale_
    ).sum()
    assert model.loglik_ == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(fits["lbfgs"].coef_, model.coef_, rtol=1e-5)
    # The maximum of the likelihood, checked against SciPy's own optimiser.
    from scipy.optimize import minimize

    def negative(p):
        return -stats.cauchy.logpdf(y, X @ p[:2] + p[2], np.exp(p[3])).sum()

    start = np.r_[model.coef_, model.intercept_, np.log(model.scale_)] + 0.1
    best = minimize(
        negative,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
    )
    assert -best.fun <= model.loglik_ + 1e-8


def test_scores_are_the_rows_of_the_gradient(cauchy, data):
    X, y = data
    model = cauchy().fit(X, y)
    from skmle.models.base import Batch

    batch = Batch(X, y, np.ones(len(y)))
    theta = model.theta_ + 0.01
    scores = model.model_.scores(theta, batch)
    eps = 1e-6
    numeric = np.column_stack(
        [
            (
                model.model_.loglik_obs(theta + eps * e, batch)
                - model.model_.loglik_obs(theta - eps * e, batch)
            )
            / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(scores, numeric, rtol=1e-6, atol=1e-7)
    assert np.all(np.isfinite(model.coef_se_))
