"""The layers import one way, and the code beside them uses public methods only.

From the bottom: data (where rows live), models (the likelihoods), optimizers,
inference, estimators; each imports only the layers below it (DESIGN.md, Part 2).
The ground modules import no layer; the layers below the estimators do not import
scikit-learn; nothing above the data layer asks which kind of store it holds;
gradcheck and plotting touch no private attribute of an estimator.

A layer that does not exist yet (``skmle/data/`` before it is written) has no
files, so its rules hold trivially until it appears.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skmle"

LAYERS = ("data", "models", "optim", "inference", "estimators")
"""From the bottom up: each may import only the ones before it."""

BESIDE = ("plotting", "gradcheck", "cli", "demo")
"""Built on the estimators; no layer imports them."""

GROUND = ("status", "_linalg", "_blas", "_threads")
"""Below every layer: they import no other skmle module but each other."""

WITHOUT_SKLEARN = ("data", "models", "optim", "inference")

EXTRA_FORBIDDEN = {"optim": ("skmle.models",)}
"""Stricter than the order: the optimizers know nothing of models."""

STORAGE_CLASSES = {"ChunkedBatches", "DaskBatches", "ChunkedArray", "InMemoryRows"}


def python_files(unit: str) -> list[Path]:
    """The files of ``skmle/<unit>/`` (a package) or ``skmle/<unit>.py``; none if
    it does not exist."""
    files = sorted((PACKAGE / unit).rglob("*.py")) if (PACKAGE / unit).is_dir() else []
    module = PACKAGE / f"{unit}.py"
    return files + ([module] if module.is_file() else [])


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function; relative
    imports resolved against its package."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            if not node.module:  # from . import name: name may be a module
                names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def forbidden_for(layer: str) -> tuple[str, ...]:
    above = LAYERS[LAYERS.index(layer) + 1 :]
    return (
        *(f"skmle.{name}" for name in above + BESIDE),
        *EXTRA_FORBIDDEN.get(layer, ()),
    )


def test_the_layer_names_are_the_packages():
    """Guards the lists above: every layer but data already exists."""
    for unit in (*LAYERS[1:], *BESIDE):
        assert python_files(unit), f"skmle/{unit} has no Python files"


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_below(layer):
    forbidden = forbidden_for(layer)
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in python_files(layer)
        for module in imported_modules(path)
        # the top-level package imports every layer
        if module == "skmle" or within(module, forbidden)
    ]
    assert not offenders, "\n".join(offenders)


def test_no_layer_imports_the_modules_beside_the_layers():
    beside = tuple(f"skmle.{name}" for name in BESIDE)
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for layer in LAYERS
        for path in python_files(layer)
        for module in imported_modules(path)
        if within(module, beside)
    ]
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("ground", GROUND)
def test_ground_modules_import_no_layer(ground):
    allowed = tuple(f"skmle.{name}" for name in GROUND)
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in python_files(ground)
        for module in imported_modules(path)
        if within(module, ("skmle",)) and not within(module, allowed)
    ]
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("layer", WITHOUT_SKLEARN)
def test_layers_below_the_estimators_do_not_import_sklearn(layer):
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in python_files(layer)
        for module in imported_modules(path)
        if within(module, ("sklearn", "skmle._sklearn_compat"))
    ]
    assert not offenders, "\n".join(offenders)


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
    assert not offenders, "\n".join(offenders)


def private_attributes_of_others(path: Path) -> list[str]:
    """``x._name`` where ``x`` is not ``self``/``cls``/``super()`` nor a name bound by
    an import (a module): a private attribute read or called on another object,
    such as an estimator's ``_objective_for_data``. Dunders are protocols, not
    private."""
    tree = ast.parse(path.read_text())
    modules = {"self", "cls"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        receiver = node.value
        if isinstance(receiver, ast.Name) and receiver.id in modules:
            continue
        if (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "super"
        ):
            continue
        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: .{name}")
    return found


@pytest.mark.parametrize(
    "unit", ["plotting", "gradcheck", "cli", "demo", "inference/profile.py"]
)
def test_tools_beside_the_estimators_use_public_methods_only(unit):
    paths = [PACKAGE / unit] if unit.endswith(".py") else python_files(unit)
    offenders = [hit for path in paths for hit in private_attributes_of_others(path)]
    assert not offenders, "\n".join(offenders)


def storage_questions(path: Path) -> list[str]:
    """``isinstance(..., <a store class>)``, ``hasattr(..., "map_sum")`` and
    ``.rows.data``: code asking which kind of store holds the rows."""
    found = []
    where = f"{path.relative_to(PACKAGE)}:"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = node.args
            if node.func.id == "isinstance" and len(args) == 2:
                named = {
                    n.id if isinstance(n, ast.Name) else n.attr
                    for n in ast.walk(args[1])
                    if isinstance(n, ast.Name | ast.Attribute)
                }
                for name in sorted(named & STORAGE_CLASSES):
                    found.append(f"{where}{node.lineno}: isinstance(..., {name})")
            if (
                node.func.id == "hasattr"
                and len(args) == 2
                and isinstance(args[1], ast.Constant)
                and args[1].value == "map_sum"
            ):
                found.append(f"{where}{node.lineno}: hasattr(..., 'map_sum')")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "data"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "rows"
        ):
            found.append(f"{where}{node.lineno}: .rows.data")
    return found


def test_estimators_never_ask_which_store_holds_the_rows():
    offenders = [
        hit for path in python_files("estimators") for hit in storage_questions(path)
    ]
    assert not offenders, "\n".join(offenders)


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
