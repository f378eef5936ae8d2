"""Indicator definitions in MetricFlow's vocabulary: simple, ratio, derived, cumulative.

Expressions are stored as text (``perfcore.formula`` compiles them; the domain never imports it).
:mod:`perfcore.domain.indicator` re-exports everything here; import from there.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import Period, PeriodKind, as_decimal

__all__ = [
    "Agg",
    "Cumulative",
    "Definition",
    "Derived",
    "IndicatorType",
    "Ratio",
    "Simple",
    "Window",
    "WindowUnit",
    "check_name",
]

_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME_VALID: Final = "letters, digits and '_', not starting with a digit (e.g. first_pass_yield)"


class IndicatorType(enum.StrEnum):
    """MetricFlow metric types."""

    SIMPLE = "simple"
    RATIO = "ratio"
    DERIVED = "derived"
    CUMULATIVE = "cumulative"


class Agg(enum.StrEnum):
    """Aggregations over evidence rows (SQL semantics: ``None`` values are skipped).

    ``count`` counts rows (or rows whose ``expr`` is not ``None``), ``count_distinct`` counts
    distinct non-``None`` values; the others aggregate exact decimals. ``median`` of an even count
    is the mean of the two middle values.
    """

    SUM = "sum"
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"
    MEDIAN = "median"


def _agg(value: object) -> Agg:
    try:
        return Agg(str(value))
    except ValueError:
        raise InvalidValue(
            f"unknown aggregation {value!r}",
            field="agg",
            valid=", ".join(a.value for a in Agg),
        ) from None


def _opt_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(
            f"expected expression text, got {type(value).__name__}",
            field="expr",
            valid="formula text",
        )
    text = value.strip()
    return text or None


def _opt_decimal(value: object) -> Decimal | None:
    return None if value is None else as_decimal(value, field="fill_nulls_with")


def check_name(value: str, *, field: str) -> str:
    """Return ``value`` if it is a valid indicator name, else raise InvalidValue at ``field``."""
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise InvalidValue(
            f"{value!r} is not a valid indicator name", field=field, valid=_NAME_VALID
        )
    return value


@frozen
class Simple:
    """``agg`` of ``expr`` over the evidence rows of the period that pass ``filter``.

    ``expr`` may be omitted for ``count`` (count the rows). ``fill_nulls_with`` replaces "no
    value" when no row contributed (MetricFlow's option of the same name), e.g. 0 for a sum of
    scrap.

    Raises (on construction):
        InvalidValue: unknown ``agg`` (field ``agg``); ``expr`` missing for an aggregation other
            than count (field ``expr``).
    """

    agg: Agg = field(converter=_agg)
    expr: str | None = field(default=None, converter=_opt_text)
    filter: str | None = field(default=None, converter=_opt_text)
    fill_nulls_with: Decimal | None = field(default=None, converter=_opt_decimal)

    def __attrs_post_init__(self) -> None:
        if self.expr is None and self.agg is not Agg.COUNT:
            raise InvalidValue(
                f"aggregation {self.agg.value} needs an expression",
                field="expr",
                valid="formula text such as 'good_qty' (only count may omit it)",
            )

    @property
    def type(self) -> IndicatorType:
        """``simple``."""
        return IndicatorType.SIMPLE

    def references(self) -> tuple[str, ...]:
        """Other indicators this one reads: none."""
        return ()


@frozen
class Ratio:
    """``numerator`` / ``denominator``, each the name of another indicator.

    Evaluated as value(numerator) / value(denominator) for the same subject and period: with two
    ``sum`` indicators this is ISO 22400's ratio of sums. A zero denominator gives no value and a
    diagnostic, never an error and never 0.
    """

    numerator: str = field()
    denominator: str = field()

    @numerator.validator
    def _num(self, _a: object, value: str) -> None:
        check_name(value, field="numerator")

    @denominator.validator
    def _den(self, _a: object, value: str) -> None:
        check_name(value, field="denominator")

    @property
    def type(self) -> IndicatorType:
        """``ratio``."""
        return IndicatorType.RATIO

    def references(self) -> tuple[str, ...]:
        """``(numerator, denominator)``."""
        return (self.numerator, self.denominator)


def _names(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    out = tuple(value)
    for i, name in enumerate(out):
        check_name(name, field=f"inputs[{i}]")
    return out


@frozen
class Derived:
    """``expr`` evaluated over the values of the indicators named in ``inputs``.

    ``inputs`` is explicit (as MetricFlow's derived metrics list their input metrics) so the
    dependency graph is known without parsing the expression.

    Raises (on construction):
        InvalidValue: empty ``expr`` or ``inputs``, or an input that is not an indicator name.
    """

    expr: str = field(converter=_opt_text)
    inputs: tuple[str, ...] = field(converter=_names)

    def __attrs_post_init__(self) -> None:
        if self.expr is None:
            raise InvalidValue(
                "a derived indicator needs an expression",
                field="expr",
                valid="formula text over its inputs",
            )
        if not self.inputs:
            raise InvalidValue(
                "a derived indicator needs at least one input",
                field="inputs",
                valid="names of the indicators its expression reads",
            )

    @property
    def type(self) -> IndicatorType:
        """``derived``."""
        return IndicatorType.DERIVED

    def references(self) -> tuple[str, ...]:
        """The ``inputs``."""
        return self.inputs


class WindowUnit(enum.StrEnum):
    """Units of a trailing cumulative window."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_WINDOW_RE: Final = re.compile(r"^\s*(\d+)\s*(day|week|month|quarter|year)s?\s*$", re.IGNORECASE)
_WINDOW_VALID: Final = (
    "'<n> <unit>' with n >= 1 and unit day(s), week(s), month(s), quarter(s) or year(s)"
)


@frozen
class Window:
    """A trailing window such as ``7 days`` or ``3 months``.

    For a period ending on date E the window covers the dates after ``E − count·unit`` up to E
    (``3 months`` ending 2025-03-31 is 2025-01-01..2025-03-31; months shift with the day clamped
    to the month's end).
    """

    count: int
    unit: WindowUnit

    @classmethod
    def parse(cls, text: str, *, field: str = "window") -> Window:
        """Parse ``"7 days"``, ``"1 month"``, ``"2 quarters"`` ...

        Raises:
            InvalidValue: the text does not match (field ``window``).
        """
        m = _WINDOW_RE.match(text) if isinstance(text, str) else None
        if not m or int(m[1]) < 1:
            raise InvalidValue(f"{text!r} is not a window", field=field, valid=_WINDOW_VALID)
        return cls(int(m[1]), WindowUnit(m[2].lower()))

    def first_date(self, end: dt.date) -> dt.date:
        """The first date inside the window that ends on ``end`` (inclusive)."""
        if self.unit is WindowUnit.DAY:
            return end - dt.timedelta(days=self.count - 1)
        if self.unit is WindowUnit.WEEK:
            return end - dt.timedelta(days=7 * self.count - 1)
        months = {WindowUnit.MONTH: 1, WindowUnit.QUARTER: 3, WindowUnit.YEAR: 12}[self.unit]
        return _shift_months(end, -months * self.count) + dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.count} {self.unit.value}{'s' if self.count != 1 else ''}"


