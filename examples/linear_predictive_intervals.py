"""
Linear regression with predictive intervals
===========================================

:class:`skmle.LinearGaussianRegressor` is ordinary least squares seen as a
probability model: :math:`y = x^\\top w + b + e` with :math:`e \\sim N(0,
\\sigma^2)`. Because it is a model of :math:`y` and not just of its mean, it
predicts a whole distribution for a new :math:`y`: ``predict_dist`` returns it
as a frozen ``scipy.stats`` distribution, and ``predict_interval`` its central
interval.
"""

# %%
# Fit and summary
# ---------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes

from skmle import LinearGaussianRegressor
from skmle.plotting import plot_predictive_interval


def simulate(n, rng):
    x = rng.uniform(0.0, 10.0, size=(n, 1))
    return x, 2.0 + 0.8 * x[:, 0] + rng.normal(scale=1.5, size=n)


rng = np.random.default_rng(0)
X, y = simulate(60, rng)
model = LinearGaussianRegressor().fit(X, y)
print(model.summary())
print(f"sigma (MLE, RSS / n): {np.sqrt(model.sigma2_):.3f}   (true 1.5)")

# %%
# The predictive band
# -------------------
# With the parameters at their MLE the predictive distribution of a new
# :math:`y` at :math:`x` is :math:`N(x^\top\hat w + \hat b, \hat\sigma^2)`; the
# band is its central 90% interval.
fig, ax = plt.subplots(figsize=(6, 4.5))
plot_predictive_interval(model, X, y, alpha=0.1, ax=ax)
ax.set_title("LinearGaussianRegressor: 90% predictive interval")

# %%
# A predictive distribution is a density too: its log-density at held-out
# points, summed, is the held-out log-likelihood that ``log_likelihood``
# returns. That is the score to compare probabilistic regressors with.
X_new, y_new = simulate(1000, rng)
dist = model.predict_dist(X_new)
print(f"held-out log-likelihood by scipy.stats: {dist.logpdf(y_new).sum():.3f}")
print(
    f"held-out log-likelihood by skmle:       {model.log_likelihood(X_new, y_new):.3f}"
)

# %%
# Does the interval cover what it says?
# -------------------------------------
# The band uses the estimates as if they were the truth: it leaves out the
# uncertainty in :math:`\hat w` and :math:`\hat\sigma`, and the MLE
# :math:`\hat\sigma^2 = \mathrm{RSS}/n` is biased low. So with little data a
# nominal 90% interval covers less than 90% of new points; the gap closes as
# :math:`n` grows. (A Student-t interval with :math:`n-p` degrees of freedom
# would correct it; the MLE interval is the plug-in one.)
sizes = [8, 15, 30, 100, 1000]
coverage = []
for n in sizes:
    covered = []
    for _ in range(100):
        X_fit, y_fit = simulate(n, rng)
        band = LinearGaussianRegressor().fit(X_fit, y_fit).predict_interval(X_new, 0.1)
        covered.append(np.mean((y_new >= band[:, 0]) & (y_new <= band[:, 1])))
    coverage.append(np.mean(covered))
    print(f"n = {n:5d}: average coverage of the 90% interval {coverage[-1]:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogx(sizes, coverage, marker="o", label="plug-in MLE interval")
ax.axhline(0.9, color="k", linestyle=":", label="nominal 90%")
ax.set_xlabel("training samples n")
ax.set_ylabel("coverage of new points")
ax.legend()

# %%
# Several features
# ----------------
# With more than one feature, :func:`~skmle.plotting.plot_predictive_interval`
# puts the fitted mean on the x axis, so the band is a strip around the
# diagonal. Here, the diabetes data bundled with scikit-learn.
diabetes = load_diabetes()
model = LinearGaussianRegressor().fit(diabetes.data, diabetes.target)
fig, ax = plt.subplots(figsize=(6, 4.5))
plot_predictive_interval(model, diabetes.data, diabetes.target, ax=ax)
ax.set_ylabel("disease progression")
ax.set_title("Diabetes: 95% predictive interval")
plt.show()
