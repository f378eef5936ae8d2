"""Adapter between the plan and :mod:`perfcore.formula`.

:func:`compile_formula` calls ``perfcore.formula.compile(text, schema)`` and returns its compiled
formula (``result_type``, ``evaluate(row)``). Until that entry point is exported it falls back to
the formula package's own parse → check → generate pipeline, so the plan never carries a second
formula implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import frozen

import perfcore.formula as _formula
from perfcore.formula.errors import FormulaError

__all__ = ["Compiled", "FormulaError", "compile_formula"]


@frozen
class Compiled:
    """A compiled formula: its result type name and a row evaluator."""

    text: str
    result_type: str
    evaluate: Callable[[Mapping[str, object]], Any]


def compile_formula(text: str, schema: Mapping[str, str]) -> Compiled:
    """Compile ``text`` against ``schema`` (field → type name). Raises ``FormulaError``."""
    entry = getattr(_formula, "compile", None)
    if entry is not None:
        compiled = entry(text, schema)
        return Compiled(text, str(compiled.result_type), compiled.evaluate)
    from perfcore.formula.checker import check
    from perfcore.formula.codegen import generate
    from perfcore.formula.parser import parse
    from perfcore.formula.types import normalise_schema

    types = normalise_schema(schema)
    node = check(parse(text), types, text)
    names = frozenset(_names(node))
    evaluate, _source = generate(node, types, names, text)
    return Compiled(text, str(node.type), evaluate)


def _names(node: Any) -> set[str]:
    found: set[str] = set()
    if node.op == "field":
        found.add(str(node.value))
    for arg in node.args:
        found |= _names(arg)
    return found
