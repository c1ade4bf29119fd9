"""The shape of the code: which package may import which, and how pages reach the library.

Packages are layered like the app's navigation: ``transforms`` (look at one transform) below
``pipelines`` (compose) below ``experiment`` (train and compare) below ``prove`` and ``lessons``
(what the pages need). An import may only point down. Pages and ``ui/`` import from package
faces (``augment_core.transforms``), never from a module inside a package.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "augment_core"

# package -> the packages it may import (besides itself and the base modules)
ALLOWED: dict[str, set[str]] = {
    "transforms": set(),
    "pipelines": {"transforms"},
    "experiment": {"transforms", "pipelines"},
    "worker": {"transforms", "pipelines", "experiment"},
    "prove": {"transforms", "pipelines", "experiment", "worker"},
    "lessons": {"transforms", "pipelines", "experiment"},
}
BASE = {"errors", "settings", "faces"}  # importable from anywhere in the library
PACKAGES = set(ALLOWED)


def imported_modules(path: Path) -> list[str]:
    """Every ``augment_core...`` module a file imports, as dotted names (``from X import y`` gives X.y and X)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return [n for n in names if n.startswith("augment_core")]


def package_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_library_module_belongs_to_a_known_package_or_the_base():
    top = {p.stem for p in LIBRARY.glob("*.py")} - {"__init__"}
    packages = {p.name for p in LIBRARY.iterdir() if (p / "__init__.py").exists()}
    assert top == BASE and packages == PACKAGES


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_imports_only_point_down(package):
    wrong = []
    for path in (LIBRARY / package).rglob("*.py"):
        for name in imported_modules(path):
            target = package_of(name)
            if target in PACKAGES and target != package and target not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_base_modules_import_no_package():
    wrong = [f"{name} in {module}" for module in BASE for name in imported_modules(LIBRARY / f"{module}.py")
             if package_of(name) in PACKAGES]
    assert wrong == []


def test_pages_and_ui_import_from_package_faces_only():
    wrong = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("augment_core."):
                if len(node.module.split(".")) > 2:
                    wrong.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
    assert wrong == []


@pytest.mark.parametrize("package", sorted(PACKAGES - {"lessons"}))
def test_each_face_exports_names_that_exist(package):
    face = importlib.import_module(f"augment_core.{package}")
    missing = [name for name in face.__all__ if not hasattr(face, name)]
    assert face.__all__ and missing == []


def test_library_never_imports_streamlit():
    offenders = [str(p) for p in LIBRARY.rglob("*.py")
                 if any(n == "streamlit" or n.startswith("streamlit.") for n in _all_imports(p))]
    assert offenders == []


def _all_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out
