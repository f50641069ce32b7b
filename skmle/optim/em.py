"""EM: iterate a step that never lowers the objective.

An expectation-maximisation (or any minorise-maximise) algorithm is a map
:math:`\\theta \\mapsto M(\\theta)` with :math:`f(M(\\theta)) \\ge f(\\theta)`. Its
E-step evaluates :math:`f` at the point it starts from as a by-product, so the step
function here returns that value together with the next iterate:

.. math:: \\mathrm{step}(\\theta_{n-1}) = \\big(f(\\theta_{n-1}),\\ \\theta_n\\big).

:class:`EMStep` plugs that map into the loop every iterative solver shares,
:func:`~skmle.optim.loop.run`, which owns the history of :math:`f`, ``max_iter``,
the callback and the result; the step owns the stopping rule below. Neither
knows anything about the model behind ``step``.

Stopping rule
-------------
After step :math:`n \\ge 2` the loop stops if the last known increase is below
``tol``:

.. math:: |f(\\theta_{n-1}) - f(\\theta_{n-2})| < \\mathrm{tol}.

The returned iterate is :math:`\\theta_n`, one step past the pair that met the
rule. This is scikit-learn's ``GaussianMixture`` convention (its "lower bound" is
the log-likelihood the E-step computes), so both stop after the same number of
steps. With ``tol=0`` the loop always runs ``max_iter`` steps.

A run that continues an earlier one (a warm start) passes ``previous``, the value
the earlier run's last step measured, :math:`f(\\theta_{-1})` for the
:math:`\\theta_{-1}` that produced :math:`\\theta_0`; the rule then applies from
the first step, :math:`|f(\\theta_0) - f(\\theta_{-1})| < \\mathrm{tol}`, as
scikit-learn compares with the previous call's ``lower_bound_``. So repeated calls
with ``max_iter=1`` converge once the objective stops moving.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from skmle.optim import loop
from skmle.optim.result import Callback, OptimizeResult

Step = Callable[[np.ndarray], tuple[float, np.ndarray]]
"""``step(theta) -> (value at theta, next theta)``."""


def em(
    step: Step,
    theta0: np.ndarray,
    *,
    value: Callable[[np.ndarray], float],
    max_iter: int = 100,
    tol: float = 1e-3,
    callback: Callback | None = None,
    previous: float | None = None,
) -> OptimizeResult:
    """Maximise by repeating a monotone step (EM) until the increase is below ``tol``.

    Parameters
    ----------
    step : callable
        ``step(theta) -> (value, next_theta)``: the objective at ``theta`` and the
        next iterate, which must not have a lower objective.
    theta0 : ndarray of shape (n_params,)
        The starting point.
    value : callable
        ``value(theta) -> float``: the objective alone, evaluated once at the last
        iterate (which no step has evaluated yet).
    max_iter : int, default=100
        Maximum number of steps.
    tol : float, default=1e-3
        Stop when :math:`|f(\\theta_{n-1}) - f(\\theta_{n-2})| <` ``tol`` (see the
        module docstring); ``tol=0`` runs exactly ``max_iter`` steps.
    callback : callable, optional
        Called as ``callback(n, theta, value)`` after step ``n`` with the point the
        step started from and its value (the point it produced has no value yet).
    previous : float, optional
        For a run continuing an earlier one: the objective the earlier run's last
        step measured (the value at the point that produced ``theta0``). The
        stopping rule then compares the first step's value with it.

    Returns
    -------
    OptimizeResult
        ``history`` has ``n_iter + 1`` entries: :math:`f(\\theta_0), \\dots,
        f(\\theta_{n})`; ``value`` is its last entry, the objective at the returned
        ``theta``.

    Raises
    ------
    ValueError
        If ``step`` or ``value`` returns a non-finite objective.

    Examples
    --------
    Rao's genetic linkage data (Dempster, Laird and Rubin, 1977): counts
    ``(125, 18, 20, 34)`` with cell probabilities
    :math:`(\\frac12 + \\frac\\theta4, \\frac{1-\\theta}4, \\frac{1-\\theta}4,
    \\frac\\theta4)`. The E-step splits the first cell; the M-step is a ratio.

    >>> import numpy as np
    >>> from skmle.optim.em import em
    >>> counts = np.array([125.0, 18.0, 20.0, 34.0])
    >>> def loglik(theta):
    ...     t = theta[0]
    ...     probs = np.array([0.5 + t / 4, (1 - t) / 4, (1 - t) / 4, t / 4])
    ...     return float(counts @ np.log(probs))
    >>> def step(theta):
    ...     t = theta[0]
    ...     x2 = counts[0] * (t / 4) / (0.5 + t / 4)  # expected count of the t/4 part
    ...     new = (x2 + counts[3]) / (x2 + counts[1] + counts[2] + counts[3])
    ...     return loglik(theta), np.array([new])
    >>> result = em(step, np.array([0.5]), value=loglik, tol=1e-12)
    >>> round(float(result.theta[0]), 8), result.converged
    (0.6268215, True)
    """
    em_step = EMStep(step, value, tol, previous)
    return loop.run(em_step, theta0, max_iter=max_iter, callback=callback)


class _Iterate(NamedTuple):
    """After step :math:`n`: the point it started from and its value, the point
    it produced, and the value before."""

    theta: np.ndarray | None
    value: float | None
    next_theta: np.ndarray
    last: float | None


class EMStep(loop.Step):
    """The EM map as a :class:`~skmle.optim.loop.Step`.

    A state presents the point a step started from, :math:`\\theta_{n-1}`, with
    its value (which the step measured), so the loop records
    :math:`f(\\theta_{n-1})` after step :math:`n` and the callback sees that
    point; :meth:`finish` evaluates the point the last step produced.
    """

    def __init__(self, step: Step, value, tol: float, previous: float | None):
        self.step, self.value, self.tol = step, value, tol
        self.previous = None if previous is None else float(previous)
        self.n_steps = 0

    def start(self, theta: np.ndarray) -> _Iterate:
        return _Iterate(None, None, theta, self.previous)

    def rule(self, state: _Iterate) -> str | None:
        known = state.value is not None and state.last is not None
        if known and abs(state.value - state.last) < self.tol:
            return "increase of the objective below tol"
        return None

    def advance(self, state: _Iterate) -> _Iterate:
        current, next_theta = self.step(state.next_theta)
        _check_finite(current, self.n_steps)
        self.n_steps += 1
        last = state.last if state.value is None else state.value
        return _Iterate(
            state.next_theta,
            float(current),
            np.asarray(next_theta, dtype=float),
            last,
        )

    def finish(self, state: _Iterate) -> _Iterate:
        final = self.value(state.next_theta)
        _check_finite(final, self.n_steps)
        return _Iterate(state.next_theta, float(final), state.next_theta, None)


def _check_finite(value: float, iteration: int) -> None:
    if not np.isfinite(value):
        raise ValueError(
            f"The objective is not finite ({value}) at iterate {iteration} of EM; "
            "the parameters have degenerated."
        )
