"""Two-dimensional view of a Gaussian mixture: the data and each component's ellipses."""

from __future__ import annotations

import numpy as np

from skmle.plotting._mpl import axes_or_new, patches


def component_covariances(estimator) -> np.ndarray:
    """Every component's full covariance, shape (n_components, d, d).

    Reads ``covariances_`` in scikit-learn's layout for the estimator's
    ``covariance_type``: ``"full"`` (k, d, d), ``"tied"`` (d, d), ``"diag"``
    (k, d) or ``"spherical"`` (k,).
    """
    means = np.asarray(estimator.means_, dtype=float)
    covariances = np.asarray(estimator.covariances_, dtype=float)
    n_components, d = means.shape
    kind = getattr(estimator, "covariance_type", "full")
    if kind == "full":
        return covariances
    if kind == "tied":
        return np.broadcast_to(covariances, (n_components, d, d))
    if kind == "diag":
        return covariances[:, :, None] * np.eye(d)
    if kind == "spherical":
        return covariances[:, None, None] * np.eye(d)
    raise ValueError(f"Unknown covariance_type {kind!r}.")


def ellipse_geometry(
    covariance: np.ndarray, n_std: float
) -> tuple[float, float, float]:
    """Width, height and angle (degrees) of the ellipse at Mahalanobis radius ``n_std``.

    The ellipse :math:`\\{x : (x-\\mu)^\\top \\Sigma^{-1}(x-\\mu) = r^2\\}` has its
    axes along the eigenvectors of :math:`\\Sigma`, with half-lengths
    :math:`r\\sqrt{\\lambda}`.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    major = eigenvectors[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    width, height = 2.0 * n_std * np.sqrt(np.maximum(eigenvalues[::-1], 0.0))
    return float(width), float(height), angle


def plot_mixture(estimator, X, *, features=(0, 1), n_std=(1.0, 2.0), ax=None):
    """Plot 2-D data coloured by component with each component's ellipses.

    Each point is coloured by the component ``estimator.predict`` assigns it to;
    each component :math:`k` gets its mean (a cross) and the ellipses
    :math:`(x-\\mu_k)^\\top\\Sigma_k^{-1}(x-\\mu_k) = r^2` for each radius ``r`` in
    ``n_std``, drawn with a line width that grows with the mixing weight
    :math:`\\pi_k`. With more than two features, two are shown and the ellipses
    are those of the components' marginal distributions on them.

    Parameters
    ----------
    estimator : fitted mixture
        Anything with ``means_``, ``covariances_``, ``weights_``,
        ``covariance_type`` and ``predict`` (skmle's ``EMGaussianMixture`` or
        scikit-learn's ``GaussianMixture``).
    X : array-like of shape (n_samples, n_features)
    features : tuple of two int, default=(0, 1)
        The two columns to show.
    n_std : sequence of float, default=(1.0, 2.0)
        Mahalanobis radii of the ellipses.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.mixture import GaussianMixture
    >>> from skmle.plotting import plot_mixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2))])
    >>> ax = plot_mixture(GaussianMixture(2, random_state=0).fit(X), X)
    >>> len(ax.patches)
    4
    """
    X_shown = np.asarray(X, dtype=float)
    if X_shown.ndim != 2 or X_shown.shape[1] < 2:
        raise ValueError(
            f"plot_mixture needs X with at least two columns; got shape {X_shown.shape}."
        )
    columns = list(features)
    if len(columns) != 2:
        raise ValueError(f"features must name two columns, got {features!r}.")
    Patch = patches().Ellipse
    ax = axes_or_new(ax)
    labels = estimator.predict(X)
    means = np.asarray(estimator.means_, dtype=float)[:, columns]
    covariances = component_covariances(estimator)[:, columns][:, :, columns]
    weights = np.asarray(estimator.weights_, dtype=float)
    colours = [f"C{k % 10}" for k in range(means.shape[0])]
    ax.scatter(
        X_shown[:, columns[0]],
        X_shown[:, columns[1]],
        c=[colours[k] for k in labels],
        s=10,
        alpha=0.6,
    )
    for k, (mean, covariance) in enumerate(zip(means, covariances, strict=True)):
        for i, radius in enumerate(n_std):
            width, height, angle = ellipse_geometry(covariance, radius)
            ax.add_patch(
                Patch(
                    mean,
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    edgecolor=colours[k],
                    linewidth=1.0 + 4.0 * weights[k],
                    label=f"component {k} (weight {weights[k]:.2f})" if not i else None,
                )
            )
        ax.plot(*mean, marker="x", color="k", markersize=8, linestyle="none")
    names = getattr(estimator, "feature_names_in_", None)
    names = [f"x{j}" for j in columns] if names is None else [names[j] for j in columns]
    ax.set_xlabel(str(names[0]))
    ax.set_ylabel(str(names[1]))
    ax.legend(fontsize="small")
    ax.autoscale_view()
    return ax
