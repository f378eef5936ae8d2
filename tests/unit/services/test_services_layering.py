"""The dependency rule for the application layer (docs/architecture.md): ports import only the
domain; services, plan and testing never import an adapter or an infrastructure library at
module level (adapters are named only in bootstrap, lazily)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"

INFRA = ("sqlalchemy", "alembic", "httpx", "fastapi", "psycopg", "polars", "typer", "rich")


def imports(package: str) -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for path in sorted((SRC / package.replace(".", "/")).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only: lazy imports inside functions are fine
            if isinstance(node, ast.Import):
                found += [(path.name, node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path.name, node.lineno, node.module))
    return found


def test_ports_import_only_the_domain_and_the_standard_library() -> None:
    bad = [
        (f, n, m)
        for f, n, m in imports("perfcore.ports")
        if m.split(".")[0] == "perfcore" and not m.startswith(("perfcore.domain", "perfcore.ports"))
    ]
    bad += [(f, n, m) for f, n, m in imports("perfcore.ports") if m.split(".")[0] in INFRA]
    assert bad == []


@pytest.mark.parametrize(
    "package", ["perfcore.services", "perfcore.plan", "perfcore.testing", "perfcore.ports"]
)
def test_no_adapter_or_infrastructure_import_at_module_level(package: str) -> None:
    bad = [
        (f, n, m)
        for f, n, m in imports(package)
        if m.startswith("perfcore_adapters") or m.split(".")[0] in INFRA
    ]
    assert bad == []
