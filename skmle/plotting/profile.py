"""Plot of the profile likelihood of one parameter, with its two intervals.

The numbers come from :func:`skmle.inference.profile_likelihood`; this module
only draws them. ``ProfileLikelihood`` and ``profile_likelihood`` stay importable
from here and from :mod:`skmle.plotting`.
"""

from __future__ import annotations

from skmle.inference import ProfileLikelihood, profile_likelihood
from skmle.plotting._mpl import axes_or_new

__all__ = ["ProfileLikelihood", "plot_profile_likelihood", "profile_likelihood"]


def plot_profile_likelihood(
    estimator,
    X,
    y=None,
    *,
    param=0,
    values=None,
    n_points=41,
    alpha=0.05,
    ax=None,
    sample_weight=None,
):
    """Plot the profile log-likelihood of one parameter with two intervals.

    Draws the profile :math:`\\ell_p(\\beta)` (a line), the cutoff
    :math:`\\ell(\\hat\\theta) - \\tfrac12\\chi^2_{1,1-\\alpha}` (a dotted horizontal
    line), the estimate, the likelihood-ratio interval where the profile crosses
    the cutoff (solid vertical lines) and the Wald interval from the standard
    error (dashed vertical lines). Where the two intervals disagree, the
    quadratic approximation behind the Wald interval is poor.

    Parameters
    ----------
    estimator : fitted skmle estimator
    X : array-like of shape (n_samples, n_features)
        The training data.
    y : array-like of shape (n_samples,), default=None
    param : int or str, default=0
        Position or ``summary()`` name of the parameter, or a linear combination
        of names (``"x1 - x2"``).
    values : array-like, default=None
    n_points : int, default=41
    alpha : float, default=0.05
    ax : matplotlib Axes, default=None
    sample_weight : array-like of shape (n_samples,), default=None
        The training weights.

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    profile_likelihood : the numbers behind the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmle import GaussianMLE
    >>> from skmle.plotting import plot_profile_likelihood
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> ax = plot_profile_likelihood(GaussianMLE().fit(X), X, param="mean[x1]")
    >>> ax.get_xlabel()
    'mean[x1]'
    """
    profile = profile_likelihood(
        estimator,
        X,
        y,
        param=param,
        values=values,
        n_points=n_points,
        alpha=alpha,
        sample_weight=sample_weight,
    )
    ax = axes_or_new(ax)
    level = f"{100 * (1 - alpha):g}%"
    ax.plot(profile.values, profile.loglik, color="C0", label="profile log-likelihood")
    ax.axhline(
        profile.cutoff, color="0.4", linestyle=":", label=r"cutoff $\chi^2_1$ / 2"
    )
    ax.axvline(profile.estimate, color="k", linewidth=0.8, label="estimate")
    for i, end in enumerate(profile.lr_interval):
        ax.axvline(
            end,
            color="C1",
            label=f"{level} likelihood-ratio interval" if not i else None,
        )
    for i, end in enumerate(profile.wald_interval):
        ax.axvline(
            end,
            color="C2",
            linestyle="--",
            label=f"{level} Wald interval" if not i else None,
        )
    ax.set_xlabel(profile.name)
    ax.set_ylabel("profile log-likelihood")
    ax.legend(loc="best", fontsize="small")
    return ax
