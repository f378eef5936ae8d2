"""The public entry points: :func:`compile` (text) and :func:`from_ir` (IR documents)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from perfcore.formula.checker import check
from perfcore.formula.codegen import generate
from perfcore.formula.errors import FormulaError
from perfcore.formula.ir import IR_VERSION, Node, node_from_dict, node_to_dict
from perfcore.formula.limits import check_text
from perfcore.formula.parser import parse
from perfcore.formula.render import render
from perfcore.formula.types import FieldType, normalise_schema

__all__ = ["CompiledFormula", "compile", "from_ir"]


def _names(node: Node, into: set[str]) -> set[str]:
    if node.op == "field":
        into.add(str(node.value))
    for arg in node.args:
        _names(arg, into)
    return into


class CompiledFormula:
    """A checked formula, ready to evaluate on any back end.

    Attributes:
        text: the formula as written.
        canonical: the canonical text of the IR (minimal brackets, ``85%`` written ``0.85``).
        result_type: the inferred :class:`FieldType` of the result.
        names: the schema fields the formula reads.
        schema: the normalised schema it was checked against.
        tree: the typed IR tree (:class:`~perfcore.formula.ir.Node`), for back ends.
        evaluate: ``evaluate(row: Mapping[str, object]) -> object`` — the value for one row
            (Decimal / str / bool / date / datetime / timedelta, or ``None`` for no value). A
            missing field counts as no value; a value of the wrong kind raises FormulaError
            ``bad_value``. Never raises for division by zero.
        source: the generated Python source (for inspection and tests only).
    """

    __slots__ = (
        "canonical",
        "evaluate",
        "names",
        "result_type",
        "schema",
        "source",
        "text",
        "tree",
    )

    text: str
    canonical: str
    result_type: FieldType
    names: frozenset[str]
    schema: Mapping[str, FieldType]
    tree: Node
    evaluate: Callable[[Mapping[str, object]], Any]
    source: str

    def __init__(self, text: str, tree: Node, schema: Mapping[str, FieldType]) -> None:
        assert tree.type is not None
        self.text = text
        self.tree = tree
        self.schema = schema
        self.result_type = tree.type
        self.names = frozenset(_names(tree, set()))
        self.canonical = render(tree)
        self.evaluate, self.source = generate(tree, schema, self.names, text)

    @property
    def ir(self) -> dict[str, Any]:
        """The canonical IR as JSON-able dicts: ``{"version": 1, "expr": {...}}``."""
        return {"version": IR_VERSION, "expr": node_to_dict(self.tree)}

    def __repr__(self) -> str:
        return f"CompiledFormula({self.text!r}, result_type={self.result_type.value!r})"


def compile(text: str, schema: Mapping[str, str | FieldType]) -> CompiledFormula:
    """Check ``text`` against ``schema`` (field name -> type name) and compile it.

    Example::

        fpy = compile("good_qty / inspected_qty", {"good_qty": "number",
                                                    "inspected_qty": "number"})
        fpy.evaluate({"good_qty": 98, "inspected_qty": 100})   # Decimal('0.98')

    Raises:
        FormulaError: for every problem, with code, message, 1-based span, the formula and a
            hint (see ``perfcore.formula.ERROR_CODES``). Nothing else is raised.
    """
    fields = normalise_schema(schema)
    checked_text = check_text(text)
    try:
        tree = check(parse(checked_text), fields, checked_text)
    except RecursionError:  # pragma: no cover - the depth limits make this unreachable
        raise FormulaError(
            "too_deep", "the formula is nested too deeply", formula=checked_text
        ) from None
    return CompiledFormula(checked_text, tree, fields)


def from_ir(ir: Mapping[str, Any], schema: Mapping[str, str | FieldType]) -> CompiledFormula:
    """Compile an IR document (as produced by :attr:`CompiledFormula.ir` or a no-code editor).

    The IR is read structurally, written out as canonical text and compiled from that text, so
    it passes exactly the same limits and checks; error spans point into that canonical text.
    If the document carries ``type`` annotations they must match the inferred types.

    Raises:
        FormulaError: ``ir_invalid`` for malformed documents, otherwise as :func:`compile`.
    """
    tree = node_from_dict(ir)
    compiled = compile(render(tree), schema)
    _compare_types(tree, compiled.tree, "expr")
    return compiled


def _compare_types(given: Node, inferred: Node, path: str) -> None:
    if given.type is not None and inferred.type is not None and given.type is not inferred.type:
        raise FormulaError(
            "ir_invalid",
            f"the IR says {path} is {given.type.value} but it is {inferred.type.value}",
            formula=render(inferred),
        )
    if len(given.args) == len(inferred.args):
        for i, (g, f) in enumerate(zip(given.args, inferred.args, strict=True)):
            _compare_types(g, f, f"{path}.args[{i}]")
