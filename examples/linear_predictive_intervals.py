"""
Linear regression with predictive intervals
===========================================

:class:`skmle.LinearGaussianRegressor` is ordinary least squares seen as a
probability model: :math:`y = x^\\top w + b + e` with :math:`e \\sim N(0,
\\sigma^2)`. Because it is a model of :math:`y` and not just of its mean, it
predicts a whole distribution for a new :math:`y`: ``predict_dist`` returns it
as a frozen ``scipy.stats`` distribution, and ``predict_interval`` its central
interval. That plug-in interval takes the estimates as the truth;
``predict_interval(kind="observation")`` adds their uncertainty, and with
``inference="exact"`` it is the exact Student-t prediction interval of
statsmodels' ``get_prediction().summary_frame()``. ``kind="mean"`` is the
confidence interval of the regression line itself.
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
# The plug-in band uses the estimates as if they were the truth: it leaves out
# the uncertainty in :math:`\hat w` and :math:`\hat\sigma`, and the MLE
# :math:`\hat\sigma^2 = \mathrm{RSS}/n` is biased low. So with little data a
# nominal 90% interval covers less than 90% of new points; the gap closes as
# :math:`n` grows. The observation interval of ``inference="exact"``,
# :math:`\hat y \pm t_{n-p}\, \sqrt{s^2 + \mathrm{se}(\hat y)^2}` with the
# unbiased :math:`s^2 = \mathrm{RSS}/(n-p)`, covers 90% at every :math:`n` (up to
# the Monte Carlo error of the 1,000 new points, which every fit shares: about
# 0.01).
sizes = [8, 15, 30, 100, 1000]
coverage = {"plugin": [], "observation": []}
for n in sizes:
    covered = {kind: [] for kind in coverage}
    for _ in range(100):
        X_fit, y_fit = simulate(n, rng)
        fit = LinearGaussianRegressor(inference="exact").fit(X_fit, y_fit)
        for kind in coverage:
            band = fit.predict_interval(X_new, 0.1, kind=kind)
            covered[kind].append(np.mean((y_new >= band[:, 0]) & (y_new <= band[:, 1])))
    for kind in coverage:
        coverage[kind].append(np.mean(covered[kind]))
    print(
        f"n = {n:5d}: average coverage of the 90% intervals: plug-in "
        f"{coverage['plugin'][-1]:.3f}, exact observation "
        f"{coverage['observation'][-1]:.3f}"
    )

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogx(sizes, coverage["plugin"], marker="o", label="plug-in MLE interval")
ax.semilogx(
    sizes, coverage["observation"], marker="s", label='kind="observation", exact'
)
ax.axhline(0.9, color="k", linestyle=":", label="nominal 90%")
ax.set_xlabel("training samples n")
ax.set_ylabel("coverage of new points")
ax.legend()

# %%
# Three bands on a small sample
# -----------------------------
# On 12 points the three differ visibly: the mean's band is narrow in the middle
# of the data and widens towards its ends, the observation band is the plug-in
# band widened by the same uncertainty (and by t's heavier tails).
X_small, y_small = simulate(12, rng)
small = LinearGaussianRegressor(inference="exact").fit(X_small, y_small)
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
for ax, kind in zip(axes, ["plugin", "mean", "observation"], strict=True):
    plot_predictive_interval(small, X_small, y_small, alpha=0.1, kind=kind, ax=ax)
    ax.set_title(f'kind="{kind}"')

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
