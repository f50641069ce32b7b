"""``MLPClassifierMLE.partial_fit``: stochastic gradient ascent on mini-batches."""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from skmle._sklearn_compat import check_sample_weight, validate_data
from skmle.data import Batch
from skmle.estimators.logistic_labels import encode_with_classes
from skmle.models.network import NetworkLogLikelihood
from skmle.optim.line_search import armijo, backtrack

STREAM_ATTRIBUTES = ("t_", "initial_step_size_")
"""Set by :meth:`~NetworkStreamingMixin.partial_fit` only; ``fit`` removes them."""


class NetworkStreamingMixin:
    """:meth:`partial_fit` of ``MLPClassifierMLE``."""

    def _reset_stream(self) -> None:
        """A ``fit`` starts a new stream: a later ``partial_fit`` restarts the
        step schedule from the fitted parameters."""
        for name in STREAM_ATTRIBUTES:
            if hasattr(self, name):
                delattr(self, name)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One step of stochastic gradient ascent on the mini-batch ``(X, y)``.

        With :math:`W_b` the batch's total weight, :math:`N_t` the weight seen
        so far (``n_samples_seen_``, this batch included) and :math:`t` the steps
        so far (``t_``, this one included), the step is

        .. math:: \\theta \\leftarrow \\theta + \\gamma_t \\Big(
            \\frac{\\nabla \\ell_b(\\theta)}{W_b}
            + \\frac{\\nabla \\log \\pi(\\theta)}{N_t}\\Big),
            \\qquad \\gamma_t = \\frac{\\gamma_0}{\\sqrt{t}}:

        the gradient of the batch's mean log-likelihood plus the prior's share,
        with scikit-learn's ``"invscaling"`` schedule (``power_t=0.5``), as
        ``LogisticGD.partial_fit``. :math:`\\gamma_0` is ``learning_rate`` when
        it is a number; with ``"auto"`` it is the Armijo step on the first
        batch: the first of :math:`1, 1/2, 1/4, \\ldots` that raises that
        batch's mean objective by at least :math:`10^{-4}` of what the slope
        promises. Passes over shuffled mini-batches approach a local maximum
        of the whole data's objective; ``fit`` (L-BFGS) gets there exactly.

        The first call fixes the classes (``classes`` is then required) and
        starts from the first start of ``init`` (or from an earlier ``fit``).
        Afterwards ``loglik_`` is the batch's log-likelihood before its step,
        ``n_iter_`` equals ``t_`` and ``aic_``, ``bic_`` follow ``loglik_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, all among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream; required on the first call, and if given
            later it must equal ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : MLPClassifierMLE
        """
        self._validate_params()
        first = not hasattr(self, "classes_")
        classes = self._stream_classes(classes, first)
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first)
        check_classification_targets(y)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        if first:
            self.classes_ = classes
        batch = Batch(X, encode_with_classes(y, self.classes_), sample_weight)
        if first or getattr(self, "model_", None) is None:
            self.model_ = NetworkLogLikelihood(
                X.shape[1], self.n_hidden, self.classes_.shape[0], self.alpha
            )
            self.theta_ = next(self._starts(self.model_))
            self.n_samples_seen_ = 0.0
        model = self.model_
        batch_weight = float(sample_weight.sum())
        n_seen = self.n_samples_seen_ + batch_weight
        loglik, grad = model.loglik_grad(self.theta_, batch)
        _, prior_grad, _ = model.log_prior(self.theta_, n_seen)
        direction = grad / batch_weight + prior_grad / n_seen
        if getattr(self, "initial_step_size_", None) is None:
            self.initial_step_size_ = self._initial_step_size(
                batch, loglik / batch_weight, direction, n_seen
            )
        t = getattr(self, "t_", 0) + 1
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
        self._set_theta(theta)
        self._set_information_criteria()
        return self

    def _stream_classes(self, classes, first: bool):
        """``classes`` checked against the stream: required first, fixed then."""
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={list(classes)} differs from the classes of the "
                    f"first call, {list(self.classes_)}; the classes are fixed "
                    "on it."
                )
        elif first:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "classes of the whole stream, e.g. classes=np.unique(y_all)."
            )
        if first and classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes, got "
                f"classes={list(classes)}."
            )
        return classes

    def _initial_step_size(self, batch, value, direction, n_seen) -> float:
        """:math:`\\gamma_0` of :meth:`partial_fit` (see there)."""
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        model, theta, weight = self.model_, self.theta_, batch.total_weight
        prior, _, _ = model.log_prior(theta, n_seen)
        start = value + prior / n_seen
        slope = float(direction @ direction)
        if not slope > 0:
            return 1.0

        def evaluate(step):
            trial = theta + step * direction
            prior, _, _ = model.log_prior(trial, n_seen)
            return model.loglik(trial, batch) / weight + prior / n_seen

        step = backtrack(evaluate, lambda t, new: armijo(start, new, t, slope))
        if step is None:
            raise ValueError(
                "partial_fit found no step that raises the first batch's "
                "log-likelihood; give learning_rate a small number."
            )
        return step
