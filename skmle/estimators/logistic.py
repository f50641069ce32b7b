"""``LogisticGD``: binary and multinomial logistic regression by maximum likelihood."""

from __future__ import annotations

import dataclasses
import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from skmle._blas import single_blas_thread
from skmle._sklearn_compat import Interval, StrOptions
from skmle._sparse import SPARSE_FORMATS
from skmle.data import Batch
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.estimators.logistic_inference import LogisticInferenceMixin
from skmle.estimators.logistic_labels import LogisticDataMixin
from skmle.estimators.logistic_outcome import (
    SEPARATED,
    PerfectSeparationWarning,
    separation_message,
)
from skmle.estimators.logistic_predict import LogisticPredictionMixin
from skmle.estimators.logistic_stream import LogisticStreamingMixin
from skmle.inference import COV_TYPES
from skmle.models.logistic import LogisticLogLikelihood
from skmle.models.logistic_objective import LogisticObjective
from skmle.models.logistic_terms import CENTER_SAMPLE_ROWS, column_center
from skmle.optim import OptimizeResult, newton
from skmle.status import Status


class LogisticGD(
    LogisticInferenceMixin,
    LogisticDataMixin,
    LogisticPredictionMixin,
    LogisticStreamingMixin,
    GradientAscentMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Logistic regression fitted by maximising its log-likelihood.

    Two classes use the Bernoulli log-likelihood of a sigmoid of a linear score,
    more the multinomial log-likelihood of a softmax:

    .. math:: P(y = k \\mid x) = \\frac{e^{x^\\top w_k + b_k}}{\\sum_j e^{x^\\top w_j + b_j}},
       \\qquad \\ell(W, b) = \\sum_i s_i \\log P(y_i \\mid x_i) - \\frac{\\alpha}{2}
       \\sum_k \\lVert w_k \\rVert^2,

    where :math:`s_i` is the sample weight. With two classes, :math:`P(y = 1 \\mid x) =
    \\sigma(x^\\top w + b)`. The gradient is :math:`\\sum_i s_i (y_i - p_i)\\, x_i`
    (one-hot minus softmax for more classes) and the negative Hessian
    :math:`X^\\top \\mathrm{diag}(s_i p_i (1 - p_i)) X`; every quantity is computed in
    log space, so scores of any size are safe.

    **Solvers.** The default ``solver="newton"`` is Newton-Raphson, which for the
    logistic log-likelihood is the same as IRLS and Fisher scoring: each iteration
    forms the information matrix :math:`X^\\top W X` with one symmetric rank-k
    update (SYRK), solves it by Cholesky and runs the line search on the linear
    predictor :math:`\\eta + t X d`, correcting the step length by one Newton step in
    :math:`t` (:func:`skmle.optim.newton`); it reads the data
    at most twice per iteration and sums rows in one thread per CPU. Far from the
    maximum (while a step's predicted gain in the mean log-likelihood exceeds
    0.01) the information is estimated from one block of 4,096 rows in four,
    which steers those first steps as well for a third of the cost; the last
    steps, and the standard errors, use every row. From the
    intercept-only start it typically needs 3 to 6 iterations where L-BFGS needs
    tens and gradient ascent hundreds or thousands, so it is the fastest way to the
    exact maximum whenever ``n_samples`` is much larger than ``n_features`` (an
    iteration costs :math:`O(n d^2)` time and :math:`O(d^2)` memory), hence the
    default. Newton's method does not depend on the units or offsets of the
    features (nor does its stopping rule, see ``tol``), but floating point does:
    where a feature's mean exceeds four times its spread (Unix timestamps, a
    shift of 1e6), the solver works on the feature minus its weighted mean
    (estimated from a uniform sample of 8,192 rows, the same in every store of
    rows), so that the information matrix keeps its digits, and maps
    the intercepts back; only truly collinear columns then warn. With more
    than two classes the information is one SYRK of the class-scaled rows per
    block of rows, :math:`O(n (K-1)^2 d^2)` time and :math:`O((K-1)^2 d^2)`
    memory. With more than two classes and at least 256 free parameters
    the exact information is computed once, at the end: the iterations before
    are L-BFGS steps preconditioned by the Kronecker-factored information at
    the intercept-only fit, :math:`(\\mathrm{diag}(\\bar p) - \\bar p \\bar
    p^\\top) \\otimes \\tilde X^\\top W \\tilde X`, then (with more than 32
    rows per parameter) by the information of a uniform sample of 16 rows per
    parameter; each step costs about one gradient
    (:mod:`skmle.optim.newton_quasi_phase`). The stopping rule and the standard
    errors come from the exact information at the returned point.
    ``"lbfgs"`` suits very many features; ``"gd"`` is plain gradient
    ascent with a fixed ``learning_rate`` or an Armijo line search. All reach the
    same maximum. The class keeps "GD" in its name because it is the family's
    member fitted by ascent on a log-likelihood, and gradient ascent is the method
    this project teaches: Newton's method is that ascent with the step rescaled by
    the curvature, and ``solver="gd"`` is always there to compare with.

    **Separable data.** When a hyperplane puts every sample (with positive weight)
    on the side of its own class, the log-likelihood approaches 0 as the weights
    grow and has no maximum. With ``alpha=0`` the fit detects this, stops (at the
    first iterate that separates the classes, or, with ``solver="newton"``, at the
    first whose Newton step is a direction of recession: see below), warns with a
    :class:`PerfectSeparationWarning` and returns those finite coefficients, with
    ``converged_`` False and standard errors NaN. Set ``alpha > 0`` to get the
    unique maximum a posteriori estimate instead.

    **Quasi-complete separation** (``solver="newton"``): some samples lie on the
    boundary of a hyperplane that separates the others (statsmodels warns of it
    when fitted probabilities reach 0 or 1). The log-likelihood then rises for
    ever along a direction that moves every sample toward its own class or
    leaves it in place, towards a supremum below 0; no maximum exists, and a
    solver's coefficients and standard errors only say where it stopped. Newton's
    method shows it by decrements that shrink slowly (linearly, not
    quadratically); the fit then tests whether the Newton step is such a
    direction (no sample's own-class margin decreases, some increase, to a
    relative ``1e-3``). If it is, the fit stops there with a
    :class:`PerfectSeparationWarning` naming quasi-complete separation,
    ``converged_`` False and standard errors NaN.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an intercept per class (never penalised).
    alpha : float, default=0.0
        Precision of a Gaussian prior :math:`N(0, \\alpha^{-1} I)` on the
        coefficients, that is the L2 penalty :math:`\\frac{\\alpha}{2}\\lVert W
        \\rVert^2` subtracted from the total (not the mean) log-likelihood: the
        fit is the maximum a posteriori estimate, and ``alpha = 1 / C`` gives the
        optimum of scikit-learn's ``LogisticRegression(C=C)``. ``alpha=0`` is the
        plain maximum likelihood estimate.
    solver : {"newton", "lbfgs", "gd"}, default="newton"
        See above.
    learning_rate : float or "auto", default="auto"
        Step size of ``solver="gd"`` on the mean log-likelihood; ``"auto"`` is an
        Armijo backtracking line search.
    max_iter : int, default=1000
        Iterations of the solver.
    tol : float, default=1e-6
        With ``solver="newton"``: stop when the Newton decrement
        :math:`\\lambda = \\sqrt{g^\\top I^{-1} g}` of the mean (per unit of
        sample weight) penalised log-likelihood (:math:`g` its gradient,
        :math:`I` its information; :math:`\\lambda^2/2` is the gain a Newton
        step predicts) is at most ``tol`` at two consecutive iterates, or at
        most 1e-9 times its value at the start. :math:`\\lambda` does not
        change when the features are shifted or rescaled, and the step between
        the two small decrements, Newton's quadratic convergence, brings the
        estimate from about half its digits to nearly all of them for one pass
        over the data. With ``"lbfgs"`` and ``"gd"``: stop when every component
        of that gradient is at most ``tol``.
    verbose : int, default=0
        0 silent, 1 a line at the end of the fit, 2 a line per iteration.
    warm_start : bool, default=False
        Start from the previous fit's parameters (same classes and features).
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The covariance of the estimates (statsmodels' ``cov_type``): the inverse
        information, or the sandwich :math:`I^{-1} M I^{-1}` of the per-row
        scores, :math:`M = \\sum_i w_i s_i s_i^\\top` (``"HC0"``), times
        :math:`n/(n-p)` (``"HC1"``), or summed within the ``groups`` given to
        :meth:`fit` (``"cluster"``); see :mod:`skmle.inference.sandwich`. With
        a prior the bread :math:`I` is the penalised information. Equal to
        statsmodels' ``Logit`` with ``cov_type="HC0"`` and ``"cluster"``
        (whose ``"HC1"`` applies no correction for ``Logit``: it equals its
        ``"HC0"``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted; with two classes ``classes_[1]`` is the
        positive class.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        One row for two classes (the log-odds of ``classes_[1]``), else one row
        per class. With more than two classes only differences between rows are
        identified; the rows are reported summing to zero.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Zeros when ``fit_intercept=False``; else summing to zero over the classes
        when there are more than two.
    coef_se_ : ndarray, same shape as ``coef_``
        Standard errors from ``params_cov_``; by default the inverse observed
        information
        :math:`(X^\\top W X)^{-1}` (plus :math:`\\alpha I` with a prior: then they are
        posterior standard deviations of the Laplace approximation). With more
        than two classes they are those of the sum-to-zero coefficients: the
        inverse information restricted to the rows summing to zero. NaN when the
        classes are separable.
    intercept_se_ : ndarray, same shape as ``intercept_``
        Zeros when ``fit_intercept=False`` (the intercept is fixed).
    params_cov_ : ndarray of shape (n_reported, n_reported)
        The covariance of ``coef_`` (row by row) and ``intercept_``, in the
        order of :meth:`param_names`, of ``cov_type``; NaN where the standard
        errors are.
    theta_ : ndarray
        The parameters as the model's flat vector (see
        :mod:`skmle.models.logistic`).
    loglik_ : float
        Total weighted training log-likelihood (without the prior).
    aic_, bic_ : float
        AIC and BIC of the training data (``aic(X, y)``, ``bic(X, y)``).
    loglik_history_ : ndarray of shape (n_iter_ + 1,)
        The maximised objective (log-likelihood, minus the penalty when
        ``alpha > 0``) at the start and after each iteration.
    n_iter_ : int
    converged_ : bool
        True when the stopping rule of ``tol`` holds at the returned
        parameters; False when ``max_iter`` ended the fit or the classes are
        separable.
    n_samples_seen_ : float
        Total sample weight (over all :meth:`partial_fit` calls after one).
    t_ : int
        Steps of :meth:`partial_fit` since the last :meth:`fit` (set only by
        :meth:`partial_fit`; :meth:`fit` removes it, and the step schedule
        restarts).
    initial_step_size_ : float
        :math:`\\gamma_0` of :meth:`partial_fit` (set only by it; removed by
        :meth:`fit`).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import LogisticGD
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> y = np.array(["no", "no", "yes", "no", "yes", "yes"])
    >>> model = LogisticGD().fit(X, y)
    >>> model.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> model.coef_.round(4), model.intercept_.round(4)
    (array([[1.214]]), array([-3.0351]))
    >>> model.predict([[1.0], [4.0]])
    array(['no', 'yes'], dtype='<U3')
    >>> model.predict_proba([[2.5]]).round(4)
    array([[0.5, 0.5]])
    >>> round(model.loglik_, 4)
    -2.478
    """

    _accept_sparse = SPARSE_FORMATS

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"newton", *GENERIC_SOLVERS})],
        "cov_type": [StrOptions(set(COV_TYPES))],
    }

    def __init__(
        self,
        fit_intercept=True,
        alpha=0.0,
        solver="newton",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-6,
        verbose=0,
        warm_start=False,
        cov_type="nonrobust",
    ):
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.cov_type = cov_type

    # -- fit -------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the model to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts (integers, strings...);
            at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.
        groups : array-like of shape (n_samples,), default=None
            The cluster of each sample, for ``cov_type="cluster"`` (required
            then, refused otherwise); in memory. Routed as fit metadata
            (``set_fit_request(groups=True)``) in a pipeline.

        Returns
        -------
        self : LogisticGD
        """
        # A fit starts a new stream: a later partial_fit restarts the step
        # schedule (t_ and initial_step_size_) from the fitted coefficients.
        for name in ("t_", "initial_step_size_"):
            if hasattr(self, name):
                delattr(self, name)
        return self._fit(X, y, sample_weight, groups)

    def _make_model(self, batch: Batch) -> LogisticLogLikelihood:
        n_classes = self.classes_.shape[0]
        return LogisticLogLikelihood(
            batch.X.shape[1], n_classes, self.fit_intercept, self.alpha
        )

    def _make_objective(self, rows) -> LogisticObjective:
        """The objective; for ``solver="newton"``, in centred coordinates where a
        feature's mean is large against its spread (see :meth:`_newton_center`)."""
        model = self.model_
        center = self._newton_center(rows) if self.solver == "newton" else None
        if center is not None:
            model = LogisticLogLikelihood(
                model.n_features, model.n_classes, True, model.alpha, center=center
            )
        return LogisticObjective(model, rows)

    def _newton_center(self, rows) -> np.ndarray | None:
        """:func:`~skmle.models.logistic_terms.column_center` of a uniform sample
        of up to 8,192 rows (all of them when there are fewer), the same rows in
        every store. Only with an intercept, which absorbs the shift."""
        if not self.fit_intercept:
            return None
        sample = rows.sample(CENTER_SAMPLE_ROWS, random_state=0)
        return column_center(sample.X, sample.sample_weight)

    def _initial_theta(self, objective) -> np.ndarray:
        """Zero coefficients and the intercepts of the class frequencies.

        The intercept-only maximum: log-odds of the weighted class totals (centred
        across classes for K > 2). It depends on the data only through weighted
        sums.
        """
        model = self.model_
        theta = np.zeros(model.n_params)
        if not model.fit_intercept:
            return theta
        totals = objective.sum_batches(
            lambda b: np.bincount(
                b.y, weights=b.sample_weight, minlength=model.n_classes
            )
        )
        log_totals = np.log(totals)
        W = model.coef_matrix(theta)
        if model.binary:
            W[0, -1] = log_totals[1] - log_totals[0]
        else:
            W[:, -1] = log_totals - log_totals.mean()
        return theta

    def _solve_newton(self, objective, theta0) -> OptimizeResult:
        """:func:`~skmle.optim.newton`, in the objective's
        (possibly centred) coordinates: the result is mapped back in
        :meth:`_store_result`."""
        if theta0 is None:
            theta0 = self._initial_theta(objective)
        else:
            theta0 = objective.model.centre(theta0)
        callback = (
            self._print_iteration(objective.total_weight) if self.verbose >= 2 else None
        )
        return newton(
            objective, theta0, max_iter=self.max_iter, tol=self.tol, callback=callback
        )

    def _fit_status(self, result: OptimizeResult, objective) -> Status:
        """The solver's status; for the generic solvers, which do not test for
        separation, ``SEPARABLE`` when the returned point separates the classes."""
        if self.solver == "newton" or self.alpha > 0:
            return result.status
        if objective.separated(objective.predictor(result.theta)):
            return Status.SEPARABLE
        return result.status

    def _store_result(self, result: OptimizeResult, objective) -> None:
        status = self._fit_status(result, objective)
        separated = status in SEPARATED
        # The information at the solution, in the objective's coordinates, for
        # the standard errors (none where no maximum exists).
        centred = np.array(result.theta)
        information = (
            None
            if separated
            else objective.solution_information(centred, result.learned)
        )
        result = dataclasses.replace(
            result,
            theta=objective.model.uncentre(centred),
            # The separation warning below replaces the generic max_iter one.
            converged=result.converged or separated,
            status=status,
            learned=dataclasses.replace(
                result.learned, information=information, at=centred
            ),
        )
        if not self.fit_intercept:
            self.intercept_se_ = np.zeros(self.model_.n_rows)
        # The standard errors factor an information matrix of order n_free: on
        # one BLAS thread, as the Newton steps (spin-waiting threads on a busy
        # machine made it four times slower).
        with single_blas_thread():
            super()._store_result(result, objective)
        if not separated:
            return
        self.converged_ = False
        message = separation_message(status, self.n_iter_)
        warnings.warn(message, PerfectSeparationWarning, stacklevel=4)

    def _training_loglik(self, result: OptimizeResult, objective) -> float:
        """The penalised objective at the optimum less the log-prior: no pass over
        the data, and the same in every coordinates (the prior leaves the
        intercepts alone)."""
        prior, _ = self.model_.log_prior_value_grad(result.theta)
        return float(result.value * objective.total_weight - prior)

    def _set_theta(self, theta) -> None:
        coef, intercept = self.model_.split(theta)
        self.coef_ = np.array(coef)
        self.intercept_ = np.array(intercept)
