"""The scan of a large design for NaN and infinity, on every thread.

scikit-learn's scan (:func:`sklearn.utils.assert_all_finite`) sums the array on
one thread; on a dense array of millions of entries that is a pass over memory
that two threads finish in about half the time. Where a block's sum is not
finite (a NaN, an infinity, or finite values whose sum overflows),
scikit-learn's own scan decides, so the error and its message are
scikit-learn's.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from sklearn import get_config
from sklearn.utils import assert_all_finite

from skmle._threads import available_threads, thread_map

THREADED_FROM = 1_000_000
"""Entries from which a dense array is scanned on every thread."""


def check_finite(X, estimator_name: str) -> None:
    """Raise scikit-learn's ``ValueError`` if ``X`` (validated, dense or sparse)
    holds a NaN or an infinity."""
    if (
        isinstance(X, np.ndarray)
        and X.dtype.kind == "f"
        and X.size >= THREADED_FROM
        and not get_config()["assume_finite"]
    ):
        bounds = np.linspace(0, X.shape[0], available_threads() + 1).astype(int)
        blocks = [slice(lo, hi) for lo, hi in pairwise(bounds)]

        def finite_sum(rows) -> bool:
            with np.errstate(over="ignore", invalid="ignore"):
                return bool(np.isfinite(np.sum(X[rows])))

        if all(thread_map(finite_sum, blocks)):
            return
    assert_all_finite(X, input_name="X", estimator_name=estimator_name)
