"""Differences of log-gamma, digamma and trigamma at y + r and r against their exact
finite sums for integer y (``math.fsum``), from r = 0.3 to beyond 1e21."""

import math

import numpy as np
import pytest
from scipy import special

from skmle.models.gamma_ratios import (
    ASYMPTOTIC_FROM,
    digamma_difference,
    log1p_minus_x,
    log_gamma_ratio,
    trigamma_difference,
)

COUNTS = np.array([0.0, 1.0, 2.0, 3.0, 7.0, 50.0, 1000.0, 20000.0])


def exact(y: float, r: float):
    """For integer y: log Gamma(y + r) / Gamma(r) = sum_{j<y} log(r + j), so the
    three differences are finite sums."""
    js = range(int(y))
    return (
        math.fsum(math.log1p(j / r) for j in js),
        math.fsum(1.0 / (r + j) for j in js),
        -math.fsum(1.0 / (r + j) ** 2 for j in js),
    )


@pytest.mark.parametrize(
    "r", [0.3, 5.0, 29.9, ASYMPTOTIC_FROM, 99.0, 1e3, 1e6, 1e10, 1e15, 5e21]
)
def test_differences_equal_the_exact_sums(r):
    got = np.array(
        [log_gamma_ratio(COUNTS, r), digamma_difference(COUNTS, r),
         trigamma_difference(COUNTS, r)]
    )  # fmt: skip
    expected = np.array([exact(y, r) for y in COUNTS]).T
    scale = np.maximum(np.abs(expected), 1e-300)
    error = np.abs(got - expected) / scale
    # y = 1 has a log-gamma ratio of exactly 0: checked in absolute terms.
    error[0, COUNTS == 1] = 0.0
    assert np.max(np.abs(got[0, COUNTS == 1])) < 1e-14
    assert np.max(error) < (5e-13 if r < ASYMPTOTIC_FROM else 5e-15)


def test_the_plain_difference_loses_every_digit_where_the_series_does_not():
    r, y = 1e15, np.array([2.0, 7.0])
    plain = special.gammaln(y + r) - special.gammaln(r) - y * np.log(r)
    expected = np.array([exact(v, r)[0] for v in y])
    assert np.max(np.abs(plain - expected) / expected) > 1e-3
    np.testing.assert_allclose(log_gamma_ratio(y, r), expected, rtol=1e-13)


def test_log1p_minus_x_against_its_series_and_the_direct_form():
    x = np.array([0.0, 1e-300, 1e-8, 0.1, 0.2499, 0.25, 3.0])
    expected = [
        math.fsum((-v) ** k * -1.0 / k for k in range(2, 200)) if v < 0.5 else
        math.log1p(v) - v
        for v in x
    ]  # fmt: skip
    np.testing.assert_allclose(log1p_minus_x(x), expected, rtol=1e-14, atol=0)
