"""RecordEvidence, IngestBatch and SyncSource: evidence in, idempotently, with quarantine.

Every input record is either accepted (stored under its idempotency key; a repeat is a no-op) or
quarantined with a reason — read = accepted + rejected + duplicates, reported in
``SourceSynced``. Accepted records emit ``EvidenceRecorded`` with the period keys they touch, so
that scorecards are refreshed only for those (subject, period) pairs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from attrs import define, field, frozen

from perfcore.domain.errors import NotFound
from perfcore.domain.events import (
    EvidenceRecorded,
    EvidenceRejected,
    ScorecardsStale,
    SourceSynced,
)
from perfcore.domain.evidence import EvidenceRecord
from perfcore.domain.values import SubjectRef
from perfcore.plan import Plan
from perfcore.plan.model import SourceSpec
from perfcore.plan.problems import did_you_mean
from perfcore.ports.records import QuarantinedRecord, SourceBookmark
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import IngestBatch, RecordEvidence, SyncSource
from perfcore.services.context import Context
from perfcore.services.ingest import Mapped, Rejected, map_row, to_evidence
from perfcore.services.records import AcceptedEvidence

__all__ = ["IngestResult", "ingest_batch", "record_evidence", "sync_source"]


@frozen
class IngestResult:
    """Counts of one ingest: ``read == accepted + duplicates + rejected``."""

    read: int
    accepted: int
    duplicates: int
    rejected: int


def _digest(row: Mapping[str, object]) -> str:
    text = json.dumps({k: str(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@define
class _Touched:
    """What one ingest touched: (subject, period key) pairs and (subject, ISO day) pairs."""

    pairs: set[tuple[SubjectRef, str]] = field(factory=set)
    days: set[tuple[SubjectRef, str]] = field(factory=set)


def _same(a: AcceptedEvidence, b: AcceptedEvidence) -> bool:
    return (a.subject, a.evidence_type, a.occurred_at, dict(a.values)) == (
        b.subject,
        b.evidence_type,
        b.occurred_at,
        dict(b.values),
    )


def _store(
    uow: AbstractUnitOfWork,
    ctx: Context,
    plan: Plan,
    record: EvidenceRecord,
    stale: _Touched,
) -> str:
    """Store one validated record: ``"accepted"``, ``"duplicate"`` (same key, same content) or
    ``"rejected"`` (same key, different content: a correction must be a new version)."""
    ev = AcceptedEvidence.from_record(record)
    existing: AcceptedEvidence | None = uow.evidence.get_by_idempotency_key(ev.key)
    if existing is not None:
        if _same(existing, ev):
            return "duplicate"
        reason = (
            f"conflicts with the stored record {ev.key!r} (same source and external id, "
            "different content); send a correction as a new version"
        )
        _quarantine(uow, ctx, ev.source, _payload(ev), Rejected(reason, "external_id"))
        return "rejected"
    uow.evidence.add(
        ev.key, ev, subject=ev.subject, evidence_type=ev.evidence_type, at=ev.occurred_at
    )
    period = plan.period_of(ev.occurred_at)
    stale.pairs.add((ev.subject, period.key))
    stale.days.add((ev.subject, ev.occurred_at.astimezone(plan.tz).date().isoformat()))
    uow.emit(EvidenceRecorded(ev.key, ev.subject, ev.evidence_type, ev.occurred_at, (period.key,)))
    return "accepted"


def _payload(ev: AcceptedEvidence) -> dict[str, object]:
    return {
        "subject": str(ev.subject),
        "external_id": ev.external_id,
        "occurred_at": ev.occurred_at.isoformat(),
        **{k: v if isinstance(v, str) else str(v) for k, v in ev.values.items()},
    }


def _quarantine(
    uow: AbstractUnitOfWork, ctx: Context, source: str, row: Mapping[str, object], bad: Rejected
) -> None:
    key = f"{source}:{_digest(row)}"
    uow.evidence.quarantine(
        QuarantinedRecord(key, source, bad.reason, dict(row), ctx.clock.now(), bad.field)
    )
    uow.emit(EvidenceRejected(key, source, bad.reason, bad.field))


def record_evidence(cmd: RecordEvidence, ctx: Context) -> bool:
    """Record one evidence record; ``True`` when new, ``False`` when a duplicate or rejected
    (rejected records are quarantined with every reason)."""
    plan: Plan = ctx.plan()
    if cmd.evidence_type not in plan.evidence_types:
        raise NotFound(
            f"unknown evidence type {cmd.evidence_type!r}",
            field="evidence_type",
            valid=did_you_mean(cmd.evidence_type, plan.spec.evidence),
        )
    now = ctx.clock.now()
    with ctx.uow as uow:
        subject: SubjectRef | None = cmd.subject
        if subject is None and cmd.system:
            subject = plan.resolve(cmd.system, cmd.external_subject)
            if subject is None and ctx.identity is not None:
                subject = ctx.identity.resolve(cmd.system, cmd.external_subject)
        raw_row = {"subject": str(subject), **cmd.values}
        if subject is None:
            bad = Rejected(f"unresolved identity {cmd.system}:{cmd.external_subject}", "subject")
            _quarantine(uow, ctx, cmd.source, raw_row, bad)
            uow.commit()
            return False
        external = cmd.external_id or _digest(
            {"subject": str(subject), "at": cmd.occurred_at.isoformat(), **cmd.values}
        )
        result = to_evidence(
            plan,
            cmd.evidence_type,
            subject=subject,
            source=cmd.source,
            external_id=external,
            occurred_at=cmd.occurred_at,
            fields=cmd.values,
            recorded_at=now,
            idempotency_key=cmd.idempotency_key,
        )
        if isinstance(result, Rejected):
            _quarantine(uow, ctx, cmd.source, raw_row, result)
            uow.commit()
            return False
        stale = _Touched()
        outcome = _store(uow, ctx, plan, result, stale)
        _emit_stale(uow, stale)
        uow.commit()
        return outcome == "accepted"


def _emit_stale(uow: AbstractUnitOfWork, stale: _Touched) -> None:
    if stale.pairs:
        uow.emit(ScorecardsStale(_ordered(stale.pairs), _ordered(stale.days)))


def _ordered(pairs: set[tuple[SubjectRef, str]]) -> tuple[tuple[SubjectRef, str], ...]:
    return tuple(sorted(pairs, key=lambda p: (p[1], str(p[0]))))


def _source(plan: Plan, name: str) -> SourceSpec:
    spec = plan.spec.sources.get(name)
    if spec is None:
        raise NotFound(
            f"unknown source {name!r}", field="source", valid=did_you_mean(name, plan.spec.sources)
        )
    return spec


def _ingest_rows(
    uow: AbstractUnitOfWork,
    ctx: Context,
    plan: Plan,
    name: str,
    spec: SourceSpec,
    rows: Iterable[tuple[Mapping[str, object], str]],
) -> IngestResult:
    now = ctx.clock.now()
    read = accepted = duplicates = rejected = 0
    stale = _Touched()
    for row, given_id in rows:
        read += 1
        mapped = map_row(row, spec, plan, ctx.identity)
        if isinstance(mapped, Rejected):
            _quarantine(uow, ctx, name, row, mapped)
            rejected += 1
            continue
        assert isinstance(mapped, Mapped)
        result = to_evidence(
            plan,
            spec.evidence,
            subject=mapped.subject,
            source=name,
            external_id=given_id or mapped.external_id,
            occurred_at=mapped.occurred_at,
            fields=mapped.fields,
            recorded_at=now,
        )
        if isinstance(result, Rejected):
            _quarantine(uow, ctx, name, row, result)
            rejected += 1
            continue
        outcome = _store(uow, ctx, plan, result, stale)
        if outcome == "accepted":
            accepted += 1
        elif outcome == "duplicate":
            duplicates += 1
        else:
            rejected += 1
    _emit_stale(uow, stale)
    return IngestResult(read, accepted, duplicates, rejected)


def ingest_batch(cmd: IngestBatch, ctx: Context) -> IngestResult:
    """Map and store raw rows from a plan source in one unit of work."""
    plan: Plan = ctx.plan()
    spec = _source(plan, cmd.source)
    with ctx.uow as uow:
        result = _ingest_rows(uow, ctx, plan, cmd.source, spec, ((r, "") for r in cmd.rows))
        uow.emit(
            SourceSynced(
                cmd.source,
                cmd.stream or spec.stream,
                result.read,
                result.accepted + result.duplicates,
                result.rejected,
            )
        )
        uow.commit()
    return result


def sync_source(cmd: SyncSource, ctx: Context) -> IngestResult:
    """Pull new records from the source's ``EvidenceSource`` from its bookmark.

    Runs :func:`perfcore.plugins.sync.run_sync` with a sink that ingests each batch *and* stores
    the batch state as the bookmark in one unit of work, so a crash never loses or duplicates
    records. The source instance comes from ``ctx.sources[name]`` or is built by kind through
    ``ctx.plugins``. A source error is re-raised after the committed batches are kept."""
    from perfcore.plugins.sync import NoHooks, run_sync
    from perfcore.ports.sources import RecordBatch, SourceState

    plan: Plan = ctx.plan()
    spec = _source(plan, cmd.source)
    source = ctx.sources.get(cmd.source)
    if source is None and ctx.plugins is not None and spec.kind:
        source = ctx.plugins.sources.create(spec.kind, spec.config, path=f"sources.{cmd.source}")
        ctx.sources[cmd.source] = source
    if source is None:
        raise NotFound(
            f"no evidence source available for {cmd.source!r}",
            field=f"sources.{cmd.source}.kind",
            valid="a source instance passed to bootstrap(sources=...) or a plugin kind",
        )
    stream = spec.stream or cmd.source
    with ctx.uow as uow:
        stored = uow.bookmarks.get(cmd.source, stream, "")
    state = SourceState.from_dict(stored.state) if stored is not None else None  # type: ignore[arg-type]
    totals = [0, 0, 0, 0]

    def sink(batch: RecordBatch) -> None:
        rows: list[tuple[Mapping[str, object], str]] = []
        for record in batch.records:
            row = dict(record.data)
            row.setdefault(spec.occurred_at.field, record.occurred_at)
            rows.append((row, "" if spec.id else record.external_id))
        with ctx.uow as uow:
            part = _ingest_rows(uow, ctx, plan, cmd.source, spec, rows)
            for rej in batch.rejections:
                raw = {"location": rej.location, "column": rej.column, "raw": rej.raw}
                _quarantine(uow, ctx, cmd.source, raw, Rejected(rej.reason, rej.column))
            uow.bookmarks.put(
                SourceBookmark(cmd.source, stream, "", batch.state.to_dict(), ctx.clock.now())
            )
            uow.commit()
        totals[0] += part.read + len(batch.rejections)
        totals[1] += part.accepted
        totals[2] += part.duplicates
        totals[3] += part.rejected + len(batch.rejections)

    hooks = ctx.plugins if ctx.plugins is not None else NoHooks()
    result = run_sync(source, stream, state, sink, hooks, source_name=cmd.source)
    total = IngestResult(*totals)
    with ctx.uow as uow:
        uow.emit(
            SourceSynced(
                cmd.source, stream, total.read, total.accepted + total.duplicates, total.rejected
            )
        )
        uow.commit()
    if result.error is not None:
        raise result.error
    return total
