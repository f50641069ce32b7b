"""docs/check_offline.py, the CI gate that the built documentation needs no
network, on small sites written here (the real build is checked in .ci/run)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "check_offline.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("check_offline", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MATH = '<div class="math notranslate nohighlight">\\[x^2\\]</div>'


def site(tmp_path, script_src, math=True):
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("// mathjax")
    (tmp_path / "_static" / "theme.js").write_text("// theme")
    body = MATH if math else "<p>text</p>"
    page = (
        f'<html><head><script src="_static/theme.js?v=1"></script>'
        f'<script defer src="{script_src}"></script></head><body>{body}</body></html>'
    )
    (tmp_path / "index.html").write_text(page)
    # theme templates under _static are not pages
    (tmp_path / "_static" / "macros.html").write_text('<script src="{{ x }}"></script>')
    return tmp_path


def test_a_site_with_local_mathjax_passes(checker, tmp_path):
    root = site(tmp_path, "_static/mathjax/tex-chtml.js")
    assert checker.check_site(root) == []
    assert checker.main([str(root)]) == 0


@pytest.mark.parametrize(
    "src",
    [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js",
        "//cdnjs.cloudflare.com/mathjax/tex-chtml.js",
        "http://example.org/tex-chtml.js",
    ],
)
def test_an_external_script_fails(checker, tmp_path, src):
    problems = checker.check_site(site(tmp_path, src))
    assert any(f"external script {src}" in p for p in problems)
    assert any("do not load the local MathJax" in p for p in problems)
    assert checker.main([str(tmp_path)]) == 1


def test_a_missing_local_script_and_an_external_stylesheet_fail(checker, tmp_path):
    root = site(tmp_path, "_static/missing.js", math=False)
    page = root / "index.html"
    page.write_text(
        page.read_text().replace(
            "<head>", '<head><link rel="stylesheet" href="https://fonts.example/a.css">'
        )
    )
    problems = checker.check_site(root)
    assert any("_static/missing.js is not in the build" in p for p in problems)
    assert any("external resource https://fonts.example/a.css" in p for p in problems)


def test_an_empty_build_fails(checker, tmp_path):
    assert "no HTML pages" in checker.check_site(tmp_path)[0]
