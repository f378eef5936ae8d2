"""The formula IR lowered to SQLAlchemy Core expressions (push-down evaluation).

``to_sql(compiled, columns)`` turns a checked :class:`~perfcore.formula.CompiledFormula` into one
column expression that can be selected, filtered on or aggregated (``func.sum(expr)``). Every
literal becomes a bound parameter; user text never becomes SQL text (field names are looked up in
the ``columns`` mapping the caller provides, function names come from a fixed table).

Semantics are the formula language's (docs/formula.md) and match the Python back end:

* no value is ``NULL``; arithmetic and comparisons with ``NULL`` give ``NULL``; ``AND``/``OR``/
  ``NOT`` are SQL's three-valued logic, which is the language's;
* ``/`` is real division and division by zero gives ``NULL``: ``CAST(a AS NUMERIC) /
  NULLIF(b, 0)`` (``CAST(a AS REAL)`` on SQLite, which otherwise truncates integer division);
* ``x if c else y`` is ``CASE WHEN c THEN x ELSE y END`` (a ``NULL`` condition takes ``ELSE``);
* ``min``/``max``/``clamp`` are ``CASE`` expressions that give ``NULL`` when any input is
  ``NULL`` (unlike PostgreSQL's ``LEAST``/``GREATEST``, which skip NULLs).

Storage conventions this lowering assumes: date columns hold dates (SQLite: ``YYYY-MM-DD`` text,
as SQLAlchemy's ``Date`` writes them); datetime columns hold UTC (datetime literals are converted
to UTC before binding); duration columns hold a number of **seconds**. Durations are lowered as
seconds too, so ``closed_at - opened_at <= 48h`` works on both dialects. Not expressible here,
raising ``FormulaError("unsupported_backend")``: date/datetime ± duration.

Numeric tolerance: PostgreSQL ``NUMERIC`` is exact up to its division scale (at least 16
significant digits for a quotient); SQLite has no decimal type, so its results are binary floats
(about 15-16 significant digits) and SQLAlchemy's ``Numeric`` returns them as Decimals rounded to
10 places; differences of datetimes are exact to the millisecond on SQLite (``strftime('%f')``).
Compare SQLite results with the Python back end after quantizing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from perfcore.formula import CompiledFormula, FieldType, FormulaError, Node

__all__ = ["Columns", "to_sql"]

N = FieldType.NUMBER
T = FieldType.TEXT
B = FieldType.BOOLEAN
D = FieldType.DATE
DT = FieldType.DATETIME
DU = FieldType.DURATION

_SQL_TYPES: dict[FieldType, Any] = {
    N: sa.Numeric(),
    T: sa.String(),
    B: sa.Boolean(),
    D: sa.Date(),
    DT: sa.DateTime(),
    DU: sa.Numeric(),
}


class Columns(Protocol):
    """What ``to_sql`` needs for columns: ``name in columns`` and ``columns[name]``. Both a
    ``dict`` of column expressions and a table's ``table.c`` collection qualify."""

    def __contains__(self, key: str, /) -> bool: ...

    def __getitem__(self, key: str, /) -> ColumnElement[Any]: ...


class _RealDiv(FunctionElement[Decimal]):
    """``a / b`` as real (never integer) division; ``b`` is already NULLIF-guarded."""

    type = sa.Numeric()
    name = "perfcore_real_div"
    inherit_cache = True


