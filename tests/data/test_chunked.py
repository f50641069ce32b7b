"""Chunked batches: sums over chunks equal the sum over all rows, one chunk at a time.

References: the same model on one in-memory batch, NumPy sums, and the kernel's own
accounting of resident memory (/proc/self/status) for memmaps.
"""

import json
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

from skmle.data.chunked import (
    DEFAULT_CHUNK_BYTES,
    ChunkedBatches,
    arrays_to_batch,
    chunked,
    release_pages,
)
from skmle.models.base import Batch
from skmle.models.gaussian import GaussianLogLikelihood
from skmle.models.objective import Objective


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(103, 3)) @ rng.normal(size=(3, 3)) + 5.0
    weights = rng.integers(0, 4, size=103).astype(float)
    return X, weights


def status_kib(field: str) -> int:
    """A memory field of /proc/self/status (VmRSS, RssFile, VmHWM), in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def write_rows(path, X):
    """Write ``X`` as raw float64 with file writes (no pages mapped here)."""
    with open(path, "wb") as f:
        f.write(np.ascontiguousarray(X, dtype=np.float64).tobytes())


@pytest.mark.parametrize("chunk_size", [1, 10, 50, 103, 500])
def test_chunks_cover_every_row_once(data, chunk_size):
    X, weights = data
    batches = ChunkedBatches(X, None, weights, chunk_size=chunk_size)
    assert len(batches) == -(-103 // chunk_size)
    stacked = np.vstack([b.X for b in batches])
    np.testing.assert_array_equal(stacked, X)
    np.testing.assert_array_equal(
        np.concatenate([b.sample_weight for b in batches]), weights
    )
    assert batches[-1].X.shape[0] == 103 - (len(batches) - 1) * chunk_size


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_objective_over_chunks_equals_one_batch(data, covariance_type):
    X, weights = data
    model = GaussianLogLikelihood(3, covariance_type, reg_covar=0.1)
    theta = 0.2 * np.random.default_rng(2).standard_normal(model.n_params)
    theta[:3] = X.mean(axis=0)
    whole = Objective(model, [Batch(X, None, weights)])
    chunks = Objective(model, ChunkedBatches(X, None, weights, chunk_size=17))
    assert chunks.total_weight == weights.sum()
    value, grad = chunks.value_and_grad(theta)
    ref_value, ref_grad = whole.value_and_grad(theta)
    assert value == pytest.approx(ref_value, rel=1e-13)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(
        chunks.hessian(theta), whole.hessian(theta), rtol=1e-11, atol=1e-13
    )
    assert chunks.loglik(theta) == pytest.approx(whole.loglik(theta), rel=1e-13)


def test_one_chunk_is_alive_at_a_time_and_checked_on_the_first_pass(data):
    X, weights = data
    live, most_live, checks = [0], [0], []

    def prepare(X, y, sample_weight, check):
        checks.append(check)
        batch = arrays_to_batch(X, y, sample_weight, check)
        live[0] += 1
        most_live[0] = max(most_live[0], live[0])
        weakref.finalize(batch, lambda: live.__setitem__(0, live[0] - 1))
        return batch

    batches = ChunkedBatches(X, None, weights, chunk_size=10, prepare=prepare)
    total = batches.map_sum(lambda b: b.sample_weight @ b.X)
    np.testing.assert_allclose(total, weights @ X, rtol=1e-13)
    assert most_live[0] == 1
    assert checks == [True] * 11
    batches.map_sum(lambda b: b.total_weight)
    assert checks == [True] * 11 + [False] * 11


def test_default_prepare_rejects_non_finite_values(data):
    X = data[0].copy()
    X[95, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        ChunkedBatches(X, chunk_size=10).map_sum(lambda b: 0.0)


def test_arguments_are_checked(data):
    X, weights = data
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
            chunked(X, bad)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ChunkedBatches(X, None, weights[:-1], chunk_size=10)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ChunkedBatches(X, np.zeros(5), None, chunk_size=10)
    with pytest.raises(ValueError, match="scalar"):
        chunked(3.0)


def test_default_chunk_size_is_about_32_mib():
    X = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(10**9, 20), strides=(0, 0))
    wrapped = chunked(X)
    assert wrapped.chunk_size == DEFAULT_CHUNK_BYTES // (20 * 8)
    assert wrapped.shape == (10**9, 20) and len(wrapped) == 10**9
    assert "chunk_size=209715" in repr(wrapped)


def test_release_pages_gives_back_the_resident_pages_of_a_memmap(tmp_path):
    path = tmp_path / "rows.f8"
    write_rows(path, np.ones((8 * 2**20 // 8, 8)))  # 64 MiB
    mapped = np.memmap(path, dtype=np.float64, mode="r", shape=(2**20, 8))
    before = status_kib("RssFile")
    assert float(mapped.sum()) == 8 * 2**20
    touched = status_kib("RssFile")
    assert touched - before > 60 * 1024
    assert release_pages(mapped)
    assert touched - status_kib("RssFile") > 60 * 1024
    assert float(mapped[-1].sum()) == 8.0  # the data is still there
    copy_on_write = np.memmap(path, dtype=np.float64, mode="c", shape=(2**20, 8))
    assert not release_pages(copy_on_write)
    assert not release_pages(np.ones(10))


PEAK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from skmle import GaussianMLE, chunked

    def kib(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])

    path, n_rows, n_features, chunk_size = sys.argv[1:]
    shape = (int(n_rows), int(n_features))
    X = np.memmap(path, dtype=np.float64, mode="r", shape=shape)
    GaussianMLE().fit(X[:1000])  # warm up imports and caches before measuring
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident size
    baseline = kib("VmRSS")
    model = GaussianMLE().fit(chunked(X, int(chunk_size)))
    print(json.dumps({"growth_kib": kib("VmHWM") - baseline,
                      "mean": model.mean_.tolist()}))
    """
)


