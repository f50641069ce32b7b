"""Run every ``benchmarks/bench_*.py``, print one table and write the docs page.

Each benchmark script exposes

``run(quick: bool = False) -> list[dict]``
    One dict per comparison, with the keys ``benchmark`` (what was fitted, with
    its size), ``reference`` (the library it is compared with), ``skmle_s`` and
    ``reference_s`` (median seconds over alternating runs), ``ratio``
    (``skmle_s / reference_s``: below 1 means skmle is faster) and ``gap`` (how
    far apart the two answers are, as the script defines it; say how in an
    optional ``gap_meaning`` key), plus an optional ``note``.

A script without ``run`` is still run, as ``python bench_x.py [--quick]``, and
its printed output is shown as it is.

Usage::

    python benchmarks/run_all.py            # full sizes; writes docs/benchmarks.rst
    python benchmarks/run_all.py --quick    # small sizes, a smoke test; writes nothing
    python benchmarks/run_all.py --only regression --output /tmp/bench.rst
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS_PAGE = HERE.parent / "docs" / "benchmarks.rst"
COLUMNS = ("benchmark", "reference", "skmle (s)", "reference (s)", "ratio", "gap")


def discover(only: list[str] | None = None) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if any(name in s.stem for name in only)]
    return scripts


def load(script: Path):
    spec = importlib.util.spec_from_file_location(f"_skmle_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(script: Path, quick: bool) -> tuple[list[dict] | None, str]:
    """Rows from ``run(quick)``, or (None, printed output) for a script without it."""
    module = load(script)
    if callable(getattr(module, "run", None)):
        return list(module.run(quick=quick)), ""
    command = [sys.executable, str(script), *(["--quick"] if quick else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{done.stderr}")
    return None, done.stdout.strip()


def _cell(row: dict, column: str) -> str:
    if column == "skmle (s)":
        return f"{row['skmle_s']:.4g}"
    if column == "reference (s)":
        return f"{row['reference_s']:.4g}"
    if column == "ratio":
        ratio = row.get("ratio", row["skmle_s"] / row["reference_s"])
        return f"{ratio:.3g}"
    if column == "gap":
        gap = row.get("gap")
        return "" if gap is None else f"{gap:.1e}"
    return str(row[column])


def table_rows(rows: list[dict]) -> list[list[str]]:
    return [[_cell(row, column) for column in COLUMNS] for row in rows]


def text_table(rows: list[dict]) -> str:
    cells = [list(COLUMNS), *table_rows(rows)]
    widths = [max(len(line[j]) for line in cells) for j in range(len(COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def rst_table(rows: list[dict]) -> str:
    out = [".. list-table::", "   :header-rows: 1", ""]
    for line in [list(COLUMNS), *table_rows(rows)]:
        for j, cell in enumerate(line):
            bullet = "   * -" if j == 0 else "     -"
            out.append(f"{bullet} {cell}".rstrip())
    return "\n".join(out)


def _rst_text(text: str) -> str:
    """Quote words such as ``loglik_``, which reStructuredText reads as links."""
    return re.sub(r"(?<![`\w])([A-Za-z]\w*_)(?![\w`])", r"``\1``", text)


def environment() -> str:
    import numpy
    import scipy
    import sklearn

    return (
        f"Python {platform.python_version()}, NumPy {numpy.__version__}, "
        f"SciPy {scipy.__version__}, scikit-learn {sklearn.__version__}; "
        f"{os.cpu_count()} CPU cores ({platform.machine()})"
    )


def rst_page(rows: list[dict], raw: dict[str, str], quick: bool, seconds: float) -> str:
    title = "Benchmarks"
    notes = [row for row in rows if row.get("note") or row.get("gap_meaning")]
    lines = [
        ".. This page is written by benchmarks/run_all.py; edit that script, not this file.",
        "",
        title,
        "=" * len(title),
        "",
        "Each benchmark fits a skmle estimator and a reference implementation "
        "(scikit-learn, statsmodels or NumPy/SciPy) to the same data, alternating "
        "the two within one process so that the load of a shared machine falls on "
        "both alike, and reports the median time of each. **ratio** is skmle's "
        "median over the reference's (below 1: skmle is faster); **gap** is how far "
        "apart the two answers are (each benchmark says how it measures that).",
        "",
        f"Last measured on {datetime.date.today().isoformat()} with "
        f"``python benchmarks/run_all.py{' --quick' if quick else ''}`` "
        f"({seconds:.0f} s in all): {environment()}. The timings are noisy: the "
        "machine is shared with other work.",
        "",
    ]
    if rows:
        lines += [rst_table(rows), ""]
    seen = set()
    for row in notes:
        text = "; ".join(filter(None, [row.get("gap_meaning"), row.get("note")]))
        line = f"- *{row['benchmark']}*: {_rst_text(text)}"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    if notes:
        lines.append("")
    for name, output in raw.items():
        heading = f"``{name}``"
        lines += [heading, "-" * len(heading), "", "::", ""]
        lines += [f"    {line}" if line else "" for line in output.splitlines()]
        lines.append("")
    lines += [
        "Run them yourself::",
        "",
        "    python benchmarks/run_all.py --quick   # a smoke test, seconds",
        "    python benchmarks/run_all.py           # full sizes; rewrites this page",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only bench_*NAME*.py"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the reStructuredText page (default: docs/benchmarks.rst "
        "for a full run, nothing for --quick)",
    )
    args = parser.parse_args(argv)
    output = args.output if args.output or args.quick else DOCS_PAGE

    start = time.perf_counter()
    rows: list[dict] = []
    raw: dict[str, str] = {}
    for script in discover(args.only):
        print(
            f"running {script.name}{' --quick' if args.quick else ''} ...", flush=True
        )
        script_rows, printed = run_script(script, args.quick)
        if script_rows is None:
            print(
                f"  {script.name} has no run(quick) -> list[dict]; its output is "
                "shown as printed"
            )
            raw[script.name] = printed
        else:
            rows += script_rows
    seconds = time.perf_counter() - start

    print()
    if rows:
        print(text_table(rows))
    for name, printed in raw.items():
        print(f"\n{name}:\n{printed}")
    if output is not None:
        output.write_text(rst_page(rows, raw, args.quick, seconds))
        print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
