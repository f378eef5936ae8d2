"""Explicit data mappers: domain/application records ↔ table rows (no ORM instrumentation).

Each ``*_row`` function returns the column values of one row; each ``*_from`` function rebuilds
the record from a fetched row. Times go in as UTC without zone and come back as aware UTC.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from perfcore.domain.values import SubjectKind, SubjectRef
from perfcore.ports.outbox import OutboxMessage, OutboxStatus
from perfcore.ports.records import PeriodScoring, PlanVersion, QuarantinedRecord, SourceBookmark
from perfcore.services.records import AcceptedEvidence
from perfcore_adapters.sqlalchemy.codec import decode, encode
from perfcore_adapters.sqlalchemy.jsonio import dumps

__all__ = [
    "aware",
    "bookmark_from",
    "evidence_from",
    "evidence_row",
    "fields_from",
    "fields_json",
    "fields_row",
    "naive_utc",
    "outbox_from",
    "outbox_row",
    "plan_from",
    "plan_row",
    "quarantine_from",
    "quarantine_row",
    "scoring_from",
    "slot_kind",
    "slot_value",
    "subject_from",
]

_UTC = dt.UTC
_json_str = json.JSONEncoder(ensure_ascii=False).encode
_SQL_DT = "%Y-%m-%d %H:%M:%S.%f"


def naive_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime as naive UTC (how every time is stored)."""
    return value.astimezone(_UTC).replace(tzinfo=None)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored (naive UTC) datetime as aware UTC; ``None`` stays ``None``."""
    if value is None:
        return None
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)


_KINDS = {k.value: k for k in SubjectKind}


def subject_from(kind: str, ident: str) -> SubjectRef:
    """Rebuild a subject from its two columns."""
    return SubjectRef(_KINDS[kind], ident)


# ------------------------------------------------------------------------- evidence fields


def fields_row(values: Mapping[str, object]) -> tuple[dict[str, object], str | None]:
    """Typed field values → (JSON-able dict, ``field_types`` text or ``None``).

    Numbers stay numbers (exact ``Decimal``), dates ``YYYY-MM-DD``, date-times UTC
    ``YYYY-MM-DD HH:MM:SS.ffffff``, durations seconds; the last three are listed in the types
    text (``name:date``, ``name:dt``, ``name:td``) so that they read back typed."""
    out: dict[str, object] = {}
    types: list[str] = []
    for name, value in values.items():
        if isinstance(value, dt.datetime):
            out[name] = naive_utc(value).isoformat(" ", "microseconds")
            types.append(f"{name}:dt")
        elif isinstance(value, dt.date):
            out[name] = value.isoformat()
            types.append(f"{name}:date")
        elif isinstance(value, dt.timedelta):
            out[name] = Decimal(value // dt.timedelta(microseconds=1)).scaleb(-6)
            types.append(f"{name}:td")
        else:
            out[name] = value
    return out, (",".join(types) if types else None)


def fields_json(fields: Mapping[str, object]) -> str:
    """The JSON text of :func:`fields_row`'s dict, written directly (the hot ingest path):
    exact decimals, booleans, nulls and strings; anything else goes through :func:`dumps`."""
    parts = []
    for name, value in fields.items():
        if value is None:
            text = "null"
        elif value is True:
            text = "true"
        elif value is False:
            text = "false"
        elif isinstance(value, Decimal) and value.is_finite():
            text = str(value)
        elif isinstance(value, str):
            text = _json_str(value)
        else:
            text = dumps(value)
        parts.append(f"{_json_str(name)}:{text}")
    return "{" + ",".join(parts) + "}"


def fields_from(data: Mapping[str, Any], types: str | None) -> dict[str, object]:
    """Inverse of :func:`fields_row`."""
    out: dict[str, object] = {}
    for name, value in data.items():
        if isinstance(value, int) and not isinstance(value, bool):
            out[name] = Decimal(value)
        else:
            out[name] = value
    if types:
        for item in types.split(","):
            name, _, kind = item.rpartition(":")
            value = out.get(name)
            if value is None:
                continue
            if kind == "dt":
                out[name] = dt.datetime.strptime(str(value), _SQL_DT).replace(tzinfo=_UTC)
            elif kind == "date":
                out[name] = dt.date.fromisoformat(str(value))
            elif kind == "td":
                out[name] = dt.timedelta(microseconds=int(Decimal(str(value)).scaleb(6)))
    return out


def slot_kind(value: object) -> str | None:
    """The slot kind of a field value (``number``, ``duration``, ``boolean``) or ``None``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal | int):
        return "number"
    if isinstance(value, dt.timedelta):
        return "duration"
    return None


