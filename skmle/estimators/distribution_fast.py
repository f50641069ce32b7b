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
shorter: the parameters are validated by scikit-learn's own
``validate_parameter_constraints`` without ``get_params``' signature inspection
(:func:`validate_params`), and a 2-D float64 ``numpy.ndarray`` with rows and
columns, for which scikit-learn's ``validate_data`` would only record
``n_features_in_``, skips it (:func:`validated_rows`).
"""

from __future__ import annotations

import numpy as np

from skmle._sklearn_compat import validate_data, validate_parameter_constraints
from skmle.data.rows import InMemoryRows
from skmle.data.stores import is_large
from skmle.estimators.distribution_solve import solve_columns
from skmle.models.objective import Objective


def takes_fast_path(estimator, X, groups) -> bool:
    """Whether ``fit(X, groups=groups)`` can skip the row store: ``X`` held in
    memory (an array, a DataFrame, a list; not Dask nor chunked data), no cluster
    labels, and the estimator's own solver (``"auto"``)."""
    return groups is None and estimator.solver == "auto" and not is_large(X)


_PARAM_NAMES: dict[type, list[str]] = {}


def validate_params(estimator) -> None:
    """``estimator._validate_params()``: scikit-learn's check of every
    hyperparameter against ``_parameter_constraints``, with the names of the
    ``__init__`` parameters looked up once per class (``get_params`` inspects
    the signature at every call)."""
    cls = type(estimator)
    names = _PARAM_NAMES.get(cls)
    if names is None:
        names = _PARAM_NAMES[cls] = list(cls._get_param_names())
    validate_parameter_constraints(
        estimator._parameter_constraints,
        {name: getattr(estimator, name) for name in names},
        caller_name=cls.__name__,
    )


def validated_rows(estimator, X, reset: bool) -> np.ndarray:
    """``validate_data(estimator, X, dtype=float64, ensure_all_finite=False,
    reset=reset)``: the values are checked later, by the statistics' pass.

    For a 2-D float64 ``numpy.ndarray`` (not a subclass) with at least one row
    and one column, refitted (``reset``), scikit-learn would return ``X`` itself
    and only set ``n_features_in_`` and drop ``feature_names_in_``: that is done
    here directly. Anything else goes through ``validate_data``."""
    if (
        reset
        and type(X) is np.ndarray
        and X.dtype == np.float64
        and X.ndim == 2
        and X.shape[0] >= 1
        and X.shape[1] >= 1
    ):
        estimator.n_features_in_ = X.shape[1]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return X
    return validate_data(
        estimator, X, dtype=np.float64, ensure_all_finite=False, reset=reset
    )


def fit_in_memory(estimator, X, sample_weight):
    """``estimator.fit(X, sample_weight=sample_weight)`` for in-memory ``X`` (see
    the module docstring); returns the estimator."""
    validate_params(estimator)
    batch = estimator._fit_batch(X, sample_weight=sample_weight)
    rows = InMemoryRows([batch])
    # the families from the first rows, as the general path (the centres of the
    # Gaussian and log-normal sums: a median of 16 values, not of every row)
    model = estimator._make_model(rows.head())
    estimator.model_ = model
    objective = Objective(model, rows)
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