def _shift_months(d: dt.date, months: int) -> dt.date:
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(d.day, last))


def _window(value: object) -> Window | None:
    if value is None or isinstance(value, Window):
        return value
    return Window.parse(str(value))


def _grain(value: object) -> PeriodKind | None:
    if value is None:
        return None
    try:
        kind = PeriodKind(str(value))
    except ValueError:
        kind = PeriodKind.CUSTOM
    if kind in (PeriodKind.CUSTOM, PeriodKind.DAY):
        raise InvalidValue(
            f"{value!r} is not a grain to date",
            field="grain_to_date",
            valid="week, month, quarter or year",
        )
    return kind


@frozen
class Cumulative:
    """``agg`` of ``expr`` over rows in a trailing ``window`` or since the start of a grain.

    With neither ``window`` nor ``grain_to_date`` it accumulates over all time up to the end of the
    period (MetricFlow's default).

    Raises (on construction):
        InvalidValue: both ``window`` and ``grain_to_date`` given (field ``window``), a bad window
            text, or the :class:`Simple` rules for ``agg``/``expr``.
    """

    agg: Agg = field(converter=_agg)
    expr: str | None = field(default=None, converter=_opt_text)
    filter: str | None = field(default=None, converter=_opt_text)
    window: Window | None = field(default=None, converter=_window)
    grain_to_date: PeriodKind | None = field(default=None, converter=_grain)

    def __attrs_post_init__(self) -> None:
        Simple(self.agg, self.expr)  # same agg/expr rules
        if self.window is not None and self.grain_to_date is not None:
            raise InvalidValue(
                "give either a window or grain_to_date, not both",
                field="window",
                valid="a window such as '7 days', or grain_to_date, or neither (all time)",
            )

    @property
    def type(self) -> IndicatorType:
        """``cumulative``."""
        return IndicatorType.CUMULATIVE

    def references(self) -> tuple[str, ...]:
        """Other indicators this one reads: none."""
        return ()

    def first_date(self, period: Period) -> dt.date | None:
        """First local date whose rows count for ``period`` (``None`` = no lower bound)."""
        if self.window is not None:
            return self.window.first_date(period.end)
        if self.grain_to_date is not None:
            return Period.containing(self.grain_to_date, period.end).start
        return None


Definition = Simple | Ratio | Derived | Cumulative
"""One of the four MetricFlow metric types."""
