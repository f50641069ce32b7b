"""The layers import one way: estimators use optimizers and models, never back."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skmle"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        ("models", ("sklearn", "skmle.estimators", "skmle.optim")),
        ("optim", ("sklearn", "skmle.estimators", "skmle.models")),
    ],
)
def test_lower_layers_do_not_import_upper_ones(layer, forbidden):
    for path in sorted((PACKAGE / layer).glob("*.py")):
        for module in imported_modules(path):
            assert not module.startswith(forbidden), f"{path.name} imports {module}"


def test_private_sklearn_api_is_imported_in_one_module():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_sklearn_compat.py":
            continue
        for module in imported_modules(path):
            if module.startswith("sklearn") and any(
                part.startswith("_") for part in module.split(".")
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}: {module}")
    assert offenders == []


def test_importing_skmle_does_not_import_optional_dependencies():
    import subprocess
    import sys

    code = (
        "import sys, skmle; "
        "print(sorted(m for m in ('matplotlib', 'dask', 'statsmodels') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
