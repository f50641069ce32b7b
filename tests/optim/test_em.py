"""The EM loop on textbook monotone steps, with no model behind them.

References: Rao's genetic linkage example of Dempster, Laird and Rubin (1977), whose
maximum is the root of a quadratic (and scipy.optimize's answer); a contraction on
a parabola, whose values and stopping iteration are known in closed form.
"""

import numpy as np
import pytest
from scipy import optimize

from skmle.optim import Status, em

COUNTS = np.array([125.0, 18.0, 20.0, 34.0])


def linkage_loglik(theta):
    t = float(theta[0])
    probs = np.array([0.5 + t / 4, (1 - t) / 4, (1 - t) / 4, t / 4])
    return float(COUNTS @ np.log(probs))


def linkage_step(theta):
    """E-step: expected count of the t/4 part of the first cell; M-step: a ratio."""
    t = float(theta[0])
    hidden = COUNTS[0] * (t / 4) / (0.5 + t / 4)
    new = (hidden + COUNTS[3]) / (hidden + COUNTS[1] + COUNTS[2] + COUNTS[3])
    return linkage_loglik(theta), np.array([new])


def parabola_step(theta):
    """f(t) = -t^2 and the step t -> t / 2: f(t_n) = -t_0^2 / 4^n."""
    return -float(theta[0] ** 2), theta / 2.0


def test_genetic_linkage_reaches_the_maximum():
    # d/dt log L = 0  <=>  197 t^2 - 15 t - 68 = 0
    root = (15 + np.sqrt(15**2 + 4 * 197 * 68)) / (2 * 197)
    reference = optimize.minimize_scalar(
        lambda t: -linkage_loglik([t]),
        bounds=(1e-9, 1 - 1e-9),
        method="bounded",
        options={"xatol": 1e-12},
    )
    result = em(linkage_step, np.array([0.5]), value=linkage_loglik, tol=1e-14)
    assert result.converged
    # EM converges linearly: a gain below 1e-14 leaves theta within ~1e-9.
    assert result.theta[0] == pytest.approx(root, rel=1e-8)
    assert result.theta[0] == pytest.approx(reference.x, rel=1e-6)
    assert result.value == pytest.approx(-reference.fun, rel=1e-12)


def test_history_starts_at_theta0_and_ends_at_the_returned_point():
    result = em(linkage_step, np.array([0.1]), value=linkage_loglik, tol=1e-8)
    assert len(result.history) == result.n_iter + 1
    assert result.history[0] == linkage_loglik([0.1])
    assert result.history[-1] == result.value == linkage_loglik(result.theta)
    assert np.all(np.diff(result.history) >= 0)


def test_stopping_rule_matches_its_closed_form():
    # |f(t_{n-1}) - f(t_{n-2})| = 3 t0^2 / 4^(n-1) < tol first at n below.
    t0, tol = 1.0, 1e-6
    expected = next(n for n in range(2, 100) if 3 * t0**2 / 4 ** (n - 1) < tol)
    result = em(
        parabola_step, np.array([t0]), value=lambda t: -float(t[0] ** 2), tol=tol
    )
    assert result.converged and result.n_iter == expected
    assert result.status is Status.CONVERGED
    assert result.theta[0] == pytest.approx(t0 / 2**expected, rel=1e-15)
    np.testing.assert_allclose(
        result.history, -(t0**2) / 4.0 ** np.arange(expected + 1), rtol=1e-15
    )


def test_tol_zero_runs_max_iter_steps():
    result = em(
        parabola_step,
        np.array([1.0]),
        value=lambda t: -float(t[0] ** 2),
        tol=0.0,
        max_iter=7,
    )
    assert not result.converged and result.status is Status.MAX_ITER
    assert result.n_iter == 7 and result.history.shape == (8,)
    assert "max_iter" in result.message
    assert result.theta[0] == 2.0**-7


def test_callback_sees_each_step_start_and_its_value():
    seen = []
    em(
        parabola_step,
        np.array([1.0]),
        value=lambda t: -float(t[0] ** 2),
        tol=0.0,
        max_iter=3,
        callback=lambda n, theta, value: seen.append((n, theta[0], value)),
    )
    assert seen == [(1, 1.0, -1.0), (2, 0.5, -0.25), (3, 0.25, -0.0625)]


@pytest.mark.parametrize("bad", [np.nan, -np.inf])
def test_non_finite_objective_raises(bad):
    def step(theta):
        return (bad if theta[0] < 0.3 else -float(theta[0] ** 2)), theta / 2.0

    with pytest.raises(ValueError, match="not finite"):
        em(step, np.array([1.0]), value=lambda t: -1.0, tol=0.0, max_iter=5)


def test_a_continued_run_applies_the_rule_from_its_first_step():
    # Continue the parabola one step at a time, passing the value the previous
    # call's last step measured: the calls stop, in total, exactly where one
    # long run stops (the closed form above), and the last call reports it.
    t0, tol = 1.0, 1e-6
    expected = next(n for n in range(2, 100) if 3 * t0**2 / 4 ** (n - 1) < tol)
    theta, previous, calls = np.array([t0]), None, 0
    while True:
        calls += 1
        result = em(
            parabola_step,
            theta,
            value=lambda t: -float(t[0] ** 2),
            max_iter=1,
            tol=tol,
            previous=previous,
        )
        theta, previous = result.theta, result.history[-2]
        if result.converged:
            break
    assert calls == expected
    assert theta[0] == pytest.approx(t0 / 2**expected, rel=1e-15)
    # the first call has nothing to compare with
    first = em(parabola_step, np.array([t0]), value=lambda t: 0.0, max_iter=1)
    assert not first.converged
