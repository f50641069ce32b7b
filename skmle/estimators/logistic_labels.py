"""Class labels for ``LogisticGD``: encoded as indices, also for data larger than memory."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import LabelEncoder

from skmle.data.chunked import ChunkedArray
from skmle.data.dask import is_dask_array


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


def all_classes(y, chunk_rows: int = 1 << 20) -> np.ndarray:
    """The sorted distinct labels of a ``y`` that may be larger than memory.

    A Dask array goes through ``dask.array.unique``; anything else (an ndarray, a
    ``numpy.memmap``, :func:`skmle.chunked` data) is read ``chunk_rows`` at a time
    and the labels of the chunks are merged.
    """
    if y is None:
        raise ValueError("LogisticGD needs the class labels y.")
    if isinstance(y, ChunkedArray):
        y = y.data
    if is_dask_array(y):
        import dask.array as da

        return np.asarray(da.unique(y.ravel()).compute())
    if not hasattr(y, "shape"):
        y = np.asarray(y)
    labels = None
    for start in range(0, max(y.shape[0], 1), chunk_rows):
        part = np.unique(np.ravel(np.asarray(y[start : start + chunk_rows])))
        labels = part if labels is None else np.union1d(labels, part)
    return labels