@compiles(_RealDiv)
def _real_div_default(element: _RealDiv, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = list(element.clauses)
    return f"(CAST(({compiler.process(a, **kw)}) AS NUMERIC) / ({compiler.process(b, **kw)}))"


@compiles(_RealDiv, "sqlite")
def _real_div_sqlite(element: _RealDiv, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = list(element.clauses)
    return f"(CAST(({compiler.process(a, **kw)}) AS REAL) / ({compiler.process(b, **kw)}))"


class _SecondsBetween(FunctionElement[Decimal]):
    """``end - start`` in seconds for two dates or two datetimes."""

    type = sa.Numeric()
    name = "perfcore_seconds_between"
    inherit_cache = True


@compiles(_SecondsBetween)
def _seconds_default(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    s, e = compiler.process(start, **kw), compiler.process(end, **kw)
    return f"EXTRACT(EPOCH FROM (CAST(({e}) AS TIMESTAMP) - CAST(({s}) AS TIMESTAMP)))"


@compiles(_SecondsBetween, "sqlite")
def _seconds_sqlite(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    s, e = compiler.process(start, **kw), compiler.process(end, **kw)
    # whole seconds from %s, plus the millisecond fraction (%f is SS.SSS): julianday() would lose
    # about 1e-5 s to binary rounding
    return (
        f"((CAST(strftime('%s', {e}) AS INTEGER) - CAST(strftime('%s', {s}) AS INTEGER))"
        f" + ((strftime('%f', {e}) - strftime('%S', {e}))"
        f" - (strftime('%f', {s}) - strftime('%S', {s}))))"
    )


def _unsupported(what: str, compiled: CompiledFormula) -> FormulaError:
    return FormulaError(
        "unsupported_backend",
        f"the SQL back end cannot evaluate {what}",
        formula=compiled.text,
        hint="evaluate this formula with the Python or polars back end",
    )


class _Lower:
    def __init__(
        self, compiled: CompiledFormula, columns: Columns | Mapping[str, ColumnElement[Any]]
    ):
        self.compiled = compiled
        self.columns = columns

    def lit(self, value: object, kind: FieldType) -> ColumnElement[Any]:
        if kind is DU:
            assert isinstance(value, _dt.timedelta)
            micro = value // _dt.timedelta(microseconds=1)
            return sa.literal(Decimal(micro).scaleb(-6), sa.Numeric())
        if kind is DT:
            assert isinstance(value, _dt.datetime)
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return sa.literal(value, _SQL_TYPES[kind])

    def div(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return _RealDiv(a, sa.func.nullif(b, sa.literal(0, sa.Integer())))

    def lower(self, node: Node) -> ColumnElement[Any]:
        op = node.op
        if op == "lit":
            assert node.type is not None
            return self.lit(node.value, node.type)
        if op == "field":
            name = str(node.value)
            if name not in self.columns:
                raise FormulaError(
                    "bad_schema",
                    f"no column was given for field `{name}`",
                    formula=self.compiled.text,
                    hint="pass every name in compiled.names in `columns`",
                )
            return self.columns[name]
        args = [self.lower(a) for a in node.args]
        kinds = [a.type for a in node.args]
        if op in ("add", "sub", "mul", "div"):
            return self.arith(op, args, kinds)
        if op == "neg":
            return -args[0]
        if op in ("eq", "ne", "lt", "le", "gt", "ge"):
            a, b = args
            if kinds[0] is B:  # compare booleans as 0/1 on every dialect
                a, b = sa.cast(a, sa.Integer()), sa.cast(b, sa.Integer())
            return {
                "eq": a == b,
                "ne": a != b,
                "lt": a < b,
                "le": a <= b,
                "gt": a > b,
                "ge": a >= b,
            }[op]
        if op == "and":
            return sa.and_(args[0], args[1])
        if op == "or":
            return sa.or_(args[0], args[1])
        if op == "not":
            return sa.not_(args[0])
        if op == "if":
            return sa.case((args[0], args[1]), else_=args[2])
        if op == "in":
            subject, *items = node.args
            assert subject.type is not None
            values = [self.lit(i.value, subject.type) for i in items]
            return args[0].in_(values)
        if op == "call":
            return self.call(node, args)
        raise AssertionError(op)  # pragma: no cover

    def arith(
        self, op: str, args: list[ColumnElement[Any]], kinds: list[FieldType | None]
    ) -> ColumnElement[Any]:
        a, b = args
        left, right = kinds
        if left in (D, DT) and right in (D, DT):
            return _SecondsBetween(b, a)  # a - b
        if D in (left, right) or DT in (left, right):
            raise _unsupported("a date or datetime moved by a duration", self.compiled)
        # numbers, and durations as seconds
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        return self.div(a, b)

    def call(self, node: Node, args: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        name = str(node.value)
        if name in ("min", "max"):
            result = args[0]
            for arg in args[1:]:
                better = arg < result if name == "min" else arg > result
                result = sa.case(
                    (sa.or_(arg.is_(None), result.is_(None)), sa.null()),
                    (better, arg),
                    else_=result,
                )
            return result
        if name == "coalesce":
            return sa.func.coalesce(*args, type_=_SQL_TYPES[node.type or N])
        if name == "abs":
            return sa.func.abs(args[0], type_=sa.Numeric())
        if name == "round":
            places = int(node.args[1].value) if len(node.args) == 2 else 0
            return sa.func.round(
                sa.cast(args[0], sa.Numeric()),
                sa.literal(places, sa.Integer()),
                type_=sa.Numeric(),
            )
        if name == "safe_div":
            a, b = args[0], args[1]
            fallback = args[2] if len(args) == 3 else sa.literal(Decimal(0), sa.Numeric())
            return sa.case(
                (sa.or_(b.is_(None), b == sa.literal(0, sa.Integer())), fallback),
                else_=_RealDiv(a, b),
            )
        if name == "clamp":
            x, lo, hi = args
            return sa.case(
                (sa.or_(x.is_(None), lo.is_(None), hi.is_(None)), sa.null()),
                (x < lo, lo),
                (x > hi, hi),
                else_=x,
            )
        if name in ("year", "month", "day"):
            return sa.extract(name, args[0])
        if name == "weekday":  # ISO: Monday 1 .. Sunday 7; SQL dow: Sunday 0 .. Saturday 6
            dow = sa.extract("dow", args[0])
            return (dow + sa.literal(6, sa.Integer())) % sa.literal(7, sa.Integer()) + sa.literal(
                1, sa.Integer()
            )
        if name == "days_between":
            return _RealDiv(_SecondsBetween(args[0], args[1]), sa.literal(86400, sa.Integer()))
        if name == "hours":
            return _RealDiv(args[0], sa.literal(3600, sa.Integer()))
        raise AssertionError(name)  # pragma: no cover


def to_sql(
    compiled: CompiledFormula, columns: Columns | Mapping[str, ColumnElement[Any]]
) -> ColumnElement[Any]:
    """Lower a compiled formula to one SQLAlchemy Core column expression.

    Args:
        compiled: the result of :func:`perfcore.formula.compile` or ``from_ir``.
        columns: an expression (usually a ``Table`` column) for every name in
            ``compiled.names``.

    Returns:
        A ``ColumnElement``: Numeric for numbers and durations (seconds), Boolean, String, Date
        or DateTime otherwise. Select it, filter on it, or wrap it in an aggregate.

    Raises:
        FormulaError: ``bad_schema`` when a column is missing, ``unsupported_backend`` for
            date/datetime ± duration.
    """
    return _Lower(compiled, columns).lower(compiled.tree)
