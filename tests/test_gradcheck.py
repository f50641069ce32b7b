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


# -- count regressors: the offset and the weights reach the checked objective ------
def _cpunish_with_exposure():
    """statsmodels' cpunish (executions by state, log income) with a known
    exposure per row, from 0.5 to 3."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.cpunish.load_pandas()
    X = data.exog.copy()
    X["INCOME"] = np.log(X["INCOME"])
    offset = np.log(np.linspace(0.5, 3.0, len(X)))
    return X.to_numpy(float), data.endog.to_numpy(float), offset


@pytest.mark.parametrize("name", ["PoissonMLERegressor", "NegativeBinomialRegressor"])
def test_count_gradient_with_offset_and_weights(name):
    import skmle

    X, y, offset = _cpunish_with_exposure()
    weight = np.linspace(0.5, 2.0, len(y))
    estimator = getattr(skmle, name)()
    error = check_gradient(
        estimator, X, y, sample_weight=weight, offset=offset, random_state=0
    )
    assert error < 1e-6


def test_count_objective_with_offset_equals_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    from skmle import PoissonMLERegressor

    X, y, offset = _cpunish_with_exposure()
    model = PoissonMLERegressor().fit(X, y, offset=offset)
    function = model.loglik_function(X, y, offset=offset)
    glm = sm.GLM(y, sm.add_constant(X, prepend=False), offset=offset,
                 family=sm.families.Poisson())  # fmt: skip
    params = np.r_[model.coef_, model.intercept_]
    assert function.loglik(model.theta_) == pytest.approx(
        glm.loglike(params), rel=1e-12
    )
    assert function.loglik(model.theta_) == pytest.approx(model.loglik_, rel=1e-12)
    # Without the offset the objective is another function of theta.
    plain = model.loglik_function(X, y)
    assert abs(plain.loglik(model.theta_) - function.loglik(model.theta_)) > 1.0


def test_an_offset_for_a_model_without_one_is_a_clear_error(X):
    with pytest.raises(ValueError, match="takes no offset"):
        check_gradient(GaussianMLE(), X, offset=np.zeros(len(X)))


def test_count_objective_is_in_raw_coordinates_for_newton():
    """Newton centres cpunish's log income internally; the bound objective is
    still a function of ``theta_`` (it used to be of the centred coordinates)."""
    sm = pytest.importorskip("statsmodels.api")
    from skmle import PoissonMLERegressor

    X, y, _ = _cpunish_with_exposure()
    model = PoissonMLERegressor().fit(X, y)
    function = model.loglik_function(X, y)
    glm = sm.GLM(y, sm.add_constant(X, prepend=False), family=sm.families.Poisson())
    expected = glm.loglike(np.r_[model.coef_, model.intercept_])
    assert function.loglik(model.theta_) == pytest.approx(expected, rel=1e-12)
