"""
The Gaussian MLE and its likelihood curve
=========================================

We draw a small sample from a normal distribution and ask the likelihood which
mean and standard deviation explain it best. The answer has a closed form (the
sample mean, and the standard deviation *divided by n*), and the shape of the
log-likelihood around it tells us how sure we may be: a sharp peak means a
precise estimate.
"""

# %%
# Fit
# ---
# :class:`skmle.GaussianMLE` computes the closed form. With ``reg_covar=0`` it is
# the textbook MLE, with nothing added to the variance.
import matplotlib.pyplot as plt
import numpy as np

from skmle import GaussianMLE
from skmle.plotting import plot_profile_likelihood, profile_likelihood

rng = np.random.default_rng(7)
x = rng.normal(loc=5.0, scale=2.0, size=25)
X = x[:, None]

model = GaussianMLE(reg_covar=0).fit(X)
print(f"mean:     MLE {model.mean_[0]:.4f}   numpy {x.mean():.4f}")
print(f"variance: MLE {model.covariance_[0, 0]:.4f}   numpy (ddof=0) {x.var():.4f}")
print(f"maximised log-likelihood: {model.loglik_:.4f}")
print(model.summary())

# %%
# The log-likelihood surface
# --------------------------
# Over a grid of :math:`(\mu, \sigma)` the log-likelihood is
# :math:`\ell(\mu,\sigma) = -n\log\sigma - \frac{n}{2}\log 2\pi
# - \sum_i (x_i-\mu)^2 / (2\sigma^2)`. Its single peak is the MLE. The surface is
# steeper in :math:`\sigma` below the peak than above it: a small
# :math:`\sigma` makes the observed spread very unlikely.
mu_grid = np.linspace(3.0, 7.0, 120)
sigma_grid = np.linspace(1.0, 4.5, 120)
MU, SIGMA = np.meshgrid(mu_grid, sigma_grid)
squares = ((x[:, None, None] - MU) ** 2).sum(axis=0)
surface = -x.size * np.log(SIGMA) - 0.5 * x.size * np.log(2 * np.pi)
surface -= squares / (2 * SIGMA**2)

fig, ax = plt.subplots(figsize=(6, 4.5))
levels = model.loglik_ - np.array([40, 20, 10, 5, 2, 1, 0.25])
contours = ax.contour(MU, SIGMA, surface, levels=levels, cmap="viridis")
ax.clabel(contours, fmt="%.0f", fontsize="small")
sigma_hat = np.sqrt(model.covariance_[0, 0])
ax.plot(model.mean_[0], sigma_hat, "k+", markersize=12, label="MLE")
ax.plot(5.0, 2.0, "rx", label="true parameters")
ax.set_xlabel(r"$\mu$")
ax.set_ylabel(r"$\sigma$")
ax.set_title("Log-likelihood contours")
ax.legend()

# %%
# A slice and a profile
# ---------------------
# Two ways to look at :math:`\mu` alone. The *slice* holds :math:`\sigma` at its
# MLE; the *profile* re-maximises :math:`\sigma` for each :math:`\mu`, which
# lets the curve fall more slowly. The profile is the honest one: its drop of
# :math:`\chi^2_{1,0.95}/2 \approx 1.92` below the peak marks the
# likelihood-ratio interval, drawn beside the Wald interval
# :math:`\hat\mu \pm 1.96\,\mathrm{se}` from ``mean_se_``.
fig, ax = plt.subplots(figsize=(6, 4.5))
plot_profile_likelihood(model, X, param="mean[x0]", ax=ax)
profile = profile_likelihood(model, X, param="mean[x0]")
slice_ = -x.size * np.log(sigma_hat) - 0.5 * x.size * np.log(2 * np.pi)
slice_ -= ((x[:, None] - profile.values) ** 2).sum(axis=0) / (2 * sigma_hat**2)
ax.plot(profile.values, slice_, color="C3", linestyle="-.", label="slice at MLE sigma")
ax.legend(loc="lower center", fontsize="small")
print("likelihood-ratio interval:", np.round(profile.lr_interval, 4))
print("Wald interval:            ", np.round(profile.wald_interval, 4))

# %%
# More data, sharper peak
# -----------------------
# The curvature of the log-likelihood at its peak is the observed information,
# :math:`n/\hat\sigma^2` for the mean, so the standard error shrinks like
# :math:`1/\sqrt{n}`. Here are the profiles of the mean, relative to their
# maxima, for growing samples from the same distribution.
fig, ax = plt.subplots(figsize=(6, 4.5))
for n in (10, 100, 1000):
    sample = rng.normal(loc=5.0, scale=2.0, size=(n, 1))
    fit = GaussianMLE(reg_covar=0).fit(sample)
    grid = np.linspace(3.0, 7.0, 81)
    curve = profile_likelihood(fit, sample, values=grid)
    ax.plot(grid, curve.loglik - curve.loglik_max, label=f"n = {n}")
    print(f"n={n:5d}: mean {fit.mean_[0]:.3f}, standard error {fit.mean_se_[0]:.3f}")
ax.axhline(-0.5 * 3.841, color="0.4", linestyle=":", label="95% cutoff")
ax.set_ylim(-12, 0.5)
ax.set_xlabel(r"$\mu$")
ax.set_ylabel("profile log-likelihood minus its maximum")
ax.legend()
plt.show()
