"""``LogisticGD``: binary and multinomial logistic regression by maximum likelihood."""

from __future__ import annotations

import dataclasses
import warnings
from numbers import Real

import numpy as np
from scipy import linalg
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from skmle._linalg import scaled_cholesky
from skmle._sklearn_compat import (
    Interval,
    StrOptions,
    check_sample_weight,
    validate_data,
)
from skmle.data import InMemoryRows, is_large, rowwise
from skmle.data.chunked import ChunkedArray
from skmle.data.dask import is_dask_array
from skmle.estimators.base import GENERIC_SOLVERS, GradientAscentMixin
from skmle.models.base import Batch
from skmle.models.logistic import (
    CENTER_SAMPLE_ROWS,
    QUASI_SEPARABLE_MESSAGE,
    SEPARABLE_MESSAGE,
    LogisticLogLikelihood,
    LogisticObjective,
    column_center,
    sample_rows,
)
from skmle.models.logistic_batches import BatchedLogisticObjective
from skmle.optim import OptimizeResult, newton


def encode_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels and the index of each row's label, as LabelEncoder.

    Integer labels with a compact range are counted with ``bincount`` in one pass
    instead of sorted (what ``LabelEncoder`` does), a difference of tens of
    milliseconds on a million rows; other labels go through ``LabelEncoder``.
    """
    if y.dtype.kind in "iu" and y.size:
        low = y.min()
        span = int(y.max()) - int(low) + 1
        if span <= 2 * y.size + 1024:
            offset = (y - low).astype(np.intp)
            present = np.flatnonzero(np.bincount(offset, minlength=span))
            lookup = np.zeros(span, dtype=np.intp)
            lookup[present] = np.arange(present.size)
            return (present + low).astype(y.dtype), lookup[offset]
    encoder = LabelEncoder()
    encoded = encoder.fit_transform(y)
    return encoder.classes_, encoded


def encode_with_classes(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Index of each label of ``y`` in the sorted ``classes``; ValueError if absent."""
    index = np.searchsorted(classes, y)
    inside = index < classes.shape[0]
    if not np.all(inside) or not np.all(classes[index[inside]] == y[inside]):
        unknown = np.setdiff1d(y, classes)
        raise ValueError(
            f"y contains labels {list(unknown)} that are not among the classes "
            f"{list(classes)}."
        )
    return index


def all_classes(y, chunk_rows: int = 1 << 20) -> np.ndarray:
    """The sorted distinct labels of a ``y`` that may be larger than memory.

    A Dask array goes through ``dask.array.unique``; anything else (an ndarray, a
    ``numpy.memmap``, :func:`skmle.chunked` data) is read ``chunk_rows`` at a time
    and the labels of the chunks are merged.
    """
    if y is None:
        raise ValueError("LogisticGD needs the class labels y.")
    if isinstance(y, ChunkedArray):
        y = y.data
    if is_dask_array(y):
        import dask.array as da

        return np.asarray(da.unique(y.ravel()).compute())
    if not hasattr(y, "shape"):
        y = np.asarray(y)
    labels = None
    for start in range(0, max(y.shape[0], 1), chunk_rows):
        part = np.unique(np.ravel(np.asarray(y[start : start + chunk_rows])))
        labels = part if labels is None else np.union1d(labels, part)
    return labels


def sum_to_zero_variances(covariance_free: np.ndarray, model) -> np.ndarray:
    """Variances of ``theta = B phi`` from the covariance of the free ``phi``.

    For two classes ``B`` is the identity. For K > 2, ``W_k = phi_k - mean_j
    phi_j`` (``phi_0 = 0``) column by column, so only the covariances between
    classes of one coefficient are needed: with ``D[k, l, j] = Cov(phi_kj,
    phi_lj)``, ``Var W_kj = D[k, k, j] - 2 mean_l D[k, l, j] + mean_kl D[k, l, j]``
    (means over all K classes). That is O(K^2 p) work; the dense
    ``diag(B C B^T)`` would be O(K^3 p^3).
    """
    if model.binary:
        return np.diag(covariance_free).copy()
    K, p = model.n_classes, model.row_size
    m = K - 1
    blocks = np.reshape(covariance_free, (m, p, m, p))
    # D[k, l, j] for k, l = 1..K-1; class 0 (phi = 0) adds zero rows and columns.
    D = np.zeros((K, K, p))
    D[1:, 1:] = np.diagonal(blocks, axis1=1, axis2=3)
    row_means = D.sum(axis=1) / K  # (K, p): Cov(phi_kj, mean phi_j)
    grand = row_means.sum(axis=0) / K  # (p,): Var(mean phi_j)
    own = np.diagonal(D, axis1=0, axis2=1).T  # (K, p)
    return (own - 2.0 * row_means + grand).ravel()


