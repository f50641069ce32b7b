"""skmle.plotting's distribution plots, checked by what they draw (Agg backend)."""

import matplotlib
import numpy as np
import pytest
from scipy import stats

from skmle import DistributionMLE
from skmle.plotting import plot_distribution_fit, plot_qq

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_density_over_histogram_and_qq():
    x = np.random.default_rng(0).gamma(2.0, 1.5, (300, 1))
    model = DistributionMLE(family="gamma").fit(x)
    ax = plot_distribution_fit(model, x)
    line = ax.get_lines()[0]
    shape, _, scale = stats.gamma.fit(x[:, 0], floc=0)
    reference = stats.gamma(shape, scale=scale).pdf(line.get_xdata())
    np.testing.assert_allclose(line.get_ydata(), reference, rtol=1e-6)
    assert sum(p.get_height() * p.get_width() for p in ax.patches) == pytest.approx(1.0)
    ax = plot_qq(model, x)
    points = ax.get_lines()[0]
    np.testing.assert_array_equal(points.get_ydata(), np.sort(x[:, 0]))
    expected = stats.gamma(shape, scale=scale).ppf((np.arange(1, 301) - 0.5) / 300)
    np.testing.assert_allclose(points.get_xdata(), expected, rtol=1e-6)


def test_discrete_bars():
    counts = np.random.default_rng(1).poisson(2.0, (200, 1))
    model = DistributionMLE(family="poisson").fit(counts)
    ax = plot_distribution_fit(model, counts)
    support = ax.get_lines()[0].get_xdata()
    np.testing.assert_allclose(
        ax.get_lines()[0].get_ydata(), stats.poisson(counts.mean()).pmf(support)
    )
