"""Profile likelihood of one parameter, and its likelihood-ratio interval.

The profile log-likelihood of a parameter :math:`\\beta = \\theta_j` is the
log-likelihood maximised over every other parameter with :math:`\\beta` held fixed,

.. math:: \\ell_p(\\beta) = \\max_{\\theta:\\ \\theta_j = \\beta} \\ell(\\theta).

By Wilks' theorem :math:`2\\{\\ell(\\hat\\theta) - \\ell_p(\\beta)\\}` is
approximately :math:`\\chi^2_1` at the true :math:`\\beta`, so

.. math:: \\{\\beta : \\ell_p(\\beta) \\ge \\ell(\\hat\\theta) - \\tfrac12
   \\chi^2_{1,1-\\alpha}\\}

is a :math:`1-\\alpha` confidence interval. Unlike the Wald interval
:math:`\\hat\\beta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}` it need not be symmetric, and it
does not change when the parameter is transformed.

The computations work on an objective (:func:`profile_point`, over the other
parameters by Newton's method or L-BFGS) or on any function from a value of the
parameter to the profile (:func:`likelihood_ratio_interval`, :func:`profile_on_grid`).
:func:`profile_likelihood` puts them together for a fitted estimator through its
public methods (``loglik_function``, ``param_blocks``, ``param_names``) and its
fitted ``theta_`` and ``<block>_se_``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from skmle.optim import lbfgs, newton

INNER_TOL = 1e-7  # mean-gradient tol; the profile value then errs by O(tol**2)

Evaluate = Callable[[float, np.ndarray], tuple[float, np.ndarray]]
"""``evaluate(value, start) -> (profile log-likelihood, theta where it is reached)``."""


@dataclass(frozen=True)
class ProfileLikelihood:
    """A profile log-likelihood on a grid, with both confidence intervals.

    Attributes
    ----------
    name : str
        The parameter, as ``summary()`` labels it.
    values : ndarray of shape (n_points,)
        Grid of values of the parameter.
    loglik : ndarray of shape (n_points,)
        The profile log-likelihood at each value.
    estimate : float
        The maximum likelihood estimate of the parameter.
    loglik_max : float
        The maximised log-likelihood.
    lr_interval : tuple of float
        The likelihood-ratio interval (where the profile crosses the cutoff).
    wald_interval : tuple of float
        :math:`\\hat\\beta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}`.
    cutoff : float
        :math:`\\ell(\\hat\\theta) - \\tfrac12\\chi^2_{1,1-\\alpha}`.
    alpha : float
    """

    name: str
    values: np.ndarray
    loglik: np.ndarray
    estimate: float
    loglik_max: float
    lr_interval: tuple[float, float]
    wald_interval: tuple[float, float]
    cutoff: float
    alpha: float


class _Restricted:
    """The objective over every parameter but ``theta[index]``, which is fixed."""

    def __init__(self, objective, index: int, value: float, theta: np.ndarray):
        self.objective = objective
        self.index = index
        self.full = np.array(theta, dtype=float)
        self.full[index] = value
        self.has_hessian = objective.has_hessian

    def embed(self, free: np.ndarray) -> np.ndarray:
        return np.insert(free, self.index, self.full[self.index])

    def value(self, free):
        return self.objective.value(self.embed(free))

    def value_and_grad(self, free):
        value, grad = self.objective.value_and_grad(self.embed(free))
        return value, np.delete(grad, self.index)

    def hessian(self, free):
        hess = self.objective.hessian(self.embed(free))
        return np.delete(np.delete(hess, self.index, axis=0), self.index, axis=1)


def profile_point(
    objective, index: int, value: float, start: np.ndarray
) -> tuple[float, np.ndarray]:
    """The profile log-likelihood at ``theta[index] = value``, and where it is.

    The other parameters are re-maximised from ``start``: by Newton's method when
    the objective has a Hessian, else by L-BFGS, to a mean-gradient tolerance of
    :data:`INNER_TOL`.

    Parameters
    ----------
    objective : Objective
        The mean log-likelihood of a flat ``theta``, as ``loglik_function``
        returns it.
    index : int
        The position of the parameter in ``theta``.
    value : float
    start : ndarray of shape (n_params,)

    Returns
    -------
    loglik : float
        The total (not mean) profile log-likelihood.
    theta : ndarray of shape (n_params,)
        The maximiser, with ``theta[index] == value``.
    """
    restricted = _Restricted(objective, index, value, start)
    free = np.delete(restricted.full, index)
    if free.size:
        solver = newton if restricted.has_hessian else lbfgs
        options = {"max_iter": 100} if solver is newton else {"max_iter": 1000}
        free = solver(restricted, free, tol=INNER_TOL, **options).theta
    theta = restricted.embed(free)
    return objective.value(theta) * objective.total_weight, theta


def likelihood_ratio_interval(
    evaluate: Evaluate,
    estimate: float,
    theta_hat: np.ndarray,
    cutoff: float,
    scale: float,
    name: str = "the parameter",
) -> tuple[float, float]:
    """Where the profile crosses ``cutoff`` on each side of ``estimate``.

    Each end is bracketed by steps of ``scale`` doubling outwards, then found by
    Brent's method to ``1e-10``.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(value, start) -> (profile log-likelihood, theta)``.
    estimate : float
        The maximum likelihood estimate, where the profile is highest.
    theta_hat : ndarray of shape (n_params,)
        The maximiser, the start of every evaluation.
    cutoff : float
        :math:`\\ell(\\hat\\theta) - \\tfrac12\\chi^2_{1,1-\\alpha}`.
    scale : float
        The first step away from the estimate.
    name : str, default="the parameter"
        For the error message.

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        When the profile stays above the cutoff (an unbounded interval).
    """

    def excess(value):
        return evaluate(value, theta_hat)[0] - cutoff

    ends = []
    for direction in (-1.0, 1.0):
        step = scale
        while excess(estimate + direction * step) > 0:
            step *= 2.0
            if step > 1e6 * scale:
                raise ValueError(
                    f"The profile log-likelihood of {name} does not fall below the "
                    "cutoff: the likelihood-ratio interval is unbounded."
                )
        ends.append(
            optimize.brentq(excess, estimate, estimate + direction * step, xtol=1e-10)
        )
    return float(ends[0]), float(ends[1])


def profile_on_grid(
    evaluate: Evaluate, estimate: float, theta_hat: np.ndarray, values
) -> np.ndarray:
    """The profile log-likelihood at each of ``values``.

    By continuation: walking outwards from the estimate, each solve starts where
    the previous one ended, so Newton's method starts close to the answer.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(value, start) -> (profile log-likelihood, theta)``.
    estimate : float
    theta_hat : ndarray of shape (n_params,)
    values : array-like of shape (n_points,)

    Returns
    -------
    ndarray of shape (n_points,)
    """
    values = np.asarray(values, dtype=float)
    loglik = np.empty_like(values)
    order = np.argsort(values)
    below = [i for i in order[::-1] if values[i] < estimate]
    above = [i for i in order if values[i] >= estimate]
    for side in (below, above):
        theta = theta_hat
        for i in side:
            loglik[i], theta = evaluate(values[i], theta)
    return loglik


def _parameter_index(estimator, param) -> tuple[int, str, float]:
    """Position in ``theta_``, summary label and standard error of ``param``."""
    names = estimator.param_names()
    blocks = estimator.param_blocks()
    if not blocks:
        raise ValueError(
            f"{type(estimator).__name__} reports no standard errors, so it has no "
            "parameters to profile."
        )
    indices = np.concatenate(list(blocks.values()))
    errors = np.concatenate(
        [np.ravel(getattr(estimator, f"{name}_se_")) for name in blocks]
    )
    if isinstance(param, int | np.integer):
        if not 0 <= param < len(names):
            raise ValueError(
                f"param={param} is out of range: there are {len(names)} parameters."
            )
        position = int(param)
    elif param in names:
        position = names.index(param)
    else:
        raise ValueError(
            f"Unknown parameter {param!r}. Choose one of {names} (the names in "
            "summary()) or an integer position."
        )
    return int(indices[position]), names[position], float(errors[position])


def _is_linear_regressor(estimator) -> bool:
    coef = getattr(estimator, "coef_", None)
    return (
        hasattr(estimator, "fit_intercept")
        and coef is not None
        and np.ndim(coef) == 1
        and estimator.__sklearn_tags__().estimator_type == "regressor"
    )


def _offset_refit(estimator, X, y, index) -> Evaluate:
    """Profile of a linear regressor by refitting with the parameter as an offset.

    With :math:`w_j = \\beta` fixed the model is a regression of
    :math:`y - \\beta x_j` on the other columns (of :math:`y - \\beta` without an
    intercept, for the intercept), so the estimator's own exact solver gives the
    profile; this is how models without a Hessian (least absolute deviations,
    whose log-likelihood has kinks) are profiled.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n_features = X.shape[1]

    def evaluate(value, start):
        model = estimator.__sklearn_clone__()
        if index < n_features:
            rest = np.delete(X, index, axis=1)
            if rest.shape[1] == 0:  # the intercept alone: a column of ones
                rest = np.ones((X.shape[0], 1))
                model.set_params(fit_intercept=False)
            model.fit(rest, y - value * X[:, index])
        else:
            model.set_params(fit_intercept=False).fit(X, y - value)
        return model.loglik_, start

    return evaluate


