"""Runtime helpers for the Python back end: value conversion and the non-trivial operations.

Numbers are :class:`~decimal.Decimal` computed in :data:`CONTEXT` (34 significant digits, like
IEEE decimal128, half-even between digits; traps off so that nothing raises). Operations on
dates and durations that would leave the representable range give ``None`` (no value) instead of
raising.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

from perfcore.formula.errors import FormulaError
from perfcore.formula.types import FieldType

__all__ = ["CONTEXT", "HELPERS", "converter", "out_of_range"]

CONTEXT = Context(
    prec=34,
    Emax=999_999_999,
    Emin=-999_999_999,
    traps=[InvalidOperation, Overflow, DivisionByZero],
)
#: timedelta's range in microseconds: anything larger has no value as a duration.
_MAX_MICRO = _dt.timedelta.max // _dt.timedelta(microseconds=1)
_MICRO = _dt.timedelta(microseconds=1)
_DAY_MICRO = Decimal(86_400_000_000)
_HOUR_MICRO = Decimal(3_600_000_000)
_EXP_LIMIT = 1_000_000

_TYPE_WORD = {
    FieldType.NUMBER: "a number",
    FieldType.TEXT: "text",
    FieldType.BOOLEAN: "true/false",
    FieldType.DATE: "a date",
    FieldType.DATETIME: "a timezone-aware datetime",
    FieldType.DURATION: "a duration (timedelta)",
}


def _bad(name: str, kind: FieldType, value: object, formula: str, hint: str = "") -> FormulaError:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return FormulaError(
        "bad_value",
        f"field `{name}` must be {_TYPE_WORD[kind]}, got {type(value).__name__} {shown}",
        formula=formula,
        hint=hint,
    )


def out_of_range(formula: str) -> FormulaError:
    """The error for arithmetic that leaves the representable range (beyond 10^999,999,999)."""
    return FormulaError(
        "bad_value",
        "a number in the row is too large or too small to compute with",
        formula=formula,
        hint="numbers are limited to about 10^999999999",
    )


def converter(kind: FieldType, formula: str) -> Callable[[object, str], object]:
    """Return ``convert(value, field_name)`` mapping a row value to the formula representation.

    ``None``, float NaN and Decimal NaN become ``None``. Raises FormulaError ``bad_value`` for a
    value of the wrong kind (a bool for a number, a naive datetime, infinity, ...).
    """

    def number(value: object, name: str) -> object:
        if value is None:
            return None
        if isinstance(value, bool):
            raise _bad(name, kind, value, formula)
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            if value != value:
                return None
            if value in (float("inf"), float("-inf")):
                raise _bad(name, kind, value, formula, "infinity is not a value")
            return Decimal(repr(value))
        if isinstance(value, Decimal):
            if value.is_nan():
                return None
            if not value.is_finite() or abs(value.adjusted()) > _EXP_LIMIT:
                raise _bad(name, kind, value, formula, "the number is out of range")
            return value
        raise _bad(name, kind, value, formula)

    def other(value: object, name: str) -> object:
        if value is None:
            return None
        ok = False
        if kind is FieldType.TEXT:
            ok = isinstance(value, str)
        elif kind is FieldType.BOOLEAN:
            ok = isinstance(value, bool)
        elif kind is FieldType.DATE:
            ok = isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)
        elif kind is FieldType.DATETIME:
            ok = isinstance(value, _dt.datetime) and value.utcoffset() is not None
        elif kind is FieldType.DURATION:
            ok = isinstance(value, _dt.timedelta)
        if not ok:
            raise _bad(name, kind, value, formula)
        return value

    return number if kind is FieldType.NUMBER else other


def _td_add(a: _dt.timedelta, b: _dt.timedelta) -> _dt.timedelta | None:
    try:
        return a + b
    except OverflowError:
        return None


def _td_sub(a: _dt.timedelta, b: _dt.timedelta) -> _dt.timedelta | None:
    try:
        return a - b
    except OverflowError:
        return None


def _shift(x: _dt.date, d: _dt.timedelta) -> _dt.date | None:
    """date/datetime + duration; a date moves by whole days (rounded down)."""
    try:
        if isinstance(x, _dt.datetime):
            return x + d
        return x + _dt.timedelta(days=d.days)
    except OverflowError:
        return None


def _unshift(x: _dt.date, d: _dt.timedelta) -> _dt.date | None:
    try:
        return _shift(x, -d)
    except OverflowError:
        return None


def _diff(a: _dt.date, b: _dt.date) -> _dt.timedelta | None:
    try:
        return a - b
    except OverflowError:
        return None


def _micro_to_td(micro: Decimal) -> _dt.timedelta | None:
    # compare before int(): int() of a huge Decimal would build an enormous integer
    if micro.copy_abs() > _MAX_MICRO:
        return None
    return _dt.timedelta(microseconds=int(micro.to_integral_value(context=CONTEXT)))


def _td_scale(d: _dt.timedelta, n: Decimal) -> _dt.timedelta | None:
    return _micro_to_td(CONTEXT.multiply(Decimal(d // _MICRO), n))


def _td_div(d: _dt.timedelta, n: Decimal) -> _dt.timedelta | None:
    if not n:
        return None
    return _micro_to_td(CONTEXT.divide(Decimal(d // _MICRO), n))


def _td_ratio(a: _dt.timedelta, b: _dt.timedelta) -> Decimal | None:
    if not b:
        return None
    return CONTEXT.divide(Decimal(a // _MICRO), Decimal(b // _MICRO))


def _td_neg(a: _dt.timedelta) -> _dt.timedelta | None:
    try:
        return -a
    except OverflowError:
        return None


def _td_abs(a: _dt.timedelta) -> _dt.timedelta | None:
    try:
        return abs(a)
    except OverflowError:
        return None


def _round(x: Decimal, quantum: Decimal) -> Decimal:
    try:
        return x.quantize(quantum, ROUND_HALF_UP, CONTEXT)
    except InvalidOperation:  # more than 34 digits before the point: already whole at that size
        return x


def _utc(x: _dt.date) -> _dt.date:
    if isinstance(x, _dt.datetime):
        return x.astimezone(_dt.UTC)
    return x


def _year(x: _dt.date) -> Decimal | None:
    try:
        return Decimal(_utc(x).year)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        return None


def _month(x: _dt.date) -> Decimal | None:
    try:
        return Decimal(_utc(x).month)
    except OverflowError:
        return None


def _day(x: _dt.date) -> Decimal | None:
    try:
        return Decimal(_utc(x).day)
    except OverflowError:
        return None


def _weekday(x: _dt.date) -> Decimal | None:
    try:
        return Decimal(_utc(x).isoweekday())
    except OverflowError:
        return None


def _days_between(a: _dt.date, b: _dt.date) -> Decimal:
    delta = b - a
    if isinstance(a, _dt.datetime):
        return CONTEXT.divide(Decimal(delta // _MICRO), _DAY_MICRO)
    return Decimal(delta.days)


def _hours(d: _dt.timedelta) -> Decimal:
    return CONTEXT.divide(Decimal(d // _MICRO), _HOUR_MICRO)


def _nmin(*args: object) -> object:
    if any(a is None for a in args):
        return None
    best = args[0]
    for a in args[1:]:
        if a < best:  # type: ignore[operator]
            best = a
    return best


def _nmax(*args: object) -> object:
    if any(a is None for a in args):
        return None
    best = args[0]
    for a in args[1:]:
        if a > best:  # type: ignore[operator]
            best = a
    return best


_FLOAT_CACHE: dict[float, Decimal] = {}
_INT_CACHE: dict[int, Decimal] = {}
_CACHE_SIZE = 1 << 16


def _int(value: int) -> Decimal:
    """An int row value as a Decimal, memoised like :func:`_float`."""
    if len(_INT_CACHE) >= _CACHE_SIZE:
        _INT_CACHE.clear()
    out = _INT_CACHE[value] = Decimal(value)
    return out


def _float(value: float) -> Decimal | None:
    """A float row value as the Decimal of its shortest repr (``0.1`` -> ``Decimal("0.1")``).

    NaN is no value; infinity is refused. Conversions are memoised (bounded; cleared when full)
    because evidence values repeat and ``repr`` is the slow part of reading a float row.
    """
    if value != value:
        return None
    if value - value != 0:
        raise FormulaError("bad_value", f"infinity is not a number: {value!r}")
    if len(_FLOAT_CACHE) >= _CACHE_SIZE:
        _FLOAT_CACHE.clear()
    out = _FLOAT_CACHE[value] = Decimal(repr(value))
    return out


#: Names available to generated code (and nothing else: no builtins).
HELPERS: dict[str, object] = {
    "_D": Decimal,
    "_FC": _FLOAT_CACHE.get,
    "_float": _float,
    "_IC": _INT_CACHE.get,
    "_int": _int,
    "_add": CONTEXT.add,
    "_sub": CONTEXT.subtract,
    "_mul": CONTEXT.multiply,
    "_div": CONTEXT.divide,
    "_neg": CONTEXT.minus,
    "_abs": CONTEXT.abs,
    "_td": _dt.timedelta,
    "_date": _dt.date,
    "_td_add": _td_add,
    "_td_sub": _td_sub,
    "_shift": _shift,
    "_unshift": _unshift,
    "_diff": _diff,
    "_td_scale": _td_scale,
    "_td_div": _td_div,
    "_td_ratio": _td_ratio,
    "_td_neg": _td_neg,
    "_td_abs": _td_abs,
    "_round": _round,
    "_year": _year,
    "_month": _month,
    "_day": _day,
    "_weekday": _weekday,
    "_days_between": _days_between,
    "_hours": _hours,
    "_nmin": _nmin,
    "_nmax": _nmax,
}
