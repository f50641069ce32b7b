"""The examples of the "Tests of hypotheses" user-guide page run and print what
the page shows (its ``>>>`` lines as doctests)."""

import doctest
from pathlib import Path

import pytest

pytest.importorskip("statsmodels.api")

PAGE = (
    Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "hypothesis_tests.rst"
)


def test_the_page_examples_print_what_the_page_says():
    result = doctest.testfile(
        str(PAGE),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        verbose=False,
        report=True,
    )
    assert result.attempted > 10
    assert result.failed == 0
