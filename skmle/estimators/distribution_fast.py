"""The in-memory path of ``DistributionMLE.fit``: the same fit without the row store.

``fit`` on an array in memory with ``solver="auto"`` and no ``groups`` (the
common case, and the one the speed targets of issue 17 are measured on) needs
none of what lets the general path read Dask or :func:`skmle.chunked` data:
:func:`fit_in_memory` validates ``X`` once (scikit-learn's ``check_array``,
without a copy), sums each column's statistics in one pass, checking the values
in it (:meth:`~skmle.models.distributions.base.Family.checked`), and hands them to
the same :func:`~skmle.estimators.distribution_solve.solve_columns` and the same
``_store_result`` as the general path. The estimates, standard errors,
log-likelihood, warnings and attributes are those of the general path, bit for
bit (``tests/estimators/test_distribution_fast.py`` checks it against chunked
data, which takes the general path); only the Python around the sums is
shorter.
"""

from __future__ import annotations

from skmle.data.stores import is_large
from skmle.estimators.distribution_solve import solve_columns
from skmle.models.objective import Objective


def takes_fast_path(estimator, X, groups) -> bool:
    """Whether ``fit(X, groups=groups)`` can skip the row store: ``X`` held in
    memory (an array, a DataFrame, a list; not Dask nor chunked data), no cluster
    labels, and the estimator's own solver (``"auto"``)."""
    return groups is None and estimator.solver == "auto" and not is_large(X)


def fit_in_memory(estimator, X, sample_weight):
    """``estimator.fit(X, sample_weight=sample_weight)`` for in-memory ``X`` (see
    the module docstring); returns the estimator."""
    estimator._validate_params()
    batch = estimator._fit_batch(X, sample_weight=sample_weight)
    model = estimator._make_model(batch)
    estimator.model_ = model
    objective = Objective(model, [batch])
    stats, total = model.statistics_and_weight(batch)
    objective._set_total_weight(total)  # refuses weights summing to zero
    theta0 = estimator.theta_ if estimator._warm_started() else None
    result = solve_columns(
        model,
        stats,
        total,
        objective.sum_batches,
        estimator.max_iter,
        estimator.tol,
        theta0,
    )
    estimator._store_result(result, objective)
    return estimator
