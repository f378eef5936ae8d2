"""Every hook is documented with its exact signature and has a test_hook_<name> (datasette's
tests/test_docs.py idea, https://github.com/simonw/datasette)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from perfcore.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugin_hooks.md"
HEADING = re.compile(r"^#{2,4} (perfcore_\w+)\(([^)]*)\)\s*$", re.MULTILINE)


def _hooks() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("perfcore_")
    }


def _documented() -> dict[str, str]:
    return {m[1]: m[2] for m in HEADING.finditer(DOCS.read_text(encoding="utf-8"))}


def _section(hook: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = re.search(rf"^#{{2,4}} {hook}\(", text, re.MULTILINE)
    assert start, f"{hook} has no heading"
    rest = text[start.end() :]
    end = re.search(r"^#", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def test_there_are_hooks_to_check() -> None:
    assert len(_hooks()) == 6


@pytest.mark.parametrize("hook", sorted(_hooks()))
def test_hook_is_documented_with_its_signature(hook: str) -> None:
    documented = _documented()
    assert hook in documented, f"{hook} has no heading in docs/plugin_hooks.md"
    expected = ", ".join(_hooks()[hook].parameters)
    assert documented[hook] == expected, f"docs say {hook}({documented[hook]})"


def test_docs_describe_no_hook_that_does_not_exist() -> None:
    assert set(_documented()) <= set(_hooks())


@pytest.mark.parametrize("hook", sorted(_hooks()))
def test_hook_docs_state_since_which_version(hook: str) -> None:
    section = _section(hook)
    docstring = inspect.getdoc(getattr(hookspecs, hook)) or ""
    added = re.search(r"versionadded:: (\S+)", docstring)
    assert added, f"{hook} docstring lacks .. versionadded::"
    assert f"*Since {added[1]}.*" in section


@pytest.mark.parametrize("hook", sorted(_hooks()))
def test_hook_has_a_test(hook: str) -> None:
    pattern = re.compile(rf"^def test_hook_{hook}\(", re.MULTILINE)
    found = [p for p in (ROOT / "tests").rglob("test_*.py") if pattern.search(p.read_text())]
    assert found, f"no test_hook_{hook} under tests/"


@pytest.mark.parametrize("hook", sorted(_hooks()))
def test_firstresult_hooks_say_so_in_docstring_and_docs(hook: str) -> None:
    opts = getattr(getattr(hookspecs, hook), "perfcore_spec", {})
    if not opts.get("firstresult"):
        return
    assert "Stops at first non-None result" in (inspect.getdoc(getattr(hookspecs, hook)) or "")
    section = _section(hook)
    assert "stops at the first non-None result" in section
