"""The canonical intermediate representation (IR): a typed expression tree.

The parser and a no-code editor both produce the same IR; every back end (Python closures, SQL,
polars) consumes only the IR, never text. The IR serialises to JSON-able dicts::

    {"version": 1, "expr": {"op": "div", "type": "number", "args": [
        {"op": "field", "name": "good_qty", "type": "number"},
        {"op": "field", "name": "inspected_qty", "type": "number"}]}}

Node shapes (``type`` is present on every node of a checked IR and optional on input):

==================  =============================================================================
``lit``             ``value``: number as decimal string (``"0.85"``), text, boolean, date
                    ``"YYYY-MM-DD"``, datetime ISO with offset, duration as seconds string
``field``           ``name``: the schema field
``neg`` ``not``     one argument
``add sub mul div`` two arguments (``div`` is exact division; by zero gives no value)
``eq ne lt le gt ge`` two arguments
``and`` ``or``      two arguments, three-valued logic
``if``              ``[condition, then, else]``
``in``              ``[x, lit, lit, ...]`` (``not in`` is ``not`` around ``in``)
``call``            ``fn``: one of the allowed functions, arguments in ``args``
==================  =============================================================================
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import field, frozen

from perfcore.formula.errors import FormulaError
from perfcore.formula.limits import MAX_NODES, MAX_TREE_DEPTH
from perfcore.formula.types import FieldType

__all__ = [
    "ARITY",
    "BINARY_OPS",
    "COMPARISONS",
    "IR_VERSION",
    "Node",
    "node_from_dict",
    "node_to_dict",
    "number_text",
]

IR_VERSION = 1

COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
BINARY_OPS = frozenset({"add", "sub", "mul", "div", "and", "or"}) | COMPARISONS
ARITY: dict[str, int] = {"neg": 1, "not": 1, "if": 3} | dict.fromkeys(BINARY_OPS, 2)

Literal = Decimal | str | bool | _dt.date | _dt.datetime | _dt.timedelta


@frozen
class Node:
    """One IR node.

    ``op`` names the operation; ``args`` the operands; ``value`` the literal value, field name or
    function name (for ``lit``, ``field``, ``call``); ``type`` the inferred :class:`FieldType`
    (``None`` before checking); ``span`` the 0-based half-open source range (not part of
    equality, absent from the serialised IR).
    """

    op: str
    args: tuple[Node, ...] = ()
    value: Any = None
    type: FieldType | None = None
    span: tuple[int, int] | None = field(default=None, eq=False, repr=False)


def number_text(value: Decimal) -> str:
    """Plain decimal notation without exponent or trailing zeros: ``Decimal("1.50")`` -> ``1.5``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _lit_to_json(value: object, kind: FieldType | None) -> object:
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        return number_text(value)
    if isinstance(value, _dt.timedelta):
        micro = value // _dt.timedelta(microseconds=1)
        return number_text(Decimal(micro).scaleb(-6))
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    raise FormulaError("ir_invalid", f"cannot serialise literal {value!r}")


def node_to_dict(node: Node) -> dict[str, Any]:
    """Serialise a node (recursively) to JSON-able dicts; spans are dropped."""
    out: dict[str, Any] = {"op": node.op}
    if node.op == "lit":
        out["value"] = _lit_to_json(node.value, node.type)
    elif node.op == "field":
        out["name"] = node.value
    elif node.op == "call":
        out["fn"] = node.value
    if node.type is not None:
        out["type"] = node.type.value
    if node.args:
        out["args"] = [node_to_dict(a) for a in node.args]
    return out


def _bad(message: str, path: str) -> FormulaError:
    return FormulaError("ir_invalid", f"{message} at {path}", hint="see docs/formula.md, 'The IR'")


