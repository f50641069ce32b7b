"""The profile likelihood of a fitted estimator's parameters, and their
likelihood-ratio (profile) confidence intervals.

Built on :mod:`skmle.inference.profile` and the estimator's public methods only
(``loglik_function``, ``param_blocks``, ``param_names``, ``params_cov_``) and its
fitted ``theta_`` and ``<block>_``. A parameter is a position in ``param_names()``,
its name, or a linear combination of names (``"1:x - 0:x"``, read by
:func:`~skmle.inference.restrictions.parse_restrictions`).

**Flat directions.** Where the log-likelihood does not change along some
directions of ``theta`` (a multinomial model's classes: adding one vector to every
row of coefficients), only functions of ``theta`` orthogonal to them are
identified. The reported parameters are then the canonical ones, orthogonal to
the flat directions (the coefficients summing to zero over the classes), and the
parameter profiled is :math:`c^\\top\\theta` with :math:`c` the reported
coordinate projected off the flat directions (for a multinomial coefficient,
:math:`w_{kj} - \\frac1K\\sum_l w_{lj}`), with the flat directions left out of the
re-maximisation. The flat directions are the null space of the observed
information at the estimate.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from skmle.inference.profile import (
    ProfileLikelihood,
    contrast_point,
    flat_directions,
    free_basis,
    likelihood_ratio_interval,
    profile_on_grid,
    profile_point,
)
from skmle.inference.profile_refit import contrast_refit, is_linear_regressor
from skmle.inference.restrictions import parameter_row
from skmle.inference.summary import check_alpha


class Profiler:
    """The profile of any parameter of one fitted estimator on its training data.

    Parameters
    ----------
    estimator : fitted skmle estimator
        One that reports standard errors, whose reported parameters are
        coordinates of ``theta_``.
    X, y, sample_weight : the training data, as given to ``fit``.

    Raises
    ------
    ValueError
        When the estimator reports no parameters, reports parameters that are
        not coordinates of ``theta_`` (a mixture's weights), or ``X, y`` are not
        its training data (another total weight, or another log-likelihood at
        ``theta_``).
    """

    def __init__(self, estimator, X, y=None, sample_weight=None):
        blocks = estimator.param_blocks()
        if not blocks:
            raise ValueError(
                f"{type(estimator).__name__} reports no standard errors, so it has "
                "no parameters to profile."
            )
        self.estimator, self.X, self.y = estimator, X, y
        self.sample_weight = sample_weight
        # param_names() lists the blocks of param_blocks() first, then those
        # that are functions of theta_ (GaussianMLE's covariance).
        self.names = estimator.param_names()
        self.indices = np.concatenate(list(blocks.values()))
        listed = self.indices.size
        self.estimates = np.zeros(len(self.names))
        self.estimates[:listed] = np.concatenate(
            [np.ravel(getattr(estimator, f"{name}_")) for name in blocks]
        )
        self.theta_hat = np.asarray(estimator.theta_, dtype=float)
        # Which reported parameters are coordinates of theta_ (a scale reported
        # as exp(theta_j), or a mixture's weights, are transforms of it).
        self.coordinates = np.zeros(len(self.names), dtype=bool)
        self.coordinates[:listed] = np.isclose(
            self.theta_hat[self.indices],
            self.estimates[:listed],
            rtol=1e-12,
            atol=0.0,
        )
        # A positive parameter held in theta_ as its logarithm (a scale, a
        # dispersion, degrees of freedom: the blocks an estimator lists in
        # _log_coordinate_blocks): its likelihood-ratio interval is exp of
        # theta_j's, since the interval does not change under a monotone map.
        logged = set(getattr(estimator, "_log_coordinate_blocks", ()))
        in_logged = np.concatenate(
            [np.full(np.size(idx), name in logged) for name, idx in blocks.items()]
        )
        self.log_coordinates = np.zeros(len(self.names), dtype=bool)
        reported = self.estimates[:listed]
        with np.errstate(over="ignore"):
            self.log_coordinates[:listed] = (
                in_logged
                & ~self.coordinates[:listed]
                & (reported > 0)
                & np.isclose(
                    np.exp(self.theta_hat[self.indices]), reported, rtol=1e-12, atol=0.0
                )
            )
        if not np.any(self.coordinates | self.log_coordinates):
            raise ValueError(
                f"The parameters {type(estimator).__name__} reports are not "
                "coordinates of theta_ (they are a transform of it): their profile "
                "likelihood is not available; use the Wald intervals."
            )
        if float(getattr(estimator, "alpha", 0.0) or 0.0) > 0:
            warnings.warn(
                f"{type(estimator).__name__} is a maximum a posteriori fit (alpha > "
                "0): the profile is of the log-posterior (log-likelihood plus "
                "log-prior), and its interval is not a likelihood-ratio interval "
                "of the maximum likelihood estimate. Refit with alpha=0 for one.",
                UserWarning,
                stacklevel=3,
            )
        self.objective = estimator.loglik_function(X, y, sample_weight)
        self.loglik_max = self.objective.value(self.theta_hat) * (
            self.objective.total_weight
        )
        loglik = self.objective.loglik(self.theta_hat)
        if not (
            np.isclose(self.objective.total_weight, estimator.n_samples_seen_)
            and np.isclose(loglik, estimator.loglik_, rtol=1e-7, atol=1e-9)
        ):
            raise ValueError(
                f"X and y are not the data {type(estimator).__name__} was fitted on "
                f"(log-likelihood {loglik:.10g} at theta_, against loglik_ "
                f"{estimator.loglik_:.10g}): a profile refits on the training data "
                "(with its sample_weight)."
            )
        self._flat = None
        self.std_errs = np.sqrt(np.maximum(np.diag(estimator.params_cov_), 0.0))

    @property
    def flat(self) -> np.ndarray:
        if self._flat is None:
            self._flat = flat_directions(self.objective, self.theta_hat)
        return self._flat

    def evaluator(self, param):
        """``(evaluate, estimate, name, std_err, log_scale)`` for one parameter:
        ``log_scale`` when it is reported as :math:`e^{\\theta_j}`, whose
        ``evaluate`` takes the reported value."""
        row, name = parameter_row(param, self.names)
        logs = np.flatnonzero(row[: self.log_coordinates.size] * self.log_coordinates)
        if logs.size:
            if logs.size != 1 or np.count_nonzero(row) != 1 or row[logs[0]] != 1.0:
                raise ValueError(
                    f"{name} combines a parameter reported as exp(theta_j) with "
                    "others: only the parameter itself has a profile interval "
                    "(use the Wald interval)."
                )
            return self._log_evaluator(int(logs[0]), name)
        if np.any(row[~self.coordinates]):
            raise ValueError(
                f"{name} is not a coordinate of theta_ (it is reported as a "
                "transform of it, such as a scale on the log scale): its profile "
                "likelihood is not available; use the Wald interval."
            )
        estimate = float(row @ self.estimates)
        variance = float(row @ self.estimator.params_cov_ @ row)
        std_err = np.sqrt(variance) if variance > 0 else np.nan
        single = np.flatnonzero(row)
        coordinate = single.size == 1 and row[single[0]] == 1.0
        estimator, objective = self.estimator, self.objective
        if is_linear_regressor(estimator) and row.size >= 2:
            # The row and the errors over the design [X, 1]: theta_ holds the
            # coefficients, then the intercept, in that order.
            z_row, z_errs = np.zeros(row.size), np.ones(row.size)
            z_row[self.indices] = row
            z_errs[self.indices] = self.std_errs
            refit = contrast_refit(
                estimator, self.X, self.y, z_row, z_errs, self.sample_weight
            )
            return refit, estimate, name, std_err, False
        flat = self.flat
        if coordinate and not flat.size:
            index = int(self.indices[single[0]])

            def evaluate(value, start):
                return profile_point(objective, index, value, start)

            return evaluate, estimate, name, std_err, False
        contrast = np.zeros(self.theta_hat.size)
        np.add.at(contrast, self.indices, row[: self.indices.size])
        contrast -= flat @ (flat.T @ contrast)
        if not np.linalg.norm(contrast) > 1e-6 * np.linalg.norm(row):
            raise ValueError(
                f"{name} is not identified: the log-likelihood is flat along it."
            )
        if not np.isclose(contrast @ self.theta_hat, estimate, rtol=1e-8, atol=1e-10):
            raise ValueError(
                f"The reported {name} is not identified as a function of theta_ "
                "orthogonal to the flat directions of the log-likelihood."
            )
        basis = free_basis(contrast, flat)

        def evaluate(value, start):
            return contrast_point(objective, contrast, value, start, basis)

        return evaluate, estimate, name, std_err, False

    def _log_evaluator(self, j: int, name: str):
        """:meth:`evaluator` of the reported parameter ``j`` :math:`= e^{\\theta_i}`:
        the profile in :math:`\\theta_i = \\log` of the reported value (none
        for a value at or below 0, outside the parameter space)."""
        with np.errstate(all="ignore"):
            flat = self.flat.size
        if flat:  # then holding theta_j does not hold the reported value
            raise ValueError(
                f"{name} is not a coordinate of theta_, and the exp(theta_j) it "
                "equals is not identified (the log-likelihood is flat along some "
                "directions of theta_, as a mixture's log-weights are): its profile "
                "likelihood is not available; use the Wald interval."
            )
        index, objective = int(self.indices[j]), self.objective
        estimate, std_err = float(self.estimates[j]), float(self.std_errs[j])

        def evaluate(value, start):
            if not value > 0:
                return -np.inf, start
            return profile_point(objective, index, float(np.log(value)), start)

        return evaluate, estimate, name, std_err, True

    def _bounded(self, evaluate, name: str):
        """``evaluate``, refusing a profile above the fitted maximum."""
        ceiling = self.loglik_max + 1e-7 * max(1.0, abs(self.loglik_max))

        def checked(value, start):
            loglik, theta = evaluate(value, start)
            if loglik > ceiling:
                raise ValueError(
                    f"The profile log-likelihood of {name} rises above the fitted "
                    f"maximum ({loglik:.10g} > {self.loglik_max:.10g}): the fit is "
                    "not the maximum of its likelihood, or the likelihood is "
                    "unbounded (a mixture component that can collapse onto a "
                    "sample), and no likelihood-ratio interval exists."
                )
            return loglik, theta

        return checked

    def interval(self, param, alpha: float, evaluated=None) -> tuple[float, float]:
        """The likelihood-ratio interval of ``param`` at level ``1 - alpha``
        (``evaluated``: :meth:`evaluator`'s answer for it, when at hand)."""
        solve, estimate, name, std_err, log_scale = evaluated or self.evaluator(param)
        evaluate = self._bounded(solve, name)
        evaluate(estimate, self.theta_hat)  # at the estimate: the maximum itself
        drop = 0.5 * stats.chi2.ppf(1.0 - alpha, df=1)
        if log_scale:  # searched in log(value), where the profile is smoother
            relative = std_err / estimate
            ends = likelihood_ratio_interval(
                lambda u, start: evaluate(float(np.exp(u)), start),
                float(np.log(estimate)),
                self.theta_hat,
                self.loglik_max - drop,
                (relative if np.isfinite(relative) and relative > 0 else 0.1)
                * np.sqrt(2.0 * drop),
                name,
            )
            return float(np.exp(ends[0])), float(np.exp(ends[1]))
        scale = std_err if np.isfinite(std_err) and std_err > 0 else 0.1
        return likelihood_ratio_interval(
            evaluate,
            estimate,
            self.theta_hat,
            self.loglik_max - drop,
            scale * np.sqrt(2.0 * drop),
            name,
        )


def profile_intervals(
    estimator, X, y=None, *, params=None, alpha=0.05, sample_weight=None
) -> np.ndarray:
    """Likelihood-ratio (profile) confidence intervals of several parameters.

    .. math:: \\{\\beta : \\ell_p(\\beta) \\ge \\ell(\\hat\\theta) -
       \\tfrac12\\chi^2_{1,1-\\alpha}\\}

    Parameters
    ----------
    estimator : fitted skmle estimator
    X : array-like of shape (n_samples, n_features)
        The training data it was fitted on.
    y : array-like of shape (n_samples,), default=None
    params : sequence of int or str, default=None
        Positions, names or linear combinations of names; all of
        ``param_names()`` by default (then NaN, with a warning, for a parameter
        reported as a transform of ``theta_``, such as a scale on the log scale).
    alpha : float, default=0.05
    sample_weight : array-like of shape (n_samples,), default=None
        The training weights, as given to ``fit``.

    Returns
    -------
    ndarray of shape (n_params, 2)
        Lower and upper ends, one row per parameter.
    """
    alpha = check_alpha(alpha)
    profiler = Profiler(estimator, X, y, sample_weight)
    if params is not None:
        if isinstance(params, str | int | np.integer):
            params = [params]
        intervals = [profiler.interval(param, alpha) for param in params]
        return np.array(intervals, dtype=float).reshape(-1, 2)
    intervals = np.full((len(profiler.names), 2), np.nan)
    profiled = profiler.coordinates | profiler.log_coordinates
    for j in np.flatnonzero(profiled):
        intervals[j] = profiler.interval(int(j), alpha)
    skipped = [profiler.names[j] for j in np.flatnonzero(~profiled)]
    if skipped:
        warnings.warn(
            f"No profile interval for {skipped}: reported as transforms of theta_, "
            "not coordinates of it; their rows are NaN (use the Wald intervals).",
            UserWarning,
            stacklevel=3,
        )
    return intervals


def profile_likelihood(
    estimator,
    X,
    y=None,
    *,
    param=0,
    values=None,
    n_points: int = 41,
    alpha=0.05,
    sample_weight=None,
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
        The parameter: its position or its name in ``summary()``, or a linear
        combination of names (``"x1 - x2"``).
    values : array-like, default=None
        Where to evaluate the profile. By default ``n_points`` values spanning
        both intervals with a margin.
    n_points : int, default=41
    alpha : float, default=0.05
        The intervals have level ``1 - alpha``.
    sample_weight : array-like of shape (n_samples,), default=None
        The training weights, as given to ``fit``.

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
    alpha = check_alpha(alpha)
    profiler = Profiler(estimator, X, y, sample_weight)
    evaluated = profiler.evaluator(param)
    evaluate, estimate, name, std_err, log_scale = evaluated
    lr_interval = profiler.interval(param, alpha, evaluated)
    half = stats.norm.ppf(1.0 - alpha / 2.0) * std_err
    wald_interval = (estimate - half, estimate + half)
    if values is None:
        low = min(lr_interval[0], wald_interval[0])
        high = max(lr_interval[1], wald_interval[1])
        margin = 0.3 * (high - low)
        start = low - margin
        if log_scale and not start > 0:  # a positive parameter: stay inside
            start = 0.5 * lr_interval[0]
        values = np.linspace(start, high + margin, n_points)
    values = np.asarray(values, dtype=float)
    return ProfileLikelihood(
        name=name,
        values=values,
        loglik=profile_on_grid(evaluate, estimate, profiler.theta_hat, values),
        estimate=estimate,
        loglik_max=float(profiler.loglik_max),
        lr_interval=lr_interval,
        wald_interval=wald_interval,
        cutoff=float(profiler.loglik_max - 0.5 * stats.chi2.ppf(1.0 - alpha, df=1)),
        alpha=alpha,
    )
