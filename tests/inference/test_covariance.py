"""The one path from an information matrix to standard errors."""

import numpy as np
import pytest
from scipy import linalg

from skmle.inference import (
    Information,
    SingularInformation,
    WaldSpec,
    block_standard_errors,
)


@pytest.fixture
def information():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 4)) * [1e-3, 1.0, 1e3, 1e6]
    return A.T @ A


def test_from_matrix_inverts_badly_scaled_information(information):
    expected = np.linalg.inv(information)
    covariance = Information.from_matrix(information).covariance()
    np.testing.assert_allclose(covariance, expected, rtol=1e-9)


def test_transform_gives_j_inverse_j_transposed(information):
    J = np.array([[1.0, -2.0, 0.0, 0.0], [0.0, 0.0, 3.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    expected = J @ np.linalg.inv(information) @ J.T
    info = Information.from_matrix(information)
    np.testing.assert_allclose(info.covariance(J), expected, rtol=1e-8)
    np.testing.assert_allclose(info.variances(J), np.diag(expected), rtol=1e-8)
    np.testing.assert_allclose(info.variances(lambda m: J @ m), np.diag(expected))


def test_from_triangular_matches_the_matrix_it_factors():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    r = linalg.qr(X, mode="r")[0][:3]
    scale = np.array([2.0, 0.5, 10.0])
    multiplier = 4.0
    matrix = multiplier * (r.T @ r) / np.outer(scale, scale)
    info = Information.from_triangular(r, scale, multiplier)
    np.testing.assert_allclose(info.covariance(), np.linalg.inv(matrix), rtol=1e-10)


def test_singular_information_raises_and_blocks_become_nan_with_a_warning():
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(SingularInformation):
        Information.from_matrix(singular)
    spec = WaldSpec(
        lambda: Information.from_matrix(singular),
        {"coef": [0, 1]},
        singular_message="not identified",
    )
    with pytest.warns(UserWarning, match="not identified"):
        se = block_standard_errors(spec)
    assert np.isnan(se["coef"]).all()


def test_undefined_information_gives_nan_silently():
    spec = WaldSpec(None, {"coef": np.arange(3)})
    assert np.isnan(block_standard_errors(spec)["coef"]).all()
