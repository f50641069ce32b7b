"""Profiles of a linear regressor's coefficients by refitting the estimator itself
with the profiled combination moved into the response (for models without a
Hessian, such as least absolute deviations, and for ill-conditioned designs)."""

from __future__ import annotations

import numpy as np


def is_linear_regressor(estimator) -> bool:
    """A regressor whose reported parameters are its ``coef_`` and
    ``intercept_`` alone (a scale or shape parameter has no offset form)."""
    coef = getattr(estimator, "coef_", None)
    return (
        set(estimator.param_blocks()) <= {"coef", "intercept"}
        and hasattr(estimator, "fit_intercept")
        and coef is not None
        and np.ndim(coef) == 1
        and estimator.__sklearn_tags__().estimator_type == "regressor"
    )


def contrast_refit(estimator, X, y, row, std_errs, sample_weight=None):
    """Profile of :math:`r^\\top\\beta` of a linear regressor, by refitting it.

    With :math:`\\beta = (w, b)` over the design :math:`Z = [X, 1]` and
    :math:`r^\\top\\beta = v` solved for the coordinate :math:`i` with the
    largest :math:`|r_i|\\,\\mathrm{se}_i` (the one whose uncertainty dominates
    the combination's: solving for another would move the response by a huge
    multiple of a column the others nearly reproduce), the model is a
    regression of :math:`y - (v/r_i) z_i` on the columns
    :math:`z_j - (r_j/r_i) z_i`, :math:`j \\ne i`; so the
    estimator's own exact solver gives the profile. This is how models without a
    Hessian (least absolute deviations, whose log-likelihood has kinks) are
    profiled, and it keeps the digits of an ill-conditioned design (Longley),
    where Newton's method on ``theta`` stalls. The intercept stays the
    estimator's own wherever the restriction leaves it out.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n_features = X.shape[1]
    intercept = bool(estimator.fit_intercept)
    Z = np.hstack([X, np.ones((X.shape[0], 1))]) if intercept else X
    spread = np.abs(row) * np.where(np.isfinite(std_errs), std_errs, 1.0)
    i = int(np.argmax(np.where(row != 0, spread, -1.0)))
    others = [j for j in range(Z.shape[1]) if j != i]
    columns = Z[:, others] - np.outer(Z[:, i], row[others] / row[i])
    keep_intercept = intercept and i != n_features and row[n_features] == 0
    if keep_intercept:
        columns = columns[:, :-1]  # the column of ones, left as it was
        if columns.shape[1] == 0:  # the intercept alone: as an explicit column
            columns, keep_intercept = np.ones((X.shape[0], 1)), False

    def evaluate(value, start):
        model = estimator.__sklearn_clone__().set_params(fit_intercept=keep_intercept)
        model.fit(columns, y - (value / row[i]) * Z[:, i], sample_weight=sample_weight)
        return model.loglik_, start

    return evaluate
