"""Mapping raw source rows to evidence through the plan: pure functions, no storage.

A row is accepted or rejected with a reason naming the field — never dropped. Values are typed
by the evidence type's declared field types:

- number: ``Decimal`` (``""`` → no value); booleans are refused;
- text: trimmed ``str``;
- boolean: true/false/yes/no/1/0 (case-insensitive);
- date: ISO ``YYYY-MM-DD``; datetime: ISO 8601 (naive → the plan's time zone);
- duration: a number of hours, or an ISO ``HH:MM[:SS]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from attrs import frozen

from perfcore.domain.values import SubjectKind, SubjectRef
from perfcore.plan import Plan
from perfcore.plan.model import SourceSpec
from perfcore.ports.identity import IdentityResolver

__all__ = ["Mapped", "Rejected", "convert_value", "map_row"]


@frozen
class Mapped:
    """A row that maps to evidence."""

    subject: SubjectRef
    occurred_at: dt.datetime
    external_id: str
    values: Mapping[str, object]


@frozen
class Rejected:
    """A row that does not, with the reason and the field at fault."""

    reason: str
    field: str = ""


class _Bad(ValueError):
    pass


def convert_value(raw: object, kind: str, tz: dt.tzinfo) -> object:
    """Convert one raw value to the evidence field type ``kind``; raises ``ValueError``."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if kind == "number":
        if isinstance(raw, bool):
            raise _Bad("a boolean is not a number")
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise _Bad(f"{raw!r} is not a number") from None
        if not value.is_finite():
            raise _Bad(f"{raw!r} is not a finite number")
        return value
    if kind == "text":
        return str(raw).strip()
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "1", "y"):
            return True
        if text in ("false", "no", "0", "n"):
            return False
        raise _Bad(f"{raw!r} is not true/false")
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise _Bad(f"{raw!r} is not a date (YYYY-MM-DD)") from None
    if kind == "datetime":
        if isinstance(raw, dt.datetime):
            value_dt = raw
        else:
            try:
                value_dt = dt.datetime.fromisoformat(str(raw).strip())
            except ValueError:
                raise _Bad(f"{raw!r} is not an ISO 8601 date-time") from None
        return value_dt if value_dt.tzinfo is not None else value_dt.replace(tzinfo=tz)
    if kind == "duration":
        if isinstance(raw, dt.timedelta):
            return raw
        text = str(raw).strip()
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            while len(parts) < 3:
                parts.append(0)
            return dt.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
        try:
            return dt.timedelta(hours=float(Decimal(text)))
        except InvalidOperation:
            raise _Bad(f"{raw!r} is not a duration in hours") from None
    raise _Bad(f"unknown field type {kind!r}")  # pragma: no cover - plans are checked


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
    try:
        return SubjectRef(SubjectKind(spec.kind), external)
    except Exception as exc:  # the domain's typed error, reported as a rejection
        return Rejected(f"bad subject id {external!r}: {exc}", where)


def map_row(
    row: Mapping[str, object],
    src: SourceSpec,
    plan: Plan,
    identity: IdentityResolver | None,
) -> Mapped | Rejected:
    """Map one raw row through a plan source. Never raises for bad data."""
    subject = _subject(row, src, plan, identity)
    if isinstance(subject, Rejected):
        return subject
    try:
        occurred = _occurred(row.get(src.occurred_at.field), src.occurred_at.format, plan.tz)
    except _Bad as exc:
        return Rejected(str(exc), src.occurred_at.field)
    schema = plan.evidence_schema(src.evidence)
    values: dict[str, object] = {}
    for name, column in src.fields.items():
        if column not in row:
            return Rejected(f"column {column!r} is missing", column)
        try:
            values[name] = convert_value(row.get(column), schema[name], plan.tz)
        except ValueError as exc:
            return Rejected(str(exc), column)
    if src.id:
        missing = [c for c in src.id if c not in row]
        if missing:
            return Rejected(f"id column {missing[0]!r} is missing", missing[0])
        external_id = "|".join(str(row.get(c, "")).strip() for c in src.id)
    else:
        external_id = f"{subject}|{occurred.isoformat()}|" + "|".join(
            f"{k}={values[k]}" for k in sorted(values)
        )
    return Mapped(subject, occurred, external_id, values)
