"""``LogisticGD``'s coefficients against a baseline class, with their covariance.

skmle reports the multinomial coefficients symmetrically, each column of
:math:`(W, b)` summing to zero over the classes (the softmax is unchanged when
one vector is added to every row, so only differences are identified).
statsmodels' ``MNLogit``, Stata's ``mlogit`` and R's ``nnet::multinom`` report
instead the differences from a baseline class :math:`r`,

.. math:: \\gamma_k = (w_k - w_r,\\; b_k - b_r), \\qquad k \\ne r,

a linear map :math:`\\gamma = J\\beta` of the reported vector :math:`\\beta`, so
their covariance is :math:`J V J^\\top` with :math:`V` the ``params_cov_`` (of any
``cov_type``). The same holds for two classes, where ``coef_`` already is
:math:`\\gamma` for the baseline ``classes_[0]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_is_fitted


@dataclass(frozen=True)
class BaselineCoefficients:
    """Coefficients of each class against a baseline class, as MNLogit gives them.

    Attributes
    ----------
    baseline : object
        The baseline class label.
    classes : ndarray of shape (n_classes - 1,)
        The other classes, in the order of ``classes_``: one row each below.
    coef : ndarray of shape (n_classes - 1, n_features)
        :math:`w_k - w_r`.
    intercept : ndarray of shape (n_classes - 1,)
        :math:`b_k - b_r` (zeros without an intercept).
    coef_se, intercept_se : ndarray
        Their standard errors (same shapes).
    params : ndarray of shape (n_reported,)
        Class after class: the coefficients, then the intercept (when fitted).
    params_cov : ndarray of shape (n_reported, n_reported)
        :math:`J V J^\\top`, in the order of ``params``.
    names : list of str
        ``"<class>:<feature>"`` and ``"<class>:intercept"``, in that order.
    """

    baseline: object
    classes: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    coef_se: np.ndarray
    intercept_se: np.ndarray
    params: np.ndarray
    params_cov: np.ndarray
    names: list


class LogisticBaselineMixin:
    """:meth:`baseline_coef` for :class:`~skmle.LogisticGD`."""

    def _reported_offsets(self) -> dict[str, int]:
        """Where each block starts in the reported vector (the order of
        ``param_names()`` and ``params_cov_``)."""
        offsets, position = {}, 0
        for name in self._reported_blocks():
            offsets[name] = position
            position += self._block_estimates(name).size
        return offsets

    def _baseline_transform(self, baseline: int) -> np.ndarray:
        """:math:`J`: from the reported vector (``intercept_`` and ``coef_`` row
        by row, in the order of ``param_names()``) to the differences from class
        ``baseline``, class after class with each class's intercept last."""
        K = self.classes_.shape[0]
        d = self.n_features_in_
        intercept = bool(self.fit_intercept)
        p = d + intercept
        offsets = self._reported_offsets()
        rows = 1 if K == 2 else K  # two classes: one row, class 1 against 0
        size = rows * p

        def column(k, j):
            """Position of class k's coefficient j (j == d: its intercept)."""
            return offsets["coef"] + k * d + j if j < d else offsets["intercept"] + k

        if K == 2:
            sign = 1.0 if baseline == 0 else -1.0
            J = np.zeros((p, size))
            for j in range(p):
                J[j, column(0, j)] = sign
            return J
        others = [k for k in range(K) if k != baseline]
        J = np.zeros((len(others) * p, size))
        for row, k in enumerate(others):
            for j in range(p):
                J[row * p + j, column(k, j)] += 1.0
                J[row * p + j, column(baseline, j)] -= 1.0
        return J

    def baseline_coef(self, baseline=None) -> BaselineCoefficients:
        """The coefficients against a baseline class, with standard errors and
        covariance (statsmodels' ``MNLogit`` parameterisation).

        Parameters
        ----------
        baseline : class label, default=None
            The reference class; ``classes_[0]`` by default (MNLogit's choice).

        Returns
        -------
        BaselineCoefficients

        Raises
        ------
        ValueError
            When ``baseline`` is not one of ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmle import LogisticGD
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 1))
        >>> y = np.argmax(X @ [[0.0, 1.0, -1.0]] + rng.gumbel(size=(300, 3)), axis=1)
        >>> model = LogisticGD().fit(X, y)
        >>> against_0 = model.baseline_coef()
        >>> against_0.names
        ['1:x0', '1:intercept', '2:x0', '2:intercept']
        >>> bool(np.allclose(against_0.coef[0], model.coef_[1] - model.coef_[0]))
        True
        """
        check_is_fitted(self)
        classes = self.classes_
        if baseline is None:
            position = 0
        else:
            matches = np.flatnonzero(classes == np.asarray(baseline, classes.dtype))
            if matches.size != 1:
                raise ValueError(
                    f"baseline={baseline!r} is not one of the classes {list(classes)}."
                )
            position = int(matches[0])
        J = self._baseline_transform(position)
        reported = np.concatenate(
            [self._block_estimates(name) for name in self._reported_blocks()]
        )
        params = J @ reported
        cov = J @ self.params_cov_ @ J.T
        cov = (cov + cov.T) / 2.0
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
        d, intercept = self.n_features_in_, bool(self.fit_intercept)
        p = d + intercept
        table, errors = params.reshape(-1, p), se.reshape(-1, p)
        others = np.delete(classes, position)
        zeros = np.zeros(table.shape[0])
        features = getattr(self, "feature_names_in_", None)
        if features is None:
            features = [f"x{j}" for j in range(d)]
        labels = [str(f) for f in features] + (["intercept"] if intercept else [])
        return BaselineCoefficients(
            baseline=classes[position],
            classes=others,
            coef=table[:, :d],
            intercept=table[:, d] if intercept else zeros,
            coef_se=errors[:, :d],
            intercept_se=errors[:, d] if intercept else zeros,
            params=params,
            params_cov=cov,
            names=[f"{c}:{label}" for c in others for label in labels],
        )
