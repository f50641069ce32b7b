"""``python -m skmle.cli``: the ``skmle`` command."""

import sys

from skmle.cli import main

sys.exit(main())
