"""The ``skmle`` command line.

``skmle fit MODEL --data NAME|FILE.csv`` fits one estimator and prints its
``summary()`` (or JSON); ``skmle demo`` fits every estimator on bundled data.

Every error ends with one line on stderr and exit status 2, never a traceback:
mistakes in the data or the options (and the estimators' ``ValueError``) say what
to change; running out of memory says so; any other exception is named with a
request to report it. ``SKMLE_TRACEBACK=1`` in the environment lets those others
propagate with their traceback (the tests set it, so a bug is never hidden).
Ctrl-C ends with ``skmle: interrupted`` and exit status 130.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import inspect
import io
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODELS = {
    "gaussian": "GaussianMLE",
    "linear": "LinearGaussianRegressor",
    "laplace": "LaplaceRegressor",
    "logistic": "LogisticGD",
    "mixture": "EMGaussianMixture",
}
"""Command-line model names and the skmle classes they stand for."""

DATASETS = ("iris", "wine", "breast_cancer", "diabetes")
"""Datasets bundled with scikit-learn that ``--data`` accepts by name."""

EXIT_USAGE = 2

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
"""Delimiters recognised in a CSV header when ``--delimiter`` is not given."""

MAX_ECHO = 24
"""Longest piece of a file's content (a cell, a column name) an error message quotes."""

REPORT_HINT = (
    "this is probably a bug in skmle: please report it, with the traceback that "
    "SKMLE_TRACEBACK=1 shows"
)


class CommandError(Exception):
    """A mistake in the command or its data: reported in one line, exit status 2."""


@dataclass
class Table:
    """Named numeric feature columns and an optional target."""

    source: str
    names: list[str]
    X: np.ndarray
    y: np.ndarray | None = None
    target: str | None = None


def available_models() -> dict[str, type]:
    """The command-line names of the estimators this version of skmle has."""
    import skmle

    return {
        name: getattr(skmle, cls) for name, cls in MODELS.items() if hasattr(skmle, cls)
    }


# -- data -----------------------------------------------------------------------------
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
            f"column {_quote(column)} of {source} is not numeric (data row {bad + 1} "
            f"has {_quote(value)}){hint}; remove or encode it"
        ) from None


def _quote(text: str) -> str:
    """``repr(text)``, cut to :data:`MAX_ECHO` characters: messages about a file
    never echo more than a fragment of its content."""
    text = str(text)
    if len(text) <= MAX_ECHO:
        return repr(text)
    return repr(text[: MAX_ECHO - 3]) + f"... ({len(text)} characters)"


def _column_list(header: list[str], limit: int = 12) -> str:
    names = [_quote(name)[1:-1] if len(name) > MAX_ECHO else name for name in header]
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


def _parse_delimiter(text: str) -> str:
    names = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
    delimiter = names.get(text, text)
    if len(delimiter) != 1:
        raise CommandError(
            f"--delimiter must be one character (or tab), got {_quote(text)}"
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
            f"column {_quote(target)} is not in {source}; its columns are "
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
            f"column {_quote(name)} of {source} has missing or infinite values"
        )
    return column


# -- fit ------------------------------------------------------------------------------
def _parse_params(items: list[str]) -> dict[str, object]:
    params = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--param expects NAME=VALUE, got {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        params[key.strip()] = value
    return params


def _summary(model, names: list[str]):
    """``model.summary()`` with the table's column names on its rows."""
    if "feature_names" in inspect.signature(model.summary).parameters:
        return model.summary(feature_names=names)
    return model.summary()


def _plain(value):
    """JSON-ready: NumPy scalars become Python numbers, NaN and inf become None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plot_path(out: str, name: str) -> Path:
    """Where ``--plot OUT`` writes: ``OUT/MODEL.png`` when ``OUT`` is a directory
    (or ends with a slash), ``OUT.png`` when it has no extension, else ``OUT``."""
    path = Path(out)
    if path.is_dir() or out.endswith(("/", os.sep)):
        return path / f"{name}.png"
    if not path.suffix:
        return path.with_name(path.name + ".png")
    return path


def _plot(name: str, model, X, table: Table, out: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        from skmle.plotting._mpl import INSTALL_HINT

        raise CommandError(f"--plot needs matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg")
    from skmle import plotting

    if name in ("linear", "laplace"):
        ax = plotting.plot_predictive_interval(model, X, table.y)
        if X.shape[1] == 1:
            ax.set_xlabel(table.names[0])
        ax.set_ylabel(table.target)
    elif name == "mixture":
        ax = plotting.plot_mixture(model, X)
        ax.set_xlabel(table.names[0])
        ax.set_ylabel(table.names[1])
    elif name == "gaussian":
        ax = plotting.plot_profile_likelihood(model, X)
        ax.set_xlabel(f"mean of {table.names[0]}")
    else:
        ax = plotting.plot_convergence(model)
    ax.set_title(f"{type(model).__name__} on {table.source}")
    formats = ax.figure.canvas.get_supported_filetypes()
    if out.suffix[1:].lower() not in formats:
        raise CommandError(
            f"cannot write {out}: matplotlib does not write {out.suffix} files; use "
            "one of " + ", ".join(f".{f}" for f in sorted(formats))
        )
    try:
        ax.figure.savefig(out, dpi=100, bbox_inches="tight")
    except OSError as error:
        raise CommandError(f"cannot write {out}: {error.strerror or error}") from None


def fit_command(args, out=None, err=None) -> int:
    """``skmle fit``: fit, then print the summary (or JSON) to ``out``.

    With ``--json``, everything else the fit prints (``verbose`` progress) goes to
    ``err``, so that ``out`` is exactly one JSON document.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    progress = (
        contextlib.redirect_stdout(err) if args.json else contextlib.nullcontext()
    )
    with progress:
        return _fit_command(args, out, err)


def _fit_command(args, out, err) -> int:
    from sklearn.base import is_classifier, is_regressor

    models = available_models()
    cls = models[args.model]
    model = cls()
    supervised = is_classifier(model) or is_regressor(model)
    delimiter = None if args.delimiter is None else _parse_delimiter(args.delimiter)
    table = load_table(
        args.data, args.target, supervised, is_classifier(model), delimiter
    )
    X = table.X
    if args.scale:
        spread = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    params = _parse_params(args.param)
    if args.solver is not None:
        params["solver"] = args.solver
    try:
        model.set_params(**params)
    except ValueError as error:
        raise CommandError(str(error).splitlines()[0]) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, table.y) if supervised else model.fit(X)
    for warning in caught:
        message = str(warning.message).splitlines()[0]
        print(f"skmle: warning: {message}", file=err)
    summary = _summary(model, table.names)
    if args.json:
        report = {"model": args.model, "data": args.data, **summary.to_dict()}
        print(json.dumps(_plain(report), indent=2), file=out)
    else:
        print(summary, file=out)
    if args.plot:
        path = plot_path(args.plot, args.model)
        _plot(args.model, model, X, table, path)
        print(f"skmle: plot written to {path}", file=err)
    return 0


