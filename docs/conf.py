"""Sphinx configuration for the skmle documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # document the working tree, installed or not
os.environ.setdefault("MPLBACKEND", "Agg")

import skmle  # noqa: E402
from skmle.cli import build_parser  # noqa: E402

project = "skmle"
author = "the skmle developers"
copyright = "the skmle developers"
release = skmle.__version__
version = skmle.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 shipped inside the built site (the docs extra installs it): the
    # derivations render opened from disk, with no network. The CI step
    # docs/check_offline.py fails the build if a page loads an external script.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "gen_modules/cli"]
default_role = "literal"

# -- API reference -------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"inherited-members": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections say it already
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- gallery -----------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",  # run every example, not only plot_*.py
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skmle",),
    "reference_url": {"skmle": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    # its timing pages load jQuery and DataTables from CDNs: none, for an offline site
    "write_computation_times": False,
}

# -- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skmle {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False


# -- the command line's help, kept in step with the code ------------------------------------------
def _write_cli_help() -> None:
    target = HERE / "gen_modules" / "cli"
    target.mkdir(parents=True, exist_ok=True)
    parser = build_parser()
    (target / "skmle_help.txt").write_text(parser.format_help())
    fit = parser._subparsers._group_actions[0].choices["fit"]
    (target / "skmle_fit_help.txt").write_text(fit.format_help())


_write_cli_help()


# -- docstring hygiene ----------------------------------------------------------------------------
# In reStructuredText a bare word ending in "_" is a hyperlink reference, so a type
# such as "ndarray of shape (n_features_in_,)" would break the build. Quote such
# words in numpydoc "name : type" lines and in "shape (...)" before numpydoc
# reads them.
_TYPE_LINE = re.compile(r"^(\s*[\w*][\w*, ]* : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![\w`])")
_SHAPE = re.compile(r"shape \([^)`]*\)")


def _quote(text: str) -> str:
    return _TRAILING_UNDERSCORE.sub(r"``\1``", text)


def _quote_fitted_names(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            head, kind = match.groups()
            line = head + _quote(kind)
        lines[i] = _SHAPE.sub(lambda m: _quote(m.group(0)), line)


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document skmle's own methods, not those inherited from scikit-learn."""
    if what == "class":
        module = getattr(obj, "__module__", None) or ""
        if module and not module.startswith("skmle"):
            return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _quote_fitted_names, priority=100)
    app.connect("autodoc-skip-member", _skip_foreign_members)
