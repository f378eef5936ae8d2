"""Measurement: evidence rows → indicator values, independent of the formula language.

The caller passes the indicator versions in force, the evidence rows per evidence type, the period
and its time zone, and a ``compile`` callable that turns expression text into a :data:`RowFn`
(``perfcore.formula.compile(text, schema).evaluate`` in the application; a dictionary lookup in
tests). This module decides *which* rows count and *how* they aggregate:

* ``simple``: ``agg`` of ``expr`` over the rows whose local date (in ``tz``) lies in the period and
  that pass ``filter``; ``None`` values are skipped (SQL semantics). No contributing row → no value
  (count → 0), unless ``fill_nulls_with`` is set.
* ``ratio``: value(numerator) / value(denominator) — with two sums this is ISO 22400's ratio of
  sums, never a mean of row ratios. A zero denominator gives **no value and a diagnostic**, never an
  exception and never 0 (perfcore's rule).
* ``derived``: ``expr`` over a mapping {input name: value}, evaluated after its inputs (dependency
  order); an input without value, or an arithmetic error, gives no value and a diagnostic.
* ``cumulative``: like simple, over the rows from the window's first date (or the start of the
  grain, or the beginning of time) to the period's last date.

Every result carries the value (exact ``Decimal`` or ``None``), how many evidence rows it rests on
and their ids (the ``id`` field of a row when present), the version number, and diagnostics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Final

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.indicator import (
    Agg,
    Cumulative,
    Derived,
    IndicatorVersion,
    Ratio,
    Simple,
    dependency_order,
)
from perfcore.domain.values import Period, as_decimal, ensure_aware

__all__ = [
    "Compile",
    "IndicatorValue",
    "Row",
    "RowFn",
    "aggregate",
    "compute_values",
]

Row = Mapping[str, object]
"""One evidence record's fields plus ``occurred_at`` (an aware datetime) and optionally ``id``."""

RowFn = Callable[[Mapping[str, object]], object]
"""A compiled expression: row (or {input: value} mapping) → value."""

Compile = Callable[[str], RowFn]
"""Turns expression text into a :data:`RowFn` (injected by the caller)."""

_ID_FIELDS: Final = ("id", "evidence_id")


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen
class IndicatorValue:
    """The value of one indicator for one subject and period.

    Attributes:
        name: indicator name.
        value: exact value, or ``None`` when there is no value (see ``diagnostics``).
        evidence_count: number of evidence rows the value rests on (rows in the window that
            passed the filter; for ratio/derived, the distinct rows behind their inputs).
        evidence_ids: ids of those rows, sorted (rows without an ``id`` field are counted only).
        version: the indicator version number used (``None`` for values supplied from outside).
        diagnostics: plain sentences explaining a missing value or skipped rows.
    """

    name: str
    value: Decimal | None
    evidence_count: int = 0
    evidence_ids: tuple[str, ...] = ()
    version: int | None = None
    diagnostics: tuple[str, ...] = field(default=(), converter=_strings)

    @property
    def has_value(self) -> bool:
        """True when :attr:`value` is not ``None``."""
        return self.value is not None


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def aggregate(agg: Agg | str, values: Sequence[object], *, field: str = "expr") -> Decimal | None:
    """Aggregate row values with SQL semantics: ``None`` values are skipped.

    ``count`` counts the non-``None`` values and ``count_distinct`` the distinct ones (any
    hashable values); they return 0 for no values. The others convert to exact decimals and
    return ``None`` for no values. ``average`` is sum / count; ``median`` of an even count is the
    mean of the two middle values.

    Raises:
        InvalidValue: a value that is not a number for a numeric aggregation (``field``).
    """
    kind = Agg(agg)
    present = [v for v in values if v is not None]
    if kind is Agg.COUNT:
        return Decimal(len(present))
    if kind is Agg.COUNT_DISTINCT:
        return Decimal(len(set(present)))
    if not present:
        return None
    nums = [_to_decimal(v, field) for v in present]
    if kind is Agg.SUM:
        return sum(nums, Decimal(0))
    if kind is Agg.AVERAGE:
        return sum(nums, Decimal(0)) / len(nums)
    if kind is Agg.MIN:
        return min(nums)
    if kind is Agg.MAX:
        return max(nums)
    return _median(nums)


_Rows = Mapping[str, frozenset[int]]  # evidence type -> indices of the rows behind a value


@frozen
class _Measured:
    value: IndicatorValue
    rows: _Rows


@frozen
class _Dated:
    """The rows of one evidence type with their local dates (parallel lists)."""

    dates: list[dt.date]
    rows: list[Row]


