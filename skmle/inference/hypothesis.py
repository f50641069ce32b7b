"""Tests of hypotheses: Wald tests of linear restrictions, likelihood-ratio tests.

**Wald test** of :math:`H_0: R\\theta = q` (``r`` restrictions) from the estimate
:math:`\\hat\\theta` and its covariance :math:`V` (``params_cov_``, so it follows
``cov_type``):

.. math:: W = (R\\hat\\theta - q)^\\top (R V R^\\top)^{-1} (R\\hat\\theta - q)
   \\;\\sim\\; \\chi^2_r \\text{ under } H_0 \\text{ (asymptotically)},

and, where the estimator has an exact small-sample inference with ``df_resid``
residual degrees of freedom (the Gaussian linear model), :math:`F = W / r \\sim
F_{r,\\,\\mathrm{df\\_resid}}` (statsmodels' ``f_test``).

**Likelihood-ratio test** of a restricted model nested in a full one, both fitted
by maximum likelihood to the same data:

.. math:: \\mathrm{LR} = 2\\{\\ell(\\hat\\theta_\\mathrm{full})
   - \\ell(\\hat\\theta_\\mathrm{restricted})\\} \\;\\sim\\; \\chi^2_{k_f - k_r},

:math:`k` the numbers of free parameters (Wilks' theorem).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from skmle._linalg import PIVOT_RTOL


@dataclass(frozen=True)
class TestResult:
    """The outcome of a test: its statistic, degrees of freedom and p-value.

    Attributes
    ----------
    statistic : float
        :math:`W` (``distribution="chi2"``), :math:`W/r` (``"F"``) or LR.
    df : float
        The degrees of freedom of the statistic (the numerator's for ``"F"``).
    pvalue : float
        The probability under :math:`H_0` of a statistic at least as large.
    distribution : str
        ``"chi2"`` or ``"F"``.
    df_denom : float or None
        The denominator degrees of freedom of ``"F"``.
    test : str
        ``"wald"`` or ``"likelihood ratio"``.
    """

    statistic: float
    df: float
    pvalue: float
    distribution: str = "chi2"
    df_denom: float | None = None
    test: str = "wald"

    __test__ = False  # not a pytest test class

    def __str__(self) -> str:
        df = f"df={self.df:g}"
        if self.df_denom is not None:
            df = f"df_num={self.df:g}, df_denom={self.df_denom:g}"
        return (
            f"{self.test} test: {self.distribution} = {self.statistic:.6g}, {df}, "
            f"p-value = {self.pvalue:.4g}"
        )


def wald_test(
    params: np.ndarray,
    cov: np.ndarray,
    R: np.ndarray,
    q: np.ndarray | None = None,
    df_resid: float | None = None,
) -> TestResult:
    """Wald test of :math:`R\\theta = q`.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        The estimate :math:`\\hat\\theta`.
    cov : ndarray of shape (n_params, n_params)
        Its covariance :math:`V`.
    R : array-like of shape (n_restrictions, n_params)
        One restriction per row (a 1-D array is one restriction).
    q : array-like of shape (n_restrictions,), default=None
        Zeros by default.
    df_resid : float, default=None
        With residual degrees of freedom, the F form :math:`W/r \\sim
        F_{r,\\mathrm{df\\_resid}}`; without, :math:`W \\sim \\chi^2_r`.

    Returns
    -------
    TestResult

    Raises
    ------
    ValueError
        When the shapes disagree, the covariance is not finite (standard errors
        undefined), or :math:`R V R^\\top` is singular (restrictions that are
        linearly dependent, or that fall on a direction the data do not
        identify).

    Examples
    --------
    >>> import numpy as np
    >>> result = wald_test(np.array([1.0, 2.0]), np.eye(2), [[1.0, 0.0]])
    >>> result.statistic, result.df
    (1.0, 1.0)
    """
    params = np.asarray(params, dtype=float).ravel()
    cov = np.asarray(cov, dtype=float)
    R = np.atleast_2d(np.asarray(R, dtype=float))
    if R.ndim != 2 or R.shape[1] != params.size:
        raise ValueError(
            f"R must have one column per parameter ({params.size}); got shape "
            f"{np.shape(R)}."
        )
    q = np.zeros(R.shape[0]) if q is None else np.asarray(q, dtype=float).ravel()
    if q.size != R.shape[0]:
        raise ValueError(
            f"q must have one value per restriction ({R.shape[0]}); got {q.size}."
        )
    if not (np.all(np.isfinite(R)) and np.all(np.isfinite(q))):
        raise ValueError("R and q must be finite.")
    if not np.all(np.isfinite(cov)):
        raise ValueError(
            "The covariance of the estimates is undefined (NaN standard errors, "
            "for example on separable classes): no Wald test is possible."
        )
    middle = R @ cov @ R.T
    middle = (middle + middle.T) / 2.0
    # Singular after Jacobi scaling (unit diagonal), so the units do not matter.
    diagonal = np.diag(middle)
    scaled = (
        middle / np.sqrt(np.outer(diagonal, diagonal))
        if np.all(diagonal > 0)
        else middle
    )
    eigenvalues = linalg.eigvalsh(scaled)
    if not (np.all(diagonal > 0) and eigenvalues[0] > PIVOT_RTOL * eigenvalues[-1]):
        raise ValueError(
            "R V R^T is singular: the restrictions are linearly dependent, or "
            "constrain a direction of the parameters that the data do not "
            "identify (for a multinomial model, the sum over the classes). "
            "Drop the redundant restrictions."
        )
    difference = R @ params - q
    statistic = float(difference @ linalg.solve(middle, difference, assume_a="pos"))
    n_restrictions = float(R.shape[0])
    if df_resid is None:
        return TestResult(
            statistic, n_restrictions, float(stats.chi2.sf(statistic, n_restrictions))
        )
    if not df_resid > 0:
        raise ValueError(f"df_resid must be positive, got {df_resid}.")
    f_value = statistic / n_restrictions
    return TestResult(
        f_value,
        n_restrictions,
        float(stats.f.sf(f_value, n_restrictions, df_resid)),
        distribution="F",
        df_denom=float(df_resid),
    )


def lr_test(restricted, full) -> TestResult:
    """Likelihood-ratio test of a restricted model nested in a full one.

    Both are fitted skmle estimators; the statistic is
    :math:`2\\{\\ell_\\mathrm{full} - \\ell_\\mathrm{restricted}\\}` from their
    ``loglik_``, with :math:`k_f - k_r` degrees of freedom from their
    ``n_parameters_``. That the restricted model is a special case of the full
    one (nested) is the user's to ensure; what can be checked is.

    Parameters
    ----------
    restricted, full : fitted estimators

    Returns
    -------
    TestResult

    Raises
    ------
    ValueError
        When the two were fitted on different total sample weights, or the full
        model does not have more free parameters than the restricted one.

    Warns
    -----
    UserWarning
        When either did not converge (the statistic is then not that of the
        maxima), either is a maximum a posteriori fit (``alpha > 0``: the ratio
        is of penalised fits, not a likelihood-ratio test of MLEs, and its
        :math:`\\chi^2` reference does not hold), or the restricted model has the
        higher log-likelihood (so it is not nested in the full one, or a fit
        stopped short).

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import LinearGaussianRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2))
    >>> y = X[:, 0] + rng.normal(size=100)
    >>> full = LinearGaussianRegressor().fit(X, y)
    >>> restricted = LinearGaussianRegressor().fit(X[:, :1], y)
    >>> result = lr_test(restricted, full)
    >>> result.df, bool(result.pvalue > 0.05)
    (1.0, True)
    """
    n_restricted = float(restricted.n_samples_seen_)
    n_full = float(full.n_samples_seen_)
    if not np.isclose(n_restricted, n_full, rtol=1e-12, atol=0.0):
        raise ValueError(
            f"The models were fitted on different data sizes (total sample weight "
            f"{n_restricted:g} and {n_full:g}): a likelihood-ratio test compares "
            "fits to the same data."
        )
    k_restricted, k_full = restricted.n_parameters_, full.n_parameters_
    if not k_full > k_restricted:
        raise ValueError(
            f"The full model must have more free parameters than the restricted "
            f"one (got {k_full} and {k_restricted}): pass lr_test(restricted, "
            "full), the smaller model first."
        )
    for role, model in (("restricted", restricted), ("full", full)):
        name = type(model).__name__
        if not model.converged_:
            warnings.warn(
                f"The {role} {name} did not converge: the statistic is not that of "
                "the maximised log-likelihoods.",
                UserWarning,
                stacklevel=3,
            )
        if float(getattr(model, "alpha", 0.0) or 0.0) > 0:
            warnings.warn(
                f"The {role} {name} is a maximum a posteriori fit (alpha > 0): this "
                "is a ratio of penalised fits, not a likelihood-ratio test of "
                "maximum likelihood estimates, and its chi2 p-value does not hold. "
                "Refit with alpha=0.",
                UserWarning,
                stacklevel=3,
            )
    statistic = 2.0 * (float(full.loglik_) - float(restricted.loglik_))
    if statistic < -1e-8 * max(1.0, abs(float(full.loglik_))):
        warnings.warn(
            "The restricted model has the higher log-likelihood: it is not nested "
            "in the full one, or a fit stopped short of its maximum.",
            UserWarning,
            stacklevel=2,
        )
    df = float(k_full - k_restricted)
    return TestResult(
        statistic,
        df,
        float(stats.chi2.sf(max(statistic, 0.0), df)),
        test="likelihood ratio",
    )
