"""Import matplotlib only when a plot is drawn, with a message naming the extra."""

from __future__ import annotations

INSTALL_HINT = 'pip install "skmle[plot]"'


def pyplot():
    """Return ``matplotlib.pyplot``, or raise an ImportError saying how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "skmle.plotting needs matplotlib, which is not installed. Install the "
            f"'plot' extra: {INSTALL_HINT}"
        ) from error
    return plt


def axes_or_new(ax):
    """``ax`` itself, or the Axes of a new figure when ``ax`` is None."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots()
    return ax


def patches():
    """``matplotlib.patches`` (after :func:`pyplot` has checked matplotlib is there)."""
    pyplot()
    import matplotlib.patches

    return matplotlib.patches