class PerfectSeparationWarning(ConvergenceWarning):
    """The classes are completely or quasi-completely separable, so no maximum
    likelihood estimate exists."""


class LogisticGD(GradientAscentMixin, ClassifierMixin, BaseEstimator):
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
    :math:`t` (:func:`skmle.optim.linear_newton.linear_newton`); it reads the data
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
    (estimated from a systematic sample of 8,192 rows; the first rows of data
    read in pieces), so that the information matrix keeps its digits, and maps
    the intercepts back; only truly collinear columns then warn. With more
    than two classes the information is one SYRK of the class-scaled rows per
    block of rows, :math:`O(n (K-1)^2 d^2)` time and :math:`O((K-1)^2 d^2)`
    memory. ``"lbfgs"`` suits very many features; ``"gd"`` is plain gradient
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
        Standard errors from the inverse observed information
        :math:`(X^\\top W X)^{-1}` (plus :math:`\\alpha I` with a prior: then they are
        posterior standard deviations of the Laplace approximation). With more
        than two classes they are those of the sum-to-zero coefficients: the
        inverse information restricted to the rows summing to zero. NaN when the
        classes are separable.
    intercept_se_ : ndarray, same shape as ``intercept_``
        Zeros when ``fit_intercept=False`` (the intercept is fixed).
    theta_ : ndarray
        The parameters as the model's flat vector (see
        :mod:`skmle.models.logistic`).
    loglik_ : float
        Total weighted training log-likelihood (without the prior).
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

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "fit_intercept": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"newton", *GENERIC_SOLVERS})],
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
    ):
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start

    # -- fit -------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts (integers, strings...);
            at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.

        Returns
        -------
        self : LogisticGD
        """
        # A fit starts a new stream: a later partial_fit restarts the step
        # schedule (t_ and initial_step_size_) from the fitted coefficients.
        for name in ("t_", "initial_step_size_"):
            if hasattr(self, name):
                delattr(self, name)
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One step of stochastic gradient ascent on the batch ``(X, y)``.

        For a stream of batches too large to fit at once (or to refine a fit).
        With :math:`W_b` the batch's total weight, :math:`N_t` the weight seen so
        far (``n_samples_seen_``, this batch included) and :math:`t` the number of
        steps so far (``t_``, this one included), the step is

        .. math:: \\theta \\leftarrow \\theta + \\gamma_t \\Big(
            \\frac{\\nabla \\ell_b(\\theta)}{W_b}
            + \\frac{\\nabla \\log \\pi(\\theta)}{N_t}\\Big),
            \\qquad \\gamma_t = \\frac{\\gamma_0}{\\sqrt{t}},

        the gradient of the batch's mean log-likelihood plus the prior's share,
        with an inverse-square-root decay (scikit-learn's ``"invscaling"``
        schedule with ``power_t=0.5``). :math:`\\gamma_0` is ``learning_rate``
        when it is a number; with ``"auto"`` it is :math:`1 / L`, where
        :math:`L = c\\,\\lambda_{\\max}(\\sum_i w_i \\tilde x_i \\tilde x_i^\\top / W_b)`
        on the first batch bounds the curvature of the mean log-likelihood
        (:math:`\\tilde x` the row with its intercept 1, :math:`c = 1/4` for two
        classes, :math:`1/2` for more).
        Repeated passes over shuffled batches approach the maximum that ``fit``
        finds exactly (see the tests for a measured gap); ``fit`` on the whole
        data, or on a Dask array or :func:`skmle.chunked` data, is exact.

        The first call fixes the classes (``classes`` is then required, as in
        scikit-learn's ``SGDClassifier``) and starts from zero coefficients, or
        from the coefficients of an earlier ``fit``. After ``partial_fit``,
        ``loglik_`` is the log-likelihood of the last batch at the parameters
        before its step, ``n_iter_`` equals ``t_`` and the standard errors are
        NaN (they need a pass over all the data: refit, or use ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, all among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream; required on the first call, and if
            given later it must equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights. A batch whose weights are all zero raises a
            ``ValueError`` and leaves the model unchanged, as in scikit-learn's
            ``SGDClassifier.partial_fit``; zero weights on some rows are fine.

        Returns
        -------
        self : LogisticGD

        Examples
        --------
        >>> import numpy as np
        >>> from skmle import LogisticGD
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(1000, 2))
        >>> y = (X[:, 0] + rng.logistic(size=1000) > 0).astype(int)
        >>> model = LogisticGD()
        >>> for epoch in range(20):
        ...     for rows in np.array_split(rng.permutation(1000), 10):
        ...         model = model.partial_fit(X[rows], y[rows], classes=[0, 1])
        >>> exact = LogisticGD().fit(X, y)
        >>> bool(np.allclose(model.coef_, exact.coef_, atol=0.1))
        True
        """
        self._validate_params()
        first = not hasattr(self, "classes_")
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={list(classes)} differs from the classes of the first "
                    f"call, {list(self.classes_)}; the classes are fixed on it."
                )
        elif first:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "classes of the whole stream, e.g. classes=np.unique(y_all)."
            )
        if first and classes.shape[0] < 2:
            raise ValueError(
                f"LogisticGD needs at least 2 classes, got classes={list(classes)}."
            )
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first)
        check_classification_targets(y)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        if first:
            self.classes_ = classes
        batch = Batch(X, encode_with_classes(y, self.classes_), sample_weight)
        model = getattr(self, "model_", None)
        if first or model is None:
            model = LogisticLogLikelihood(
                X.shape[1], self.classes_.shape[0], self.fit_intercept, self.alpha
            )
            self.model_ = model
            self.theta_ = np.zeros(model.n_params)
            self.n_samples_seen_ = 0.0
        if getattr(self, "initial_step_size_", None) is None:
            self.initial_step_size_ = self._initial_step_size(batch)
        # check_sample_weight has rejected a batch whose weights are all zero
        # (a ValueError, as scikit-learn's SGDClassifier.partial_fit raises).
        batch_weight = float(sample_weight.sum())
        loglik, grad = model.loglik_grad(self.theta_, batch)
        t = getattr(self, "t_", 0) + 1
        n_seen = getattr(self, "n_samples_seen_", 0.0) + batch_weight
        _, prior_grad = model.log_prior_value_grad(self.theta_)
        direction = grad / batch_weight + prior_grad / n_seen
        theta = self.theta_ + self.initial_step_size_ / np.sqrt(t) * direction
        if not np.all(np.isfinite(theta)):
            raise ValueError(
                "partial_fit produced non-finite parameters; scale the features "
                "or give a smaller learning_rate."
            )
        self.theta_, self.t_, self.n_samples_seen_ = theta, t, n_seen
        self.loglik_ = float(loglik)
        self.loglik_history_ = np.array([self.loglik_])
        self.n_iter_ = self.t_
        self.converged_ = False
        self._separated = False
        self._set_theta(self.theta_)
        self.coef_se_ = np.full_like(self.coef_, np.nan)
        self.intercept_se_ = np.full_like(self.intercept_, np.nan)
        return self

    def _initial_step_size(self, batch: Batch) -> float:
        r""":math:`\gamma_0` of :meth:`partial_fit` (see there)."""
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        weight = batch.sample_weight
        total = float(weight.sum())
        X = batch.X
        if self.fit_intercept:
            X = np.column_stack([X, np.ones(X.shape[0])])
        second_moment = (X.T * weight) @ X / total
        largest = float(np.linalg.eigvalsh(second_moment)[-1])
        curvature = (0.25 if self.classes_.shape[0] == 2 else 0.5) * largest
        return 1.0 / max(curvature, np.finfo(float).tiny)

    def _validate_fit_data(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        # As scikit-learn's classifiers: a continuous (non-integral float) y is
        # a ValueError here, before any fitting. Integer and boolean labels are
        # always classes (validate_data has made y one column), and the check
        # would cost a sort of y: a few percent of a large fit.
        if y.dtype.kind not in "biu":
            check_classification_targets(y)
        known = getattr(self, "_known_classes", None)
        if known is not None:
            # A chunk of data read in pieces: the classes come from all of y.
            return X, encode_with_classes(y, known)
        self.classes_, y = encode_labels(y)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "LogisticGD needs samples of at least 2 classes, but y contains "
                f"only one class: {self.classes_[0]!r}."
            )
        return X, y

    def _make_model(self, batch: Batch) -> LogisticLogLikelihood:
        n_classes = self.classes_.shape[0]
        return LogisticLogLikelihood(
            batch.X.shape[1], n_classes, self.fit_intercept, self.alpha
        )

    def _check_class_totals(self, totals: np.ndarray) -> None:
        if np.any(totals <= 0):
            missing = self.classes_[totals <= 0]
            raise ValueError(
                "Every class needs a positive total sample weight, but the class(es) "
                f"{list(missing)} have none, so their probability would be fitted as "
                "exactly 0. Remove those samples or give them positive weights."
            )

    def _objective_for_data(self, X, y=None, sample_weight=None):
        """In memory as the mixin; on data read in pieces, the classes come from a
        pass over all of ``y`` first, and the class totals from a sum over chunks."""
        if not is_large(X) or X.shape[0] == 0:
            # No rows at all: the in-memory validation's "0 sample(s)" error.
            self._known_classes = None
            objective = super()._objective_for_data(X, y, sample_weight)
        else:
            self.classes_ = all_classes(y)
            if self.classes_.shape[0] < 2:
                raise ValueError(
                    "LogisticGD needs samples of at least 2 classes, but y contains "
                    f"only one class: {self.classes_[0]!r}."
                )
            # Kept for the whole fit: chunks are validated again on every pass.
            self._known_classes = self.classes_
            objective = super()._objective_for_data(X, y, sample_weight)
        n_classes = self.classes_.shape[0]
        self._check_class_totals(
            objective.sum_batches(
                lambda b: np.bincount(b.y, weights=b.sample_weight, minlength=n_classes)
            )
        )
        return objective

    def _make_objective(self, batches) -> LogisticObjective:
        """The objective; for ``solver="newton"``, in centred coordinates where a
        feature's mean is large against its spread (see :meth:`_newton_center`)."""
        model = self.model_
        center = self._newton_center(batches) if self.solver == "newton" else None
        if center is not None:
            model = LogisticLogLikelihood(
                model.n_features, model.n_classes, True, model.alpha, center=center
            )
        if not isinstance(batches, InMemoryRows):
            return BatchedLogisticObjective(model, batches)
        return LogisticObjective(model, batches)

    def _newton_center(self, batches) -> np.ndarray | None:
        """:func:`~skmle.models.logistic.column_center` of a sample of rows.

        In memory a systematic sample of up to 8,192 rows (all of them when there
        are fewer); for data read in pieces the first rows. Only with an
        intercept, which absorbs the shift.
        """
        if not self.fit_intercept:
            return None
        if not isinstance(batches, InMemoryRows):
            head = batches.head()
            return column_center(head.X, head.sample_weight)
        n = sum(b.X.shape[0] for b in batches)
        samples = []
        for b in batches:
            size = max(1, CENTER_SAMPLE_ROWS * b.X.shape[0] // max(n, 1))
            rows = sample_rows(b.X.shape[0], size)
            samples.append((b.X[rows], b.sample_weight[rows]))
        return column_center(
            np.vstack([X for X, _ in samples]), np.concatenate([w for _, w in samples])
        )

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
        """:func:`~skmle.optim.linear_newton.linear_newton`, in the objective's
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

    def _store_result(self, result: OptimizeResult, objective) -> None:
        if self.solver == "newton":
            separated = result.message in (SEPARABLE_MESSAGE, QUASI_SEPARABLE_MESSAGE)
        else:
            separated = self.alpha == 0 and objective.separated(
                objective.predictor(result.theta)
            )
        quasi = separated and result.message == QUASI_SEPARABLE_MESSAGE
        self._separated = separated
        # Kept with this fit's objective: the information it holds is at this
        # point, in its coordinates.
        objective.solution_theta = np.array(result.theta)
        result = dataclasses.replace(
            result, theta=objective.model.uncentre(result.theta)
        )
        if separated:
            # The separation warning below replaces the generic max_iter one.
            result = dataclasses.replace(result, converged=True)
        super()._store_result(result, objective)
        if not separated:
            return
        self.converged_ = False
        if quasi:
            message = (
                "The classes are quasi-completely separable: a direction of the "
                "coefficients moves every sample toward its own class or leaves it "
                "where it is, so the log-likelihood rises along it for ever, the "
                "fitted probabilities of some samples go to 0 or 1, and no maximum "
                "likelihood estimate exists (the coefficients along that direction "
                "are infinite). Returning the finite coefficients of iteration "
                f"{self.n_iter_}, where the solver proved it; standard errors are "
                "NaN (they would only measure where the solver stopped). Set "
                "alpha > 0 (a Gaussian prior on the coefficients) for a unique "
                "estimate."
            )
        else:
            message = (
                "The classes are linearly separable (a hyperplane puts every sample "
                "on the side of its own class), so the log-likelihood approaches 0 "
                "as the coefficients grow and no maximum likelihood estimate "
                f"exists. Returning the finite coefficients of iteration "
                f"{self.n_iter_}; standard errors are NaN. Set alpha > 0 (a "
                "Gaussian prior on the coefficients) for a unique estimate."
            )
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

    # -- inference -------------------------------------------------------------------
    def _inference_blocks(self) -> dict[str, np.ndarray]:
        model = self.model_
        index = np.arange(model.n_params).reshape(model.n_rows, model.row_size)
        blocks = {"coef": index[:, : model.n_features].ravel()}
        if model.fit_intercept:
            blocks["intercept"] = index[:, -1]
        return blocks

    def _standard_errors(self, objective) -> dict[str, np.ndarray]:
        model = self.model_
        blocks = self._inference_blocks()
        if not model.fit_intercept:
            self.intercept_se_ = np.zeros(model.n_rows)
        if self._separated:
            return {name: np.full(len(idx), np.nan) for name, idx in blocks.items()}
        theta = getattr(objective, "solution_theta", None)
        if theta is None:
            theta = objective.model.centre(self.theta_)
        if objective.information_theta is not None and np.array_equal(
            objective.information_theta, theta
        ):
            information = objective.information
        else:
            eta = objective.predictor(theta)
            information = objective.information_at(eta)[2]
        cholesky = scaled_cholesky(information)
        if cholesky is None:
            warnings.warn(
                "The observed information of LogisticGD is singular at the fitted "
                "parameters (collinear features, or more features than samples): "
                "the maximum is not unique, and standard errors are set to NaN.",
                UserWarning,
                stacklevel=4,
            )
            return {name: np.full(len(idx), np.nan) for name, idx in blocks.items()}
        factor, scale = cholesky
        # information^{-1} = S M^{-1} S, M = S information S the scaled matrix
        covariance_free = scale[:, None] * linalg.cho_solve(
            (factor, True), np.diag(scale)
        )
        # In the objective's coordinates, then for the raw features.
        covariance_free = objective.model.uncentre_covariance(covariance_free)
        variances = sum_to_zero_variances(covariance_free, model)
        se = np.sqrt(np.maximum(variances, 0.0))
        return {name: se[idx] for name, idx in blocks.items()}

    def _n_parameters(self) -> int:
        """Identified parameters: (n_classes - 1) rows of coefficients for K > 2."""
        return int(self.model_.n_free)

    def _parameter_labels(self, name: str, size: int, feature_names=None) -> list[str]:
        if self.model_.binary:
            return super()._parameter_labels(name, size, feature_names)
        features = feature_names
        if features is None:
            features = getattr(self, "feature_names_in_", None)
        if features is None:
            features = [f"x{j}" for j in range(self.n_features_in_)]
        if name == "intercept":
            return [f"{c}:intercept" for c in self.classes_]
        return [f"{c}:{f}" for c in self.classes_ for f in features]

    # -- prediction ------------------------------------------------------------------
    def _validate_for_scoring(self, X):
        return validate_data(self, X, dtype=np.float64, reset=False)

    def _scoring_batch(self, X, y=None, sample_weight=None) -> Batch:
        if y is None:
            raise ValueError("LogisticGD.log_likelihood needs the class labels y.")
        X = self._validate_for_scoring(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"y has shape {y.shape}; expected ({X.shape[0]},), one label per row."
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels not seen in fit: {list(unknown)}; the classes are "
                f"{list(self.classes_)}."
            )
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        return Batch(X, np.searchsorted(self.classes_, y), sample_weight)

    @rowwise
    def decision_function(self, X):
        """Linear scores: the log-odds of ``classes_[1]``, or one score per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.model_.linear_predictor(self.theta_, self._validate_for_scoring(X))

    @rowwise
    def predict_log_proba(self, X):
        """Log-probability of each class, computed in log space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        eta = self.decision_function(X)
        if eta.ndim == 1:
            return np.column_stack([log_expit(-eta), log_expit(eta)])
        return log_softmax(eta, axis=1)

    @rowwise
    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        eta = self.decision_function(X)
        if eta.ndim == 1:
            return np.column_stack([expit(-eta), expit(eta)])
        return softmax(eta, axis=1)

    @rowwise
    def predict(self, X):
        """The most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        eta = self.decision_function(X)
        index = (eta > 0).astype(int) if eta.ndim == 1 else np.argmax(eta, axis=1)
        return self.classes_[index]