def slot_value(value: object, kind: str) -> Decimal | int | None:
    """The typed copy stored in an ``n<slot>`` column (``None`` when the kind differs)."""
    if slot_kind(value) != kind:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.timedelta):
        return Decimal(value // dt.timedelta(microseconds=1)).scaleb(-6)
    assert isinstance(value, Decimal | int)
    return value


def evidence_row(
    key: str,
    item: object,
    subject: SubjectRef,
    evidence_type: str,
    at: dt.datetime,
    tz: dt.tzinfo,
    slots: Mapping[str, tuple[int, str]] | None = None,
) -> dict[str, object]:
    """Column values for one evidence item; ``AcceptedEvidence`` is stored in columns, anything
    else also as a document. Any item's ``values`` mapping fills ``fields`` and the slots, and its
    ``version``/``supersedes`` attributes (a correction) are used when present.
    ``slots`` maps field → (slot, kind) for the typed ``n<slot>`` copies."""
    local = at.astimezone(tz)
    day = local.date().isoformat()
    row: dict[str, object] = {
        "idempotency_key": key,
        "evidence_type": evidence_type,
        "subject_kind": subject.kind.value,
        "subject_id": subject.id,
        "occurred_at": naive_utc(at),
        "period_day": day,
        "period_month": day[:7],
        "version": int(getattr(item, "version", 1) or 1),
        "supersedes": getattr(item, "supersedes", None) or None,
    }
    values = getattr(item, "values", None)
    typed = values if isinstance(values, Mapping) else {}
    fields, types = fields_row(typed)
    row.update(fields=fields, field_types=types)
    if isinstance(item, AcceptedEvidence):
        row.update(
            recorded_at=naive_utc(item.recorded_at),
            source=item.source,
            external_id=item.external_id,
            doc=None,
        )
    else:
        recorded = getattr(item, "recorded_at", None)
        row.update(
            recorded_at=naive_utc(recorded if isinstance(recorded, dt.datetime) else at),
            source=str(getattr(item, "source", "") or ""),
            external_id=str(getattr(item, "external_id", "") or ""),
            doc=encode(item),
        )
    for i in range(8):
        row[f"n{i}"] = None
    for name, (slot, kind) in (slots or {}).items():
        row[f"n{slot}"] = slot_value(typed.get(name), kind)
    return row


def evidence_from(row: Any) -> Any:
    """Rebuild an evidence item from a row with every ``evidence`` column."""
    if row.doc is not None:
        return decode(row.doc)
    return AcceptedEvidence(
        row.idempotency_key,
        row.evidence_type,
        subject_from(row.subject_kind, row.subject_id),
        _aware(row.occurred_at),
        _aware(row.recorded_at),
        row.source,
        row.external_id,
        fields_from(row.fields, row.field_types),
        int(row.version or 1),
        row.supersedes or None,
    )


# ------------------------------------------------------------------------- small records


def quarantine_row(rec: QuarantinedRecord) -> dict[str, object]:
    """Columns of a quarantined record (the raw payload as a tagged document)."""
    return {
        "key": rec.key,
        "source": rec.source,
        "reason": rec.reason,
        "field_path": rec.field_path,
        "payload": encode(dict(rec.payload)),
        "received_at": naive_utc(rec.received_at),
    }


def quarantine_from(row: Any) -> QuarantinedRecord:
    """Inverse of :func:`quarantine_row`."""
    return QuarantinedRecord(
        row.key,
        row.source,
        row.reason,
        decode(row.payload),
        _aware(row.received_at),
        row.field_path,
    )


def plan_row(version: PlanVersion) -> dict[str, object]:
    """Columns of a plan version."""
    return {
        "number": version.number,
        "content_hash": version.content_hash,
        "name": version.name,
        "source": version.source,
        "applied_at": naive_utc(version.applied_at),
    }


def plan_from(row: Any) -> PlanVersion:
    """Inverse of :func:`plan_row`."""
    return PlanVersion(row.number, row.content_hash, row.source, row.name, _aware(row.applied_at))


def scoring_from(row: Any) -> PeriodScoring:
    """A period-scoring record from its row."""
    return PeriodScoring(
        subject_from(row.subject_kind, row.subject_id),
        row.period_key,
        row.plan_version,
        _aware(row.computed_at),
    )


def bookmark_from(row: Any) -> SourceBookmark:
    """A bookmark from its row."""
    return SourceBookmark(
        row.source, row.stream, row.partition, decode(row.state), _aware(row.updated_at)
    )


def outbox_row(msg: OutboxMessage) -> dict[str, object]:
    """Columns of an outbox message."""
    return {
        "dedupe_key": msg.dedupe_key,
        "kind": msg.kind,
        "template": msg.template,
        "recipient": msg.recipient,
        "channel": msg.channel,
        "locale": msg.locale,
        "params": dict(msg.params),
        "status": msg.status.value,
        "attempts": msg.attempts,
        "last_error": msg.last_error,
        "created_at": naive_utc(msg.created_at),
        "next_attempt_at": None if msg.next_attempt_at is None else naive_utc(msg.next_attempt_at),
        "delivered_at": None if msg.delivered_at is None else naive_utc(msg.delivered_at),
    }


def outbox_from(row: Any) -> OutboxMessage:
    """Inverse of :func:`outbox_row`."""
    return OutboxMessage(
        dedupe_key=row.dedupe_key,
        kind=row.kind,
        template=row.template,
        recipient=row.recipient,
        created_at=_aware(row.created_at),
        params={str(k): str(v) for k, v in dict(row.params).items()},
        channel=row.channel,
        locale=row.locale,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=aware(row.next_attempt_at),
        delivered_at=aware(row.delivered_at),
    )
