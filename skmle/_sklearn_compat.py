"""Every import of scikit-learn's private API, in one place.

scikit-learn's parameter-validation helpers and ``_check_sample_weight`` are private
and move between releases; importing them only here keeps a future move a one-file
change.
"""

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = ["Interval", "StrOptions", "check_sample_weight", "validate_data"]


def check_sample_weight(sample_weight, X, *, dtype=None):
    """Validate ``sample_weight``: shape (n_samples,), finite, non-negative.

    ``None`` becomes a vector of ones. A weight of zero is allowed (the row is
    ignored); a negative weight raises ``ValueError``.
    """
    return _check_sample_weight(
        sample_weight, X, dtype=dtype, ensure_non_negative=True, copy=False
    )
