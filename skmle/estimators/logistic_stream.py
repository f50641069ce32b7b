"""``LogisticGD.partial_fit``: stochastic gradient ascent on a stream of batches."""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from skmle._sklearn_compat import check_sample_weight, validate_data
from skmle._sparse import is_sparse, weighted_gram
from skmle.data import Batch
from skmle.estimators.logistic_labels import encode_with_classes
from skmle.inference import ReportedCovariance
from skmle.models.logistic import LogisticLogLikelihood


class LogisticStreamingMixin:
    """:meth:`partial_fit` of ``LogisticGD``."""

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
        before its step, ``n_iter_`` equals ``t_`` (``aic_`` and ``bic_`` follow ``loglik_``) and the
        standard errors and ``params_cov_`` are NaN (they need a pass over all
        the data: refit, or use ``fit``).

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
        X, y = validate_data(
            self, X, y, dtype=np.float64, reset=first, accept_sparse=self._accept_sparse
        )
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
        self._set_theta(self.theta_)
        self.coef_se_ = np.full_like(self.coef_, np.nan)
        self.intercept_se_ = np.full_like(self.intercept_, np.nan)
        n_reported = self.coef_.size + (
            self.intercept_.size if self.fit_intercept else 0
        )
        self._params_cov = ReportedCovariance.undefined(n_reported)
        self._set_information_criteria()
        return self

    def _initial_step_size(self, batch: Batch) -> float:
        r""":math:`\gamma_0` of :meth:`partial_fit` (see there)."""
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        weight = batch.sample_weight
        total = float(weight.sum())
        X = batch.X
        if is_sparse(X):
            second_moment = weighted_gram(X, weight, self.fit_intercept) / total
        else:
            if self.fit_intercept:
                X = np.column_stack([X, np.ones(X.shape[0])])
            second_moment = (X.T * weight) @ X / total
        largest = float(np.linalg.eigvalsh(second_moment)[-1])
        curvature = (0.25 if self.classes_.shape[0] == 2 else 0.5) * largest
        return 1.0 / max(curvature, np.finfo(float).tiny)
