"""Tests and confidence intervals of a fitted estimator: ``wald_test``,
``f_test``, ``compare_lr_test`` and ``conf_int``.

A thin layer: the computations are :func:`skmle.inference.wald_test`,
:func:`skmle.inference.lr_test` and :func:`skmle.inference.profile_intervals`;
this mixin hands them the fitted estimates (in the order of ``param_names()``),
``params_cov_`` (so everything follows ``cov_type``) and the residual degrees of
freedom of an exact small-sample inference where the estimator has one.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.utils.validation import check_is_fitted

from skmle.inference import (
    TestResult,
    check_alpha,
    lr_test,
    parameter_row,
    parse_restrictions,
    profile_intervals,
    wald_test,
)


class HypothesisTestMixin:
    """``wald_test``, ``f_test``, ``compare_lr_test``, ``conf_int`` and
    ``n_parameters_`` for every :class:`~skmle.GradientAscentMixin` estimator."""

    @property
    def n_parameters_(self) -> int:
        """The number of free parameters :math:`k` (of AIC, BIC and the
        likelihood-ratio test's degrees of freedom)."""
        check_is_fitted(self)
        return self._n_parameters()

    def _reported_params(self) -> np.ndarray:
        """The estimates in the order of :meth:`param_names`."""
        blocks = self._reported_blocks()
        if not blocks:
            raise ValueError(
                f"{type(self).__name__} reports no standard errors: it has no "
                "covariance for a Wald test or interval."
            )
        return np.concatenate([self._block_estimates(name) for name in blocks])

    def _restriction_matrix(self, restrictions, q):
        """``(R, q)`` from a matrix (and ``q``) or from names."""
        names = self.param_names()
        if isinstance(restrictions, tuple) and len(restrictions) == 2 and q is None:
            restrictions, q = restrictions  # statsmodels' (R, q)
        if isinstance(restrictions, str) or (
            np.iterable(restrictions)
            and len(restrictions)
            and all(isinstance(item, str) for item in restrictions)
        ):
            if q is not None:
                raise ValueError(
                    "Restrictions written with names carry their constants "
                    '("x1 = 2"): give q only with a matrix R.'
                )
            return parse_restrictions(restrictions, names)
        return np.asarray(restrictions, dtype=float), q

    def wald_test(self, restrictions, q=None, *, use_f: bool | None = None):
        """Wald test of the linear restrictions :math:`R\\theta = q`.

        .. math:: W = (R\\hat\\theta - q)^\\top (R V R^\\top)^{-1}
           (R\\hat\\theta - q) \\sim \\chi^2_r,

        :math:`V` the ``params_cov_`` (of ``cov_type``), :math:`r` the number of
        restrictions; the F form is :math:`W / r \\sim F_{r,\\, n - k}`.

        Parameters
        ----------
        restrictions : array-like of shape (r, n_params), tuple, str or list of str
            The matrix :math:`R` over the parameters in the order of
            :meth:`param_names` (or statsmodels' tuple ``(R, q)``), or equations
            written with those names:
            ``"x1 = 0, x2 = x3"``, ``["2*x1 - x2 = 1"]`` (see
            :func:`skmle.inference.parse_restrictions`).
        q : array-like of shape (r,), default=None
            With a matrix ``R``: the right-hand side (zeros by default).
        use_f : bool, default=None
            The F form. By default only where the estimator has an exact
            small-sample inference (then with its residual degrees of freedom);
            ``True`` elsewhere uses :math:`n - k`, :math:`k` the identified
            reported parameters (statsmodels' ``df_resid``: the scale of a
            Gaussian model is not counted).

        Returns
        -------
        TestResult
            ``statistic``, ``df``, ``pvalue`` (and ``df_denom`` for F).

        Raises
        ------
        ValueError
            For a restriction that cannot be read, shapes that disagree, an
            undefined covariance, or restrictions that are redundant.
        """
        check_is_fitted(self)
        params = self._reported_params()
        R, q = self._restriction_matrix(restrictions, q)
        df_resid = self._summary_df_resid()
        if use_f is False:
            df_resid = None
        elif use_f and df_resid is None:
            # statsmodels' df_resid: n less the identified parameters of the
            # reported (mean) part, the scale and shape parameters not counted.
            k = min(self._n_parameters(), params.size)
            df_resid = float(self.n_samples_seen_) - k
        return wald_test(params, self.params_cov_, R, q, df_resid=df_resid)

    def f_test(self, restrictions, q=None) -> TestResult:
        """:meth:`wald_test` in its F form, :math:`W / r \\sim F_{r,\\,
        \\mathrm{df}}` (statsmodels' ``f_test``)."""
        return self.wald_test(restrictions, q, use_f=True)

    def compare_lr_test(self, restricted) -> TestResult:
        """Likelihood-ratio test of ``restricted``, a fitted model nested in this
        one, on the same data: :func:`skmle.inference.lr_test`.

        .. math:: \\mathrm{LR} = 2(\\ell_\\mathrm{self} - \\ell_\\mathrm{restricted})
           \\sim \\chi^2_{k_\\mathrm{self} - k_\\mathrm{restricted}}
        """
        check_is_fitted(self)
        return lr_test(restricted, self)

    def conf_int(
        self,
        alpha: float = 0.05,
        method: str = "wald",
        X=None,
        y=None,
        *,
        params=None,
        sample_weight=None,
    ) -> np.ndarray:
        """Confidence intervals of the reported parameters.

        ``method="wald"``: :math:`\\hat\\beta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}`
        from ``params_cov_`` (:math:`t_{n-k}` where the estimator has an exact
        small-sample inference), as ``summary()`` gives them.
        ``method="profile"``: the likelihood-ratio interval
        :math:`\\{\\beta : \\ell_p(\\beta) \\ge \\ell(\\hat\\theta) -
        \\frac12\\chi^2_{1,1-\\alpha}\\}`, which need not be symmetric and does not
        change when the parameter is transformed; it refits the other parameters
        many times, so it needs the training data ``X`` (and ``y``).

        Parameters
        ----------
        alpha : float, default=0.05
            The level is ``1 - alpha``.
        method : {"wald", "profile"}, default="wald"
        X : array-like of shape (n_samples, n_features), default=None
            The training data, for ``method="profile"``.
        y : array-like of shape (n_samples,), default=None
            The training targets, for ``method="profile"``.
        params : int, str or a sequence of them, default=None
            Positions or names in :meth:`param_names`, or linear combinations
            of names (``"x1 - x2"``, with :math:`\\mathrm{se} = \\sqrt{r^\\top V
            r}` for ``"wald"``); all by default.
        sample_weight : array-like of shape (n_samples,), default=None
            The training weights, for ``method="profile"``.

        Returns
        -------
        ndarray of shape (n_params, 2)
            Lower and upper ends, in the order of ``params``.
        """
        check_is_fitted(self)
        alpha = check_alpha(alpha)
        if method == "profile":
            if X is None:
                raise ValueError(
                    'conf_int(method="profile") refits on the training data: pass '
                    "X (and y) as given to fit."
                )
            return profile_intervals(
                self, X, y, params=params, alpha=alpha, sample_weight=sample_weight
            )
        if method != "wald":
            raise ValueError(f'method must be "wald" or "profile", got {method!r}.')
        estimates = self._reported_params()
        if params is None:
            # The standard errors as fitted: no need to form the whole matrix.
            errors = np.concatenate(
                [self._block_std_errors(name) for name in self._reported_blocks()]
            )
        else:
            names = self.param_names()
            params = [params] if isinstance(params, str | int | np.integer) else params
            rows = np.array([parameter_row(p, names)[0] for p in params])
            estimates = rows @ estimates
            errors = np.sqrt(
                np.maximum(np.einsum("ij,jk,ik->i", rows, self.params_cov_, rows), 0.0)
            )
        df_resid = self._summary_df_resid()
        quantile = (
            stats.norm.ppf(1 - alpha / 2)
            if df_resid is None
            else stats.t.ppf(1 - alpha / 2, df_resid)
        )
        return np.column_stack(
            [estimates - quantile * errors, estimates + quantile * errors]
        )
