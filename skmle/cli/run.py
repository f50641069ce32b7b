"""``skmle fit``: fit one estimator, print its summary (or JSON), draw a figure."""

from __future__ import annotations

import ast
import contextlib
import inspect
import json
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from skmle.cli.data import Table, load_table, parse_delimiter
from skmle.cli.errors import CommandError
from skmle.cli.parser import available_models


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
    elif name == "dist":
        ax = plotting.plot_distribution_fit(model, X)
        ax.set_xlabel(table.names[0])
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
    delimiter = None if args.delimiter is None else parse_delimiter(args.delimiter)
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
