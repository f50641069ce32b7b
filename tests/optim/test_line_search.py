"""Armijo backtracking and the tie rules, on f(x) = -x^2 where every test has a
closed form: from x = 1 along the gradient d = -2, f(1 + t d) = -(1 - 2t)^2 and
the Armijo condition -(1 - 2t)^2 >= -1 + 4 c t holds exactly for t <= 1 - c."""

import numpy as np
import pytest

from skmle.optim.line_search import (
    ARMIJO_C,
    MAX_HALVINGS,
    armijo,
    armijo_or_flat_slope,
    backtrack,
    step_accepted,
)


def line_value(t):
    return -((1.0 - 2.0 * t) ** 2)


@pytest.mark.parametrize(
    "t, holds", [(1.0, False), (1.0 - ARMIJO_C, True), (0.5, True), (1e-3, True)]
)
def test_armijo_condition_is_its_closed_form(t, holds):
    assert armijo(-1.0, line_value(t), t, slope=4.0) == holds


def test_backtrack_takes_the_first_length_that_passes():
    tried = []

    def evaluate(t):
        tried.append(t)
        return line_value(t)

    step = backtrack(evaluate, lambda t, v: armijo(-1.0, v, t, 4.0), step=4.0)
    # 4, 2 and 1 exceed 1 - c; 1/2 is the first length at most 1 - c.
    assert step == 0.5 and tried == [4.0, 2.0, 1.0, 0.5]


def test_backtrack_gives_up_after_max_halvings():
    tried = []
    step = backtrack(lambda t: tried.append(t) or np.nan, lambda t, v: v == v)
    assert step is None
    assert len(tried) == MAX_HALVINGS and tried[-1] == 2.0 ** -(MAX_HALVINGS - 1)
    assert backtrack(lambda t: 0.0, lambda t, v: False, max_halvings=3) is None


def test_non_finite_values_fail_every_test():
    assert not armijo_or_flat_slope(-1.0, np.nan, 4.0)
    assert not armijo_or_flat_slope(-1.0, np.inf * 0, 4.0, new_slope=0.0)


def test_a_tie_passes_when_the_slope_flattens():
    # A value equal to the current one fails Armijo; it passes when the slope
    # along the line at the trial point is at most half the slope at its start.
    assert not armijo_or_flat_slope(-1.0, -1.0, slope=4.0)
    assert armijo_or_flat_slope(-1.0, -1.0, slope=4.0, new_slope=2.0)
    assert not armijo_or_flat_slope(-1.0, -1.0, slope=4.0, new_slope=-2.5)


class Parabola:
    def value_and_grad(self, theta):
        return -float(theta @ theta), -2.0 * theta


def test_step_accepted_settles_ties_by_the_gradient():
    function, theta = Parabola(), np.array([1.0])
    value, grad = function.value_and_grad(theta)
    # The mirror point -1 ties with 1 and its gradient is as long: refused.
    mirror = np.array([-1.0])
    assert not step_accepted(function, value, grad, mirror, -1.0, required=-1.0)
    # Values that tie: a gradient shorter by the fraction 1e-4 (GRADIENT_DECREASE)
    # takes the step, one shorter by less does not.
    closer = np.array([1.0 - 1e-3])
    assert step_accepted(function, value, grad, closer, value, required=0.0)
    barely = np.array([1.0 - 1e-5])
    assert not step_accepted(function, value, grad, barely, value, required=0.0)
    # Below the current value, and a non-finite value: refused.
    assert not step_accepted(function, value, grad, theta, value - 1e-3, value)
    assert not step_accepted(function, value, grad, theta, np.nan, value)
