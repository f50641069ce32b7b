"""
Clustering with a Gaussian mixture fitted by EM
===============================================

:class:`skmle.EMGaussianMixture` fits :math:`x \\sim \\sum_k \\pi_k N(\\mu_k,
\\Sigma_k)` by expectation-maximisation. Each iteration computes the
responsibilities :math:`r_{ik} \\propto \\pi_k N(x_i; \\mu_k, \\Sigma_k)` in log
space, then re-estimates every component from its :math:`r_{ik}`-weighted rows,
and never lowers the log-likelihood. Here we cluster three elongated groups,
draw the fitted components as density contours, choose the number of components
with the BIC, and check the iterates against scikit-learn's ``GaussianMixture``.
"""

# %%
# Data: three tilted, overlapping groups
# --------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from sklearn.mixture import GaussianMixture

from skmle import EMGaussianMixture

rng = np.random.default_rng(0)
groups = [
    ([0.0, 0.0], [[2.0, 1.2], [1.2, 1.0]], 250),
    ([5.0, 1.0], [[0.6, -0.4], [-0.4, 0.8]], 150),
    ([1.5, 5.0], [[1.5, 0.0], [0.0, 0.3]], 200),
]
X = np.vstack([rng.multivariate_normal(m, c, size=n) for m, c, n in groups])

# %%
# Fit and draw each component
# ---------------------------
# The contours are those of each weighted component density
# :math:`\pi_k N(x; \mu_k, \Sigma_k)`; the points are coloured by the most
# probable component (``predict``).
model = EMGaussianMixture(n_components=3, random_state=0).fit(X)
print(f"converged after {model.n_iter_} iterations, loglik {model.loglik_:.2f}")

grid_x, grid_y = np.meshgrid(
    np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, 200),
    np.linspace(X[:, 1].min() - 1, X[:, 1].max() + 1, 200),
)
grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])

fig, ax = plt.subplots(figsize=(6, 5))
labels = model.predict(X)
for k in range(model.n_components):
    colour = f"C{k}"
    ax.scatter(*X[labels == k].T, s=6, color=colour, alpha=0.5)
    density = model.weights_[k] * stats.multivariate_normal(
        model.means_[k], model.covariances_[k]
    ).pdf(grid)
    ax.contour(grid_x, grid_y, density.reshape(grid_x.shape), levels=4, colors=colour)
    ax.plot(*model.means_[k], "k+", markersize=12)
ax.set_title("EMGaussianMixture: component densities")
ax.set_xlabel("x0")
ax.set_ylabel("x1")

# %%
# How many components? The BIC
# ----------------------------
# :math:`\mathrm{BIC} = -2\ell + p\log n` trades the log-likelihood against the
# number of free parameters :math:`p` (lower is better). Full covariances with
# three components win here, as they should.
# Surplus components can end up on top of each other; their standard errors are
# then undefined and skmle says so with a ``UserWarning``, silenced here.
n_range = range(1, 8)
fig, ax = plt.subplots(figsize=(6, 4))
best = (np.inf, None)
for covariance_type in ("full", "tied", "diag", "spherical"):
    bics = []
    for n_components in n_range:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fit = EMGaussianMixture(
                n_components, covariance_type=covariance_type, random_state=0
            ).fit(X)
        bics.append(fit.bic(X))
        best = min(best, (bics[-1], (covariance_type, n_components)))
    ax.plot(list(n_range), bics, marker="o", label=covariance_type)
ax.set_xlabel("n_components")
ax.set_ylabel("BIC (lower is better)")
ax.legend()
print(f"lowest BIC: covariance_type={best[1][0]!r}, n_components={best[1][1]}")

# %%
# The likelihood path, and scikit-learn's iterates
# ------------------------------------------------
# ``loglik_history_`` holds the total log-likelihood at the start and after each
# M-step; EM never lowers it. From the same start scikit-learn's
# ``GaussianMixture`` runs the same iterates: its ``lower_bounds_`` are our
# history divided by the number of rows (all but the last entry, which is the
# likelihood after the final M-step).
start = dict(
    weights_init=np.full(3, 1 / 3),
    means_init=X[[0, 300, 500]],
    precisions_init=np.array([np.eye(2)] * 3),
)
ours = EMGaussianMixture(3, tol=1e-8, **start).fit(X)
theirs = GaussianMixture(3, tol=1e-8, **start).fit(X)
print(
    f"iterations: skmle {ours.n_iter_}, scikit-learn {theirs.n_iter_}; "
    f"largest difference of the means {np.abs(ours.means_ - theirs.means_).max():.1e}"
)

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(
    ours.loglik_history_ / X.shape[0], marker=".", label="skmle loglik_history_ / n"
)
ax.plot(theirs.lower_bounds_, "x", label="scikit-learn lower_bounds_")
ax.set_xlabel("iteration")
ax.set_ylabel("mean log-likelihood")
ax.legend()
plt.show()

# %%
# Estimates with standard errors
# ------------------------------
# ``summary()`` lists the weights and means with standard errors from the
# observed information (covariances held at their estimates).
print(model.summary())