@frozen
class _Selection:
    """The rows of one evidence type whose date lies in ``[first, last]``."""

    indices: list[int]
    rows: list[Row]


def _dated_rows(evidence_type: str, rows: Iterable[Row], tz: dt.tzinfo) -> _Dated:
    dates: list[dt.date] = []
    kept: list[Row] = []
    for i, row in enumerate(rows):
        at = row.get("occurred_at")
        if not isinstance(at, dt.datetime) or at.tzinfo is None:
            where = f"evidence.{evidence_type}[{i}].occurred_at"
            if isinstance(at, dt.datetime):
                ensure_aware(at, field=where)
            raise InvalidValue(
                f"row has no occurred_at instant (got {type(at).__name__})",
                field=where,
                valid="a timezone-aware datetime",
            )
        dates.append(at.astimezone(tz).date())
        kept.append(row)
    return _Dated(dates, kept)


def _row_ids(rows: Iterable[Row]) -> list[str]:
    ids: list[str] = []
    for row in rows:
        for key in _ID_FIELDS:
            value = row.get(key)
            if value is not None:
                ids.append(str(value))
                break
    return ids


def _to_decimal(value: object, field: str) -> Decimal:
    if type(value) is Decimal:
        return value
    if type(value) is int:
        return Decimal(value)
    return as_decimal(value, field=field)


class _Run:
    """State of one :func:`compute_values` call: compiled functions, dated rows, selections."""

    def __init__(
        self,
        evidence: Mapping[str, Iterable[Row]],
        period: Period,
        tz: dt.tzinfo,
        compile: Compile,
    ) -> None:
        self.period = period
        self.tz = tz
        self._compile = compile
        self._compiled: dict[str, RowFn] = {}
        self._raw = evidence
        self._dated: dict[str, _Dated] = {}
        self._selected: dict[tuple[str, dt.date | None], _Selection] = {}
        self._ids: dict[tuple[str, dt.date | None], tuple[str, ...]] = {}

    def fn(self, text: str) -> RowFn:
        found = self._compiled.get(text)
        if found is None:
            found = self._compiled[text] = self._compile(text)
        return found

    def select(self, evidence_type: str, first: dt.date | None) -> _Selection:
        key = (evidence_type, first)
        found = self._selected.get(key)
        if found is not None:
            return found
        dated = self._dated.get(evidence_type)
        if dated is None:
            dated = _dated_rows(evidence_type, self._raw.get(evidence_type, ()), self.tz)
            self._dated[evidence_type] = dated
        last = self.period.end
        lo = first if first is not None else dt.date.min
        indices = [i for i, d in enumerate(dated.dates) if lo <= d <= last]
        found = _Selection(indices, [dated.rows[i] for i in indices])
        self._selected[key] = found
        return found

    def over_rows(self, name: str, version: IndicatorVersion) -> _Measured:
        d = version.definition
        assert isinstance(d, Simple | Cumulative)
        etype = version.evidence_type or ""
        first = self.period.start if isinstance(d, Simple) else d.first_date(self.period)
        sel = self.select(etype, first)
        indices, rows = sel.indices, sel.rows
        arithmetic = 0
        if d.filter:
            keep = self.fn(d.filter)
            picked: list[tuple[int, Row]] = []
            for i, r in zip(indices, rows, strict=True):
                try:
                    if keep(r):
                        picked.append((i, r))
                except ArithmeticError:
                    arithmetic += 1  # a filter that cannot be evaluated does not pass
            indices = [i for i, _ in picked]
            rows = [r for _, r in picked]
            ids = tuple(sorted(_row_ids(rows)))
        else:
            ids_key = (etype, first)
            cached = self._ids.get(ids_key)
            if cached is None:
                cached = self._ids[ids_key] = tuple(sorted(_row_ids(rows)))
            ids = cached
        values: list[object]
        if d.expr is None:
            values = [1] * len(rows)
        else:
            expr = self.fn(d.expr)
            try:
                values = [expr(r) for r in rows]
            except ArithmeticError:
                values = []
                for r in rows:
                    try:
                        values.append(expr(r))
                    except ArithmeticError:
                        arithmetic += 1
                        values.append(None)
        diagnostics: list[str] = []
        if arithmetic:
            diagnostics.append(
                f"{arithmetic} row(s) could not be evaluated (arithmetic error such as "
                "division by zero) and were skipped"
            )
        try:
            value = aggregate(d.agg, values, field=f"indicators.{name}.expr")
        except InvalidValue as exc:
            raise InvalidValue(
                f"{exc.message} (evidence type {etype!r})", field=exc.field, valid=exc.valid
            ) from None
        if value is None:
            scope = "in the window" if isinstance(d, Cumulative) else f"in {self.period.key}"
            diagnostics.append(f"no {etype!r} evidence with a value {scope}")
            if isinstance(d, Simple) and d.fill_nulls_with is not None:
                value = d.fill_nulls_with
                diagnostics.append(f"filled with {d.fill_nulls_with} (fill_nulls_with)")
        return _Measured(
            IndicatorValue(name, value, len(indices), ids, version.number, diagnostics),
            {etype: frozenset(indices)},
        )


