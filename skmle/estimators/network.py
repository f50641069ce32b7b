"""``MLPClassifierMLE``: a one-hidden-layer ReLU network fitted by maximum likelihood."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skmle._sklearn_compat import Interval, StrOptions
from skmle.data import Batch, rowwise
from skmle.estimators.base import GradientAscentMixin
from skmle.estimators.logistic_labels import LogisticDataMixin
from skmle.estimators.logistic_predict import LogisticPredictionMixin
from skmle.estimators.network_stream import NetworkStreamingMixin
from skmle.inference import Summary
from skmle.models.network import NetworkLogLikelihood
from skmle.optim import OptimizeResult, lbfgs

NOT_IDENTIFIED = (
    "No standard errors: the hidden units can be permuted, and each rescaled "
    "(W_j, b1_j, U_:j) -> (c W_j, c b1_j, U_:j / c), c > 0, without changing the "
    "likelihood, so the parameters are not identified and their information is "
    "singular; compare fits by log-likelihood, AIC or held-out data instead."
)


@dataclass
class FitStatistics(Summary):
    """A ``summary()`` without a parameter table: the fit statistics and a note."""

    note: str = ""

    def __str__(self) -> str:
        items = [
            f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}"
            for key, value in self.stats.items()
        ]
        width = max(len(self.title), 78)
        lines = [self.title, "=" * width]
        for i in range(0, len(items), 2):
            lines.append(
                "   ".join(f"{item:<38}" for item in items[i : i + 2]).rstrip()
            )
        lines.append("=" * width)
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "note": self.note}


class MLPClassifierMLE(
    LogisticDataMixin,
    LogisticPredictionMixin,
    NetworkStreamingMixin,
    GradientAscentMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """A neural network with one hidden ReLU layer, fitted by maximum likelihood.

    The model of scikit-learn's ``MLPClassifier(hidden_layer_sizes=(n_hidden,),
    activation="relu")``, as the lecture notes write it:

    .. math:: z = W x + b_1, \\quad h = \\mathrm{ReLU}(z), \\quad
       \\vartheta = U h + b_2, \\quad P(y = k \\mid x) = \\mathrm{softmax}(\\vartheta)_k,

    with one output (the log-odds of ``classes_[1]``, a sigmoid) for two classes.
    The fit maximises

    .. math:: \\ell(W, b_1, U, b_2) = \\sum_i s_i \\log P(y_i \\mid x_i)
       - \\frac{\\alpha}{2}\\big(\\lVert W\\rVert^2 + \\lVert U\\rVert^2\\big),

    :math:`s_i` the sample weights, with the gradient of the notes'
    backpropagation (:mod:`skmle.models.network`). The name says what it is:
    scikit-learn's multi-layer perceptron model, fitted as the family fits
    everything (as ``GaussianMLE``), by maximum likelihood, or maximum a
    posteriori with a Gaussian prior of precision ``alpha``.

    **The prior and scikit-learn.** ``MLPClassifier`` minimises the mean
    cross-entropy plus :math:`\\frac{\\alpha}{2n}\\sum \\lVert W\\rVert^2`, which
    is :math:`-1/n` times the objective above with the same ``alpha`` (and unit
    weights): the same ``alpha`` gives the same optimum from the same start.
    The default ``alpha=1e-4`` is scikit-learn's, and makes the fit a maximum
    a posteriori estimate (``summary()`` says so): a network separates most
    training sets, and then the likelihood has a supremum but no maximum, the
    weights grow without bound and probabilities underflow to 0. ``alpha=0``
    is the plain maximum likelihood estimate, where it exists.

    **Local maxima.** The log-likelihood is not concave: the solvers find a
    local maximum near the start. ``random_state`` fixes the start, and
    ``n_init`` fits from that many starts keep the one with the highest
    objective (log-likelihood plus log-prior).

    **No standard errors.** Hidden units can be permuted, and each rescaled
    (ReLU is positively homogeneous), without changing the likelihood: the
    parameters are not identified, the information matrix is singular, and
    Wald standard errors would mean nothing. ``summary()`` reports the fit
    statistics only. For the same reason the usual asymptotics behind AIC and
    BIC (a regular model, a unique maximum with an invertible information) do
    not hold for networks: ``aic_`` and ``bic_`` use the dimension
    :math:`k` of the map from the parameters to the likelihood,
    ``n_params - n_hidden`` (one rescaling per hidden unit), less
    ``n_hidden + 1`` more for more than two classes (a vector added to every
    row of :math:`[U, b_2]` changes no probability); treat them as rough
    guides and prefer held-out log-likelihood.

    Parameters
    ----------
    n_hidden : int, default=100
        Width :math:`D_h` of the hidden layer (scikit-learn's
        ``hidden_layer_sizes=(n_hidden,)``).
    alpha : float, default=1e-4
        Precision of the Gaussian prior :math:`N(0, \\alpha^{-1} I)` on the
        weights ``W`` and ``U`` (not the intercepts): the L2 penalty subtracted
        from the total log-likelihood (scikit-learn's ``alpha``, see above). 0
        is plain maximum likelihood.
    solver : {"lbfgs", "gd"}, default="lbfgs"
        ``"lbfgs"``: SciPy's L-BFGS (:func:`skmle.optim.lbfgs`, judged by skmle's
        rule at the point returned); ``"gd"``: gradient ascent with an Armijo
        line search or a fixed ``learning_rate``. The stochastic solver is
        :meth:`partial_fit`, on mini-batches.
    learning_rate : float or "auto", default="auto"
        Step of ``solver="gd"`` on the mean log-likelihood (``"auto"``: Armijo
        backtracking), and :math:`\\gamma_0` of :meth:`partial_fit`.
    max_iter : int, default=200
        Iterations of the solver, per start (scikit-learn's default).
    tol : float, default=1e-5
        Stop when every component of the gradient of the mean (per unit of
        sample weight) objective is at most ``tol``: scikit-learn's ``tol`` of
        ``solver="lbfgs"``, on the same scale.
    n_init : int, default=1
        Number of starts; the fit with the highest objective is kept.
    init : {"glorot", "he"} or array-like of shape (n_params,), default="glorot"
        The starts. ``"glorot"``: every weight and intercept of a layer uniform
        on :math:`\\pm\\sqrt{6 / (\\text{fan}_{in} + \\text{fan}_{out})}`, as
        scikit-learn initialises a ReLU network; ``"he"``: weights normal with
        variance :math:`2 / \\text{fan}_{in}`, intercepts zero. An array is the
        first start as a flat ``theta`` (``model_.pack(W, b1, U, b2)``, e.g. from
        ``MLPClassifier``'s ``coefs_[0].T, intercepts_[0], coefs_[1].T,
        intercepts_[1]``); further starts are ``"glorot"``.
    random_state : int, RandomState instance or None, default=None
        Draws the starts.
    verbose : int, default=0
        0 silent, 1 a line at the end of the fit, 2 a line per iteration.
    warm_start : bool, default=False
        Start from the previous fit's parameters (one start).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_ : list of two ndarrays
        :math:`W^\\top` of shape (n_features, n_hidden) and :math:`U^\\top` of
        shape (n_hidden, n_outputs), as scikit-learn's ``coefs_``;
        ``n_outputs`` is 1 for two classes, else ``n_classes``.
    intercepts_ : list of two ndarrays
        :math:`b_1` of shape (n_hidden,) and :math:`b_2` of shape (n_outputs,).
    theta_ : ndarray of shape (n_params,)
        The parameters as the model's flat vector (:mod:`skmle.models.network`).
    loglik_ : float
        Total weighted training log-likelihood (without the prior).
    aic_, bic_ : float
        With the :math:`k` above (``aic(X, y)``, ``bic(X, y)`` on new data).
    loglik_history_ : ndarray of shape (n_iter_ + 1,)
        The maximised objective at the start and after each iteration, of the
        start that was kept.
    n_iter_ : int
        Iterations of the start that was kept.
    converged_ : bool
    n_samples_seen_ : float
        Total sample weight.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when ``X`` has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import MLPClassifierMLE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> y = (X[:, 0] * X[:, 1] > 0).astype(int)  # no line separates them
    >>> model = MLPClassifierMLE(n_hidden=8, alpha=1e-2, random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.95)
    True
    >>> model.coefs_[0].shape, model.coefs_[1].shape
    ((2, 8), (8, 1))
    """

    _parameter_constraints: dict = {
        **GradientAscentMixin._common_parameter_constraints,
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "gd"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"glorot", "he"}), "array-like"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_hidden=100,
        alpha=1e-4,
        solver="lbfgs",
        learning_rate="auto",
        max_iter=200,
        tol=1e-5,
        n_init=1,
        init="glorot",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.n_hidden = n_hidden
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.init = init
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array or :func:`skmle.chunked` data.
        y : array-like of shape (n_samples,)
            Class labels; at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a row twice.

        Returns
        -------
        self : MLPClassifierMLE
        """
        self._reset_stream()
        return self._fit(X, y, sample_weight)

    # -- hooks of the mixin --------------------------------------------------------
    def _make_model(self, batch: Batch) -> NetworkLogLikelihood:
        return NetworkLogLikelihood(
            batch.X.shape[1], self.n_hidden, self.classes_.shape[0], self.alpha
        )

    def _starts(self, model: NetworkLogLikelihood):
        """The ``n_init`` starting points (see ``init``), drawn in turn from
        ``random_state``: they depend on the shapes only, never on the rows."""
        rng = check_random_state(self.random_state)
        for start in range(self.n_init):
            if start == 0 and not isinstance(self.init, str):
                yield self._given_start(model)
            else:
                yield model.random_theta("he" if self.init == "he" else "glorot", rng)

    def _given_start(self, model: NetworkLogLikelihood) -> np.ndarray:
        theta = np.asarray(self.init, dtype=float)
        if theta.shape != (model.n_params,) or not np.all(np.isfinite(theta)):
            raise ValueError(
                f"init as an array must be {model.n_params} finite numbers, the "
                f"flat theta of this network (model_.pack(W, b1, U, b2)); got an "
                f"array of shape {theta.shape}."
            )
        return theta

    def _initial_theta(self, objective) -> np.ndarray:
        """The first start (:meth:`_starts`)."""
        return next(self._starts(self.model_))

    def _fit_starts(self, objective, theta0, solve) -> OptimizeResult:
        """``solve`` from every start (from ``theta0`` alone when warm-started);
        the result with the highest objective."""
        starts = [theta0] if theta0 is not None else self._starts(self.model_)
        best = None
        for start in starts:
            result = solve(objective, start)
            if best is None or result.value > best.value:
                best = result
        return best

    def _solve_lbfgs(self, objective, theta0) -> OptimizeResult:
        """:func:`skmle.optim.lbfgs` on the objective as it is: with no Hessian
        there is no curvature to whiten by, and one run keeps L-BFGS's memory."""
        callback = (
            self._print_iteration(objective.total_weight) if self.verbose >= 2 else None
        )

        def solve(objective, start):
            return lbfgs(
                objective,
                start,
                max_iter=self.max_iter,
                tol=self.tol,
                callback=callback,
            )

        return self._fit_starts(objective, theta0, solve)

    def _solve_gd(self, objective, theta0) -> OptimizeResult:
        return self._fit_starts(objective, theta0, self._run_generic_solver)

    def _set_theta(self, theta) -> None:
        W, b1, U, b2 = self.model_.unpack(theta)
        self.coefs_ = [W.T.copy(), U.T.copy()]
        self.intercepts_ = [b1.copy(), b2.copy()]

    def _n_parameters(self) -> int:
        """:math:`k` of AIC and BIC: the parameters less the directions along
        which the likelihood is flat (see the class docstring)."""
        model = self.model_
        flat = model.n_hidden + (model.n_hidden + 1 if model.n_outputs > 1 else 0)
        return int(model.n_params - flat)

    @rowwise
    def decision_function(self, X):
        """The network's output scores :math:`\\vartheta = U h + b_2`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (the log-odds of
        ``classes_[1]``), else (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.model_.output_scores(self.theta_, self._validate_for_scoring(X))

    @rowwise
    def predict_proba(self, X):
        """Probability of each class, at least the smallest positive normal float.

        A weakly penalised network that separates its training data reaches
        scores in the hundreds, whose softmax underflows to 0; the floor keeps
        its logarithm finite (``log_likelihood`` uses the exact log-softmax of
        the model instead).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        return np.maximum(super().predict_proba(X), np.finfo(float).tiny)

    @rowwise
    def predict_log_proba(self, X):
        """The logarithm of :meth:`predict_proba` (as scikit-learn's
        ``MLPClassifier``): exact down to about -708, where the floor of the
        probabilities sets it, so that both rank the classes alike.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def summary(self, alpha: float = 0.05, feature_names=None) -> FitStatistics:
        """The fit statistics, without a parameter table (see "No standard
        errors" above).

        Parameters
        ----------
        alpha : float, default=0.05
            Accepted for the common interface; there are no intervals.
        feature_names : sequence of str, default=None
            Checked as for the other estimators; there are no parameter rows.

        Returns
        -------
        FitStatistics
            ``str()`` gives the statistics and the note on identification;
            ``to_dict()`` the same as plain types, with ``"params"`` empty.
        """
        table = super().summary(alpha, feature_names)
        stats = {
            "hidden units": self.model_.n_hidden,
            "classes": int(self.classes_.shape[0]),
            **table.stats,
        }
        if hasattr(self, "t_"):
            stats["solver"] = "partial_fit (stochastic gradient ascent)"
        return FitStatistics(
            title=table.title.replace(" estimates", " fit"),
            rows=[],
            stats=stats,
            alpha=table.alpha,
            note=NOT_IDENTIFIED,
        )
