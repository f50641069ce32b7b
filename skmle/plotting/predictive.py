"""A regressor's predictive distribution: data, mean and central interval."""

from __future__ import annotations

import numpy as np

from skmle.plotting._mpl import axes_or_new


def _grid_like(X, n_grid: int):
    """``n_grid`` evenly spaced values over the range of the single column of X.

    Keeps X's type, so an estimator fitted on a DataFrame sees its column name.
    """
    values = np.asarray(X, dtype=float)[:, 0]
    grid = np.linspace(values.min(), values.max(), n_grid)
    columns = getattr(X, "columns", None)
    if columns is not None:
        import pandas as pd  # X is a DataFrame, so pandas is there

        return grid, pd.DataFrame({columns[0]: grid})
    return grid, grid[:, None]


def plot_predictive_interval(
    estimator,
    X,
    y,
    *,
    alpha: float = 0.05,
    kind: str = "plugin",
    n_grid: int = 200,
    ax=None,
):
    """Plot data with a regressor's predictive mean and central interval.

    The band is ``estimator.predict_interval(X, alpha, kind=kind)``: by default
    the central :math:`1-\\alpha` interval of the plug-in predictive distribution
    of :math:`y` given :math:`x` (for the Gaussian model :math:`\\hat y \\pm
    z_{1-\\alpha/2}\\hat\\sigma`), with ``kind="observation"`` the interval of a
    new observation that includes the uncertainty of the estimates, with
    ``kind="mean"`` the confidence interval of the mean; the legend says which
    fraction of the points it covers.

    With one feature the x axis is that feature and the mean and band are drawn
    over a grid spanning it. With several the x axis is the fitted mean
    :math:`\\hat y`, the mean is the diagonal and the band is drawn row by row:
    this shows every model, whatever its number of features.

    Parameters
    ----------
    estimator : fitted regressor
        Anything with ``predict`` and ``predict_interval`` (skmle's
        ``LinearGaussianRegressor`` and ``LaplaceRegressor``).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    alpha : float, default=0.05
    kind : {"plugin", "mean", "observation"}, default="plugin"
        Passed to ``predict_interval`` (unless ``"plugin"``, so that an
        estimator whose ``predict_interval`` has no ``kind`` plots too).
    n_grid : int, default=200
        Grid size, with one feature.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    y = np.asarray(y, dtype=float)
    n_features = np.shape(X)[1]
    ax = axes_or_new(ax)
    kinds = {"plugin": "predictive", "mean": "mean", "observation": "prediction"}
    if kind not in kinds:
        raise ValueError(f"kind must be one of {tuple(kinds)}, got {kind!r}.")
    # kind is passed only when asked for: any predict_interval(X, alpha) plots.
    options = {"alpha": alpha} if kind == "plugin" else {"alpha": alpha, "kind": kind}
    interval = np.asarray(estimator.predict_interval(X, **options))
    covered = float(np.mean((y >= interval[:, 0]) & (y <= interval[:, 1])))
    level = f"{100 * (1 - alpha):g}%"
    if n_features == 1:
        x_data = np.asarray(X, dtype=float)[:, 0]
        x_line, X_line = _grid_like(X, n_grid)
        mean = np.asarray(estimator.predict(X_line))
        band = np.asarray(estimator.predict_interval(X_line, **options))
        names = getattr(estimator, "feature_names_in_", None)
        xlabel = "x" if names is None else str(names[0])
    else:
        x_data = np.asarray(estimator.predict(X))
        order = np.argsort(x_data)
        x_line, mean, band = x_data[order], x_data[order], interval[order]
        xlabel = "predicted mean"
    ax.scatter(x_data, y, s=10, color="0.3", alpha=0.7, label="data")
    ax.plot(x_line, mean, color="C0", label="predictive mean")
    ax.fill_between(
        x_line,
        band[:, 0],
        band[:, 1],
        color="C0",
        alpha=0.2,
        label=f"{level} {kinds[kind]} interval ({100 * covered:.1f}% of points inside)",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("y")
    ax.legend(fontsize="small")
    return ax
