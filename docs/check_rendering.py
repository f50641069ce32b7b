"""Open a built page in headless Chromium with no network and check its mathematics.

Usage::

    python docs/check_rendering.py docs/_build/html user_guide/gaussian.html \\
        [--screenshot gaussian.png] [--require]

Chromium loads the page from disk with every network request sent to a dead
proxy (``127.0.0.1:9``), so only the files of the build can be used. The page's
DOM after MathJax has run must hold one rendered ``mjx-container`` per formula of
the HTML that Sphinx wrote, or the check fails (exit status 1). With
``--screenshot`` the rendered page is also saved as a PNG, the proof to look at.

Without a Chromium on the machine (Debian: ``apt-get install -y chromium``) the
check is skipped with a message and exit status 0, unless ``--require``. CI's
gate is ``docs/check_offline.py`` (no external script); this one is the stronger,
optional proof (``.ci/run`` runs it when Chromium is installed).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
OFFLINE = ["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
"""Every request, to any host, goes to a closed port: the page gets no network."""


def browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_headless(executable: str, url: str, *extra: str) -> str:
    """Chromium's stdout for ``url`` after 15 s of virtual time (MathJax done)."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *OFFLINE,
            "--virtual-time-budget=15000",
            "--window-size=1100,1500",
            *extra,
            url,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=180, check=False
        )
    return done.stdout


def formulas_in(html: str) -> int:
    """Formulas in the HTML Sphinx wrote: its ``math`` spans and divs."""
    return len(re.findall(r'class="math[ "]', html))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("page", nargs="?", default="user_guide/gaussian.html")
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--require", action="store_true")
    args = parser.parse_args(argv)
    executable = browser()
    if executable is None:
        print("check_rendering: no Chromium found, skipped", file=sys.stderr)
        return 1 if args.require else 0
    page = (args.root / args.page).resolve()
    expected = formulas_in(page.read_text(encoding="utf-8"))
    dom = run_headless(executable, page.as_uri(), "--dump-dom")
    rendered = dom.count("<mjx-container")
    if args.screenshot is not None:
        shot = args.screenshot.resolve()
        run_headless(executable, page.as_uri(), f"--screenshot={shot}")
        print(f"check_rendering: screenshot in {shot}")
    if expected == 0 or rendered < expected:
        print(
            f"check_rendering: {page}: {rendered} of {expected} formulas rendered "
            "by MathJax with no network",
            file=sys.stderr,
        )
        return 1
    print(f"check_rendering: {page}: all {expected} formulas rendered, offline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
