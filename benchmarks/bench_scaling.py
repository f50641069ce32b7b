"""Peak memory and time of a GaussianMLE fit on a memmap larger than one wants in RAM.

A float64 memmap (4 GB: 25,000,000 x 20; ``--quick``: 200 MB) is written to a
temporary directory with plain file writes, then fitted in fresh child processes,
alternating:

- ``skmle``: ``GaussianMLE(reg_covar=0).fit(skmle.chunked(X))`` (closed form, one
  pass, default chunks of 32 MiB);
- ``dask``: the same moments with ``dask.array`` on the same memmap and chunks
  (mean, then the centred cross-product; Dask's threaded scheduler);
- once each, for the record: skmle with the memmap's pages left resident (no
  ``madvise``), and with ``--quick`` NumPy's in-memory ``mean``/``cov``.

Each child reports its wall time and its peak resident memory (``VmHWM`` from
/proc/self/status, for the whole process: interpreter, libraries and fit; file
pages mapped by the memmap count). The log-likelihood gap is skmle's ``loglik_``
minus the log-likelihood of Dask's moments, ``-W/2 (d log 2 pi + log|S| + d)``.

Run ``python benchmarks/bench_scaling.py`` (4 GB, needs 4 GB of free disk) or
``--quick``. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 20
CHUNK_BYTES = 32 * 2**20


def status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def write_memmap(path: Path, n_rows: int, seed: int = 0) -> None:
    """Correlated Gaussian rows, written in blocks by file writes (never mapped)."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(N_FEATURES, N_FEATURES)) / np.sqrt(N_FEATURES)
    shift = np.arange(N_FEATURES, dtype=float)
    block = 1_000_000
    with open(path, "wb") as f:
        for start in range(0, n_rows, block):
            rows = min(block, n_rows - start)
            f.write(
                (rng.standard_normal((rows, N_FEATURES)) @ mixing + shift).tobytes()
            )


def gaussian_loglik(weight: float, covariance: np.ndarray) -> float:
    """Log-likelihood at the MLE: the mean and ``covariance`` are the moments."""
    d = covariance.shape[0]
    _, logdet = np.linalg.slogdet(covariance)
    return float(-0.5 * weight * (d * np.log(2 * np.pi) + logdet + d))


# -- the child processes -----------------------------------------------------------------
def child(method: str, path: str, n_rows: int) -> dict:
    X = np.memmap(path, dtype=np.float64, mode="r", shape=(n_rows, N_FEATURES))
    chunk_rows = CHUNK_BYTES // (8 * N_FEATURES)
    if method in ("skmle", "skmle_keep_pages"):
        import skmle.data.chunked
        from skmle import GaussianMLE, chunked

        if method == "skmle_keep_pages":
            skmle.data.chunked._MADVISE = None  # leave every page resident
        GaussianMLE().fit(np.asarray(X[:1000]))  # imports, not timed
        start = time.perf_counter()
        model = GaussianMLE(reg_covar=0).fit(chunked(X, chunk_rows))
        seconds = time.perf_counter() - start
        mean, covariance, loglik = model.mean_, model.covariance_, model.loglik_
    elif method == "dask":
        import dask
        import dask.array as da

        Xd = da.from_array(X, chunks=(chunk_rows, N_FEATURES))
        start = time.perf_counter()
        mean = Xd.mean(axis=0).compute(scheduler="threads")
        centred = Xd - mean
        covariance = (centred.T @ centred / n_rows).compute(scheduler="threads")
        seconds = time.perf_counter() - start
        loglik = gaussian_loglik(n_rows, covariance)
        del dask
    elif method == "numpy":
        start = time.perf_counter()
        mean = X.mean(axis=0)
        covariance = np.cov(X, rowvar=False, bias=True)
        seconds = time.perf_counter() - start
        loglik = gaussian_loglik(n_rows, covariance)
    else:
        raise ValueError(f"unknown method {method!r}")
    return {
        "seconds": seconds,
        "peak_mib": status_kib("VmHWM") / 1024,
        "mean": np.asarray(mean).tolist(),
        "covariance": np.asarray(covariance).tolist(),
        "loglik": float(loglik),
    }


def in_child(method: str, path: Path, n_rows: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(path), str(n_rows)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# -- the comparison ----------------------------------------------------------------------
def run(quick: bool = False, repeats: int | None = None) -> list[dict]:
    n_rows = 1_250_000 if quick else 25_000_000
    repeats = repeats or 3
    size_gb = n_rows * N_FEATURES * 8 / 1e9
    workdir = Path(tempfile.mkdtemp(prefix="skmle-bench-scaling-"))
    try:
        path = workdir / "X.f8"
        start = time.perf_counter()
        write_memmap(path, n_rows)
        print(f"wrote {size_gb:.2f} GB memmap in {time.perf_counter() - start:.1f} s")
        runs = {"skmle": [], "dask": []}
        for _ in range(repeats):
            for method in runs:
                runs[method].append(in_child(method, path, n_rows))
        once = {"skmle_keep_pages": in_child("skmle_keep_pages", path, n_rows)}
        if quick:
            once["numpy"] = in_child("numpy", path, n_rows)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def median(method, key):
        return float(np.median([r[key] for r in runs[method]]))

    skmle, dask = runs["skmle"][-1], runs["dask"][-1]
    cov_gap = float(
        np.max(np.abs(np.subtract(skmle["covariance"], dask["covariance"])))
        / np.max(np.abs(dask["covariance"]))
    )
    loglik_gap = skmle["loglik"] - dask["loglik"]
    rows = [
        {
            "benchmark": (
                f"GaussianMLE full on a {size_gb:.1f} GB memmap "
                f"({n_rows:,} x {N_FEATURES}), chunked"
            ),
            "reference": "dask.array mean + centred X^T X (threads)",
            "skmle_s": median("skmle", "seconds"),
            "reference_s": median("dask", "seconds"),
            "ratio": median("skmle", "seconds") / median("dask", "seconds"),
            "gap": loglik_gap,
            "gap_meaning": "skmle loglik_ minus the log-likelihood of Dask's moments",
            "skmle_peak_mib": median("skmle", "peak_mib"),
            "reference_peak_mib": median("dask", "peak_mib"),
            "covariance_gap": cov_gap,
            "note": (
                f"peak RSS skmle {median('skmle', 'peak_mib'):.0f} MiB, dask "
                f"{median('dask', 'peak_mib'):.0f} MiB, skmle without madvise "
                f"{once['skmle_keep_pages']['peak_mib']:.0f} MiB"
            ),
        }
    ]
    if "numpy" in once:
        rows[0]["note"] += f", numpy in memory {once['numpy']['peak_mib']:.0f} MiB"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 MB instead of 4 GB")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, path, n_rows = args.child
        print(json.dumps(child(method, path, int(n_rows))))
        return
    for row in run(args.quick, args.repeats):
        print(
            f"{row['benchmark']}: skmle {row['skmle_s']:.2f} s, "
            f"{row['reference']} {row['reference_s']:.2f} s, "
            f"ratio {row['ratio']:.2f}\n  {row['note']}\n"
            f"  loglik gap {row['gap']:.3g}, max relative covariance gap "
            f"{row['covariance_gap']:.1e}"
        )


if __name__ == "__main__":
    main()
