"""Check an estimator's analytic gradient against central finite differences."""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.utils import check_random_state


def check_gradient(
    estimator,
    X,
    y=None,
    *,
    params: np.ndarray | None = None,
    eps: float = 1e-6,
    random_state=None,
    sample_weight=None,
    offset=None,
) -> float:
    """Largest relative error of an estimator's gradient against finite differences.

    The objective is the estimator's mean log-likelihood (plus its log-prior, if
    any) on ``X``, ``y``. Each component of the analytic gradient is compared with
    the central difference

    .. math:: \\frac{f(\\theta + h_j e_j) - f(\\theta - h_j e_j)}{2 h_j},
       \\qquad h_j = \\varepsilon \\max(1, |\\theta_j|),

    and the result is :math:`\\max_j |g_j - \\tilde g_j| / \\max(\\lVert g
    \\rVert_\\infty, \\lVert \\tilde g \\rVert_\\infty)`. Values around ``1e-6`` or
    below mean the gradient is right; a wrong formula gives something near 1.

    Parameters
    ----------
    estimator : skmle estimator
        Not modified (its public :meth:`~skmle.GradientAscentMixin.loglik_function`
        and :meth:`~skmle.GradientAscentMixin.initial_params` work on a clone); it
        need not be fitted.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
    params : ndarray of shape (n_params,), default=None
        Where to compare, as the model's flat parameter vector. By default a random
        point near the estimator's starting point.
    eps : float, default=1e-6
        Relative step of the finite differences.
    random_state : int, RandomState instance or None, default=None
        Seeds the random point.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows, as at ``fit``.
    offset : array-like of shape (n_samples,), default=None
        A known term of the linear predictor (a log exposure), for the count
        regressors (:class:`~skmle.PoissonMLERegressor`,
        :class:`~skmle.NegativeBinomialRegressor`), as at their ``fit``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import GaussianMLE, check_gradient
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> check_gradient(GaussianMLE(), X, random_state=0) < 1e-6
    True
    """
    data = (X, y, sample_weight)
    sides = {}
    if offset is not None:
        if "offset" not in inspect.signature(estimator.loglik_function).parameters:
            raise ValueError(
                f"{type(estimator).__name__} takes no offset; only the count "
                "regressors (PoissonMLERegressor, NegativeBinomialRegressor) do."
            )
        sides["offset"] = offset
    objective = estimator.loglik_function(*data, **sides)
    n_params = objective.model.n_params
    if params is None:
        rng = check_random_state(random_state)
        start = estimator.initial_params(*data, **sides)
        params = start + 0.1 * rng.standard_normal(start.shape)
    theta = np.asarray(params, dtype=float)
    if theta.shape != (n_params,):
        raise ValueError(
            f"params has shape {theta.shape}; this model has {n_params} parameters."
        )
    _, analytic = objective.value_and_grad(theta)
    numeric = np.empty_like(theta)
    for j in range(theta.size):
        step = eps * max(1.0, abs(theta[j]))
        forward, backward = theta.copy(), theta.copy()
        forward[j] += step
        backward[j] -= step
        numeric[j] = (objective.value(forward) - objective.value(backward)) / (2 * step)
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)), np.finfo(float).tiny)
    return float(np.max(np.abs(analytic - numeric)) / scale)
