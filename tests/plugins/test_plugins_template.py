"""The plugin template renders into a working package whose own tests pass."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "plugins" / "perfcore-plugin-template"


def _render_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "perfcore_template_render", TEMPLATE / "render.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rendered_template_has_the_expected_files_and_no_template_names(tmp_path: Path) -> None:
    dest = _render_module().render("mes", "acme", tmp_path / "perfcore-mes-acme")
    files = sorted(
        str(p.relative_to(dest))
        for p in dest.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert files == [
        ".github/workflows/ci.yml",
        "CHANGELOG.md",
        "README.md",
        "pyproject.toml",
        "src/perfcore_mes_acme/__init__.py",
        "src/perfcore_mes_acme/py.typed",
        "src/perfcore_mes_acme/source.py",
        "tests/data/acme.jsonl",
        "tests/test_mes_acme_source.py",
    ]
    text = "\n".join(p.read_text(encoding="utf-8") for p in dest.rglob("*") if p.is_file())
    assert "widget" not in text.lower()
    assert 'mes_acme = "perfcore_mes_acme"' in (dest / "pyproject.toml").read_text()
    assert "class AcmeSource" in (dest / "src/perfcore_mes_acme/source.py").read_text()


def test_rendered_plugin_passes_its_own_tests_including_the_port_contract(tmp_path: Path) -> None:
    dest = _render_module().render("mes", "acme", tmp_path / "perfcore-mes-acme")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(dest / "src"), str(ROOT / "src")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "11 passed" in done.stdout


def test_render_refuses_names_that_are_not_identifiers(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _render_module().render("mes", "Acme Corp", tmp_path / "x")
