"""The dependency rule (docs/architecture.md): the pure core imports nothing from the rest of the
project and no infrastructure library.

Checked two ways: statically (every ``import`` in the package's source) and dynamically (importing
the package in a fresh interpreter must not load any forbidden module).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

FORBIDDEN_INFRA = (
    "sqlalchemy",
    "alembic",
    "httpx",
    "fastapi",
    "starlette",
    "psycopg",
    "polars",
    "numpy",
    "yaml",
    "typer",
    "rich",
    "matplotlib",
    "tenacity",
    "asyncua",
)

# package -> project packages it may import (besides itself)
ALLOWED_PROJECT = {
    "perfcore.domain": set(),
    "perfcore.formula": set(),
}


def _imports(package: str) -> list[tuple[Path, int, str]]:
    root = SRC / package.replace(".", "/")
    found: list[tuple[Path, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((path, node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED_PROJECT))
def test_pure_core_imports_no_infrastructure(package: str) -> None:
    bad = [
        f"{p.relative_to(SRC)}:{line}: {mod}"
        for p, line, mod in _imports(package)
        if mod.split(".")[0] in FORBIDDEN_INFRA
    ]
    assert bad == [], f"{package} imports infrastructure:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", sorted(ALLOWED_PROJECT))
def test_pure_core_imports_nothing_else_from_the_project(package: str) -> None:
    allowed = {package, *ALLOWED_PROJECT[package]}
    bad = [
        f"{p.relative_to(SRC)}:{line}: {mod}"
        for p, line, mod in _imports(package)
        if mod.split(".")[0] in {"perfcore", "perfcore_adapters"}
        and not any(mod == a or mod.startswith(a + ".") for a in allowed)
    ]
    assert bad == [], f"{package} reaches outside itself:\n" + "\n".join(bad)


def test_importing_the_core_loads_no_infrastructure_module() -> None:
    code = (
        "import sys, pkgutil, importlib\n"
        "import perfcore.domain, perfcore.formula\n"
        "for pkg in (perfcore.domain, perfcore.formula):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN_INFRA!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing the core loaded: {out}"
