"""
Checking a gradient against finite differences
==============================================

Every skmle model is a log-likelihood with a hand-derived gradient, and a wrong
gradient is the most common bug in such code: the optimizer then stops at the
wrong place, or crawls, and nothing crashes. :func:`skmle.check_gradient`
compares the analytic gradient with central finite differences,

.. math:: \\frac{\\partial f}{\\partial\\theta_j} \\approx
   \\frac{f(\\theta + h e_j) - f(\\theta - h e_j)}{2h},

and returns the largest relative disagreement. Around ``1e-6`` or less means the
formula is right; a mistake gives something near 1.
"""

# %%
# A correct gradient
# ------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from skmle import (
    EMGaussianMixture,
    GaussianMLE,
    LaplaceRegressor,
    LinearGaussianRegressor,
    LogisticGD,
    check_gradient,
)
from skmle.models.gaussian import GaussianLogLikelihood
from skmle.models.objective import Objective

rng = np.random.default_rng(0)
X = rng.multivariate_normal([0.0, 2.0, -1.0], np.diag([1.0, 2.0, 0.5]), size=200)
for covariance_type in ("full", "diag", "spherical"):
    error = check_gradient(
        GaussianMLE(covariance_type=covariance_type), X, random_state=0
    )
    print(f"GaussianMLE({covariance_type!r}): largest relative error {error:.1e}")


# %%
# Every model in skmle
# --------------------
# ``check_gradient`` works for every estimator: it evaluates the model's
# log-likelihood and gradient at a random point near the estimator's start. For
# the Laplace regressor the gradient is a subgradient, exact wherever no residual
# is zero -- which is almost everywhere.
diabetes_X, diabetes_y = load_diabetes(return_X_y=True)
iris_X, iris_y = load_iris(return_X_y=True)
cancer_X, cancer_y = load_breast_cancer(return_X_y=True)
cancer_X = (cancer_X - cancer_X.mean(axis=0)) / cancer_X.std(axis=0)
checks = {
    "LinearGaussianRegressor on diabetes": (
        LinearGaussianRegressor(),
        diabetes_X,
        diabetes_y,
    ),
    "LaplaceRegressor on diabetes": (LaplaceRegressor(), diabetes_X, diabetes_y),
    "LogisticGD on breast_cancer": (LogisticGD(), cancer_X, cancer_y),
    "LogisticGD(alpha=1), 3 classes, iris": (LogisticGD(alpha=1.0), iris_X, iris_y),
    "EMGaussianMixture(3) on iris": (EMGaussianMixture(n_components=3), iris_X, None),
}
for label, (estimator, data, target) in checks.items():
    error = check_gradient(estimator, data, target, random_state=0)
    print(f"{label:38s} largest relative error {error:.1e}")


# %%
# A wrong one
# -----------
# A classic slip: in the derivative of :math:`W \sum_j \log R_{jj}` (half the
# log-determinant of the precision) forget the total weight :math:`W`. The model
# below makes that mistake; the estimator using it still runs, but
# ``check_gradient`` catches it at once.
class ForgetfulGaussian(GaussianLogLikelihood):
    def loglik_grad(self, theta, batch):
        value, grad = super().loglik_grad(theta, batch)
        weight = batch.sample_weight.sum()
        grad[self.n_features :] -= weight - 1.0  # the slip: 1 instead of W
        return value, grad


class ForgetfulGaussianMLE(GaussianMLE):
    def _make_model(self, batch):
        return ForgetfulGaussian(batch.X.shape[1], "diag", self.reg_covar)


error = check_gradient(ForgetfulGaussianMLE(covariance_type="diag"), X, random_state=0)
print(f"with the slip: largest relative error {error:.2f}")

# %%
# Choosing the step h
# -------------------
# The finite difference has two errors pulling in opposite directions: the
# truncation error of the central difference shrinks like :math:`h^2`, while
# the rounding error of subtracting two nearly equal numbers grows like
# :math:`\epsilon_{\text{mach}}/h`. Their sum is smallest near
# :math:`h \approx \epsilon_{\text{mach}}^{1/3} \approx 10^{-5}`;
# ``check_gradient`` uses :math:`h = 10^{-6}\max(1, |\theta_j|)`. A one-sided
# difference :math:`(f(\theta+h e_j) - f(\theta))/h` is worse: its truncation
# error shrinks only like :math:`h`.
model = GaussianLogLikelihood(n_features=3, covariance_type="diag")
objective = Objective.from_arrays(model, X)
theta = np.concatenate([X.mean(axis=0) + 0.3, np.full(3, -0.2)])
_, analytic = objective.value_and_grad(theta)
j = 4  # one log-precision component
basis = np.eye(theta.size)[j]
steps = np.logspace(-12, -1, 45)
central = [
    (objective.value(theta + h * basis) - objective.value(theta - h * basis)) / (2 * h)
    for h in steps
]
forward = [
    (objective.value(theta + h * basis) - objective.value(theta)) / h for h in steps
]
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.loglog(steps, np.abs(np.array(central) - analytic[j]), label="central difference")
ax.loglog(steps, np.abs(np.array(forward) - analytic[j]), label="forward difference")
ax.axvline(1e-6, color="0.5", linestyle=":", label="check_gradient's h")
ax.set_xlabel("step h")
ax.set_ylabel("error against the analytic derivative")
ax.legend()
plt.show()
