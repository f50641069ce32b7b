"""
Choosing a distribution for real data
=====================================

Which family describes household income? We fit several to the Engel food
expenditure data (235 Belgian working-class households, 1857, bundled with
statsmodels), rank them by AIC with their Kolmogorov-Smirnov distances, check
the winner with a density plot and a Q-Q plot, and let cross-validation choose
by held-out log-likelihood. Then the same for counts: doctor visits in the RAND
health insurance experiment, Poisson against geometric-like overdispersion.
"""

# %%
# Fit and rank
# ------------
# :func:`skmle.compare_distributions` fits each family by maximum likelihood and
# sorts the table by AIC (lower is better); ``KS`` is
# :math:`\sup_x |F_n(x) - \hat F(x)|`.
import matplotlib.pyplot as plt
import statsmodels.api as sm
from sklearn.model_selection import GridSearchCV

from skmle import DistributionMLE, compare_distributions
from skmle.plotting import plot_distribution_fit, plot_qq

income = sm.datasets.engel.load_pandas().data["income"].to_numpy()
families = ["gamma", "lognormal", "weibull", "exponential", "gaussian", "t"]
table = compare_distributions(income, families)
print(table)
best = table.best()
print(best.summary(feature_names=["income"]))

# %%
# Look at the fit
# ---------------
# The histogram with the fitted density, and the Q-Q plot: sorted incomes
# against the fitted quantiles, on the diagonal where the family fits.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
plot_distribution_fit(best, income[:, None], ax=left)
plot_qq(best, income[:, None], ax=right)
left.set_xlabel("income")
fig.tight_layout()

# %%
# Cross-validation over the family
# --------------------------------
# The family is a hyperparameter and ``score`` is the mean log-likelihood per
# row, so ``GridSearchCV`` ranks the families by how well they predict incomes
# they were not fitted to.
search = GridSearchCV(DistributionMLE(), {"family": families}, cv=5)
search.fit(income[:, None])
for family, score in zip(
    search.cv_results_["param_family"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"{family:12s} held-out log-likelihood per household {score:9.4f}")
print("chosen:", search.best_params_["family"])

# %%
# Counts: the Poisson and its standard error
# ------------------------------------------
# For a Poisson the MLE of the rate is the mean count and its standard error
# :math:`\sqrt{\hat\lambda / N}`. The Poisson forces the variance to equal the
# mean; these visits are far more spread out. The geometric distribution of
# ``visits + 1`` (the trials up to a first success, so a count from 0 up) has
# variance :math:`(1-p)/p^2`, much more than its mean :math:`(1-p)/p`: both are
# probability masses on the same counts, so their log-likelihoods compare
# directly (a density and a mass would not).
visits = sm.datasets.randhie.load_pandas().data["mdvis"].to_numpy()
poisson = DistributionMLE(family="poisson").fit(visits[:, None])
geometric = DistributionMLE(family="geometric").fit(visits[:, None] + 1)
print(f"rate {poisson.rate_[0]:.4f} +/- {poisson.rate_se_[0]:.4f}")
print(f"mean {visits.mean():.4f}, variance {visits.var():.4f}")
print(f"Poisson   log-likelihood {poisson.loglik_:.1f}, AIC {poisson.aic_:.1f}")
print(f"geometric log-likelihood {geometric.loglik_:.1f}, AIC {geometric.aic_:.1f}")
