"""
Student-t regression on data with outliers
==========================================

Under Gaussian noise a point ten standard deviations away is all but
impossible, so least squares bends to make it less improbable. Under Student-t
noise, :math:`e \\sim t_\\nu(0, s)`, the log-density falls only like
:math:`-(\\nu+1)\\log|e|`: a far point costs little, and its pull on the line
fades. Unlike the Laplace model, the data choose how heavy the tails are:
:math:`\\nu` is estimated with the line and the scale.

Two of statsmodels' bundled data sets: Engel's food expenditure against income
(235 Belgian working-class households, 1857) and Brownlee's stack loss
(21 days of a plant oxidising ammonia, whose days 1, 3, 4 and 21 are the
classic outliers).
"""

# %%
# Engel's food expenditure
# ------------------------
import matplotlib.pyplot as plt
import numpy as np
import statsmodels.api as sm

from skmle import LinearGaussianRegressor, StudentTRegressor

engel = sm.datasets.engel.load_pandas().data
X = engel[["income"]].to_numpy()
y = engel["foodexp"].to_numpy()

gaussian = LinearGaussianRegressor().fit(X, y)
student = StudentTRegressor().fit(X, y)
print(student.summary())
for name, model in (("Gaussian", gaussian), ("Student-t", student)):
    print(
        f"{name:9s} slope {model.coef_[0]:.4f} (se {model.coef_se_[0]:.4f})  "
        f"log-likelihood {model.loglik_:9.2f}  AIC {model.aic_:8.2f}"
    )

# %%
# A few rich households spend much less on food than the line predicts; least
# squares flattens for them, the t fit follows the bulk. The band is the
# central 90% of the fitted t around its line (``predict_interval``).
grid = np.linspace(X.min(), X.max(), 200)[:, None]
band = student.predict_interval(grid, alpha=0.1)
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.scatter(X[:, 0], y, s=10, color="0.4", label="households")
ax.fill_between(
    grid[:, 0],
    band[:, 0],
    band[:, 1],
    color="C1",
    alpha=0.2,
    label="90% predictive band (t)",
)
ax.plot(grid, gaussian.predict(grid), color="C0", label="Gaussian MLE (least squares)")
ax.plot(
    grid,
    student.predict(grid),
    color="C1",
    label=f"Student-t MLE (df = {student.df_:.2f})",
)
ax.set_xlabel("household income")
ax.set_ylabel("food expenditure")
ax.legend(fontsize="small")

# %%
# Stack loss: which days does the t fit discount?
# -----------------------------------------------
# The t is a scale mixture of normals: given its residual, each day's noise has
# precision :math:`u_i = (\nu + 1)/(\nu + z_i^2)` times :math:`1/s^2` on average,
# the weight that day gets in the weighted least-squares equations the MLE
# solves (the E-step of EM). Days 1, 3, 4 and 21 get the smallest.
stack = sm.datasets.stackloss.load_pandas()
Xs, ys = stack.exog.to_numpy(), stack.endog.to_numpy()
fit = StudentTRegressor().fit(Xs, ys)
ols = LinearGaussianRegressor().fit(Xs, ys)
z = (ys - fit.predict(Xs)) / fit.scale_
weights = (fit.df_ + 1.0) / (fit.df_ + z**2)
print(f"df {fit.df_:.2f}, scale {fit.scale_:.3f}")
print("lowest weights on days", 1 + np.argsort(weights)[:4])
print(
    "coefficients  t:",
    np.round(fit.coef_, 3),
    " least squares:",
    np.round(ols.coef_, 3),
)

fig, ax = plt.subplots(figsize=(6, 3.5))
days = np.arange(1, len(ys) + 1)
ax.bar(days, weights, color=["C3" if d in (1, 3, 4, 21) else "C1" for d in days])
ax.set_xlabel("day")
ax.set_ylabel("weight $u_i$ in the t fit")
ax.set_xticks(days)
plt.show()
