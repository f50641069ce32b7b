"""
Robust regression: Laplace noise against Gaussian noise
=======================================================

Least squares is the MLE under Gaussian noise, whose tails are so thin that a
point ten standard deviations away is all but impossible: the fit bends a long
way to make such a point less improbable. Under Laplace noise,
:math:`p(e) = e^{-|e|/s} / (2s)`, the log-density falls only linearly, so a far
point costs in proportion to its distance, and the MLE of the line is the
least-absolute-deviations (median regression) fit. On data with gross outliers
the two models tell very different stories.
"""

# %%
# Data with outliers
# ------------------
# A straight line with Laplace noise, then one point in eight pushed far up.
import matplotlib.pyplot as plt
import numpy as np

from skmle import LaplaceRegressor, LinearGaussianRegressor
from skmle.plotting import plot_profile_likelihood

rng = np.random.default_rng(1)
n = 80
X = rng.uniform(0.0, 10.0, size=(n, 1))
y = 1.0 + 0.5 * X[:, 0] + rng.laplace(scale=0.5, size=n)
outliers = rng.random(n) < 0.125
y[outliers] += rng.uniform(8.0, 15.0, size=outliers.sum())

gaussian = LinearGaussianRegressor().fit(X, y)
laplace = LaplaceRegressor().fit(X, y)
print("true line:      intercept 1.000, slope 0.500")
for name, model in (("Gaussian noise", gaussian), ("Laplace noise", laplace)):
    print(
        f"{name:15s} intercept {model.intercept_:.3f}, slope {model.coef_[0]:.3f}, "
        f"slope std err {model.coef_se_[0]:.3f}"
    )

# %%
# The outliers drag the least-squares line up and tilt it; the Laplace fit goes
# through the bulk of the points.
grid = np.linspace(0.0, 10.0, 100)[:, None]
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.scatter(X[~outliers, 0], y[~outliers], s=12, color="0.4", label="data")
ax.scatter(X[outliers, 0], y[outliers], s=20, color="C3", marker="^", label="outliers")
ax.plot(grid, 1.0 + 0.5 * grid, "k:", label="true line")
ax.plot(grid, gaussian.predict(grid), color="C0", label="Gaussian MLE (least squares)")
ax.plot(grid, laplace.predict(grid), color="C1", label="Laplace MLE (least abs. dev.)")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(fontsize="small")

# %%
# Which model do the data prefer?
# -------------------------------
# Both models have the same number of parameters (slope, intercept, scale), so
# AIC compares their maximised log-likelihoods directly.
for name, model in (("Gaussian", gaussian), ("Laplace", laplace)):
    print(f"{name:8s} log-likelihood {model.loglik_:9.2f}   AIC {model.aic(X, y):8.2f}")

# %%
# Predictive intervals
# --------------------
# The Gaussian model spreads its doubt evenly and ends up too wide for the bulk
# of the data yet still missing the outliers; the Laplace model's interval is
# :math:`\hat y \pm \hat s \log(1/\alpha)`, narrow around the line.
fig, ax = plt.subplots(figsize=(6, 4.5))
for model, colour, name in ((gaussian, "C0", "Gaussian"), (laplace, "C1", "Laplace")):
    band = model.predict_interval(grid, alpha=0.1)
    ax.fill_between(grid[:, 0], band[:, 0], band[:, 1], color=colour, alpha=0.25)
    inside = model.predict_interval(X, alpha=0.1)
    share = np.mean((y >= inside[:, 0]) & (y <= inside[:, 1]))
    ax.plot(
        grid, model.predict(grid), color=colour, label=f"{name}: {share:.0%} inside"
    )
ax.scatter(X[:, 0], y, s=10, color="0.3")
ax.set_title("90% predictive intervals")
ax.set_xlabel("x")
ax.legend(fontsize="small")

# %%
# How sure is each fit of the slope?
# ----------------------------------
# The profile log-likelihood of the slope (the other parameters re-maximised)
# with its likelihood-ratio interval, beside the Wald interval from
# ``coef_se_``. The Laplace profile is not smooth at its peak -- its
# log-likelihood has a kink wherever a residual crosses zero -- and the
# outliers inflate the Gaussian model's :math:`\hat\sigma`, which widens its
# interval.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
for ax, model, name in zip(
    axes, (gaussian, laplace), ("Gaussian", "Laplace"), strict=True
):
    plot_profile_likelihood(
        model, X, y, param="x0", ax=ax, values=np.linspace(0.2, 0.9, 61)
    )
    ax.set_title(f"{name} noise: slope")
fig.tight_layout()
plt.show()
