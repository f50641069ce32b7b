"""Data for the command line: a dataset bundled with scikit-learn, or a CSV file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skmle.cli.errors import MAX_ECHO, CommandError, quote

DATASETS = ("iris", "wine", "breast_cancer", "diabetes")
"""Datasets bundled with scikit-learn that ``--data`` accepts by name."""

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
"""Delimiters recognised in a CSV header when ``--delimiter`` is not given."""


@dataclass
class Table:
    """Named numeric feature columns and an optional target."""

    source: str
    names: list[str]
    X: np.ndarray
    y: np.ndarray | None = None
    target: str | None = None


def _to_float(values: list[str], column: str, source: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        bad = next(i for i, v in enumerate(values) if not _is_number(v))
        value = values[bad]
        hint = ""
        if _is_number(value.replace(",", ".", 1)):
            hint = " (a decimal comma? write the decimal point as '.')"
        raise CommandError(
            f"column {quote(column)} of {source} is not numeric (data row {bad + 1} "
            f"has {quote(value)}){hint}; remove or encode it"
        ) from None


def _column_list(header: list[str], limit: int = 12) -> str:
    names = [quote(name)[1:-1] if len(name) > MAX_ECHO else name for name in header]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", ... ({len(names)} columns)"
    return ", ".join(names)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a CSV file from its header line: the one of
    :data:`DELIMITERS` that occurs most often (a comma when none does)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])  # ties: the first, a comma
    return best if counts[best] > 0 else ","


def parse_delimiter(text: str) -> str:
    names = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
    delimiter = names.get(text, text)
    if len(delimiter) != 1:
        raise CommandError(
            f"--delimiter must be one character (or tab), got {quote(text)}"
        )
    return delimiter


def read_csv(
    path: str, delimiter: str | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file (header on the first line).

    ``delimiter=None`` takes the one of :data:`DELIMITERS` that occurs most often
    in the header line. Errors never quote more than a fragment of the file.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise CommandError(
            f"cannot read {path}: byte {error.start + 1} is not UTF-8 text; save "
            "the file as a UTF-8 CSV file"
        ) from None
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
    if "\0" in text:
        raise CommandError(f"cannot read {path}: it is a binary file, not a CSV file")
    if delimiter is None:
        delimiter = sniff_delimiter(text.split("\n", 1)[0])
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = [row for row in reader if row]
    except csv.Error as error:
        raise CommandError(f"{path} is not a valid CSV file: {error}") from None
    if len(rows) < 2:
        raise CommandError(f"{path} needs a header line and at least one data row")
    header = [name.strip() for name in rows[0]]
    if len(set(header)) != len(header):
        raise CommandError(f"{path} has repeated column names in its header")
    for number, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise CommandError(
                f"data row {number} of {path} has {len(row)} fields but the header "
                f"has {len(header)}"
            )
    return header, [[cell.strip() for cell in row] for row in rows[1:]]


def load_table(
    data: str,
    target: str | None,
    supervised: bool,
    classifier: bool,
    delimiter: str | None = None,
):
    """Feature columns and target from a bundled dataset name or a CSV path."""
    if data in DATASETS:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{data}")()
        if (
            classifier
            and bunch.get("target_names") is None
            and target
            in (
                None,
                "target",
            )
        ):
            # diabetes' target is a measurement stored as whole numbers: taken as
            # labels it makes a 214-class model that runs for minutes.
            raise CommandError(
                f"the {data} dataset has a continuous target (it is a regression "
                "dataset), so a classifier cannot fit it; use the linear or laplace "
                "model, or a dataset with classes (iris, wine, breast_cancer)"
            )
        header = [*bunch.feature_names, "target"]
        target_values = bunch.target
        if bunch.get("target_names") is not None:
            target_values = np.asarray(bunch.target_names)[bunch.target]
        columns = {name: bunch.data[:, j] for j, name in enumerate(bunch.feature_names)}
        columns["target"] = target_values
        default_target = "target"
        source = f"the {data} dataset"
    elif data.lower().endswith(".csv") or Path(data).is_file():
        header, rows = read_csv(data, delimiter)
        cells = dict(zip(header, zip(*rows, strict=True), strict=True))
        columns = {name: list(values) for name, values in cells.items()}
        default_target = None
        source = data
    else:
        raise CommandError(
            f"unknown dataset {data!r}: use one of {', '.join(DATASETS)} or the path "
            "of a CSV file"
        )

    target = target if target is not None else default_target
    if target is not None and target not in columns:
        raise CommandError(
            f"column {quote(target)} is not in {source}; its columns are "
            f"{_column_list(header)}{_delimiter_hint(header, delimiter)}"
        )
    if supervised and target is None:
        raise CommandError(
            "this model needs a target: add --target COLUMN (one of "
            f"{_column_list(header)}){_delimiter_hint(header, delimiter)}"
        )
    # A bundled dataset's own target (class labels) is never a feature.
    left_out = {target, default_target}
    names = [name for name in header if name not in left_out]
    if not names:
        raise CommandError(f"{source} has no feature columns besides the target")
    X = np.column_stack([_numeric(columns[name], name, source) for name in names])
    y = None
    if supervised:
        raw = columns[target]
        if classifier and not all(_is_number(str(v)) for v in raw):
            y = np.asarray(raw)
        else:
            y = _numeric(raw, target, source)
    return Table(source, names, X, y, target if supervised else None)


def _delimiter_hint(header: list[str], delimiter: str | None) -> str:
    """A suggestion when the header looks split at the wrong character."""
    if len(header) != 1:
        return ""
    others = [d for d in DELIMITERS if d != (delimiter or ",") and d in header[0]]
    if not others:
        return ""
    shown = "tab" if others[0] == "\t" else others[0]
    return (
        f"; one column only: is it delimited by {DELIMITERS[others[0]]}s? "
        f"Try --delimiter '{shown}'"
    )


def _numeric(values, name: str, source: str) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        return values.astype(float)
    column = _to_float([str(v) for v in values], name, source)
    if not np.all(np.isfinite(column)):
        raise CommandError(
            f"column {quote(name)} of {source} has missing or infinite values"
        )
    return column
