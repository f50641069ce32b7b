"""The ``skmle`` command line."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skmle", description="Maximum likelihood estimation, the scikit-learn way."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "demo", help="fit every estimator on bundled datasets and print summaries"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from skmle.demo import run_demos

        run_demos()
    return 0


if __name__ == "__main__":
    sys.exit(main())
