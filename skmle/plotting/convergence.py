"""Convergence curves: the log-likelihood against the iteration number."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from skmle.plotting._mpl import axes_or_new


def _history(fit) -> tuple[np.ndarray, np.ndarray]:
    """Iteration numbers and log-likelihoods of a fitted estimator or a history.

    A history of length ``n_iter_ + 1`` starts at iteration 0 (the starting
    point); one of length ``n_iter_`` starts at iteration 1.
    """
    if hasattr(fit, "loglik_history_"):
        history = np.asarray(fit.loglik_history_, dtype=float)
        first = 1 if len(history) == getattr(fit, "n_iter_", -1) else 0
    else:
        history = np.asarray(fit, dtype=float)
        first = 0
    if history.ndim != 1 or history.size == 0:
        raise ValueError(
            "Each fit must be a fitted skmle estimator (with loglik_history_) or a "
            f"non-empty 1-D array of log-likelihoods; got shape {history.shape}."
        )
    return np.arange(first, first + history.size), history


def _is_numbers(fits) -> bool:
    """Whether ``fits`` is one history (numbers) rather than a list of fits."""
    if isinstance(fits, np.ndarray):
        return fits.dtype.kind in "fiu"
    return (
        isinstance(fits, list | tuple)
        and len(fits) > 0
        and all(isinstance(v, int | float | np.number) for v in fits)
    )


def _default_label(fit, index: int) -> str:
    solver = getattr(fit, "solver", None)
    if solver is None:
        return f"fit {index}"
    return f"{type(fit).__name__} ({solver})"


def plot_convergence(fits, *, labels=None, kind: str = "loglik", ax=None):
    """Plot the log-likelihood against the iteration for one fit or several.

    With ``kind="loglik"`` the y axis is the training log-likelihood
    :math:`\\ell(\\theta_t)` stored in ``loglik_history_``. With ``kind="gap"`` it
    is the distance to the best value any of the fits reached,
    :math:`\\ell^\\ast - \\ell(\\theta_t)`, on a log scale: on that scale linear
    convergence (gradient ascent) is a straight line and Newton's quadratic
    convergence a curve that plunges. Points where the gap is zero are left out.

    Parameters
    ----------
    fits : fitted estimator, array-like, or a list or dict of them
        Fitted skmle estimators (anything with ``loglik_history_``) or 1-D
        arrays of log-likelihoods. A dict maps legend labels to fits.
    labels : list of str, default=None
        Legend labels, one per fit. By default the class and solver names.
    kind : {"loglik", "gap"}, default="loglik"
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmle import GaussianMLE
    >>> from skmle.plotting import plot_convergence
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> fits = [GaussianMLE(solver=s).fit(X) for s in ("gd", "lbfgs", "newton")]
    >>> ax = plot_convergence(fits, kind="gap")
    >>> len(ax.get_lines())
    3
    """
    if kind not in ("loglik", "gap"):
        raise ValueError(f"kind must be 'loglik' or 'gap', got {kind!r}.")
    if isinstance(fits, Mapping):
        labels = list(fits.keys()) if labels is None else labels
        fits = list(fits.values())
    elif hasattr(fits, "loglik_history_") or _is_numbers(fits):
        fits = [fits]
    fits = list(fits)
    if labels is None:
        labels = [_default_label(fit, i) for i, fit in enumerate(fits)]
    if len(labels) != len(fits):
        raise ValueError(f"Got {len(labels)} labels for {len(fits)} fits.")

    curves = [_history(fit) for fit in fits]
    ax = axes_or_new(ax)
    best = max(float(np.max(history)) for _, history in curves)
    for (iterations, history), label in zip(curves, labels, strict=True):
        style = {"marker": "o", "markersize": 3} if history.size <= 30 else {}
        if kind == "loglik":
            ax.plot(iterations, history, label=label, **style)
        else:
            gap = best - history
            shown = gap > 0
            ax.plot(iterations[shown], gap[shown], label=label, **style)
    ax.set_xlabel("iteration")
    if kind == "loglik":
        ax.set_ylabel("log-likelihood")
    else:
        ax.set_yscale("log")
        ax.set_ylabel("log-likelihood below the best value reached")
    if len(fits) > 1 or labels[0]:
        ax.legend()
    return ax
