"""A fitted univariate distribution against its data: density over a histogram,
and a Q-Q plot."""

from __future__ import annotations

import numpy as np

from skmle.plotting._mpl import axes_or_new


def _column(estimator, X, column: int):
    values = np.asarray(X, dtype=float)
    values = values[:, column] if values.ndim == 2 else values
    return values, estimator.frozen_distributions()[column], estimator.family_[column]


def plot_distribution_fit(estimator, X, *, column: int = 0, bins="auto", ax=None):
    """Draw the fitted density (or mass) of one column over a histogram of it.

    Parameters
    ----------
    estimator : fitted DistributionMLE
    X : array-like of shape (n_samples, n_features) or (n_samples,)
    column : int, default=0
    bins : int or str, default="auto"
        As ``numpy.histogram``; discrete families use one bar per integer.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    values, frozen, family = _column(estimator, X, column)
    ax = axes_or_new(ax)
    discrete = hasattr(frozen.dist, "pmf")
    if discrete:
        support = np.arange(np.floor(values.min()), np.ceil(values.max()) + 1)
        counts = np.array([np.mean(values == k) for k in support])
        ax.bar(support, counts, width=0.8, alpha=0.5, label="data")
        ax.plot(
            support, frozen.pmf(support), "o-", color="C1", label=f"fitted {family}"
        )
        ax.set_ylabel("probability")
    else:
        ax.hist(values, bins=bins, density=True, alpha=0.5, label="data")
        grid = np.linspace(values.min(), values.max(), 400)
        ax.plot(grid, frozen.pdf(grid), color="C1", label=f"fitted {family}")
        ax.set_ylabel("density")
    ax.set_xlabel(f"x{column}")
    ax.legend()
    return ax


def plot_qq(estimator, X, *, column: int = 0, ax=None):
    """Q-Q plot: the sorted values of one column against the fitted quantiles at
    the plotting positions :math:`(i - 1/2)/n`; on the diagonal when the family fits.

    Parameters
    ----------
    estimator : fitted DistributionMLE
    X : array-like of shape (n_samples, n_features) or (n_samples,)
    column : int, default=0
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    values, frozen, family = _column(estimator, X, column)
    ax = axes_or_new(ax)
    observed = np.sort(values)
    fitted = frozen.ppf((np.arange(1, observed.size + 1) - 0.5) / observed.size)
    ax.plot(fitted, observed, ".", label="data")
    ends = [min(fitted.min(), observed.min()), max(fitted.max(), observed.max())]
    ax.plot(ends, ends, color="C1", label="y = x")
    ax.set_xlabel(f"fitted {family} quantiles")
    ax.set_ylabel("observed quantiles")
    ax.legend()
    return ax
