"""Mapping raw source rows to evidence through the plan: pure functions, no storage.

The plan's source mapping decides *who* (subject, through the identity maps), *when* (the
occurred-at column, with a ``strptime`` format and the plan's time zone for naive times) and
*which* columns feed which evidence fields; the domain's
:func:`perfcore.domain.evidence.validate_record` then types the values and checks provenance.
A row is accepted or rejected with every reason and its field path — never dropped.

Text values are trimmed; an empty value of a non-text field is "no value" (refused when the field
is required — declare it ``number?`` in the plan to make it optional).

Bulk ingest uses :class:`RowMapper`, compiled once per (plan, source): a coercer per column, the
checks of ``validate_record`` done once per row in a tight loop, and the accepted record built
directly (no intermediate ``EvidenceRecord``). A row it cannot accept goes through
:func:`map_row` + :func:`to_evidence`, so rejections keep their exact reasons.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import cast

from attrs import frozen

from perfcore.domain.errors import DomainError
from perfcore.domain.evidence import (
    Bounds,
    EvidenceRecord,
    FieldType,
    Rejection,
    coerce_value,
    default_idempotency_key,
    parse_instant,
    validate_record,
)
from perfcore.domain.values import Period, SubjectKind, SubjectRef
from perfcore.plan import Plan
from perfcore.plan.model import SourceSpec
from perfcore.ports.identity import IdentityResolver
from perfcore.services.records import AcceptedEvidence

__all__ = [
    "Mapped",
    "PeriodKeys",
    "Rejected",
    "RowMapper",
    "map_row",
    "period_keys",
    "to_evidence",
]


@frozen
class Mapped:
    """A row whose subject, time and identity are known (field values still raw)."""

    subject: SubjectRef
    occurred_at: dt.datetime
    external_id: str
    fields: Mapping[str, object]
    revision: int | None = None
    """The source's revision number of the record (its ``version`` column), if it has one."""


@frozen
class Rejected:
    """A row that cannot become evidence, with the reason and the field at fault."""

    reason: str
    field: str = ""

    @classmethod
    def of(cls, rejection: Rejection) -> Rejected:
        """From the domain's rejection (all reasons, the first field path)."""
        first = rejection.reasons[0].field if rejection.reasons else ""
        return cls(str(rejection), first)


class _Bad(ValueError):
    pass


def _occurred(raw: object, fmt: str, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        return raw if raw.tzinfo is not None else raw.replace(tzinfo=tz)
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time(), tz)
    text = str(raw or "").strip()
    if not text:
        raise _Bad("no time given")
    try:
        parsed = dt.datetime.strptime(text, fmt) if fmt else dt.datetime.fromisoformat(text)
    except ValueError:
        want = fmt or "ISO 8601"
        raise _Bad(f"{text!r} does not match {want}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _subject(
    row: Mapping[str, object], src: SourceSpec, plan: Plan, identity: IdentityResolver | None
) -> SubjectRef | Rejected:
    spec = src.subject
    if spec.template:
        try:
            external = spec.template.format_map(
                {k: str(v).strip() for k, v in row.items() if v is not None}
            )
        except KeyError as exc:
            return Rejected(f"column {exc.args[0]!r} named in the subject template is missing")
        where = "subject.template"
    else:
        raw = row.get(spec.field)
        external = "" if raw is None else str(raw).strip()
        where = spec.field
    if not external:
        return Rejected("no subject id", where)
    if spec.system:
        found = plan.resolve(spec.system, external)
        if found is None and identity is not None:
            found = identity.resolve(spec.system, external)
        if found is None:
            return Rejected(f"unresolved identity {spec.system}:{external}", where)
        return found
    return SubjectRef(SubjectKind(spec.kind), external)


