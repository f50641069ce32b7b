"""The ground layer: rows of data and where they live.

In-memory batches (:class:`InMemoryRows`), chunked memmaps
(:class:`~skmle.data.chunked.ChunkedBatches`) and Dask arrays
(:class:`~skmle.data.dask.DaskBatches`) meet one protocol, :class:`Rows`. Nothing
above this layer asks which kind it holds.
"""

from skmle.data.batch import Batch, add_results
from skmle.data.chunked import ChunkedArray, ChunkedBatches, chunked
from skmle.data.rows import InMemoryRows, Rows, sample_indices
from skmle.data.stores import distinct_values, is_large, row_store, rowwise

__all__ = [
    "Batch",
    "ChunkedArray",
    "ChunkedBatches",
    "InMemoryRows",
    "Rows",
    "add_results",
    "chunked",
    "distinct_values",
    "is_large",
    "row_store",
    "rowwise",
    "sample_indices",
]
