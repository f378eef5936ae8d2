"""Name resolution and type inference, at definition time.

Takes the parser's untyped tree and the schema, returns the same tree with a :class:`FieldType`
on every node, or raises a :class:`FormulaError` pointing at the offending part.

Typing rules (``T`` = any one type, both sides the same):

* ``+``: number+number, duration+duration, date/datetime ± duration (either order for ``+``)
* ``-``: number, duration, date/datetime − duration; date−date and datetime−datetime → duration
* ``*``: number×number; duration×number and number×duration → duration (text×number refused)
* ``/``: number/number → number; duration/number → duration; duration/duration → number
* unary ``-``: number, duration
* ``== !=``: T with T; ``< <= > >=``: T with T for number, text, date, datetime, duration
* ``and or not`` and every condition: boolean
* ``x if c else y``: ``c`` boolean, ``x`` and ``y`` the same type
* ``x in [...]``: every list value has x's type
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from decimal import Decimal

from perfcore.formula.errors import FormulaError
from perfcore.formula.ir import Node
from perfcore.formula.lexer import err
from perfcore.formula.limits import MAX_TREE_DEPTH
from perfcore.formula.types import FieldType

__all__ = ["FUNCTIONS", "check"]

N = FieldType.NUMBER
T = FieldType.TEXT
B = FieldType.BOOLEAN
D = FieldType.DATE
DT = FieldType.DATETIME
DU = FieldType.DURATION

#: Allowed functions: name -> (min args, max args or None, one-line signature for messages).
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "abs": (1, 1, "abs(x)"),
    "clamp": (3, 3, "clamp(x, low, high)"),
    "coalesce": (2, None, "coalesce(x, y, ...)"),
    "day": (1, 1, "day(date)"),
    "days_between": (2, 2, "days_between(start, end)"),
    "hours": (1, 1, "hours(duration)"),
    "max": (2, None, "max(x, y, ...)"),
    "min": (2, None, "min(x, y, ...)"),
    "month": (1, 1, "month(date)"),
    "round": (1, 2, "round(x, places)"),
    "safe_div": (2, 3, "safe_div(numerator, denominator, fallback=0)"),
    "weekday": (1, 1, "weekday(date)"),
    "year": (1, 1, "year(date)"),
}

_AGGREGATES = {"sum", "avg", "average", "mean", "count", "median", "total"}

_VERB = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide"}
_SYMBOL = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
}

_ARITH: dict[tuple[str, FieldType, FieldType], FieldType] = {
    ("add", N, N): N,
    ("add", DU, DU): DU,
    ("add", DT, DU): DT,
    ("add", DU, DT): DT,
    ("add", D, DU): D,
    ("add", DU, D): D,
    ("sub", N, N): N,
    ("sub", DU, DU): DU,
    ("sub", DT, DU): DT,
    ("sub", D, DU): D,
    ("sub", DT, DT): DU,
    ("sub", D, D): DU,
    ("mul", N, N): N,
    ("mul", DU, N): DU,
    ("mul", N, DU): DU,
    ("div", N, N): N,
    ("div", DU, N): DU,
    ("div", DU, DU): N,
}
_ORDERED = frozenset({N, T, D, DT, DU})


def _a(kind: FieldType) -> str:
    return f"an {kind.value}" if kind.value[0] in "aeiou" else f"a {kind.value}"


class _Checker:
    def __init__(self, text: str, schema: Mapping[str, FieldType]) -> None:
        self.text = text
        self.schema = schema

    def fail(self, code: str, message: str, node: Node, hint: str = "") -> FormulaError:
        if node.span is None:
            return FormulaError(code, message, formula=self.text, hint=hint)
        return err(code, message, self.text, node.span[0], node.span[1], hint)

    def src(self, node: Node) -> str:
        if node.span is None:
            return node.op
        return self.text[node.span[0] : node.span[1]]

    def check(self, node: Node, depth: int = 1) -> Node:
        if depth > MAX_TREE_DEPTH:
            raise self.fail(
                "too_deep",
                f"the formula is nested more than {MAX_TREE_DEPTH} levels deep",
                node,
                "split it into named indicators",
            )
        op = node.op
        if op == "lit":
            assert node.type is not None
            return node
        if op == "field":
            return self.field(node)
        args = tuple(self.check(a, depth + 1) for a in node.args)
        kinds = [a.type for a in args]
        if op in _VERB:
            left, right = kinds
            assert left is not None
            assert right is not None
            if op == "mul" and T in (left, right) and N in (left, right):
                raise self.fail(
                    "string_repetition",
                    "text cannot be multiplied by a number",
                    node,
                    "repeating text is not supported",
                )
            result = _ARITH.get((op, left, right))
            if result is None:
                raise self.fail(
                    "type_mismatch",
                    f"cannot {_VERB[op]} {left.value} and {right.value}",
                    node,
                    self.arith_hint(op, left, right),
                )
            return self.typed(node, args, result)
        if op == "neg":
            (kind,) = kinds
            if kind not in (N, DU):
                raise self.fail(
                    "type_mismatch",
                    f"cannot negate {_a(kind)}" if kind else "",
                    node,
                    "`-` works on numbers and durations",
                )
            return self.typed(node, args, kind)
        if op in ("eq", "ne", "lt", "le", "gt", "ge"):
            left, right = kinds
            assert left is not None
            assert right is not None
            if left is not right:
                hint = "compare values of the same type"
                if {left, right} == {D, DT}:
                    hint = "a date and a datetime differ; compare two dates or two datetimes"
                elif {left, right} == {N, T}:
                    hint = "numbers are written without quotes, e.g. `qty == 5`"
                raise self.fail(
                    "type_mismatch",
                    f"cannot compare {left.value} with {right.value} using `{_SYMBOL[op]}`",
                    node,
                    hint,
                )
            if op not in ("eq", "ne") and left not in _ORDERED:
                raise self.fail(
                    "type_mismatch",
                    f"`{_SYMBOL[op]}` cannot order booleans",
                    node,
                    "use == or != with true/false values",
                )
            return self.typed(node, args, B)
        if op in ("and", "or", "not"):
            for arg in args:
                self.need_bool(arg, f"`{op}`")
            return self.typed(node, args, B)
        if op == "if":
            cond, then, other = args
            self.need_bool(cond, "the condition after `if`")
            if then.type is not other.type:
                assert then.type is not None
                assert other.type is not None
                raise self.fail(
                    "type_mismatch",
                    f"the two results of `if` differ: {then.type.value} and {other.type.value}",
                    node,
                    "both branches must give the same type",
                )
            return self.typed(node, args, then.type)
        if op == "in":
            subject, *items = args
            for item in items:
                if item.type is not subject.type:
                    assert item.type is not None
                    assert subject.type is not None
                    raise self.fail(
                        "type_mismatch",
                        f"the list holds {_a(item.type)} but "
                        f"`{self.src(subject)}` is {_a(subject.type)}",
                        item,
                        "every value in the list must have the type of the left side",
                    )
            return self.typed(node, args, B)
        if op == "call":
            return self.call(node, args)
        raise self.fail("ir_invalid", f"unknown operation `{op}`", node)

    def typed(self, node: Node, args: tuple[Node, ...], kind: FieldType | None) -> Node:
        return Node(node.op, args, node.value, kind, node.span)

    def field(self, node: Node) -> Node:
        name = str(node.value)
        kind = self.schema.get(name)
        if kind is not None:
            return Node("field", (), name, kind, node.span)
        if name in FUNCTIONS:
            raise self.fail(
                "unknown_name",
                f"unknown field `{name}`",
                node,
                f"`{name}` is a function; call it as {FUNCTIONS[name][2]}",
            )
        close = difflib.get_close_matches(name, list(self.schema), n=1, cutoff=0.6)
        if close:
            hint = f"did you mean `{close[0]}`?"
        elif self.schema:
            names = sorted(self.schema)
            more = ", ..." if len(names) > 8 else ""
            hint = "known fields: " + ", ".join(f"`{n}`" for n in names[:8]) + more
        else:
            hint = "the schema declares no fields"
        raise self.fail("unknown_name", f"unknown field `{name}`", node, hint)

    def need_bool(self, node: Node, where: str) -> None:
        if node.type is not B:
            assert node.type is not None
            hint = (
                f"compare it, e.g. `{self.src(node)} > 0`"
                if node.type is N
                else ("use a comparison such as == or a true/false field")
            )
            raise self.fail(
                "not_boolean",
                f"{where} needs true/false, but `{self.src(node)}` is {_a(node.type)}",
                node,
                hint,
            )

    def arith_hint(self, op: str, left: FieldType, right: FieldType) -> str:
        if T in (left, right):
            return "text cannot be used in arithmetic; numbers are written without quotes"
        if B in (left, right):
            return "true/false values cannot be used in arithmetic; use `x if cond else y`"
        if op == "add" and {left, right} <= {D, DT}:
            return "dates cannot be added; subtract them or add a duration such as `7d`"
        if N in (left, right) and (left in (D, DT, DU) or right in (D, DT, DU)):
            return "write durations with a unit, e.g. `48h` or `7d`"
        return f"`{_SYMBOL[op]}` needs numbers, or dates/durations as documented"

    def call(self, node: Node, args: tuple[Node, ...]) -> Node:
        name = str(node.value)
        spec = FUNCTIONS.get(name)
        if spec is None:
            if node.span is not None:  # point at the function name, not the whole call
                node = Node(
                    node.op, node.args, node.value, None, (node.span[0], node.span[0] + len(name))
                )
            if name in self.schema:
                raise self.fail(
                    "not_callable",
                    f"`{name}` is a field, not a function",
                    node,
                    f"use `{name}` without brackets",
                )
            if name.lower() in _AGGREGATES:
                hint = (
                    "aggregation (sum, average, count) is chosen in the indicator "
                    "definition, not inside a row formula"
                )
            else:
                close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.6)
                hint = (
                    f"did you mean `{close[0]}`?"
                    if close
                    else ("allowed functions: " + ", ".join(sorted(FUNCTIONS)))
                )
            raise self.fail("unknown_function", f"unknown function `{name}`", node, hint)
        low, high, sig = spec
        if len(args) < low or (high is not None and len(args) > high):
            want = (
                str(low)
                if high == low
                else (f"{low} or more" if high is None else f"{low} to {high}")
            )
            raise self.fail(
                "wrong_arguments",
                f"`{name}` takes {want} argument(s), got {len(args)}",
                node,
                f"write {sig}",
            )
        kinds = [a.type for a in args]
        assert all(k is not None for k in kinds)

        def bad(arg: Node, need: str) -> FormulaError:
            assert arg.type is not None
            return self.fail(
                "type_mismatch",
                f"`{name}` needs {need}, but `{self.src(arg)}` is {_a(arg.type)}",
                arg,
                f"write {sig}",
            )

        def same(allowed: frozenset[FieldType], need: str) -> FieldType:
            first = kinds[0]
            assert first is not None
            if first not in allowed:
                raise bad(args[0], need)
            for arg in args[1:]:
                if arg.type is not first:
                    raise bad(arg, _a(first))
            return first

        if name in ("min", "max", "clamp"):
            kind = same(
                frozenset({N, T, D, DT, DU}) if name != "clamp" else frozenset({N, D, DT, DU}),
                "numbers, dates or durations",
            )
            if name == "clamp":
                lo, hi = args[1], args[2]
                if lo.op == hi.op == "lit" and lo.value > hi.value:
                    raise self.fail(
                        "bad_argument",
                        "`clamp` low is greater than high",
                        node,
                        "write clamp(x, low, high) with low <= high",
                    )
            return self.typed(node, args, kind)
        if name == "coalesce":
            return self.typed(node, args, same(frozenset(FieldType), "values"))
        if name == "abs":
            return self.typed(node, args, same(frozenset({N, DU}), "a number or a duration"))
        if name == "round":
            same(frozenset({N}), "a number")
            if len(args) == 2:
                places = args[1]
                ok = (
                    places.op == "lit"
                    and isinstance(places.value, Decimal)
                    and places.value == places.value.to_integral_value()
                    and 0 <= places.value <= 12
                )
                if not ok:
                    raise self.fail(
                        "bad_argument",
                        "`round` places must be a whole number from 0 to 12",
                        places,
                        "e.g. round(x, 2)",
                    )
                args = (args[0], Node("lit", (), Decimal(int(places.value)), N, places.span))
            return self.typed(node, args, N)
        if name == "safe_div":
            for arg in args:
                if arg.type is not N:
                    raise bad(arg, "numbers")
            return self.typed(node, args, N)
        if name in ("year", "month", "day", "weekday"):
            same(frozenset({D, DT}), "a date or a datetime")
            return self.typed(node, args, N)
        if name == "days_between":
            same(frozenset({D, DT}), "two dates or two datetimes")
            return self.typed(node, args, N)
        if name == "hours":
            same(frozenset({DU}), "a duration")
            return self.typed(node, args, N)
        raise AssertionError(name)  # pragma: no cover - FUNCTIONS and this method agree


def check(node: Node, schema: Mapping[str, FieldType], text: str) -> Node:
    """Resolve names and infer types; return the typed tree.

    Raises:
        FormulaError: ``unknown_name``, ``unknown_function``, ``not_callable``,
            ``wrong_arguments``, ``bad_argument``, ``type_mismatch``, ``not_boolean``,
            ``string_repetition``, ``too_deep``.
    """
    return _Checker(text, schema).check(node)
