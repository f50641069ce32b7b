"""
Choosing the prior of a logistic regression by cross-validation
===============================================================

On all 30 features of the breast cancer data the two diagnoses are linearly
separable: some hyperplane puts every tumour on its own side, so the
log-likelihood climbs towards 0 as the coefficients grow and no maximum
likelihood estimate exists. :class:`skmle.LogisticGD` detects this and warns.

A Gaussian prior :math:`w \\sim N(0, \\alpha^{-1} I)` on the coefficients fixes it:
the fit maximises :math:`\\ell(w, b) - \\frac{\\alpha}{2}\\lVert w\\rVert^2` (the L2
penalty; ``alpha`` is scikit-learn's ``1 / C``). We choose ``alpha`` by
cross-validated log-likelihood, with the features standardized inside a
pipeline so that each fold is scaled by its own training rows.
"""

# %%
# The maximum likelihood estimate does not exist
# ----------------------------------------------
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmle import LogisticGD
from skmle.estimators.logistic import PerfectSeparationWarning

data = load_breast_cancer()
X, y = data.data, data.target_names[data.target]  # "malignant" / "benign"

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", PerfectSeparationWarning)
    mle = make_pipeline(StandardScaler(), LogisticGD()).fit(X, y)
print(caught[0].message if caught else "no warning")
print(f"training log-likelihood {mle[-1].loglik_:.3f} (its supremum is 0)")

# %%
# Cross-validating the prior's precision
# --------------------------------------
# ``neg_log_loss`` is the mean held-out log-likelihood per sample: the natural
# score for a probabilistic classifier. ``alpha = 0`` stays in the grid; on a
# fold where the classes separate it returns the separating fit (with the
# warning, silenced here), and its held-out score shows what that costs.
pipeline = make_pipeline(StandardScaler(), LogisticGD())
grid = {"logisticgd__alpha": [0.0, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]}
search = GridSearchCV(
    pipeline,
    grid,
    scoring="neg_log_loss",
    cv=StratifiedKFold(5, shuffle=True, random_state=0),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", PerfectSeparationWarning)
    search.fit(X, y)

alphas = np.array(grid["logisticgd__alpha"])
scores = search.cv_results_["mean_test_score"]
for alpha, score, spread in zip(
    alphas, scores, search.cv_results_["std_test_score"], strict=True
):
    print(
        f"alpha = {alpha:>6g}: held-out log-likelihood per sample {score:.4f} ± {spread:.4f}"
    )
print("best:", search.best_params_)

# %%
# The chosen model
# ----------------
# With ``alpha > 0`` the maximum a posteriori estimate is unique. Its standard
# errors come from :math:`(X^\top W X + \alpha I)^{-1}`: the posterior standard
# deviations of the Laplace approximation.
best = search.best_estimator_[-1]
print(best.summary(feature_names=list(data.feature_names)))

# %%
# Held-out log-likelihood against the prior's precision
# ------------------------------------------------------
try:
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional
    plt = None

if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    shown = alphas > 0
    ax.errorbar(
        alphas[shown],
        scores[shown],
        yerr=search.cv_results_["std_test_score"][shown],
        marker="o",
        capsize=3,
    )
    ax.axhline(scores[0], color="grey", ls="--", label="alpha = 0 (separating fit)")
    ax.set_xscale("log")
    ax.set_xlabel("alpha (prior precision)")
    ax.set_ylabel("held-out log-likelihood / sample")
    ax.legend()
    fig.tight_layout()
    plt.show()