def _lit_from_json(raw: object, kind: FieldType | None, path: str) -> Literal:
    if kind is None:
        raise _bad("a literal needs a `type`", path)
    try:
        if kind is FieldType.BOOLEAN and isinstance(raw, bool):
            return raw
        if kind is FieldType.TEXT and isinstance(raw, str):
            return raw
        if kind is FieldType.NUMBER and isinstance(raw, str | int) and not isinstance(raw, bool):
            d = Decimal(str(raw))
            if d.is_finite() and len(d.as_tuple().digits) <= 30 and abs(d.adjusted()) < 100:
                return d
        if kind is FieldType.DATE and isinstance(raw, str) and len(raw) == 10:
            return _dt.date.fromisoformat(raw)
        if kind is FieldType.DATETIME and isinstance(raw, str):
            v = _dt.datetime.fromisoformat(raw)
            if v.tzinfo is not None:
                return v
        if kind is FieldType.DURATION and isinstance(raw, str):
            d = Decimal(raw)
            if d.is_finite() and abs(d) < Decimal(10) ** 15:
                return _dt.timedelta(microseconds=int(d.scaleb(6)))
    except (ValueError, InvalidOperation, OverflowError):
        pass
    raise _bad(f"literal {raw!r} is not a valid {kind.value}", path)


def node_from_dict(doc: object) -> Node:
    """Read an IR document (``{"version": 1, "expr": {...}}`` or a bare node dict).

    Structure only: op names, arity, literal values, the depth and node-count limits. Names and
    types are checked afterwards by the checker, exactly as for text.

    Raises:
        FormulaError: code ``ir_invalid`` naming the path of the bad node (``expr.args[1]``).
    """
    if isinstance(doc, Mapping) and "expr" in doc:
        if doc.get("version", IR_VERSION) != IR_VERSION:
            raise _bad(f"unsupported IR version {doc.get('version')!r}", "version")
        doc = doc["expr"]
    count = [0]
    return _read(doc, "expr", 1, count)


def _read(doc: object, path: str, depth: int, count: list[int]) -> Node:
    if depth > MAX_TREE_DEPTH:
        raise FormulaError("too_deep", f"the IR is nested more than {MAX_TREE_DEPTH} levels deep")
    count[0] += 1
    if count[0] > MAX_NODES:
        raise FormulaError("too_many_nodes", f"the IR has more than {MAX_NODES} nodes")
    if not isinstance(doc, Mapping):
        raise _bad("expected an object", path)
    op = doc.get("op")
    kind_raw = doc.get("type")
    kind: FieldType | None = None
    if kind_raw is not None:
        try:
            kind = FieldType(kind_raw)
        except ValueError:
            raise _bad(f"unknown type {kind_raw!r}", path) from None
    raw_args = doc.get("args", [])
    if not isinstance(raw_args, list):
        raise _bad("`args` must be a list", path)
    if op == "lit":
        if raw_args:
            raise _bad("a literal has no args", path)
        return Node("lit", (), _lit_from_json(doc.get("value"), kind, path), kind)
    if op == "field":
        name = doc.get("name")
        if not isinstance(name, str) or not name.isidentifier() or raw_args:
            raise _bad("a field needs a valid `name` and no args", path)
        return Node("field", (), name, kind)
    args = tuple(_read(a, f"{path}.args[{i}]", depth + 1, count) for i, a in enumerate(raw_args))
    if op == "call":
        fn = doc.get("fn")
        if not isinstance(fn, str) or not fn.isidentifier():
            raise _bad("a call needs a function name `fn`", path)
        return Node("call", args, fn, kind)
    if op == "in":
        if len(args) < 2 or any(a.op != "lit" for a in args[1:]):
            raise _bad("`in` needs a value and at least one literal", path)
        return Node("in", args, None, kind)
    if not isinstance(op, str) or op not in ARITY:
        raise _bad(f"unknown op {op!r}", path)
    if len(args) != ARITY[op]:
        raise _bad(f"`{op}` takes {ARITY[op]} argument(s), got {len(args)}", path)
    return Node(op, args, None, kind)
