"""
Gradient ascent versus the closed form, and why skmle climbs in log sigma
=========================================================================

The Gaussian MLE has a closed form, so gradient ascent is not needed for it; it
is still the cleanest place to see what can go wrong with gradient ascent on a
likelihood, and why skmle's gradient solvers work on the logarithm of a scale
rather than the scale itself.

The mean log-likelihood of :math:`N(\\mu, \\sigma^2)` and its derivative in
:math:`\\sigma` are

.. math::

    f(\\mu, \\sigma) = -\\log\\sigma - \\tfrac12\\log 2\\pi
        - \\frac{1}{2n\\sigma^2}\\sum_i (x_i - \\mu)^2, \\qquad
    \\frac{\\partial f}{\\partial \\sigma} = \\frac{s^2(\\mu)}{\\sigma^3}
        - \\frac{1}{\\sigma},

with :math:`s^2(\\mu) = \\frac1n\\sum_i (x_i-\\mu)^2`. The gradient is zero at
:math:`\\sigma^2 = s^2(\\mu)`: the closed form.
"""

# %%
# A fixed step on sigma
# ---------------------
# We hold :math:`\mu` at its MLE :math:`\bar x` (which does not depend on
# :math:`\sigma`) and take fixed steps :math:`\sigma \leftarrow \sigma + \gamma\,
# \partial f / \partial \sigma` from :math:`\sigma = 1`, for four step sizes.
import matplotlib.pyplot as plt
import numpy as np

from skmle import GaussianMLE
from skmle.plotting import plot_convergence

rng = np.random.default_rng(0)
x = rng.normal(loc=1.0, scale=0.5, size=100)
s2 = x.var()  # s^2 at mu = x-bar: the closed-form variance
steps = (0.1, 0.3, 0.9, 1.5)


def ascend_sigma(step, n_iter=40, sigma=1.0):
    path = [sigma]
    for _ in range(n_iter):
        sigma = sigma + step * (s2 / sigma**3 - 1.0 / sigma)
        path.append(sigma)
    return np.array(path)


def ascend_log_sigma(step, n_iter=40, sigma=1.0):
    eta = np.log(sigma)
    path = [sigma]
    for _ in range(n_iter):
        eta = eta + step * (s2 * np.exp(-2.0 * eta) - 1.0)
        path.append(np.exp(eta))
    return np.array(path)


direct = {step: ascend_sigma(step) for step in steps}
for step, path in direct.items():
    print(f"step {step}: sigma after 5, 20, 40 steps: {np.round(path[[5, 20, 40]], 3)}")
print(f"closed form: sigma = {np.sqrt(s2):.3f}")

# %%
# Only the smallest step converges. With 0.3 sigma settles into a two-cycle
# around the answer; with 0.9 it lands near zero, where the :math:`1/\sigma^3`
# term is huge, and is thrown to :math:`\sigma \approx 280`, where the gradient
# is almost zero and it stays; with 1.5 it jumps below zero, where the
# log-likelihood (:math:`-\log\sigma`) is not even defined.
#
# Why: near the maximum the objective curves like
# :math:`\partial^2 f/\partial\sigma^2 = -2/\sigma^2`, so a fixed step is stable
# only when :math:`\gamma < \sigma^2 = s^2` -- the safe step depends on the
# scale of the data, and nothing keeps :math:`\sigma` positive.
#
# In log sigma
# ------------
# With :math:`\eta = \log\sigma` the gradient is
# :math:`\partial f/\partial\eta = s^2 e^{-2\eta} - 1` and the curvature at the
# maximum is :math:`-2` *whatever the data*: any step below 1 converges, and
# every real :math:`\eta` is a valid :math:`\sigma = e^\eta > 0`.
logged = {step: ascend_log_sigma(step) for step in steps}

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for step in steps:
    axes[0].plot(direct[step], marker=".", label=f"step {step}")
    axes[1].plot(logged[step], marker=".", label=f"step {step}")
for ax, title in zip(
    axes, (r"steps on $\sigma$", r"steps on $\log\sigma$"), strict=True
):
    ax.axhline(np.sqrt(s2), color="k", linewidth=0.8, linestyle=":")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("iteration")
    ax.set_title(title)
axes[0].set_ylabel(r"$\sigma$ (symmetric log scale)")
axes[1].legend()
fig.tight_layout()

# %%
# The step of 1.5 fails in log sigma too (it is above 1), but for a reason that
# does not depend on the data. Rescale ``x`` by 100 and the safe range of a step
# on :math:`\sigma` grows by a factor :math:`100^2` (shrink ``x`` and it shrinks),
# while the safe range on :math:`\log\sigma` stays "below 1".
for scale in (1.0, 100.0):
    print(
        f"x times {scale:g}: safe step on sigma < {scale**2 * s2:.4g}, on log sigma < 1"
    )

# %%
# What skmle does
# ---------------
# :class:`~skmle.GaussianMLE`'s gradient solvers work on the mean and the
# Cholesky factor of the precision with a log diagonal (in one dimension,
# :math:`-\log\sigma`), so no step can make a variance negative. A fixed
# ``learning_rate`` is also guarded: a step that would lower the log-likelihood
# is halved. ``learning_rate="auto"`` (an Armijo line search), L-BFGS and
# Newton's method choose their own steps. In two dimensions, every solver
# climbs to the closed-form maximum:
X = rng.multivariate_normal([1.0, -1.0], [[0.3, 0.2], [0.2, 0.5]], size=300)
closed = GaussianMLE(reg_covar=0).fit(X)
fits = {
    "gd, learning_rate=0.3": GaussianMLE(solver="gd", learning_rate=0.3, reg_covar=0),
    "gd, learning_rate='auto'": GaussianMLE(solver="gd", reg_covar=0),
    "lbfgs": GaussianMLE(solver="lbfgs", reg_covar=0),
    "newton": GaussianMLE(solver="newton", reg_covar=0),
}
for label, model in fits.items():
    model.fit(X)
    gap = closed.loglik_ - model.loglik_
    print(f"{label:26s} {model.n_iter_:4d} iterations, loglik gap {gap:.2e}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
plot_convergence(fits, ax=axes[0])
axes[0].axhline(closed.loglik_, color="k", linestyle=":", label="closed form")
axes[0].set_ylim(closed.loglik_ - 80, closed.loglik_ + 5)
axes[0].legend(fontsize="small")
plot_convergence(fits, kind="gap", ax=axes[1])
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()