def _combined_ids(parts: Sequence[_Measured]) -> tuple[_Rows, int, tuple[str, ...]]:
    rows: dict[str, frozenset[int]] = {}
    for p in parts:
        for etype, idx in p.rows.items():
            rows[etype] = rows[etype] | idx if etype in rows else idx
    count = sum(len(v) for v in rows.values())
    if not rows:  # values supplied from outside: count what they say
        count = sum(p.value.evidence_count for p in parts)
    ids = sorted({i for p in parts for i in p.value.evidence_ids})
    return rows, count, tuple(ids)


def compute_values(
    versions: Mapping[str, IndicatorVersion],
    evidence: Mapping[str, Iterable[Row]],
    *,
    period: Period,
    tz: dt.tzinfo,
    compile: Compile,
    known: Mapping[str, IndicatorValue] | None = None,
) -> dict[str, IndicatorValue]:
    """Compute every indicator in ``versions`` for one subject and ``period``.

    Args:
        versions: indicator name → the version in force for ``period``
            (:meth:`~perfcore.domain.indicator.Indicator.version_for`).
        evidence: evidence type → that subject's rows (mappings with ``occurred_at``, an aware
            datetime, and optionally ``id``). Rows outside the period/window are ignored, so a
            caller may pass extra history for cumulative indicators.
        period: the period measured; row dates are taken in ``tz``.
        tz: the plan's time zone.
        compile: expression text → :data:`RowFn`; called once per distinct text.
        known: values supplied from outside that ratio/derived indicators may reference.

    Returns:
        name → :class:`IndicatorValue`, for every name in ``versions``.

    Raises:
        InvalidValue: unknown references, a row without an aware ``occurred_at`` (field
            ``evidence.<type>[i].occurred_at``), a non-numeric value under a numeric aggregation
            (field ``indicators.<name>.expr``).
        CycleError: ratio/derived references form a cycle.
    """
    outside = dict(known or {})
    order = dependency_order(versions, known=outside)
    run = _Run(evidence, period, tz, compile)
    done: dict[str, _Measured] = {
        n: _Measured(v, {}) for n, v in outside.items() if n not in versions
    }
    for name in order:
        version = versions[name]
        d = version.definition
        if isinstance(d, Simple | Cumulative):
            done[name] = run.over_rows(name, version)
        elif isinstance(d, Ratio):
            done[name] = _ratio(name, version, d, done[d.numerator], done[d.denominator])
        else:
            done[name] = _derived(name, version, d, [done[i] for i in d.inputs], run)
    return {name: done[name].value for name in versions}


def _ratio(
    name: str, version: IndicatorVersion, d: Ratio, num: _Measured, den: _Measured
) -> _Measured:
    rows, count, ids = _combined_ids([num, den])
    diagnostics: list[str] = []
    value: Decimal | None = None
    n, m = num.value.value, den.value.value
    if n is None:
        diagnostics.append(f"numerator {d.numerator!r} has no value")
    if m is None:
        diagnostics.append(f"denominator {d.denominator!r} has no value")
    elif m == 0:
        diagnostics.append(f"denominator {d.denominator!r} is 0: no value (not 0, not an error)")
    if n is not None and m is not None and m != 0:
        value = n / m
    return _Measured(IndicatorValue(name, value, count, ids, version.number, diagnostics), rows)


def _derived(
    name: str, version: IndicatorVersion, d: Derived, inputs: Sequence[_Measured], run: _Run
) -> _Measured:
    rows, count, ids = _combined_ids(inputs)
    diagnostics = [f"input {p.value.name!r} has no value" for p in inputs if not p.value.has_value]
    value: Decimal | None = None
    if not diagnostics:
        scope = {p.value.name: p.value.value for p in inputs}
        try:
            raw = run.fn(d.expr)(scope)
        except ArithmeticError as exc:
            diagnostics.append(f"{d.expr!r} has no value ({type(exc).__name__})")
        else:
            if raw is None:
                diagnostics.append(f"{d.expr!r} gave no value")
            else:
                value = as_decimal(raw, field=f"indicators.{name}.expr")
    return _Measured(IndicatorValue(name, value, count, ids, version.number, diagnostics), rows)
