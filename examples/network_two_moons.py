"""
A one-hidden-layer network where logistic regression fails: two moons
=====================================================================

Two interleaved half-circles cannot be split by a line, so logistic regression
(the network's degenerate case, with no hidden layer) can only tilt one boundary
through the middle. :class:`~skmle.MLPClassifierMLE` adds a hidden layer of ReLU
units, :math:`h = \\mathrm{ReLU}(W x + b_1)`, and fits the softmax of
:math:`U h + b_2` by maximum likelihood with the gradient of the lecture notes'
backpropagation. Both are likelihoods of the same labels, so they can be
compared as likelihoods: the log-likelihood gain, a likelihood-ratio statistic
and AIC.
"""

# %%
# Data and the two fits
# ---------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning

from skmle import LogisticGD, MLPClassifierMLE

X, y = make_moons(n_samples=400, noise=0.2, random_state=0)
logistic = LogisticGD().fit(X, y)
# A weak Gaussian prior (alpha) keeps the weights finite; n_init=3 keeps the
# best of three starts of this non-concave likelihood. L-BFGS ends where some
# rows sit on a ReLU kink (z = 0), where the log-likelihood has one-sided
# derivatives only and the gradient rule of ``tol`` cannot hold: the fit warns
# that it did not converge, and the value no longer rises. The warning is
# silenced here, and max_iter bounds the search.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    network = MLPClassifierMLE(
        n_hidden=10, alpha=1e-2, n_init=3, max_iter=300, random_state=0
    ).fit(X, y)
n_params = {}
for name, model in (("logistic regression", logistic), ("network, 10 ReLU", network)):
    n_params[name] = model.summary().stats["n parameters"]
    print(
        f"{name:20s} log-likelihood {model.loglik_:8.2f}   parameters "
        f"{n_params[name]:3d}   AIC {model.aic_:7.2f}   "
        f"accuracy {model.score(X, y):.3f}"
    )

# %%
# Decision surfaces
# -----------------
# The probability of the second moon over the plane: a straight ramp for the
# logistic model, a boundary that follows the moons for the network.
xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.1, 1.6, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (name, model) in zip(
    axes, (("LogisticGD", logistic), ("MLPClassifierMLE", network)), strict=True
):
    surface = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, surface, levels=20, cmap="RdBu_r", alpha=0.7)
    ax.contour(xx, yy, surface, levels=[0.5], colors="k")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolor="k", s=12)
    ax.set_title(f"{name}: loglik {model.loglik_:.1f}")
    ax.set_xlabel("x0")
axes[0].set_ylabel("x1")

# %%
# Likelihood ratio and AIC
# ------------------------
# The logistic model is the network with the hidden layer taken out, so twice
# the log-likelihood gain is the usual likelihood-ratio statistic. Its
# chi-squared reference with the difference in parameters as degrees of
# freedom is only a rough guide here: a network's parameters are not
# identified (hidden units permute and rescale), and the regularity conditions
# behind Wilks' theorem and AIC do not hold. The gain is so large that no
# reference distribution could make it small.
gain = network.loglik_ - logistic.loglik_
df = n_params["network, 10 ReLU"] - n_params["logistic regression"]
statistic = 2.0 * gain
print(f"log-likelihood gain {gain:.1f}; LR statistic {statistic:.1f} on {df} df")
print(f"chi-squared tail probability (rough): {stats.chi2.sf(statistic, df):.2e}")
print(f"AIC difference (logistic - network): {logistic.aic_ - network.aic_:.1f}")
print(network.summary())
