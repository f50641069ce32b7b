"""Errors of the command line: one line on stderr and an exit status, never a traceback.

Mistakes in the data or the options (and the estimators' ``ValueError``) say what to
change; running out of memory says so; any other exception is named with a request
to report it. ``SKMLE_TRACEBACK=1`` in the environment lets those others propagate
with their traceback. Ctrl-C ends with ``skmle: interrupted`` and exit status 130.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

MAX_ECHO = 24
"""Longest piece of a file's content (a cell, a column name) an error message quotes."""

REPORT_HINT = (
    "this is probably a bug in skmle: please report it, with the traceback that "
    "SKMLE_TRACEBACK=1 shows"
)


class CommandError(Exception):
    """A mistake in the command or its data: reported in one line, exit status 2."""


def quote(text: str) -> str:
    """``repr(text)``, cut to :data:`MAX_ECHO` characters: messages about a file
    never echo more than a fragment of its content."""
    text = str(text)
    if len(text) <= MAX_ECHO:
        return repr(text)
    return repr(text[: MAX_ECHO - 3]) + f"... ({len(text)} characters)"


def first_line(error: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an error message (its type when it has none)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def exit_status(command: Callable[[], int], args) -> int:
    """Run ``command()`` and turn any error into one line on stderr.

    Parameters
    ----------
    command : callable
        The subcommand, returning its exit status.
    args : argparse.Namespace
        The parsed options (``model`` and ``param`` are named in messages).

    Returns
    -------
    int
        ``command()``'s status; 2 after an error, 130 after Ctrl-C.
    """
    try:
        return command()
    except CommandError as error:
        message = str(error)
    except ValueError as error:  # the estimator rejected the data or the options
        message = first_line(error)
    except MemoryError as error:
        message = (
            f"not enough memory to fit {args.model} on these data ({first_line(error)})"
        )
    except KeyboardInterrupt:
        print("skmle: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if os.environ.get("SKMLE_TRACEBACK"):
            raise
        advice = REPORT_HINT
        if args.param:
            advice = f"check the --param values; if they are right, {advice}"
        message = f"unexpected {type(error).__name__}: {first_line(error)}; {advice}"
    print(f"skmle: error: {message}", file=sys.stderr)
    return EXIT_USAGE
