"""Mapping raw source rows to evidence through the plan: pure functions, no storage.

The plan's source mapping decides *who* (subject, through the identity maps), *when* (the
occurred-at column, with a ``strptime`` format and the plan's time zone for naive times) and
*which* columns feed which evidence fields; the domain's
:func:`perfcore.domain.evidence.validate_record` then types the values and checks provenance.
A row is accepted or rejected with every reason and its field path — never dropped.

Text values are trimmed; an empty value of a non-text field is "no value" (refused when the field
is required — declare it ``number?`` in the plan to make it optional).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from attrs import frozen

from perfcore.domain.evidence import EvidenceRecord, Rejection, validate_record
from perfcore.domain.values import SubjectKind, SubjectRef
from perfcore.plan import Plan
from perfcore.plan.model import SourceSpec
from perfcore.ports.identity import IdentityResolver

__all__ = ["Mapped", "Rejected", "map_row", "to_evidence"]


@frozen
class Mapped:
    """A row whose subject, time and identity are known (field values still raw)."""

    subject: SubjectRef
    occurred_at: dt.datetime
    external_id: str
    fields: Mapping[str, object]


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


def map_row(
    row: Mapping[str, object],
    src: SourceSpec,
    plan: Plan,
    identity: IdentityResolver | None,
) -> Mapped | Rejected:
    """Resolve subject, time and external id of one raw row. Never raises for bad data."""
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
    return Mapped(subject, occurred, external_id, fields)


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
