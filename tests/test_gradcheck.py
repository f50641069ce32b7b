import numpy as np
import pytest

from skmle import GaussianMLE, check_gradient
from skmle.models.gaussian import GaussianLogLikelihood


class WrongGradientGaussian(GaussianLogLikelihood):
    """The seed-003 slip: the gradient in log sigma missing its factor of 2."""

    def loglik_grad(self, theta, batch):
        value, grad = super().loglik_grad(theta, batch)
        grad[self.n_features :] *= 0.5
        return value, grad


class WrongGaussianMLE(GaussianMLE):
    def _make_model(self, batch):
        return WrongGradientGaussian(
            batch.X.shape[1], self.covariance_type, self.reg_covar
        )


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(200, 3)) * [1.0, 2.0, 3.0]


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_a_correct_gradient_passes(X, covariance_type):
    error = check_gradient(
        GaussianMLE(covariance_type=covariance_type), X, random_state=0
    )
    assert error < 1e-7


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_a_wrong_gradient_is_caught(X, covariance_type):
    error = check_gradient(
        WrongGaussianMLE(covariance_type=covariance_type), X, random_state=0
    )
    assert error > 1e-2


def test_explicit_params_and_their_shape(X):
    model = GaussianMLE(covariance_type="diag")
    theta = np.array([0.1, -0.2, 0.3, 0.0, -0.5, 0.2])
    assert check_gradient(model, X, params=theta) < 1e-7
    with pytest.raises(ValueError, match="6 parameters"):
        check_gradient(model, X, params=theta[:3])


def test_the_estimator_is_left_untouched(X):
    model = GaussianMLE()
    check_gradient(model, X)
    assert not hasattr(model, "n_features_in_")