def _clean(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


#: Key under which a CSV reader files values beyond the header's columns
#: (``csv.DictReader(..., restkey=EXTRA_VALUES)``); such a row is rejected, never trimmed.
EXTRA_VALUES = "<values beyond the header>"

#: Key under which a reader may file where a row came from (``file.csv:12``). It is never
#: mapped and not part of a rejected row's quarantine key (the same bad row re-read from another
#: line is the same record), but it stays in the quarantined payload so the row can be found.
SOURCE_LINE = "<line>"


def _extra_values(row: Mapping[str, object]) -> list[str]:
    """Values a CSV reader could not put under a header column (filed under
    :data:`EXTRA_VALUES`, or under ``None``, ``csv.DictReader``'s default); trailing empty cells
    do not count."""
    extra = row.get(EXTRA_VALUES, cast("Mapping[object, object]", row).get(None))
    if not isinstance(extra, list):
        return []
    return [str(v) for v in extra if str(v).strip()]


def map_row(
    row: Mapping[str, object],
    src: SourceSpec,
    plan: Plan,
    identity: IdentityResolver | None,
) -> Mapped | Rejected:
    """Resolve subject, time and external id of one raw row. Never raises for bad data.

    A row with more values than the header has columns is rejected, never trimmed."""
    extra = _extra_values(row)
    if extra:
        return Rejected(
            f"the row has {len(extra)} more value(s) than the header has columns: "
            + ", ".join(repr(v) for v in extra[:3]),
            "",
        )
    subject = _subject(row, src, plan, identity)
    if isinstance(subject, Rejected):
        return subject
    try:
        occurred = _occurred(row.get(src.occurred_at.field), src.occurred_at.format, plan.tz)
    except _Bad as exc:
        return Rejected(str(exc), src.occurred_at.field)
    fields: dict[str, object] = {}
    for name, column in src.fields.items():
        if column not in row:
            return Rejected(f"column {column!r} is missing", column)
        fields[name] = _clean(row[column])
    if src.id:
        missing = [c for c in src.id if c not in row]
        if missing:
            return Rejected(f"id column {missing[0]!r} is missing", missing[0])
        external_id = "|".join(str(row.get(c, "")).strip() for c in src.id)
    else:
        external_id = f"{subject}|{occurred.isoformat()}|" + "|".join(
            f"{k}={fields[k]}" for k in sorted(fields)
        )
    revision = None
    if src.version:
        if src.version not in row:
            return Rejected(f"version column {src.version!r} is missing", src.version)
        revision = _revision(row[src.version])
        if revision is None:
            return Rejected(
                f"{row[src.version]!r} is not a revision number (valid: a whole number >= 1)",
                src.version,
            )
    return Mapped(subject, occurred, external_id, fields, revision)


def _revision(value: object) -> int | None:
    """A revision number from a cell: a whole number ≥ 1 (``3``, ``"3"``, ``" 3 "``, ``3.0``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 1:
        return None
    return int(number)


def to_evidence(
    plan: Plan,
    evidence_type: str,
    *,
    subject: SubjectRef,
    source: str,
    external_id: str,
    occurred_at: dt.datetime,
    fields: Mapping[str, object],
    recorded_at: dt.datetime,
    idempotency_key: str = "",
) -> EvidenceRecord | Rejected:
    """Type and check one record with the domain's ``validate_record``."""
    raw: dict[str, object] = {
        "subject": subject,
        "source": source,
        "external_id": external_id,
        "occurred_at": occurred_at,
        "fields": {k: _clean(v) for k, v in fields.items()},
    }
    if idempotency_key:
        raw["idempotency_key"] = idempotency_key
    result = validate_record(plan.evidence_types[evidence_type], raw, recorded_at=recorded_at)
    return Rejected.of(result) if isinstance(result, Rejection) else result


class PeriodKeys:
    """``instant → (period key, ISO day)`` in a plan's zone and grain, cached by local date
    (a period of a fixed grain is a function of the local date alone)."""

    __slots__ = ("_cache", "_kind", "_tz")

    def __init__(self, plan: Plan) -> None:
        self._tz = plan.tz
        self._kind = plan.period_kind
        self._cache: dict[dt.date, tuple[str, str]] = {}

    def __call__(self, instant: dt.datetime) -> tuple[str, str]:
        """The plan period's key and the local ISO date of the aware ``instant``."""
        day = instant.astimezone(self._tz).date()
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = (Period.containing(self._kind, day).key, day.isoformat())
        return found


_KEYS: dict[int, tuple[weakref.ref[Plan], PeriodKeys]] = {}


def period_keys(plan: Plan) -> PeriodKeys:
    """The :class:`PeriodKeys` of ``plan``, kept while the plan lives (the last few plans)."""
    found = _KEYS.get(id(plan))
    if found is not None and found[0]() is plan:
        return found[1]
    if len(_KEYS) > 16:
        _KEYS.clear()
    keys = PeriodKeys(plan)
    _KEYS[id(plan)] = (weakref.ref(plan), keys)
    return keys


_NOT = object()  # a value the fast path cannot decide: the row takes the full path
_BOOLS = {"true": True, "false": False}
_Coerce = Callable[[object], object]


def _number(value: object) -> object:
    if type(value) is str:
        try:
            result = Decimal(value.replace("_", ""))
        except InvalidOperation:
            return _NOT
        return result if result.is_finite() else _NOT
    return _typed(FieldType.NUMBER, value)


def _boolean(value: object) -> object:
    if type(value) is str:
        return _BOOLS.get(value.lower(), _NOT)
    return _typed(FieldType.BOOLEAN, value)


def _text(value: object) -> object:
    return value if type(value) is str else _typed(FieldType.TEXT, value)


def _typed(kind: FieldType, value: object) -> object:
    try:
        return coerce_value(kind, value)
    except DomainError:
        return _NOT


def _coercer(kind: FieldType, bounds: Bounds | None = None) -> _Coerce:
    if kind is FieldType.NUMBER and bounds is not None:
        check = bounds.check  # a value out of bounds takes the full path for its reason

        def bounded(value: object) -> object:
            result = _number(value)
            if not isinstance(result, Decimal) or check(result) is not None:
                return _NOT
            return result

        return bounded
    if kind is FieldType.NUMBER:
        return _number
    if kind is FieldType.BOOLEAN:
        return _boolean
    if kind is FieldType.TEXT:
        return _text
    return lambda value: _typed(kind, value)


class RowMapper:
    """A source's raw rows → :class:`AcceptedEvidence`, compiled once per (plan, source).

    Does what :func:`map_row` followed by :func:`to_evidence` does for a row that is accepted —
    subject, occurred-at (ISO text or the source's ``strptime`` format, the plan's zone for naive
    times), trimmed field values typed per declared field, required fields present, the default
    idempotency key ``<source>:<external id>:v1`` — with a coercer per column and no
    per-row validation objects. :meth:`accept` returns ``None`` for any row it does not accept
    (bad or unusual data); the caller then runs the full path, which gives the exact reasons.

    ``enabled`` is ``False`` when the source mapping itself can only produce rejections (a
    field not declared by the evidence type, a required field not mapped), or when the source
    has a ``version`` column (a revision may be a correction): every row then takes the full
    path.
    """

    def __init__(
        self,
        plan: Plan,
        source: str,
        src: SourceSpec,
        identity: IdentityResolver | None,
        recorded_at: dt.datetime,
    ) -> None:
        self._plan = plan
        self._src = src
        self._identity = identity
        self.source = source.strip()
        self.evidence_type = src.evidence
        self._recorded = recorded_at
        self._prefix = default_idempotency_key(self.source, "x", 1).rsplit(":", 2)[0]
        self._subjects: dict[str, SubjectRef] = {}
        self._plain = not src.subject.template and not src.subject.system
        self._kind = src.subject.kind
        self._subject_col = src.subject.field
        self._time_col = src.occurred_at.field
        self._fmt = src.occurred_at.format
        self._tz = plan.tz
        self._id_cols = tuple(src.id)
        columns: list[tuple[str, str | None, bool, bool, _Coerce]] = []
        etype = plan.evidence_types.get(src.evidence)
        enabled = etype is not None and bool(self.source)
        if etype is not None:
            declared = {s.name for s in etype.fields}
            enabled = enabled and set(src.fields) <= declared and not src.version
            for spec in etype.fields:
                column = src.fields.get(spec.name)
                if column is None and spec.required:
                    enabled = False
                text = spec.type is FieldType.TEXT
                coerce = _coercer(spec.type, spec.bounds)
                columns.append((spec.name, column, spec.required, text, coerce))
        self._columns = tuple(columns)
        self._mapped = tuple(src.fields.items())
        try:
            parse_instant(recorded_at, field="recorded_at")
        except DomainError:
            enabled = False
        self.enabled = enabled

    def _subject(self, row: Mapping[str, object]) -> SubjectRef | None:
        if not self._plain:
            found = _subject(row, self._src, self._plan, self._identity)
            return None if isinstance(found, Rejected) else found
        raw = row.get(self._subject_col)
        if type(raw) is not str:
            if raw is None:
                return None
            raw = str(raw)
        subject = self._subjects.get(raw)
        if subject is None:
            external = raw.strip()
            if not external:
                return None
            try:
                subject = SubjectRef(SubjectKind(self._kind), external)
            except (DomainError, ValueError):
                return None
            self._subjects[raw] = subject
        return subject

    def _occurred(self, row: Mapping[str, object]) -> dt.datetime | None:
        raw = row.get(self._time_col)
        try:
            if type(raw) is str and not self._fmt:
                parsed = dt.datetime.fromisoformat(raw.strip())
            else:
                parsed = _occurred(raw, self._fmt, self._tz)
        except (ValueError, _Bad):
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self._tz)
        if parsed.utcoffset() is None:
            return None
        return parsed

    def accept(self, row: Mapping[str, object], given_id: str = "") -> AcceptedEvidence | None:
        """The accepted record of ``row``, or ``None`` when the full path must decide."""
        if not self.enabled or EXTRA_VALUES in row or None in cast("Mapping[object, object]", row):
            return None
        subject = self._subject(row)
        if subject is None:
            return None
        occurred = self._occurred(row)
        if occurred is None:
            return None
        values: dict[str, object] = {}
        for name, column, required, text, coerce in self._columns:
            if column is None:
                values[name] = None
                continue
            raw = row.get(column, _NOT)
            if raw is _NOT:
                return None  # a missing column
            if isinstance(raw, str):
                raw = str(raw).strip()
                if not raw and not text:
                    raw = None
            if raw is None:
                if required:
                    return None
                values[name] = None
                continue
            value = coerce(raw)
            if value is _NOT:
                return None
            values[name] = value
        external = self._external_id(row, given_id, subject, occurred)
        if not external:
            return None
        key = (
            f"{self._prefix}:{external}:v1"
            if ":" not in external and "%" not in external
            else default_idempotency_key(self.source, external, 1)
        )
        return AcceptedEvidence(
            key,
            self.evidence_type,
            subject,
            occurred,
            self._recorded,
            self.source,
            external,
            values,
        )

    def _external_id(
        self,
        row: Mapping[str, object],
        given_id: str,
        subject: SubjectRef,
        occurred: dt.datetime,
    ) -> str:
        cols = self._id_cols
        if cols:
            parts = []
            for c in cols:
                if c not in row:
                    return ""  # map_row rejects a missing id column even with a given id
                parts.append(str(row.get(c, "")).strip())
            joined = "|".join(parts)
            return (given_id or joined).strip()
        if given_id:
            return given_id.strip()
        fields = {name: _clean(row[column]) for name, column in self._mapped}
        external = f"{subject}|{occurred.isoformat()}|" + "|".join(
            f"{k}={fields[k]}" for k in sorted(fields)
        )
        return external.strip()
