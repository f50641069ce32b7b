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

from skmle.cli.data import DATASETS, Table, load_table, read_csv, sniff_delimiter
from skmle.cli.errors import EXIT_USAGE, CommandError, exit_status
from skmle.cli.parser import MODELS, available_models, build_parser
from skmle.cli.run import fit_command, plot_path

__all__ = [
    "DATASETS",
    "EXIT_USAGE",
    "MODELS",
    "CommandError",
    "Table",
    "available_models",
    "build_parser",
    "fit_command",
    "load_table",
    "main",
    "plot_path",
    "read_csv",
    "sniff_delimiter",
]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from skmle.demo import run_demos

        run_demos()
        return 0
    return exit_status(lambda: fit_command(args), args)
