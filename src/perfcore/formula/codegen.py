"""Python back end: generate a small Python function from the *checked IR* and compile it.

Safety argument: the generated source contains only identifiers this module invents (``f0``,
``t3``, ``K2``, helper names from :data:`~perfcore.formula.runtime.HELPERS`), keywords and
operators. Every user-supplied value — field names, text, numbers, dates — is passed in as a
constant object (``K0`` ...), never spliced into the source. The function runs with empty
``__builtins__``. So the user's text never reaches ``compile()``.

Semantics (shared with the SQL and polars back ends): ``None`` is "no value"; arithmetic and
comparisons with ``None`` give ``None``; ``and``/``or``/``not`` are three-valued (SQL/Kleene);
division by zero gives ``None``; a condition without a value takes the ``else`` branch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache, partial
from types import CodeType
from typing import Any

from perfcore.formula.ir import Node
from perfcore.formula.runtime import HELPERS, converter, out_of_range
from perfcore.formula.types import FieldType

__all__ = ["generate"]

N = FieldType.NUMBER
DU = FieldType.DURATION
D = FieldType.DATE
DT = FieldType.DATETIME

_NUM_OP = {"add": "_add", "sub": "_sub", "mul": "_mul"}
_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_FAST_CLASS = {
    FieldType.NUMBER: "_D",
    FieldType.TEXT: "str",
    FieldType.BOOLEAN: "bool",
    FieldType.DATE: "_date",
    FieldType.DURATION: "_td",
}


_FLIP = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


def _excludes_zero(op: str, literal: object) -> bool:
    """Whether ``x <op> literal`` being true implies ``x != 0``."""
    if not isinstance(literal, Decimal):
        return False
    if op == "gt":
        return literal >= 0
    if op == "ge":
        return literal > 0
    if op == "lt":
        return literal <= 0
    if op == "le":
        return literal < 0
    if op == "eq":
        return literal != 0
    return op == "ne" and literal == 0


class _Gen:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.indent = 1
        self.consts: list[object] = []
        self.const_ids: dict[tuple[type, str], str] = {}
        self.fields: dict[str, str] = {}
        self.kinds: dict[str, FieldType] = {}
        self.loaded: set[str] = set()  # fields already read on the current code path
        self.nonnull: set[str] = set()  # atoms known to hold a value on the current path
        self.nonzero: set[str] = set()  # atoms known to be non-zero numbers on the current path
        self.temps = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def const(self, value: object) -> str:
        key = (type(value), repr(value))
        found = self.const_ids.get(key)
        if found is not None:
            return found
        name = f"K{len(self.consts)}"
        self.consts.append(value)
        self.const_ids[key] = name
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    @staticmethod
    def nulls(*pairs: tuple[str, bool]) -> str:
        return " or ".join(f"{atom} is None" for atom, nullable in pairs if nullable)

    def assign(
        self, expr: str, *pairs: tuple[str, bool], always_nullable: bool = False
    ) -> tuple[str, bool]:
        t = self.temp()
        cond = self.nulls(*pairs)
        if cond:
            self.line(f"{t} = None if {cond} else {expr}")
        else:
            self.line(f"{t} = {expr}")
        return t, bool(cond) or always_nullable

    def load(self, name: str) -> str:
        """Read and convert a field the first time the current code path needs it.

        Fields are read lazily so that a branch not taken costs nothing (``a * b / c if c > 0
        else 0`` reads only ``c`` when ``c`` is 0).
        """
        var = self.fields[name]
        if name in self.loaded:
            return var
        self.loaded.add(name)
        kind = self.kinds[name]
        key = self.const(name)
        conv = "C" + var[1:]
        self.line(f"{var} = _g({key})")
        if kind is N:
            # Decimal (native) first, then int and float (memoised conversions), else the
            # general converter, which also rejects bools, infinities and wrong kinds
            self.line(f"if {var}.__class__ is _D:")
            self.line(f"    if not {var}.is_finite():")
            self.line(f"        {var} = {conv}({var}, {key})")
            self.line(f"elif {var}.__class__ is int:")
            self.line(f"    {var} = _IC({var}, {var})")
            self.line(f"    if {var}.__class__ is int:")
            self.line(f"        {var} = _int({var})")
            self.line(f"elif {var}.__class__ is float:")
            self.line(f"    {var} = _FC({var}, {var})")
            self.line(f"    if {var}.__class__ is float:")
            self.line(f"        {var} = _float({var})")
            self.line(f"elif {var} is not None:")
            self.line(f"    {var} = {conv}({var}, {key})")
        elif kind in _FAST_CLASS:
            self.line(f"if {var} is not None and {var}.__class__ is not {_FAST_CLASS[kind]}:")
            self.line(f"    {var} = {conv}({var}, {key})")
        else:
            self.line(f"if {var} is not None:")
            self.line(f"    {var} = {conv}({var}, {key})")
        return var

    def block(self) -> tuple[set[str], set[str], set[str]]:
        """Enter an indented block; return the path facts to restore when leaving it."""
        self.indent += 1
        return set(self.loaded), set(self.nonnull), set(self.nonzero)

    def end_block(self, saved: tuple[set[str], set[str], set[str]]) -> None:
        self.indent -= 1
        self.loaded, self.nonnull, self.nonzero = saved

    # -- values --------------------------------------------------------------------------
    def emit(self, node: Node) -> tuple[str, bool]:
        op = node.op
        if op == "lit":
            if isinstance(node.value, bool):
                return ("True" if node.value else "False"), False
            return self.const(node.value), False
        if op == "field":
            var = self.load(str(node.value))
            return var, var not in self.nonnull
        if op in ("add", "sub", "mul", "div"):
            return self.arith(node)
        if op == "neg":
            a = self.emit(node.args[0])
            fn = "_neg" if node.type is N else "_td_neg"
            return self.assign(f"{fn}({a[0]})", a, always_nullable=node.type is DU)
        if op in _CMP:
            a = self.emit(node.args[0])
            b = self.emit(node.args[1])
            return self.assign(f"{a[0]} {_CMP[op]} {b[0]}", a, b)
        if op == "not":
            a = self.emit(node.args[0])
            return self.assign(f"not {a[0]}", a)
        if op in ("and", "or"):
            return self.logic(node)
        if op == "if":
            return self.branch(node)
        if op == "in":
            a = self.emit(node.args[0])
            items = frozenset(i.value for i in node.args[1:])
            return self.assign(f"{a[0]} in {self.const(items)}", a)
        if op == "call":
            return self.call(node)
        raise AssertionError(op)  # pragma: no cover - the checker admits only known ops

    def arith(self, node: Node) -> tuple[str, bool]:
        left, right = node.args
        a = self.emit(left)
        b = self.emit(right)
        lt, rt = left.type, right.type
        op = node.op
        if lt is N and rt is N:
            if op in _NUM_OP:
                return self.assign(f"{_NUM_OP[op]}({a[0]}, {b[0]})", a, b)
            nonzero = (right.op == "lit" and right.value != 0) or b[0] in self.nonzero
            if nonzero:
                return self.assign(f"_div({a[0]}, {b[0]})", a, b)
            cond = self.nulls(a, b)
            cond = f"{cond} or not {b[0]}" if cond else f"not {b[0]}"
            t = self.temp()
            self.line(f"{t} = None if {cond} else _div({a[0]}, {b[0]})")
            return t, True
        fn = {
            ("add", DU, DU): "_td_add({a}, {b})",
            ("sub", DU, DU): "_td_sub({a}, {b})",
            ("add", DT, DU): "_shift({a}, {b})",
            ("add", D, DU): "_shift({a}, {b})",
            ("add", DU, DT): "_shift({b}, {a})",
            ("add", DU, D): "_shift({b}, {a})",
            ("sub", DT, DU): "_unshift({a}, {b})",
            ("sub", D, DU): "_unshift({a}, {b})",
            ("sub", DT, DT): "_diff({a}, {b})",
            ("sub", D, D): "_diff({a}, {b})",
            ("mul", DU, N): "_td_scale({a}, {b})",
            ("mul", N, DU): "_td_scale({b}, {a})",
            ("div", DU, N): "_td_div({a}, {b})",
            ("div", DU, DU): "_td_ratio({a}, {b})",
        }[(op, lt, rt)]  # type: ignore[index]
        return self.assign(fn.format(a=a[0], b=b[0]), a, b, always_nullable=True)

    def logic(self, node: Node) -> tuple[str, bool]:
        short = "False" if node.op == "and" else "True"
        other = "True" if node.op == "and" else "False"
        t = self.temp()
        a = self.emit(node.args[0])
        self.line(f"if {a[0]} is {short}:")
        saved = self.block()
        self.line(f"{t} = {short}")
        self.end_block(saved)
        self.line("else:")
        saved = self.block()
        b = self.emit(node.args[1])
        if a[1]:
            nulls = self.nulls(a, b)
            self.line(f"{t} = {short} if {b[0]} is {short} else (None if {nulls} else {other})")
        else:
            self.line(f"{t} = {b[0]}")
        self.end_block(saved)
        return t, a[1] or b[1]

    def truth(self, node: Node) -> tuple[str, set[str], set[str]]:
        """A Python boolean expression that is True exactly when ``node`` is True, plus the
        atoms known to be non-null and non-zero when it is (``c > 0`` guards ``x / c``)."""
        if node.op in _CMP:
            a = self.emit(node.args[0])
            b = self.emit(node.args[1])
            guard = " and ".join(f"{x} is not None" for x, n in (a, b) if n)
            test = f"{a[0]} {_CMP[node.op]} {b[0]}"
            nonzero: set[str] = set()
            left, right = node.args
            if left.type is N:
                if right.op == "lit" and _excludes_zero(node.op, right.value):
                    nonzero.add(a[0])
                if left.op == "lit" and _excludes_zero(_FLIP[node.op], left.value):
                    nonzero.add(b[0])
            code = f"({guard} and {test})" if guard else f"({test})"
            return code, {a[0], b[0]}, nonzero
        atom, nullable = self.emit(node)
        return (f"{atom} is True" if nullable else atom), set(), set()

    def branch(self, node: Node) -> tuple[str, bool]:
        cond, then, other = node.args
        t = self.temp()
        test, nonnull, nonzero = self.truth(cond)
        self.line(f"if {test}:")
        saved = self.block()
        self.nonnull |= nonnull
        self.nonzero |= nonzero
        x = self.emit(then)
        self.line(f"{t} = {x[0]}")
        self.end_block(saved)
        self.line("else:")
        saved = self.block()
        y = self.emit(other)
        self.line(f"{t} = {y[0]}")
        self.end_block(saved)
        return t, x[1] or y[1]

    def call(self, node: Node) -> tuple[str, bool]:
        name = str(node.value)
        args = [self.emit(a) for a in node.args]
        atoms = [a[0] for a in args]
        if name in ("min", "max"):
            if len(args) == 2:
                cmp = "<=" if name == "min" else ">="
                a, b = atoms
                return self.assign(f"({a} if {a} {cmp} {b} else {b})", *args)
            return self.assign(f"_n{name}({', '.join(atoms)})", always_nullable=True)
        if name == "coalesce":
            expr = atoms[-1]
            nullable = args[-1][1]
            for atom, can_null in reversed(args[:-1]):
                if not can_null:
                    expr, nullable = atom, False
                else:
                    expr = f"({atom} if {atom} is not None else {expr})"
            t = self.temp()
            self.line(f"{t} = {expr}")
            return t, nullable
        if name == "abs":
            fn = "_abs" if node.type is N else "_td_abs"
            return self.assign(f"{fn}({atoms[0]})", args[0], always_nullable=node.type is DU)
        if name == "round":
            places = int(node.args[1].value) if len(node.args) == 2 else 0
            quantum = self.const(Decimal(1).scaleb(-places))
            return self.assign(f"_round({atoms[0]}, {quantum})", args[0], always_nullable=True)
        if name == "safe_div":
            fallback = atoms[2] if len(atoms) == 3 else self.const(Decimal(0))
            a, b = atoms[0], atoms[1]
            bnull = f"{b} is None or " if args[1][1] else ""
            anull = f"None if {a} is None else " if args[0][1] else ""
            t = self.temp()
            self.line(f"{t} = {fallback} if {bnull}not {b} else ({anull}_div({a}, {b}))")
            return t, True
        if name == "clamp":
            x, lo, hi = atoms
            return self.assign(f"({lo} if {x} < {lo} else ({hi} if {x} > {hi} else {x}))", *args)
        if name in ("year", "month", "day", "weekday", "hours"):
            return self.assign(f"_{name}({atoms[0]})", args[0], always_nullable=name != "hours")
        if name == "days_between":
            return self.assign(f"_days_between({atoms[0]}, {atoms[1]})", *args)
        raise AssertionError(name)  # pragma: no cover


@lru_cache(maxsize=512)
def _code(source: str) -> CodeType:
    """Byte-compile generated source; cached, since the source depends only on the formula's
    shape (every value is a constant passed in the namespace)."""
    return compile(source, "<perfcore-formula>", "exec")


def generate(
    node: Node, schema: Mapping[str, FieldType], names: frozenset[str], text: str
) -> tuple[Callable[[Mapping[str, object]], Any], str]:
    """Compile the checked tree to ``evaluate(row)``; return the function and its source.

    ``row`` is any mapping; a missing field counts as no value (``None``).
    """
    gen = _Gen()
    namespace: dict[str, Any] = {
        "__builtins__": {},
        **HELPERS,
        "str": str,
        "bool": bool,
        "int": int,
        "float": float,
    }
    gen.indent = 2  # inside def + try
    gen.line("_g = row.get")
    for i, name in enumerate(sorted(names)):
        gen.fields[name] = f"f{i}"
        gen.kinds[name] = schema[name]
        namespace[f"C{i}"] = converter(schema[name], text)
    result, _ = gen.emit(node)
    gen.line(f"return {result}")
    # try/except costs nothing on the normal path (CPython 3.11 zero-cost exceptions)
    source = (
        "def evaluate(row):\n    try:\n"
        + "\n".join(gen.lines)
        + "\n    except _ArithmeticError:\n        raise _out_of_range() from None\n"
    )
    namespace["_ArithmeticError"] = ArithmeticError
    namespace["_out_of_range"] = partial(out_of_range, text)
    for i, value in enumerate(gen.consts):
        namespace[f"K{i}"] = value
    code = _code(source)
    exec(code, namespace)
    fn: Callable[[Mapping[str, object]], Any] = namespace["evaluate"]
    return fn, source
