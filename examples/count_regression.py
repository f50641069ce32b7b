"""
Doctor visits: Poisson against negative binomial regression
===========================================================

The RAND Health Insurance Experiment (statsmodels' ``randhie``) counts each
person's doctor visits in a year (``mdvis``) with their coinsurance rate,
income, health and chronic conditions. A Poisson regression says the variance
of a count equals its mean; these counts are far more spread out. The negative
binomial (NB2) adds a dispersion :math:`\\alpha`, with variance
:math:`\\mu + \\alpha\\mu^2`, estimated jointly with the coefficients. Both
models share the mean :math:`\\log\\mu = x^\\top w + b`, and both fits take
well under a second.
"""

# %%
# The data and the two fits
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
import statsmodels.api as sm
from scipy import stats

from skmle import NegativeBinomialRegressor, PoissonMLERegressor

data = sm.datasets.randhie.load_pandas()
X, y = data.exog, data.endog.to_numpy(float)
print(f"{len(y)} people, mean visits {y.mean():.2f}, variance {y.var():.2f}")

poisson = PoissonMLERegressor().fit(X, y)
negbin = NegativeBinomialRegressor().fit(X, y)
print(negbin.summary())

# %%
# Which model?
# ------------
# The negative binomial's log-likelihood is far higher, for one parameter more,
# and the likelihood-ratio test of :math:`\alpha = 0` (a boundary, so the
# :math:`\chi^2_1` p-value is halved) rejects the Poisson at any level.
lr = 2 * (negbin.loglik_ - poisson.loglik_)
print(f"AIC Poisson {poisson.aic_:.0f}, NB2 {negbin.aic_:.0f}")
print(
    f"alpha = {negbin.alpha_:.3f} (se {negbin.alpha_se_:.3f}), LR = {lr:.0f}, "
    f"p = {0.5 * stats.chi2.sf(lr, 1):.1e}"
)

# %%
# Standard errors under overdispersion
# ------------------------------------
# The Poisson fit's model-based standard errors are far too small. The
# sandwich (``cov_type="HC0"``, the "quasi-Poisson robust" errors) corrects
# them without changing the estimates, and lands close to the negative
# binomial's.
robust = PoissonMLERegressor(cov_type="HC0").fit(X, y)
print(f"{'':10s} {'Poisson':>9s} {'robust':>9s} {'NB2':>9s}")
for j, name in enumerate(X.columns):
    print(
        f"{name:10s} {poisson.coef_se_[j]:9.4f} {robust.coef_se_[j]:9.4f} "
        f"{negbin.coef_se_[j]:9.4f}"
    )

# %%
# Observed and fitted count frequencies
# -------------------------------------
# ``predict_dist`` gives each person's fitted distribution (frozen
# ``scipy.stats`` objects); averaging their probabilities gives the expected
# number of people with each count. The Poisson has far too few zeros and too
# few large counts; the negative binomial follows the data.
counts = np.arange(16)
observed = np.array([(y == k).sum() for k in counts])
expected = {
    name: np.array([model.predict_dist(X).pmf(k).sum() for k in counts])
    for name, model in (("Poisson", poisson), ("NB2", negbin))
}
fig, ax = plt.subplots(figsize=(7, 4))
ax.bar(counts, observed, color="0.8", label="observed")
for (name, values), marker in zip(expected.items(), ["o-", "s-"], strict=True):
    ax.plot(counts, values, marker, label=name)
ax.set_xlabel("doctor visits in the year")
ax.set_ylabel("people")
ax.set_title("randhie: observed and fitted count frequencies")
ax.legend()
plt.show()