def profile_likelihood(
    estimator, X, y=None, *, param=0, values=None, n_points: int = 41, alpha=0.05
) -> ProfileLikelihood:
    """Profile log-likelihood of one parameter of a fitted estimator.

    For each value of the parameter the others are re-maximised: by Newton's
    method when the model has a Hessian, starting from the solution at the
    neighbouring value; for a linear regressor without one (``LaplaceRegressor``)
    by refitting the estimator with the parameter as an offset; by L-BFGS
    otherwise.

    Parameters
    ----------
    estimator : fitted skmle estimator
        One that reports standard errors (``coef_se_``, ``mean_se_``, ...).
    X : array-like of shape (n_samples, n_features)
        The training data it was fitted on.
    y : array-like of shape (n_samples,), default=None
        The training targets, for supervised estimators.
    param : int or str, default=0
        The parameter: its position or its name in ``summary()``.
    values : array-like, default=None
        Where to evaluate the profile. By default ``n_points`` values spanning
        both intervals with a margin.
    n_points : int, default=41
    alpha : float, default=0.05
        The intervals have level ``1 - alpha``.

    Returns
    -------
    ProfileLikelihood

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import GaussianMLE
    >>> from skmle.inference import profile_likelihood
    >>> X = np.random.default_rng(0).normal(loc=3.0, size=(100, 1))
    >>> profile = profile_likelihood(GaussianMLE().fit(X), X)
    >>> lower, upper = profile.lr_interval
    >>> bool(lower < X.mean() < upper)
    True
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
    index, name, std_err = _parameter_index(estimator, param)
    objective = estimator.loglik_function(X, y)
    theta_hat = np.asarray(estimator.theta_, dtype=float)
    loglik_max = objective.value(theta_hat) * objective.total_weight
    estimate = float(theta_hat[index])
    drop = 0.5 * stats.chi2.ppf(1.0 - alpha, df=1)
    cutoff = loglik_max - drop

    # A linear regressor without a Hessian (least absolute deviations, with kinks)
    # is profiled by refitting, which needs another location parameter to refit.
    refit = (
        not objective.has_hessian
        and _is_linear_regressor(estimator)
        and np.size(estimator.coef_) + bool(estimator.fit_intercept) >= 2
    )
    if refit:
        evaluate = _offset_refit(estimator, X, y, index)
    else:

        def evaluate(value, start):
            return profile_point(objective, index, value, start)

    scale = std_err if np.isfinite(std_err) and std_err > 0 else 0.1
    scale *= np.sqrt(2.0 * drop)
    lr_interval = likelihood_ratio_interval(
        evaluate, estimate, theta_hat, cutoff, scale, name
    )
    half = stats.norm.ppf(1.0 - alpha / 2.0) * std_err
    wald_interval = (estimate - half, estimate + half)

    if values is None:
        low = min(lr_interval[0], wald_interval[0])
        high = max(lr_interval[1], wald_interval[1])
        margin = 0.3 * (high - low)
        values = np.linspace(low - margin, high + margin, n_points)
    values = np.asarray(values, dtype=float)
    return ProfileLikelihood(
        name=name,
        values=values,
        loglik=profile_on_grid(evaluate, estimate, theta_hat, values),
        estimate=estimate,
        loglik_max=float(loglik_max),
        lr_interval=lr_interval,
        wald_interval=wald_interval,
        cutoff=float(cutoff),
        alpha=alpha,
    )
