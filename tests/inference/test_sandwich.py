"""Sandwich covariances on the one inference path, against plain NumPy."""

import numpy as np
import pytest

from skmle.data import Batch, InMemoryRows
from skmle.inference import (
    Information,
    WaldSpec,
    block_standard_errors,
    check_cov_type,
    reported_covariance,
    score_meat,
)
from skmle.inference.sandwich import SCORE_ROWS, small_sample_factor


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 4)) * [1e-3, 1.0, 1e3, 1e6]
    S = rng.standard_normal((40, 4)) * [1e-3, 1.0, 1e3, 1e6]
    return A.T @ A, S.T @ S


def test_sandwich_is_j_inverse_meat_inverse_j_transposed(problem):
    information, meat = problem
    J = np.array([[1.0, -2.0, 0.0, 0.0], [0.0, 0.0, 3.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    inverse = np.linalg.inv(information)
    expected = J @ inverse @ meat @ inverse @ J.T
    info = Information.from_matrix(information)
    np.testing.assert_allclose(info.covariance(J, meat), expected, rtol=1e-7)
    np.testing.assert_allclose(info.variances(J, meat), np.diag(expected), rtol=1e-7)


def test_reported_covariance_follows_the_blocks_order(problem):
    information, _ = problem
    spec = WaldSpec(
        Information.from_matrix(information), {"b": [3, 0], "a": np.array([1])}
    )
    expected = np.linalg.inv(information)[np.ix_([3, 0, 1], [3, 0, 1])]
    covariance = reported_covariance(spec)
    np.testing.assert_allclose(covariance.variances(), np.diag(expected), rtol=1e-8)
    np.testing.assert_allclose(covariance.matrix(), expected, rtol=1e-8)
    np.testing.assert_allclose(covariance.variances(), np.diag(expected), rtol=1e-8)
    se = block_standard_errors(spec)
    np.testing.assert_allclose(se["b"], np.sqrt(np.diag(expected))[:2], rtol=1e-8)
    np.testing.assert_allclose(se["a"], np.sqrt(expected[2, 2]), rtol=1e-8)


def _linear_scores(batch):
    return batch.X * batch.y[:, None]


def test_score_meat_is_the_same_in_pieces_and_weights_count_rows():
    rng = np.random.default_rng(1)
    n = 2 * SCORE_ROWS + 17
    X, y = rng.standard_normal((n, 3)), rng.standard_normal(n)
    w = rng.integers(0, 3, size=n).astype(float)
    S = X * y[:, None]
    expected = (S * w[:, None]).T @ S
    pieces = InMemoryRows(
        [Batch(X[r], y[r], w[r]) for r in np.array_split(np.arange(n), 3)]
    )
    meat = score_meat(pieces.map_sum, _linear_scores, "HC1", w.sum())
    np.testing.assert_allclose(meat.matrix, expected, rtol=1e-12)
    p = 3
    np.testing.assert_allclose(
        meat.corrected(), expected * w.sum() / (w.sum() - p), rtol=1e-12
    )
    repeated = np.repeat(np.arange(n), w.astype(int))
    whole = InMemoryRows([Batch(X[repeated], y[repeated], np.ones(repeated.size))])
    again = score_meat(whole.map_sum, _linear_scores, "HC1", repeated.size)
    np.testing.assert_allclose(again.corrected(), meat.corrected(), rtol=1e-10)


def test_cluster_meat_sums_scores_within_groups():
    rng = np.random.default_rng(2)
    n = SCORE_ROWS + 300
    X, y = rng.standard_normal((n, 2)), rng.standard_normal(n)
    w = rng.uniform(0.5, 2.0, size=n)
    groups = rng.choice(["a", "b", "c", "d", "e"], size=n)
    rows = InMemoryRows([Batch(X, y, w, groups=groups)])
    labels = np.unique(groups)
    meat = score_meat(rows.map_sum, _linear_scores, "cluster", w.sum(), labels)
    S = X * y[:, None] * w[:, None]
    sums = np.array([S[groups == g].sum(axis=0) for g in "abcde"])
    np.testing.assert_allclose(meat.matrix, sums.T @ sums, rtol=1e-10)
    assert meat.n_groups == 5
    factor = 5 / 4 * (w.sum() - 1) / (w.sum() - 2)
    np.testing.assert_allclose(meat.corrected(), factor * sums.T @ sums, rtol=1e-10)


def test_small_sample_factors():
    assert small_sample_factor("HC0", 10, 3) == 1.0
    assert small_sample_factor("HC1", 10, 3) == 10 / 7
    assert np.isclose(small_sample_factor("cluster", 10, 3, 4), 4 / 3 * 9 / 7)
    assert small_sample_factor("HC1", 3, 3) == np.inf
    with pytest.raises(ValueError, match="nonrobust"):
        small_sample_factor("nonrobust", 10, 3)


@pytest.mark.parametrize(
    ("cov_type", "groups", "match"),
    [
        ("HC2", None, "cov_type must be one of"),
        ("cluster", None, "needs the cluster of each sample"),
        ("HC0", [0, 1, 1], "groups are used only by"),
        ("cluster", [0, 1], r"one label per sample, of shape \(3,\)"),
        ("cluster", [[0], [1], [1]], "one label per sample"),
    ],
)
def test_check_cov_type_refuses_bad_input(cov_type, groups, match):
    with pytest.raises(ValueError, match=match):
        check_cov_type(cov_type, groups, 3)