@pytest.mark.slow  # writes 200 MB and starts a Python process
def test_fitting_a_memmap_keeps_peak_memory_bounded(tmp_path):
    """A 200 MB memmap fitted in 4 MB chunks: the peak grows by far less than the
    file (the in-memory fit would need the file plus a centred copy)."""
    rng = np.random.default_rng(3)
    n_rows, n_features = 1_250_000, 20  # 200 MB of float64
    path = tmp_path / "big.f8"
    means = np.zeros(n_features)
    with open(path, "wb") as f:
        for _ in range(10):
            block = rng.normal(loc=2.0, size=(n_rows // 10, n_features))
            means += block.sum(axis=0)
            f.write(block.tobytes())
    means /= n_rows
    chunk_size = 4 * 2**20 // (8 * n_features)
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(path)]
        + [str(n) for n in (n_rows, n_features, chunk_size)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out)
    np.testing.assert_allclose(result["mean"], means, rtol=1e-12)
    assert result["growth_kib"] < 48 * 1024, result


def test_the_total_weight_comes_with_the_first_pass(data):
    X, weights = data
    model = GaussianLogLikelihood(3, "diag")
    theta = np.concatenate([X.mean(axis=0), np.zeros(3)])
    batches = ChunkedBatches(X, None, weights, chunk_size=30)
    objective = Objective(model, batches)
    assert not batches.checked  # nothing read yet
    value, grad = objective.value_and_grad(theta)
    assert batches.checked and objective.total_weight == weights.sum()
    whole = Objective(model, [Batch(X, None, weights)])
    assert value == pytest.approx(whole.value_and_grad(theta)[0], rel=1e-13)
    np.testing.assert_allclose(grad, whole.value_and_grad(theta)[1], rtol=1e-11)
    empty = Objective(model, ChunkedBatches(X, None, np.zeros(103), chunk_size=30))
    with pytest.raises(ValueError, match="sample weights sum to zero"):
        empty.loglik(theta)
