"""chan_merge against moments computed on all rows at once."""

import numpy as np
import pytest

from skmle.models.moments import chan_merge


def direct(X, w):
    weight = w.sum()
    mean = w @ X / weight
    centred = X - mean
    return weight, mean, (centred * w[:, None]).T @ centred


@pytest.mark.parametrize("offset", [0.0, 1e9])
def test_merge_equals_the_moments_of_the_union(offset):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)) + offset
    w = rng.uniform(0.1, 3.0, 50)
    # Each part's mean is exact to its rounding (computed on the exactly shifted
    # rows): the merge cannot be more precise than the means it is given, whose
    # spacing at 1e9 is 1.2e-7.
    parts = []
    for rows in (slice(0, 20), slice(20, None)):
        weight, mean, scatter = direct(X[rows] - offset, w[rows])
        parts.append((weight, mean + offset, scatter))
    weight, mean, scatter = chan_merge(*parts[0], *parts[1])
    # X - offset is exact (Sterbenz), and the scatter does not depend on a shift
    expected = np.cov(X - offset, rowvar=False, aweights=w, bias=True) * w.sum()
    assert weight == pytest.approx(w.sum())
    np.testing.assert_allclose(mean, np.average(X, axis=0, weights=w), rtol=1e-15)
    np.testing.assert_allclose(scatter, expected, rtol=1e-12 if offset == 0 else 1e-6)


def test_diagonal_scatter_and_stacked_sets_with_an_empty_one():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 2))
    a = (
        np.array([10.0, 0.0]),
        np.array([X[:10].mean(0), [5.0, 5.0]]),
        np.array([X[:10].var(0) * 10, [0.0, 0.0]]),
    )
    b = (
        np.array([20.0, 20.0]),
        np.array([X[10:].mean(0)] * 2),
        np.array([X[10:].var(0) * 20] * 2),
    )
    weight, mean, scatter = chan_merge(*a, *b)
    np.testing.assert_allclose(weight, [30.0, 20.0])
    np.testing.assert_allclose(mean[0], X.mean(0))
    np.testing.assert_allclose(scatter[0], X.var(0) * 30, rtol=1e-12)
    np.testing.assert_allclose(mean[1], X[10:].mean(0))
    np.testing.assert_allclose(scatter[1], X[10:].var(0) * 20, rtol=1e-12)
