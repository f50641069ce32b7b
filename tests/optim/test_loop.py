"""The one loop, driven by toy steps whose iterates are known in closed form.

The step halves x on f(x) = -x^2, so after k iterations x = x0 / 2^k and
f = -x0^2 / 4^k: every count, history entry and callback argument has a closed
form to be checked against.
"""

from typing import NamedTuple

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmle.optim import Learned, Status
from skmle.optim.loop import Step, Stop, run


class Point(NamedTuple):
    theta: np.ndarray
    value: float


class Halving(Step):
    """x -> x / 2 on f(x) = -x^2; the rule is |x| <= tol.

    ``bad_at``: the iteration whose new point is not finite (its value NaN, or
    its theta inf); ``stop_at``: the iteration after which ``stop`` answers.
    """

    def __init__(self, tol, bad_at=None, bad="value", stop_at=None):
        self.tol, self.bad_at, self.bad, self.stop_at = tol, bad_at, bad, stop_at
        self.advanced = 0

    def start(self, theta):
        return Point(theta, -float(theta @ theta))

    def rule(self, state):
        return "small" if np.max(np.abs(state.theta)) <= self.tol else None

    def stop(self, state):
        if self.stop_at is not None and self.advanced == self.stop_at:
            return Stop(Status.SEPARABLE, "told to stop")
        return None

    def advance(self, state):
        self.advanced += 1
        theta = state.theta / 2.0
        if self.advanced == self.bad_at:
            if self.bad == "value":
                return Point(theta, float("nan"))
            return Point(np.full_like(theta, np.inf), -1.0)
        return Point(theta, -float(theta @ theta))

    def explain(self, state, reason):
        return f"{reason} (explained)"


def expected_history(x0, n):
    return [-(x0**2) / 4.0**k for k in range(n + 1)]


def test_history_callback_and_count_follow_the_iterates():
    calls = []
    # From 1, |x| <= 2^-10 first holds after 10 halvings.
    result = run(
        Halving(tol=2.0**-10),
        np.array([1.0]),
        max_iter=100,
        callback=lambda i, theta, value: calls.append((i, float(theta[0]), value)),
    )
    assert result.status is Status.CONVERGED and result.converged
    assert result.n_iter == 10
    assert result.message == "small"
    assert_allclose(result.history, expected_history(1.0, 10), rtol=0, atol=0)
    assert calls == [(k, 2.0**-k, -(4.0**-k)) for k in range(1, 11)]
    assert result.theta[0] == 2.0**-10
    assert result.learned == Learned()


def test_max_iter():
    result = run(Halving(tol=0.0), np.array([1.0]), max_iter=3)
    assert result.status is Status.MAX_ITER and not result.converged
    assert result.n_iter == 3 and len(result.history) == 4
    assert result.message == "max_iter=3 reached (explained)"
    assert result.theta[0] == 1.0 / 8.0


def test_max_iter_zero_still_judges_the_start():
    result = run(Halving(tol=1.0), np.array([0.5]), max_iter=0)
    assert result.status is Status.CONVERGED and result.n_iter == 0


@pytest.mark.parametrize("bad", ["value", "theta"])
def test_non_finite_point_is_rejected(bad):
    calls = []
    result = run(
        Halving(tol=0.0, bad_at=3, bad=bad),
        np.array([1.0]),
        max_iter=100,
        callback=lambda *args: calls.append(args),
    )
    # Two iterations accepted; the third point is not, and the run stops there.
    assert result.status is Status.STALLED and not result.converged
    assert result.n_iter == 2 and len(calls) == 2
    assert result.theta[0] == 0.25
    assert_allclose(result.history, expected_history(1.0, 2), rtol=0, atol=0)
    assert "explained" in result.message


def test_converged_when_stalled_counts_as_converged():
    class Lenient(Halving):
        def converged_when_stalled(self, state):
            return True

    result = run(Lenient(tol=0.0, bad_at=1), np.array([1.0]), max_iter=5)
    assert result.status is Status.CONVERGED and result.converged
    assert result.n_iter == 0
    assert result.message == Step.stalled_message  # not explained: converged


def test_stop_from_the_step():
    result = run(Halving(tol=0.0, stop_at=2), np.array([1.0]), max_iter=10)
    assert result.status is Status.SEPARABLE and not result.converged
    assert result.n_iter == 2
    assert result.message == "told to stop (explained)"


def test_stop_returned_by_advance():
    class Refusing(Halving):
        def advance(self, state):
            return Stop(Status.QUASI_SEPARABLE, "refused")

    result = run(Refusing(tol=0.0), np.array([1.0]), max_iter=10)
    assert result.status is Status.QUASI_SEPARABLE and result.n_iter == 0


def test_start_not_finite_raises():
    class NanStart(Halving):
        def start(self, theta):
            return Point(theta, float("nan"))

    with pytest.raises(ValueError, match="not finite at the starting point"):
        run(NanStart(tol=0.0), np.array([1.0]), max_iter=1)


class LateState(NamedTuple):
    theta: np.ndarray | None
    value: float | None
    next_theta: np.ndarray


class Late(Halving):
    """The halving step learning each value one iteration late, as EM does: the
    start has no value, a state presents the point before the one it carries,
    and :meth:`finish` evaluates the last point."""

    def start(self, theta):
        return LateState(None, None, theta)

    def rule(self, state):
        return None

    def advance(self, state):
        theta = state.next_theta
        return LateState(theta, -float(theta @ theta), theta / 2.0)

    def finish(self, state):
        theta = state.next_theta
        return LateState(theta, -float(theta @ theta), theta)


def test_a_late_value_is_recorded_by_finish():
    calls = []
    result = run(
        Late(tol=0.0),
        np.array([1.0]),
        max_iter=4,
        callback=lambda i, theta, value: calls.append((i, float(theta[0]), value)),
    )
    assert result.n_iter == 4
    assert_allclose(result.history, expected_history(1.0, 4), rtol=0, atol=0)
    assert result.theta[0] == 1.0 / 16.0 and result.value == -(1.0 / 256.0)
    # The callback sees each step's starting point with its value.
    assert calls == [(k, 2.0 ** -(k - 1), -(4.0 ** -(k - 1))) for k in range(1, 5)]
