"""The formula IR lowered to a polars expression, for in-process batches and what-if replays.

``to_polars(compiled)`` returns one ``pl.Expr`` over ``pl.col(<field>)`` columns, to be used in
``df.select(...)``, ``df.filter(...)`` or ``group_by(...).agg(...)``. Requires the optional extra
``perfcore[polars]``.

Semantics match the Python back end (docs/formula.md): nulls propagate through arithmetic and
comparisons; ``&``/``|``/``~`` are polars' Kleene logic, which is the language's three-valued
logic; division by zero gives null (``when(b == 0).then(None)``); a null condition takes the
``otherwise`` branch; ``min``/``max``/``clamp`` give null when any input is null.

Representation: numbers are Int64 where exact integers and Float64 otherwise — polars has no
arbitrary-precision decimal arithmetic here, so results carry binary floating-point error (about
15-16 significant digits); compare with the exact Python back end after quantizing. Dates are
``Date``, datetimes are ``Datetime`` in UTC (literals are converted to UTC), durations are
``Duration``; date/datetime parts are taken from the stored (UTC) value.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

import polars as pl

from perfcore.formula import CompiledFormula, FieldType, Node

__all__ = ["to_polars"]

N = FieldType.NUMBER
D = FieldType.DATE
DT = FieldType.DATETIME
DU = FieldType.DURATION

_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000


def _lit(value: Any) -> pl.Expr:
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 2**53:
            return pl.lit(int(value), dtype=pl.Int64)
        return pl.lit(float(value), dtype=pl.Float64)
    if isinstance(value, _dt.datetime):
        return pl.lit(value.astimezone(_dt.UTC), dtype=pl.Datetime("us", "UTC"))
    if isinstance(value, _dt.timedelta):
        return pl.lit(value, dtype=pl.Duration("us"))
    return pl.lit(value)


def _null() -> pl.Expr:
    return pl.lit(None)


def _any_null(*exprs: pl.Expr) -> pl.Expr:
    out = exprs[0].is_null()
    for e in exprs[1:]:
        out = out | e.is_null()
    return out


def _div(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(b == 0).then(_null()).otherwise(a / b)


_SWAP = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


def _constant(node: Node) -> bool:
    """Whether the subtree reads no field."""
    return node.op != "field" and all(_constant(a) for a in node.args)


def _lower(node: Node) -> pl.Expr:
    op = node.op
    if op == "lit":
        return _lit(node.value)
    if op == "field":
        return pl.col(str(node.value))
    args = [_lower(a) for a in node.args]
    kinds = [a.type for a in node.args]
    if op in ("add", "sub", "mul", "div"):
        return _arith(op, args, kinds)
    if op == "neg":
        return -args[0]
    if op in _SWAP and _constant(node.args[0]) and not _constant(node.args[1]):
        # polars (2.1) fails to broadcast `lit == when(...)` over an all-null column;
        # `when(...) == lit` is the same comparison and works
        return _lower(Node(_SWAP[op], (node.args[1], node.args[0]), None, node.type))
    if op == "eq":
        return args[0] == args[1]
    if op == "ne":
        return args[0] != args[1]
    if op == "lt":
        return args[0] < args[1]
    if op == "le":
        return args[0] <= args[1]
    if op == "gt":
        return args[0] > args[1]
    if op == "ge":
        return args[0] >= args[1]
    if op == "and":
        return args[0] & args[1]
    if op == "or":
        return args[0] | args[1]
    if op == "not":
        return ~args[0]
    if op == "if":
        return pl.when(args[0]).then(args[1]).otherwise(args[2])
    if op == "in":
        values = [i.value for i in node.args[1:]]
        subject = args[0]
        if kinds[0] is N:  # compare as floats: polars refuses to mix Int64 and Float64 here
            values = [float(v) for v in values]
            subject = subject.cast(pl.Float64)
        elif kinds[0] is DT:
            values = [v.astimezone(_dt.UTC) for v in values]
        return subject.is_in(values)
    if op == "call":
        return _call(node, args)
    raise AssertionError(op)  # pragma: no cover


def _arith(op: str, args: list[pl.Expr], kinds: list[FieldType | None]) -> pl.Expr:
    a, b = args
    left, right = kinds
    if op == "add" and left is DU and right in (D, DT):
        a, b, left, right = b, a, right, left
    if left is D and right is DU and op in ("add", "sub"):
        # a date moves by whole days, rounded down (as the Python back end)
        micro = b.dt.total_microseconds() if op == "add" else -b.dt.total_microseconds()
        return a + pl.duration(days=micro // _DAY_US)
    if op == "mul" and DU in (left, right):
        if right is DU:
            a, b = b, a
        scaled = (a.dt.total_microseconds() * b).round(0).cast(pl.Int64)
        return pl.duration(microseconds=scaled)
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if left is DU and right is DU:
        return _div(a.dt.total_microseconds(), b.dt.total_microseconds())
    if left is DU:
        micro = a.dt.total_microseconds() / b
        return (
            pl.when(b == 0)
            .then(_null())
            .otherwise(pl.duration(microseconds=micro.round(0).cast(pl.Int64)))
        )
    return _div(a, b)


def _call(node: Node, args: list[pl.Expr]) -> pl.Expr:
    name = str(node.value)
    if name in ("min", "max"):
        result = args[0]
        for arg in args[1:]:
            prev = result
            better = arg < prev if name == "min" else arg > prev
            result = (
                pl.when(_any_null(arg, prev)).then(_null()).when(better).then(arg).otherwise(prev)
            )
        return result
    if name == "coalesce":
        return pl.coalesce(args)
    if name == "abs":
        return args[0].abs()
    if name == "round":
        places = int(node.args[1].value) if len(node.args) == 2 else 0
        return args[0].cast(pl.Float64).round(places, mode="half_away_from_zero")
    if name == "safe_div":
        a, b = args[0], args[1]
        fallback = args[2] if len(args) == 3 else pl.lit(0, dtype=pl.Int64)
        return pl.when(b.is_null() | (b == 0)).then(fallback).otherwise(a / b)
    if name == "clamp":
        x, lo, hi = args
        return (
            pl.when(_any_null(x, lo, hi))
            .then(_null())
            .when(x < lo)
            .then(lo)
            .when(x > hi)
            .then(hi)
            .otherwise(x)
        )
    if name == "year":
        return args[0].dt.year()
    if name == "month":
        return args[0].dt.month()
    if name == "day":
        return args[0].dt.day()
    if name == "weekday":
        return args[0].dt.weekday()
    if name == "days_between":
        return (args[1] - args[0]).dt.total_microseconds() / _DAY_US
    if name == "hours":
        return args[0].dt.total_microseconds() / _HOUR_US
    raise AssertionError(name)  # pragma: no cover


def to_polars(compiled: CompiledFormula) -> pl.Expr:
    """Lower a compiled formula to a polars expression over ``pl.col(field)`` columns.

    The expression is named ``"value"``. Use ``df.with_columns(expr)`` for one value per row (a
    formula that reads no field, such as ``true``, is a single literal that ``select`` would not
    broadcast). Columns must have matching dtypes: numbers (any integer
    or float), ``Utf8``, ``Boolean``, ``Date``, ``Datetime`` (UTC) and ``Duration``.
    """
    return _lower(compiled.tree).alias("value")
