"""Push-down evaluation: indicator values computed by the database, one aggregate query per
evidence type and period batch.

For the periods asked, every *simple* indicator over evidence type ``X`` becomes one
conditional aggregate column of a single ``SELECT … FROM evidence WHERE evidence_type = X AND
period_month IN (…) GROUP BY subject, period_month`` (day periods group by ``period_day``; other
period kinds filter a ``period_day`` range per period). ``expr``/``filter`` are lowered by the
formula SQL back end (:func:`perfcore_adapters.sqlalchemy.formula_sql.to_sql`) over the JSON
fields (or the typed ``n<slot>`` copies). Cumulative indicators take one query per evidence type
and period (their window). Ratio and derived indicators are then computed in Python from the
aggregated values in the domain's dependency order
(:func:`perfcore.domain.indicator.dependency_order`), with the derived expressions compiled by the
plan and the domain measure's rules for zero denominators and missing inputs (pinned against
:func:`perfcore.domain.measure.compute_values` by the parity property test).

The values equal the Python back end's (``perfcore.services.measuring``): exactly on PostgreSQL
(``NUMERIC``) up to its division scale; on SQLite, which has no decimal type, to binary floating
point precision (compare after rounding). What push-down does not give: ``evidence_ids`` (left
empty; the per-subject explanation path lists them) and, for ratio/derived values, the count of
*distinct* rows behind their inputs (the sum of the inputs' counts is given).

Scorecards and the incremental refresh built on these values:
:mod:`perfcore_adapters.sqlalchemy.refresh`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from attrs import frozen

import perfcore.formula as formula
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
from perfcore.domain.measure import IndicatorValue, aggregate
from perfcore.domain.values import Period, PeriodKind, SubjectRef, as_decimal
from perfcore.plan import Plan
from perfcore_adapters.sqlalchemy import mappers as m
from perfcore_adapters.sqlalchemy import tables as t
from perfcore_adapters.sqlalchemy.formula_sql import to_sql

__all__ = [
    "SubjectPeriod",
    "compute_values_sql",
    "field_columns",
]

SubjectPeriod = tuple[SubjectRef, str]
"""``(subject, period key)``."""

_E = t.evidence
_SQL_TYPES: dict[str, Any] = {
    "number": sa.Numeric(),
    "text": sa.String(),
    "boolean": sa.Boolean(),
    "date": sa.Date(),
    "datetime": sa.DateTime(),
    "duration": sa.Numeric(),
}
_PG_CASTS: dict[str, Any] = {
    "number": sa.Numeric(),
    "text": sa.Text(),
    "boolean": sa.Boolean(),
    "date": sa.Date(),
    "datetime": sa.DateTime(),
    "duration": sa.Numeric(),
}
_MAX_SUBJECT_FILTER = 500


def field_columns(
    dialect: str,
    schema: Mapping[str, str],
    slots: Mapping[str, tuple[int, str]] | None = None,
) -> dict[str, sa.ColumnElement[Any]]:
    """Evidence field name → SQL expression reading it on ``dialect``: the typed ``n<slot>``
    column when the field has a slot of its type (``slots``: field → (slot, kind)), else the
    JSON document (``json_extract`` on SQLite, ``->>`` plus a cast on PostgreSQL)."""
    out: dict[str, sa.ColumnElement[Any]] = {}
    for name, kind in schema.items():
        slot = (slots or {}).get(name)
        if slot is not None and slot[1] == kind:
            col = _E.c[f"n{slot[0]}"]
            out[name] = (col != 0) if kind == "boolean" else col
        elif dialect == "sqlite":
            out[name] = sa.func.json_extract(_E.c.fields, f"$.{name}", type_=_SQL_TYPES[kind])
        else:
            out[name] = sa.cast(_E.c.fields.op("->>")(sa.literal(name)), _PG_CASTS[kind])
    return out


def _number(raw: object) -> Decimal | None:
    kind = type(raw)
    if kind is int:
        return Decimal(raw)  # type: ignore[arg-type]
    if kind is float:  # SQLite: binary float sums; 15 significant digits are exact
        return Decimal(format(raw, ".15g"))
    if raw is None:
        return None
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, bool):
        return Decimal(int(raw))
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):  # SQLite: binary float sums; 15 significant digits are exact
        return Decimal(format(raw, ".15g"))
    return Decimal(str(raw))


@frozen
class _Spec:
    """One row-reading indicator lowered to SQL pieces."""

    name: str
    version: IndicatorVersion
    cond: sa.ColumnElement[Any] | None
    value: sa.ColumnElement[Any] | None


class _Lowering:
    def __init__(
        self, plan: Plan, dialect: str, slots: Mapping[str, Mapping[str, tuple[int, str]]]
    ) -> None:
        self.plan = plan
        self.dialect = dialect
        self.slots = slots
        self._cache: dict[tuple[str, str], sa.ColumnElement[Any]] = {}
        self._specs: dict[tuple[str, int], _Spec] = {}
        self._columns: dict[tuple[str, int], list[sa.ColumnElement[Any]]] = {}

    def expr(self, etype: str, text: str) -> sa.ColumnElement[Any]:
        key = (etype, text)
        found = self._cache.get(key)
        if found is None:
            schema = self.plan.evidence_schema(etype)
            compiled = formula.compile(text, schema)
            columns = field_columns(self.dialect, schema, self.slots.get(etype))
            found = self._cache[key] = to_sql(compiled, columns)
        return found

    def spec(self, name: str, version: IndicatorVersion) -> _Spec:
        key = (name, version.number)
        found = self._specs.get(key)
        if found is None:
            found = self._specs[key] = self._spec(name, version)
        return found

    def columns(self, spec: _Spec) -> list[sa.ColumnElement[Any]]:
        key = (spec.name, spec.version.number)
        found = self._columns.get(key)
        if found is None:
            found = self._columns[key] = _columns(spec)
        return found

    def _spec(self, name: str, version: IndicatorVersion) -> _Spec:
        d = version.definition
        assert isinstance(d, Simple | Cumulative)
        etype = version.evidence_type or ""
        cond = self.expr(etype, d.filter) if d.filter else None
        value = self.expr(etype, d.expr) if d.expr else None
        return _Spec(name, version, cond, value)


_LOWERINGS: dict[tuple[object, ...], _Lowering] = {}


def _lowering_for(
    plan: Plan, dialect: str, slots: Mapping[str, Mapping[str, tuple[int, str]]]
) -> _Lowering:
    """A cached lowering per (plan text, dialect, slot layout): SQL pieces are built once."""
    key = (
        plan.content_hash,
        dialect,
        tuple(sorted((e, f, v) for e, fs in slots.items() for f, v in fs.items())),
    )
    found = _LOWERINGS.get(key)
    if found is None:
        if len(_LOWERINGS) > 16:
            _LOWERINGS.clear()
        found = _LOWERINGS[key] = _Lowering(plan, dialect, slots)
    return found


def _columns(spec: _Spec) -> list[sa.ColumnElement[Any]]:
    """Aggregate columns of one indicator: [value-ish..., used count]."""
    d = spec.version.definition
    assert isinstance(d, Simple | Cumulative)
    one = sa.literal(1, sa.Integer())
    val = spec.value if spec.value is not None else one
    if spec.cond is not None:
        val = sa.case((spec.cond, val))
        used: sa.ColumnElement[Any] = sa.func.sum(sa.case((spec.cond, one), else_=0))
    else:
        used = sa.func.count()
    raw = sa.types.NullType()
    agg = d.agg
    cols: list[sa.ColumnElement[Any]]
    if agg is Agg.SUM:
        cols = [sa.func.sum(val)]
    elif agg is Agg.COUNT:
        cols = [sa.func.count(val)]
    elif agg is Agg.COUNT_DISTINCT:
        cols = [sa.func.count(sa.distinct(val))]
    elif agg is Agg.AVERAGE:
        cols = [sa.func.sum(val), sa.func.count(val)]
    elif agg is Agg.MIN:
        cols = [sa.func.min(val)]
    elif agg is Agg.MAX:
        cols = [sa.func.max(val)]
    else:  # median: values fetched and aggregated by the domain
        cols = []
    return [sa.type_coerce(c, raw) for c in [*cols, used]]


def _value(spec: _Spec, period: Period, parts: Sequence[object] | None) -> IndicatorValue:
    d = spec.version.definition
    assert isinstance(d, Simple | Cumulative)
    etype = spec.version.evidence_type
    last = parts[-1] if parts else 0
    count = last if type(last) is int else int(_number(last) or 0)
    value: Decimal | None = None
    if parts:
        if d.agg is Agg.AVERAGE:
            total, n = _number(parts[0]), _number(parts[1])
            value = None if not n or total is None else total / n
        elif d.agg in (Agg.COUNT, Agg.COUNT_DISTINCT):
            value = _number(parts[0]) or Decimal(0)
        else:
            value = _number(parts[0])
    elif d.agg in (Agg.COUNT, Agg.COUNT_DISTINCT):
        value = Decimal(0)
    diagnostics: list[str] = []
    if value is None:
        scope = "in the window" if isinstance(d, Cumulative) else f"in {period.key}"
        diagnostics.append(f"no {etype!r} evidence with a value {scope}")
        if isinstance(d, Simple) and d.fill_nulls_with is not None:
            value = d.fill_nulls_with
            diagnostics.append(f"filled with {d.fill_nulls_with} (fill_nulls_with)")
    return IndicatorValue(spec.name, value, count, (), spec.version.number, diagnostics)


def _subject_clause(subjects: Sequence[SubjectRef] | None) -> sa.ColumnElement[bool] | None:
    if subjects is None or len(subjects) > _MAX_SUBJECT_FILTER:
        return None
    pairs = [(s.kind.value, s.id) for s in subjects]
    return sa.tuple_(_E.c.subject_kind, _E.c.subject_id).in_(pairs)


class _Batch:
    """Aggregated parts per (subject, period key, indicator)."""

    def __init__(self) -> None:
        self.parts: dict[tuple[SubjectRef, str], dict[str, Sequence[object]]] = {}
        self.rows: dict[tuple[SubjectRef, str], int] = {}

    def put(self, subject: SubjectRef, key: str, name: str, parts: Sequence[object]) -> None:
        self.parts.setdefault((subject, key), {})[name] = parts


def _period_scope(
    periods: Sequence[Period],
) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[bool]] | None:
    kinds = {p.kind for p in periods}
    if kinds == {PeriodKind.MONTH}:
        return _E.c.period_month, _E.c.period_month.in_([p.key for p in periods])
    if kinds == {PeriodKind.DAY}:
        return _E.c.period_day, _E.c.period_day.in_([p.key for p in periods])
    return None


def _run_simple(
    conn: sa.Connection,
    etype: str,
    specs: Sequence[_Spec],
    periods: Sequence[Period],
    where_subject: sa.ColumnElement[bool] | None,
    batch: _Batch,
    lowering: _Lowering | None = None,
) -> None:
    scope = _period_scope(periods)
    groups: list[tuple[sa.ColumnElement[Any], sa.ColumnElement[bool]]] = []
    if scope is not None:
        groups.append(scope)
    else:
        for p in periods:
            label = sa.literal(p.key, sa.String())
            groups.append((label, _E.c.period_day.between(p.start.isoformat(), p.end.isoformat())))
    aggregated = [s for s in specs if s.version.definition.agg is not Agg.MEDIAN]  # type: ignore[union-attr]
    medians = [s for s in specs if s not in aggregated]
    for key_col, period_clause in groups:
        base = [_E.c.evidence_type == etype, _E.c.is_current.is_(True), period_clause]
        if where_subject is not None:
            base.append(where_subject)
        _aggregate(conn, key_col, base, aggregated, batch, count_rows=True, lowering=lowering)
        for spec in medians:
            _fetch_values(conn, key_col, base, spec, batch)


def _aggregate(
    conn: sa.Connection,
    key_col: sa.ColumnElement[Any],
    where: list[sa.ColumnElement[bool]],
    specs: Sequence[_Spec],
    batch: _Batch,
    *,
    count_rows: bool = False,
    lowering: _Lowering | None = None,
) -> None:
    if not specs and not count_rows:
        return
    layout: list[tuple[str, int]] = []
    cols: list[sa.ColumnElement[Any]] = [sa.func.count()] if count_rows else []
    for spec in specs:
        parts = lowering.columns(spec) if lowering is not None else _columns(spec)
        layout.append((spec.name, len(parts)))
        cols.extend(parts)
    key = key_col.label("period_key")
    stmt = (
        sa.select(_E.c.subject_kind, _E.c.subject_id, key, *cols)
        .where(*where)
        .group_by(key_col, _E.c.subject_kind, _E.c.subject_id)  # index order: no sort
    )
    for row in conn.execute(stmt):
        subject = m.subject_from(row[0], row[1])
        i = 3
        if count_rows:
            pair = (subject, row[2])
            batch.rows[pair] = batch.rows.get(pair, 0) + int(row[3])
            i = 4
        for name, width in layout:
            batch.put(subject, row[2], name, row[i : i + width])
            i += width


def _fetch_values(
    conn: sa.Connection,
    key_col: sa.ColumnElement[Any],
    where: list[sa.ColumnElement[bool]],
    spec: _Spec,
    batch: _Batch,
) -> None:
    one = sa.literal(1, sa.Integer())
    value = sa.type_coerce(spec.value if spec.value is not None else one, sa.types.NullType())
    clauses = list(where)
    if spec.cond is not None:
        clauses.append(spec.cond)
    stmt = sa.select(_E.c.subject_kind, _E.c.subject_id, key_col, value).where(*clauses)
    collected: dict[tuple[SubjectRef, str], list[object]] = {}
    for kind, ident, key, raw in conn.execute(stmt):
        collected.setdefault((m.subject_from(kind, ident), key), []).append(_number(raw))
    for (subject, key), values in collected.items():
        agg = aggregate(Agg.MEDIAN, values, field=f"indicators.{spec.name}.expr")
        batch.put(subject, key, spec.name, [agg, len(values)])


def _run_cumulative(
    conn: sa.Connection,
    etype: str,
    specs: Sequence[_Spec],
    period: Period,
    where_subject: sa.ColumnElement[bool] | None,
    batch: _Batch,
    lowering: _Lowering | None = None,
) -> None:
    by_first: dict[dt.date | None, list[_Spec]] = {}
    for spec in specs:
        d = spec.version.definition
        assert isinstance(d, Cumulative)
        by_first.setdefault(d.first_date(period), []).append(spec)
    label = sa.literal(period.key, sa.String())
    for first, group in by_first.items():
        where = [
            _E.c.evidence_type == etype,
            _E.c.is_current.is_(True),
            _E.c.period_day <= period.end.isoformat(),
        ]
        if first is not None:
            where.append(_E.c.period_day >= first.isoformat())
        if where_subject is not None:
            where.append(where_subject)
        plain = [s for s in group if s.version.definition.agg is not Agg.MEDIAN]  # type: ignore[union-attr]
        months = _whole_months(first, period.end)
        if months is not None and all(s.version.definition.agg in _MERGEABLE for s in plain):  # type: ignore[union-attr]
            _aggregate_months(
                conn, etype, months, plain, where_subject, period.key, batch, lowering
            )
        else:
            _aggregate(conn, label, where, plain, batch, lowering=lowering)
        for spec in group:
            if spec not in plain:
                _fetch_values(conn, label, where, spec, batch)


_MERGEABLE = frozenset({Agg.SUM, Agg.COUNT, Agg.AVERAGE, Agg.MIN, Agg.MAX})


def _whole_months(first: dt.date | None, last: dt.date) -> list[str] | None:
    """The month keys of a window ``first..last`` made of whole months, else ``None``."""
    if first is None or first.day != 1 or (last + dt.timedelta(days=1)).day != 1:
        return None
    keys = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _aggregate_months(
    conn: sa.Connection,
    etype: str,
    months: Sequence[str],
    specs: Sequence[_Spec],
    where_subject: sa.ColumnElement[bool] | None,
    period_key: str,
    batch: _Batch,
    lowering: _Lowering | None,
) -> None:
    """A window of whole months as one query grouped by (month, subject) — the covering
    index's order, so no sort, and with a subject filter one seek per month — whose monthly
    parts are merged per subject in Python (sums and counts add, min/max combine)."""
    where = [
        _E.c.evidence_type == etype,
        _E.c.is_current.is_(True),
        _E.c.period_month.in_(list(months)),
    ]
    if where_subject is not None:
        where.append(where_subject)
    monthly = _Batch()
    _aggregate(conn, _E.c.period_month, where, specs, monthly, lowering=lowering)
    aggs = {s.name: s.version.definition.agg for s in specs}  # type: ignore[union-attr]
    merged: dict[SubjectRef, dict[str, list[Any]]] = {}
    for (subject, _month), by_name in monthly.parts.items():
        into = merged.setdefault(subject, {})
        for name, parts in by_name.items():
            prev = into.get(name)
            into[name] = list(parts) if prev is None else _merge(aggs[name], prev, parts)
    for subject, combined in merged.items():
        for name, total in combined.items():
            batch.put(subject, period_key, name, total)


def _merge(agg: Agg, a: list[Any], b: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x is None or y is None:
            out.append(y if x is None else x)
        elif i == 0 and agg is Agg.MIN:
            out.append(min(x, y))
        elif i == 0 and agg is Agg.MAX:
            out.append(max(x, y))
        else:
            out.append(x + y)
    return out


def _zone_name(tz: dt.tzinfo) -> str:
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return key
    return "UTC" if tz.utcoffset(None) == dt.timedelta(0) else str(tz)


def _check_zone(conn: sa.Connection, plan: Plan) -> None:
    s = t.settings
    stored = conn.execute(sa.select(s.c.value).where(s.c.name == "period_tz")).scalar()
    wanted = getattr(plan.tz, "key", None) or (
        "UTC" if plan.tz.utcoffset(None) == dt.timedelta(0) else str(plan.tz)
    )
    if stored is not None and stored != wanted:
        raise InvalidValue(
            f"the stored period keys are in {stored}, the plan's time zone is {wanted}",
            field="time_zone",
            valid=stored,
        )


def read_slots(conn: sa.Connection) -> dict[str, dict[str, tuple[int, str]]]:
    """The typed slot layout: evidence type → field → (slot, kind)."""
    fs = t.field_slots
    slots: dict[str, dict[str, tuple[int, str]]] = {}
    for etype, fname, slot, kind in conn.execute(
        sa.select(fs.c.evidence_type, fs.c.field, fs.c.slot, fs.c.kind)
    ):
        slots.setdefault(etype, {})[fname] = (int(slot), str(kind))
    return slots


def compute_values_sql(
    conn: sa.Connection,
    plan: Plan,
    periods: Sequence[Period],
    *,
    subjects: Sequence[SubjectRef] | None = None,
) -> dict[SubjectPeriod, dict[str, IndicatorValue]]:
    """Every plan indicator's value for every subject with evidence in each period (or only
    ``subjects``), computed in the database.

    Args:
        conn: an open connection (``uow.connection``) to a migrated store.
        plan: the loaded plan; its time zone must be the store's ``period_tz``.
        periods: the periods to compute (any mix of kinds; months/days are batched).
        subjects: restrict to these subjects (and always include them, with no-evidence values).

    Returns:
        ``{(subject, period_key): {indicator: IndicatorValue}}``.

    Raises:
        InvalidValue: the plan's time zone differs from the stored period keys' (field
            ``time_zone``); errors of the domain measure (cycles, bad references).
        FormulaError: an expression the SQL back end cannot evaluate.
    """
    return _compute(conn, plan, periods, subjects)[0]


def _compute(
    conn: sa.Connection,
    plan: Plan,
    periods: Sequence[Period],
    subjects: Sequence[SubjectRef] | None,
    slots: Mapping[str, Mapping[str, tuple[int, str]]] | None = None,
) -> tuple[dict[SubjectPeriod, dict[str, IndicatorValue]], dict[SubjectPeriod, int]]:
    """:func:`compute_values_sql` plus the evidence rows per pair (types with indicators).
    ``slots`` (the layout, when the caller already knows it and has checked the zone) saves two
    queries."""
    if slots is None:
        _check_zone(conn, plan)
        slots = read_slots(conn)
    lowering = _lowering_for(plan, conn.dialect.name, slots)
    where_subject = _subject_clause(subjects)
    batch = _Batch()
    by_signature: dict[tuple[tuple[str, int], ...], list[Period]] = {}
    versions_of: dict[str, dict[str, IndicatorVersion]] = {}
    for period in periods:
        versions = plan.versions_for(period)
        versions_of[period.key] = versions
        sig = tuple(sorted((n, v.number) for n, v in versions.items()))
        by_signature.setdefault(sig, []).append(period)
    for group in by_signature.values():
        versions = versions_of[group[0].key]
        simple: dict[str, list[_Spec]] = {}
        cumulative: dict[str, list[_Spec]] = {}
        for name, version in versions.items():
            d = version.definition
            if isinstance(d, Simple):
                simple.setdefault(version.evidence_type or "", []).append(
                    lowering.spec(name, version)
                )
            elif isinstance(d, Cumulative):
                cumulative.setdefault(version.evidence_type or "", []).append(
                    lowering.spec(name, version)
                )
        by_kind: dict[PeriodKind, list[Period]] = {}
        for p in group:
            by_kind.setdefault(p.kind, []).append(p)
        for same_kind in by_kind.values():
            for etype, specs in simple.items():
                _run_simple(conn, etype, specs, same_kind, where_subject, batch, lowering)
        for p in group:
            for etype, specs in cumulative.items():
                _run_cumulative(conn, etype, specs, p, where_subject, batch, lowering)
    return _assemble(plan, periods, versions_of, batch, subjects), batch.rows


def _assemble(
    plan: Plan,
    periods: Sequence[Period],
    versions_of: Mapping[str, Mapping[str, IndicatorVersion]],
    batch: _Batch,
    subjects: Sequence[SubjectRef] | None,
) -> dict[SubjectPeriod, dict[str, IndicatorValue]]:
    by_key = {p.key: p for p in periods}
    wanted: set[SubjectPeriod] = set(batch.parts)
    if subjects is not None:
        allowed = set(subjects)
        wanted = {pair for pair in wanted if pair[0] in allowed}
        wanted |= {(s, p.key) for s in subjects for p in periods}
    derive = plan.compiler(None)
    orders: dict[str, tuple[str, ...]] = {}
    out: dict[SubjectPeriod, dict[str, IndicatorValue]] = {}
    lowering_cache: dict[str, tuple[dict[str, _Spec], dict[str, IndicatorVersion]]] = {}
    for subject, key in sorted(wanted, key=lambda p: (p[1], str(p[0]))):
        period = by_key[key]
        versions = versions_of[key]
        split = lowering_cache.get(key)
        if split is None:
            rows_read: dict[str, _Spec] = {}
            later: dict[str, IndicatorVersion] = {}
            for name, version in versions.items():
                if isinstance(version.definition, Simple | Cumulative):
                    rows_read[name] = _Spec(name, version, None, None)
                else:
                    later[name] = version
            split = lowering_cache[key] = (rows_read, later)
        rows_read, later = split
        parts = batch.parts.get((subject, key), {})
        values = {n: _value(spec, period, parts.get(n)) for n, spec in rows_read.items()}
        if later:
            order = orders.get(key)
            if order is None:
                order = orders[key] = dependency_order(later, known=rows_read)
            for name in order:
                values[name] = _combine(name, later[name], values, derive)
        out[(subject, key)] = {n: values[n] for n in versions}
    return out


def _combine(
    name: str,
    version: IndicatorVersion,
    values: Mapping[str, IndicatorValue],
    derive: Callable[[str], Callable[..., Any]],
) -> IndicatorValue:
    """A ratio or derived value from already computed values, with the domain's semantics
    (:mod:`perfcore.domain.measure`): a zero or missing denominator, a missing input or an
    arithmetic error gives no value and a diagnostic, never an exception."""
    d = version.definition
    diagnostics: list[str] = []
    value: Decimal | None = None
    if isinstance(d, Ratio):
        num, den = values[d.numerator], values[d.denominator]
        inputs = [num, den]
        if num.value is None:
            diagnostics.append(f"numerator {d.numerator!r} has no value")
        if den.value is None:
            diagnostics.append(f"denominator {d.denominator!r} has no value")
        elif den.value == 0:
            diagnostics.append(
                f"denominator {d.denominator!r} is 0: no value (not 0, not an error)"
            )
        if num.value is not None and den.value is not None and den.value != 0:
            value = num.value / den.value
    else:
        assert isinstance(d, Derived)
        inputs = [values[i] for i in d.inputs]
        diagnostics = [f"input {p.name!r} has no value" for p in inputs if p.value is None]
        if not diagnostics:
            try:
                raw = derive(d.expr)({p.name: p.value for p in inputs})
            except ArithmeticError as exc:
                diagnostics.append(f"{d.expr!r} has no value ({type(exc).__name__})")
            else:
                if raw is None:
                    diagnostics.append(f"{d.expr!r} gave no value")
                else:
                    value = as_decimal(raw, field=f"indicators.{name}.expr")
    count = sum(p.evidence_count for p in inputs)
    return IndicatorValue(name, value, count, (), version.number, diagnostics)
