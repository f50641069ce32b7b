"""``PoissonMLERegressor``: Poisson regression with the log link, an offset and
standard errors."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin

from skmle._sklearn_compat import StrOptions
from skmle.data import Batch
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.estimators.count_base import (
    CountRegressorMixin,
    poisson_newton_objective,
    poisson_start,
)
from skmle.inference import COV_TYPES, Information, WaldSpec
from skmle.inference.sandwich_sparse import RowScores, sparse_sandwich
from skmle.models.objective import Objective
from skmle.models.poisson import PoissonLogLikelihood
from skmle.optim import OptimizeResult, newton


class PoissonMLERegressor(
    CountRegressorMixin, GradientAscentMixin, RegressorMixin, BaseEstimator
):
    """Poisson regression fitted by maximum likelihood.

    .. math:: y_i \\sim \\mathrm{Poisson}(\\mu_i), \\quad
       \\log \\mu_i = x_i^\\top w + b + o_i, \\qquad
       \\ell = \\sum_i s_i [y_i \\log \\mu_i - \\mu_i - \\log y_i!],

    with :math:`s_i` the sample weight and :math:`o_i` the offset (the log of the
    row's exposure). The gradient is :math:`\\sum_i s_i (y_i - \\mu_i) [x_i, 1]`
    and the information :math:`[X, 1]^\\top \\mathrm{diag}(s_i \\mu_i) [X, 1]`
    (:mod:`skmle.models.poisson`).

    The name keeps "MLE" so as not to shadow scikit-learn's
    ``sklearn.linear_model.PoissonRegressor`` (penalised, without offset or
    standard errors), which is often imported beside it.

    **Solvers.** ``"newton"`` (the default) is Newton's method, which for the
    canonical log link is IRLS and Fisher scoring: one pass over the rows per
    iteration forms the gradient and the information (one SYRK per block of
    rows, blocks summed in threads), and the line search moves the linear
    predictor without reading ``X`` again (:func:`skmle.optim.newton`). It
    stops on the Newton decrement (``tol``). ``"lbfgs"`` and ``"gd"`` are the
    generic solvers, in standardised coordinates.

    **No maximum.** When every response is 0 on the rows where some column is
    non-zero (and the column has one sign there), that column's coefficient
    goes to infinity: the fit warns (``PerfectSeparationWarning``) and returns
    where the solver stopped, with ``converged_`` False and NaN standard errors.

    Parameters
    ----------
    fit_intercept : bool, default=True
    solver : {"newton", "lbfgs", "gd"}, default="newton"
    learning_rate : float or "auto", default="auto"
        Step of ``solver="gd"``.
    max_iter : int, default=100
    tol : float, default=1e-8
        ``"newton"``: stop when the Newton decrement of the mean log-likelihood
        is at most ``tol`` at two consecutive iterates; the others: when every
        whitened gradient component is.
    verbose : int, default=0
    warm_start : bool, default=False
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The covariance of the estimates (statsmodels' ``cov_type``), see
        :mod:`skmle.inference.sandwich`; ``"cluster"`` needs ``groups`` at
        :meth:`fit`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        0 when ``fit_intercept=False``.
    coef_se_ : ndarray of shape (n_features,)
    intercept_se_ : float
        Standard errors of ``cov_type`` (absent without an intercept).
    params_cov_ : ndarray of shape (n_params, n_params)
    theta_ : ndarray of shape (n_params,)
        ``[coef_, intercept_]``.
    loglik_ : float
    deviance_ : float
        :math:`2 \\sum_i s_i [y_i \\log(y_i/\\hat\\mu_i) - (y_i - \\hat\\mu_i)]` of
        the training data.
    aic_, bic_ : float
    loglik_history_ : ndarray
    n_iter_ : int
    converged_ : bool
    n_samples_seen_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import PoissonMLERegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([1, 2, 4, 9])
    >>> model = PoissonMLERegressor().fit(X, y, offset=np.log([1, 1, 1, 2]))
    >>> model.coef_.round(4), round(model.intercept_, 4)
    (array([0.4363]), 0.2593)
    >>> model.predict([[1.0]], offset=np.log([2.0])).round(3)
    array([4.01])
    """

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"newton", *GENERIC_SOLVERS})],
        "cov_type": [StrOptions(set(COV_TYPES))],
    }

    def __init__(
        self,
        fit_intercept=True,
        solver="newton",
        learning_rate="auto",
        max_iter=100,
        tol=1e-8,
        verbose=0,
        warm_start=False,
        cov_type="nonrobust",
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.cov_type = cov_type

    def _make_model(self, batch: Batch) -> PoissonLogLikelihood:
        return PoissonLogLikelihood(batch.X.shape[1], self.fit_intercept)

    def _make_objective(self, rows) -> Objective:
        """For ``solver="newton"``, the linear-predictor objective, in centred
        coordinates where a feature's mean is large against its spread (the
        centre from a uniform sample of up to 8,192 rows, the same in every
        store; see :func:`~skmle.models.logistic_terms.column_center`)."""
        if self.solver != "newton":
            return Objective(self.model_, rows)
        return poisson_newton_objective(
            rows, self.model_.n_features, self.fit_intercept
        )

    def _initial_theta(self, objective) -> np.ndarray:
        """Zero coefficients and the intercept-only maximum
        :math:`\\log(\\sum_i s_i y_i / \\sum_i s_i e^{o_i})`."""
        return poisson_start(objective, self.model_)

    def _solve_newton(self, objective, theta0) -> OptimizeResult:
        """:func:`~skmle.optim.newton` in the objective's (possibly centred)
        coordinates; :meth:`_store_result` maps the result back."""
        theta0 = (
            self._initial_theta(objective)
            if theta0 is None
            else objective.model.centre(theta0)
        )
        callback = (
            self._print_iteration(objective.total_weight) if self.verbose >= 2 else None
        )
        return newton(
            objective, theta0, max_iter=self.max_iter, tol=self.tol, callback=callback
        )

    def _store_result(self, result, objective) -> None:
        centred = np.array(result.theta)
        result = dataclasses.replace(
            result,
            theta=objective.model.uncentre(centred),
            learned=dataclasses.replace(result.learned, at=centred),
        )
        super()._store_result(result, objective)

    def _wald_spec(self, objective, result) -> WaldSpec | None:
        """With centred coordinates: their information (the last Newton
        system's), mapped to the raw features by ``reported_columns``."""
        spec = super()._wald_spec(objective, result)
        model = objective.model
        if spec is None or spec.information is None or model.center is None:
            return spec
        at = result.learned.at
        return dataclasses.replace(
            spec,
            information=lambda: Information.from_matrix(
                objective.solution_information(at)
            ),
            transform=model.reported_columns,
        )

    @sparse_sandwich
    def _score_rows(self, objective, result):
        """The per-row scores in the coordinates of the information (centred,
        where the objective is)."""
        return RowScores(objective.model, result.learned.at)

    def _set_theta(self, theta) -> None:
        coef, intercept = self.model_.split(theta)
        self.coef_ = np.array(coef)
        self.intercept_ = float(intercept)

    def _inference_blocks(self) -> dict[str, np.ndarray]:
        d = self.model_.n_features
        blocks = {"coef": np.arange(d)}
        if self.fit_intercept:
            blocks["intercept"] = np.array([d])
        return blocks

    def predict_dist(self, X, offset=None):
        """The fitted distribution of each row's count, a frozen
        ``scipy.stats.poisson`` with ``mu`` of shape (n_samples,)."""
        return stats.poisson(self.predict(X, offset))
