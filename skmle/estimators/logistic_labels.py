"""The training data of ``LogisticGD``: class labels encoded as indices, also for
data larger than memory, and their validation."""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets

from skmle._finite import check_finite
from skmle._sklearn_compat import check_sample_weight, validate_data, validating_chunk
from skmle.data import Batch, distinct_values, is_large, row_store


def encode_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels and the index of each row's label, as LabelEncoder.

    Integer labels with a compact range are counted with ``bincount`` in one pass
    instead of sorted (what ``LabelEncoder`` does), a difference of tens of
    milliseconds on a million rows; other labels go through ``LabelEncoder``.
    """
    if y.dtype.kind in "iu" and y.size:
        low = y.min()
        span = int(y.max()) - int(low) + 1
        if span <= 2 * y.size + 1024:
            offset = (y - low).astype(np.intp)
            present = np.flatnonzero(np.bincount(offset, minlength=span))
            lookup = np.zeros(span, dtype=np.intp)
            lookup[present] = np.arange(present.size)
            return (present + low).astype(y.dtype), lookup[offset]
    encoder = LabelEncoder()
    encoded = encoder.fit_transform(y)
    return encoder.classes_, encoded


def encode_with_classes(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Index of each label of ``y`` in the sorted ``classes``; ValueError if absent."""
    index = np.searchsorted(classes, y)
    inside = index < classes.shape[0]
    if not np.all(inside) or not np.all(classes[index[inside]] == y[inside]):
        unknown = np.setdiff1d(y, classes)
        raise ValueError(
            f"y contains labels {list(unknown)} that are not among the classes "
            f"{list(classes)}."
        )
    return index


def all_classes(y) -> np.ndarray:
    """The sorted distinct labels of a ``y`` that may be larger than memory
    (:func:`skmle.data.distinct_values`)."""
    if y is None:
        raise ValueError("A classifier needs the class labels y: call fit(X, y).")
    return distinct_values(y)


class LogisticDataMixin:
    """Validation of ``LogisticGD``'s training data and the labels' encoding."""

    def _checked_labels(self, X, y):
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            accept_sparse=self._accept_sparse,
            ensure_all_finite=False,
        )
        check_finite(X, type(self).__name__)  # on every thread
        # As scikit-learn's classifiers: a continuous (non-integral float) y is
        # a ValueError here, before any fitting. Integer and boolean labels are
        # always classes (validate_data has made y one column), and the check
        # would cost a sort of y: a few percent of a large fit.
        if y.dtype.kind not in "biu":
            check_classification_targets(y)
        return X, y

    def _validate_fit_data(self, X, y):
        X, y = self._checked_labels(X, y)
        self.classes_, y = encode_labels(y)
        self._check_two_classes()
        return X, y

    def _labelled_chunk(
        self, classes, X, y=None, sample_weight=None, check=True
    ) -> Batch:
        """One chunk of data read in pieces, its labels encoded by ``classes``
        (those of all of ``y``); ``check=False`` skips the scan for NaN."""
        with validating_chunk(check):
            X, y = self._checked_labels(X, y)
            sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
            return Batch(X, encode_with_classes(y, classes), sample_weight)

    def _check_two_classes(self) -> None:
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but y contains "
                f"only one class: {self.classes_[0]!r}."
            )

    def _check_class_totals(self, totals: np.ndarray) -> None:
        if np.any(totals <= 0):
            missing = self.classes_[totals <= 0]
            raise ValueError(
                "Every class needs a positive total sample weight, but the class(es) "
                f"{list(missing)} have none, so their probability would be fitted as "
                "exactly 0. Remove those samples or give them positive weights."
            )

    def _objective_for_data(self, X, y=None, sample_weight=None, **sides):
        """In memory as the mixin; on data read in pieces, the classes come from a
        pass over all of ``y`` first, and every chunk's labels are encoded by
        them. Then the class totals, from a sum over the rows."""
        if not is_large(X) or X.shape[0] == 0:
            # No rows at all: the in-memory validation's "0 sample(s)" error.
            objective = super()._objective_for_data(X, y, sample_weight, **sides)
        else:
            self.classes_ = all_classes(y)
            self._check_two_classes()
            chunk = partial(self._labelled_chunk, self.classes_)
            rows = row_store(
                X, y, sample_weight, whole=self._fit_batch, chunk=chunk, **sides
            )
            self.model_ = self._make_model(rows.head())
            objective = self._make_objective(rows)
        n_classes = self.classes_.shape[0]
        self._check_class_totals(
            objective.sum_batches(
                lambda b: np.bincount(b.y, weights=b.sample_weight, minlength=n_classes)
            )
        )
        return objective
