"""Plots of fitted skmle models (needs matplotlib: ``pip install "skmle[plot]"``).

Importing this module does not import matplotlib; each function does when called,
and raises an ``ImportError`` naming the ``plot`` extra if it is missing. Every
function draws on ``ax`` (a new figure when ``ax=None``) and returns the Axes.

- :func:`plot_convergence`: log-likelihood against iteration, one fit or several.
- :func:`plot_profile_likelihood`: profile log-likelihood of one parameter, with
  its likelihood-ratio and Wald intervals (numbers from
  :func:`skmle.inference.profile_likelihood`, also importable from here).
- :func:`plot_mixture`: 2-D data and a Gaussian mixture's component ellipses.
- :func:`plot_predictive_interval`: data, predictive mean and predictive band.
- :func:`plot_distribution_fit` and :func:`plot_qq`: a fitted univariate family
  over a histogram of its column, and its Q-Q plot.
"""

from skmle.plotting.convergence import plot_convergence
from skmle.plotting.distribution import plot_distribution_fit, plot_qq
from skmle.plotting.mixture import plot_mixture
from skmle.plotting.predictive import plot_predictive_interval
from skmle.plotting.profile import (
    ProfileLikelihood,
    plot_profile_likelihood,
    profile_likelihood,
)

__all__ = [
    "ProfileLikelihood",
    "plot_convergence",
    "plot_distribution_fit",
    "plot_mixture",
    "plot_predictive_interval",
    "plot_profile_likelihood",
    "plot_qq",
    "profile_likelihood",
]
