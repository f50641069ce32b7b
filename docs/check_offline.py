"""Check that the built HTML documentation works with no network.

Usage: ``python docs/check_offline.py docs/_build/html``

Fails (exit status 1, one line per problem) when a page

- loads a script from another host (``<script src="https://...">`` or ``//host``),
- links a stylesheet, font or preload from another host, or
- loads a local script that is not in the build;

and when no page loads the local MathJax (``_static/mathjax/tex-chtml.js``) while
some page has mathematics, which would leave the derivations as raw LaTeX. CI
runs it after ``sphinx -W`` (``.ci/run``).
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

LINKED = {"stylesheet", "preload", "modulepreload", "icon", "font"}
"""``<link rel=...>`` kinds whose target the browser fetches."""


def is_external(url: str) -> bool:
    """Whether ``url`` points to another host (``http:``, ``https:`` or ``//``)."""
    parts = urlsplit(url.strip())
    return bool(parts.scheme in {"http", "https"} or parts.netloc)


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.has_math = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            kinds = set((attrs.get("rel") or "").lower().split())
            if kinds & LINKED:
                self.links.append(attrs["href"])
        classes = (attrs.get("class") or "").split()
        if "math" in classes:
            self.has_math = True


def check_page(page: Path) -> tuple[list[str], bool, bool]:
    """The problems of one page, whether it has mathematics and whether it loads
    the local MathJax."""
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    problems, local_mathjax = [], False
    for src in parser.scripts:
        if is_external(src):
            problems.append(f"{page}: external script {src}")
            continue
        target = (page.parent / urlsplit(src).path).resolve()
        if not target.is_file():
            problems.append(f"{page}: script {src} is not in the build")
        elif target.name == "tex-chtml.js" and target.parent.name == "mathjax":
            local_mathjax = True
    problems += [
        f"{page}: external resource {href}"
        for href in parser.links
        if is_external(href)
    ]
    return problems, parser.has_math, local_mathjax


def check_site(root: Path) -> list[str]:
    """Every problem of the site built in ``root``."""
    # _static holds the theme's assets (templates such as webpack-macros.html too)
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.parts)
    if not pages:
        return [f"{root}: no HTML pages (build the docs first)"]
    problems, math_pages, rendered = [], 0, 0
    for page in pages:
        found, has_math, local_mathjax = check_page(page)
        problems += found
        math_pages += has_math
        rendered += has_math and local_mathjax
    if math_pages and rendered < math_pages:
        problems.append(
            f"{math_pages - rendered} of the {math_pages} pages with mathematics do "
            "not load the local MathJax (_static/mathjax/tex-chtml.js): is "
            "sphinx-mathjax-offline in docs/conf.py's extensions?"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else "docs/_build/html")
    problems = check_site(root)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"{root}: no external script or stylesheet on any page; MathJax local")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
