"""Every import of scikit-learn's private API, in one place.

scikit-learn's parameter-validation helpers and ``_check_sample_weight`` are private
and move between releases; importing them only here keeps a future move a one-file
change.
"""

import inspect
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

from sklearn import config_context
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "Interval",
    "StrOptions",
    "check_sample_weight",
    "validate_data",
    "validate_parameter_constraints",
    "validating_chunk",
]

# Recent scikit-learn rejects all-zero weights, with a switch to allow them.
_HAS_ALL_ZERO_SWITCH = (
    "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
)
_VALIDATING_CHUNK = ContextVar("skmle_validating_chunk", default=False)


@contextmanager
def validating_chunk(check: bool = True):
    """Validate one chunk of a larger data set (a memmap chunk, a Dask block).

    Inside, :func:`check_sample_weight` accepts a chunk whose weights are all zero
    (only the total must be positive, and the objective checks it), and with
    ``check=False`` scikit-learn skips its scan for NaN and infinity: the values
    were checked on the first pass over the data.
    """
    token = _VALIDATING_CHUNK.set(True)
    try:
        with nullcontext() if check else config_context(assume_finite=True):
            yield
    finally:
        _VALIDATING_CHUNK.reset(token)


def check_sample_weight(sample_weight, X, *, dtype=None):
    """Validate ``sample_weight``: shape (n_samples,), finite, non-negative.

    ``None`` becomes a vector of ones. A weight of zero is allowed (the row is
    ignored); a negative weight raises ``ValueError``, and so do all-zero weights
    (except for one chunk, see :func:`validating_chunk`).
    """
    options = {}
    if _HAS_ALL_ZERO_SWITCH:
        options["allow_all_zero_weights"] = _VALIDATING_CHUNK.get()
    return _check_sample_weight(
        sample_weight, X, dtype=dtype, ensure_non_negative=True, copy=False, **options
    )