# -- parser ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skmle",
        description="Maximum likelihood estimation, the scikit-learn way.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo", help="fit every estimator on bundled datasets and print summaries"
    )
    models = available_models()
    model_lines = "\n".join(
        f"  {name:<10} {cls.__name__}" for name, cls in models.items()
    )
    fit = commands.add_parser(
        "fit",
        help="fit one model to a bundled dataset or a CSV file and print its summary",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Fit one model by maximum likelihood and print its summary table\n"
            "(estimates, standard errors, z, p-values, intervals, log-likelihood,\n"
            f"AIC, BIC).\n\nmodels:\n{model_lines}"
        ),
        epilog=(
            "examples:\n"
            "  skmle fit gaussian --data iris\n"
            "  skmle fit linear --data diabetes --json\n"
            "  skmle fit linear --data prices.csv --target price --plot fit.png"
        ),
    )
    fit.add_argument(
        "model",
        choices=list(models),
        metavar="MODEL",
        help="one of " + ", ".join(models),
    )
    fit.add_argument(
        "--data",
        required=True,
        metavar="NAME|FILE.csv",
        help=f"a dataset bundled with scikit-learn ({', '.join(DATASETS)}) or a CSV "
        "file with a header line and numeric columns",
    )
    fit.add_argument(
        "--target",
        metavar="COLUMN",
        help="the column to predict (default: the bundled dataset's target; required "
        "for a CSV with a supervised model; left out of the features otherwise)",
    )
    fit.add_argument(
        "--solver",
        metavar="S",
        help="the estimator's solver: closed_form, newton, lbfgs or gd; lp (laplace); "
        "em (mixture). Default: the model's fastest exact one",
    )
    fit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set another hyperparameter, e.g. --param n_components=3 (repeatable)",
    )
    fit.add_argument(
        "--scale",
        action="store_true",
        help="standardise the features (zero mean, unit variance) before fitting",
    )
    fit.add_argument(
        "--delimiter",
        metavar="CHAR",
        help="the CSV file's delimiter (tab for a tab); default: the one of , ; tab "
        "| that its header line uses most",
    )
    fit.add_argument(
        "--plot",
        metavar="OUT.png|DIR",
        help="also save a figure: predictive band (regressors), mixture ellipses, "
        "profile likelihood (gaussian) or convergence curve (logistic); into "
        "DIR/MODEL.png for a directory, OUT.png when OUT has no extension; needs "
        "matplotlib",
    )
    fit.add_argument(
        "--json", action="store_true", help="print the summary as JSON instead"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from skmle.demo import run_demos

        run_demos()
        return 0
    try:
        return fit_command(args)
    except CommandError as error:
        message = str(error)
    except ValueError as error:  # the estimator rejected the data or the options
        message = _first_line(error)
    except MemoryError as error:
        message = (
            f"not enough memory to fit {args.model} on these data "
            f"({_first_line(error)})"
        )
    except KeyboardInterrupt:
        print("skmle: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("SKMLE_TRACEBACK"):
            raise
        advice = REPORT_HINT
        if args.param:
            advice = f"check the --param values; if they are right, {advice}"
        message = f"unexpected {type(error).__name__}: {_first_line(error)}; {advice}"
    print(f"skmle: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _first_line(error: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an error message (its type when it has none)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
