"""RecordEvidence, IngestBatch and SyncSource: evidence in, idempotently, with quarantine.

Every input record is either accepted (stored under its idempotency key; a repeat is a no-op) or
quarantined with a reason — read = accepted + rejected + duplicates, reported in
``SourceSynced``. Accepted records emit ``EvidenceRecorded`` with the period keys they touch, so
that scorecards are refreshed only for those (subject, period) pairs.

Corrections (perfcore's rule): version n+1 of a record supersedes version n, which stays
stored for audit; the refresh touches the period of the old *and* the new version. A correction
that does not follow the current version is a conflict, quarantined with the reason. Periods that
are closed (``ClosePeriod``) are not re-scored by new evidence: the pair is *held* (listed on the
``ClosedPeriod`` record) until an explicit ``ComputeScorecards``. Late evidence also re-scores the
later, already scored periods whose cumulative indicators read its day
(:mod:`perfcore.services.staleness`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping

from attrs import define, evolve, field, frozen

from perfcore.domain.errors import NotFound
from perfcore.domain.events import (
    EvidenceRecorded,
    EvidenceRejected,
    ScorecardsStale,
    SourceSynced,
)
from perfcore.domain.evidence import (
    EvidenceRecord,
    Rejection,
    default_idempotency_key,
    validate_record,
)
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.plan.model import SourceSpec
from perfcore.plan.problems import did_you_mean
from perfcore.ports.records import QuarantinedRecord, SourceBookmark
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import CorrectEvidence, IngestBatch, RecordEvidence, SyncSource
from perfcore.services.context import Context
from perfcore.services.ingest import (
    SOURCE_LINE,
    Mapped,
    Rejected,
    RowMapper,
    map_row,
    period_keys,
    to_evidence,
)
from perfcore.services.records import AcceptedEvidence, ClosedPeriod
from perfcore.services.staleness import has_cumulative, later_periods_reaching

__all__ = [
    "CorrectionResult",
    "IngestResult",
    "correct_evidence",
    "ingest_batch",
    "record_evidence",
    "sync_source",
]


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


@frozen
class CorrectionResult:
    """What a correction did.

    - ``outcome``: ``"corrected"``, ``"duplicate"`` (this exact version was already stored) or
      ``"rejected"`` (quarantined; ``reason`` says why, e.g. a stale version).
    - ``key`` / ``version``: the new version's idempotency key and number.
    - ``rescored``: the open period keys whose scorecards were marked stale (the old and the new
      version's period, and later periods whose cumulative window reads them).
    - ``held``: closed period keys touched by the correction: stored, *not* re-scored until an
      explicit ``ComputeScorecards``.
    """

    outcome: str
    key: str
    version: int
    reason: str = ""
    rescored: tuple[str, ...] = ()
    held: tuple[str, ...] = ()


@define
class _Touched:
    """What one ingest touched: (subject, period key) pairs and (subject, ISO day) pairs; after
    :func:`_emit_stale`, ``held`` are the pairs of closed periods and ``rescored`` the others."""

    pairs: set[tuple[SubjectRef, str]] = field(factory=set)
    days: set[tuple[SubjectRef, str]] = field(factory=set)
    held: set[tuple[SubjectRef, str]] = field(factory=set)
    rescored: set[tuple[SubjectRef, str]] = field(factory=set)

    def touch(self, plan: Plan, ev: AcceptedEvidence) -> str:
        """Mark ``ev``'s period and day; returns the period key."""
        key, day = period_keys(plan)(ev.occurred_at)
        self.pairs.add((ev.subject, key))
        self.days.add((ev.subject, day))
        return key


def _same(a: AcceptedEvidence, b: AcceptedEvidence) -> bool:
    return (
        a.subject,
        a.evidence_type,
        a.occurred_at,
        dict(a.values),
        a.version,
        a.supersedes,
    ) == (b.subject, b.evidence_type, b.occurred_at, dict(b.values), b.version, b.supersedes)


def _chain_problem(uow: AbstractUnitOfWork, ev: AcceptedEvidence) -> Rejected | AcceptedEvidence:
    """The current version a correction supersedes, or why it may not (a conflict)."""
    versions: list[AcceptedEvidence] = uow.evidence.versions(ev.source, ev.external_id)
    if not versions:
        return Rejected(
            f"conflict: correction (version {ev.version}) of {ev.source}/{ev.external_id}, "
            "which has no recorded original; record version 1 first",
            "supersedes",
        )
    current = versions[-1]
    if ev.version != current.version + 1 or ev.supersedes != current.key:
        kind = "stale" if ev.version <= current.version else "skipped"
        return Rejected(
            f"conflict: {kind} correction (version {ev.version} superseding "
            f"{ev.supersedes!r}) of {ev.source}/{ev.external_id}; the current version is "
            f"{current.version} (key {current.key!r}): send version {current.version + 1} "
            f"with supersedes={current.key!r}",
            "version" if ev.supersedes == current.key else "supersedes",
        )
    return current


def _store(
    uow: AbstractUnitOfWork,
    ctx: Context,
    plan: Plan,
    record: EvidenceRecord | AcceptedEvidence,
    stale: _Touched,
) -> tuple[str, str]:
    """Store one validated record: ``("accepted" | "corrected" | "duplicate" | "rejected",
    reason)``. The same key with different content is rejected (a correction must be a new
    version), and so is a correction that does not follow the current version."""
    ev = record if isinstance(record, AcceptedEvidence) else AcceptedEvidence.from_record(record)
    existing: AcceptedEvidence | None = uow.evidence.get_by_idempotency_key(ev.key)
    if existing is not None and _same(existing, ev):
        return "duplicate", ""
    old: AcceptedEvidence | None = None
    if ev.version > 1:
        found = _chain_problem(uow, ev)
        if isinstance(found, Rejected):
            _quarantine(uow, ctx, ev.source, _payload(ev), found)
            return "rejected", found.reason
        old = found
    if existing is not None:
        reason = (
            f"conflicts with the stored record {ev.key!r} (same source and external id, "
            "different content); send a correction as a new version"
        )
        _quarantine(uow, ctx, ev.source, _payload(ev), Rejected(reason, "external_id"))
        return "rejected", reason
    uow.evidence.add(
        ev.key, ev, subject=ev.subject, evidence_type=ev.evidence_type, at=ev.occurred_at
    )
    keys = [stale.touch(plan, ev)]
    if old is not None:
        old_key = stale.touch(plan, old)
        if old_key not in keys:
            keys.append(old_key)
    uow.emit(EvidenceRecorded(ev.key, ev.subject, ev.evidence_type, ev.occurred_at, tuple(keys)))
    return ("accepted" if old is None else "corrected"), ""


def _payload(ev: AcceptedEvidence) -> dict[str, object]:
    chain = {"version": str(ev.version), "supersedes": ev.supersedes} if ev.version > 1 else {}
    return {
        "subject": str(ev.subject),
        "external_id": ev.external_id,
        "occurred_at": ev.occurred_at.isoformat(),
        **chain,
        **{k: v if isinstance(v, str) else str(v) for k, v in ev.values.items()},
    }


def _quarantine(
    uow: AbstractUnitOfWork, ctx: Context, source: str, row: Mapping[str, object], bad: Rejected
) -> None:
    key = f"{source}:{_digest({k: v for k, v in row.items() if k != SOURCE_LINE})}"
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
        if cmd.version != 1 or cmd.supersedes:
            result = _versioned(
                plan,
                cmd.evidence_type,
                subject=subject,
                source=cmd.source,
                external_id=external,
                occurred_at=cmd.occurred_at,
                fields=cmd.values,
                recorded_at=now,
                idempotency_key=cmd.idempotency_key,
                version=cmd.version,
                supersedes=cmd.supersedes,
            )
        else:
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
        outcome, _reason = _store(uow, ctx, plan, result, stale)
        _emit_stale(uow, ctx, plan, stale)
        uow.commit()
        return outcome in ("accepted", "corrected")


def _versioned(
    plan: Plan,
    evidence_type: str,
    *,
    subject: SubjectRef,
    source: str,
    external_id: str,
    occurred_at: dt.datetime,
    fields: Mapping[str, object],
    recorded_at: dt.datetime,
    version: int,
    supersedes: str = "",
    idempotency_key: str = "",
) -> EvidenceRecord | Rejected:
    """Like :func:`perfcore.services.ingest.to_evidence`, for a version > 1 (a correction):
    the domain's ``validate_record`` checks the version and defaults ``supersedes`` to the
    default key of version − 1."""
    raw: dict[str, object] = {
        "subject": subject,
        "source": source,
        "external_id": external_id,
        "occurred_at": occurred_at,
        "version": version,
        "fields": {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()},
    }
    if supersedes:
        raw["supersedes"] = supersedes
    if idempotency_key:
        raw["idempotency_key"] = idempotency_key
    result = validate_record(plan.evidence_types[evidence_type], raw, recorded_at=recorded_at)
    return Rejected.of(result) if isinstance(result, Rejection) else result


def correct_evidence(cmd: CorrectEvidence, ctx: Context) -> CorrectionResult:
    """Write version n+1 of the stored record ``cmd.key`` (see :class:`CorrectEvidence`).

    Raises:
        NotFound: no evidence is stored under ``cmd.key`` (field ``key``).
    """
    plan: Plan = ctx.plan()
    now = ctx.clock.now()
    with ctx.uow as uow:
        old: AcceptedEvidence | None = uow.evidence.get_by_idempotency_key(cmd.key)
        if old is None:
            raise NotFound(
                f"no evidence with key {cmd.key!r}",
                field="key",
                valid="the idempotency key of a stored evidence record",
            )
        version = old.version + 1
        result = _versioned(
            plan,
            old.evidence_type,
            subject=cmd.subject or old.subject,
            source=old.source,
            external_id=old.external_id,
            occurred_at=cmd.occurred_at or old.occurred_at,
            fields={**old.values, **cmd.values},
            recorded_at=now,
            version=version,
            supersedes=old.key,
        )
        if isinstance(result, Rejected):
            row = {"key": cmd.key, **cmd.values}
            _quarantine(uow, ctx, old.source, row, result)
            uow.commit()
            return CorrectionResult("rejected", "", version, result.reason)
        stale = _Touched()
        outcome, reason = _store(uow, ctx, plan, result, stale)
        _emit_stale(uow, ctx, plan, stale)
        uow.commit()
    return CorrectionResult(
        outcome,
        result.key,
        version,
        reason,
        tuple(sorted({k for _s, k in stale.rescored})),
        tuple(sorted({k for _s, k in stale.held})),
    )


def _closed(uow: AbstractUnitOfWork, cache: dict[str, ClosedPeriod | None], key: str) -> bool:
    if key not in cache:
        cache[key] = uow.periods.get(key)
    return cache[key] is not None


def _emit_stale(uow: AbstractUnitOfWork, ctx: Context, plan: Plan, stale: _Touched) -> None:
    """Emit ``ScorecardsStale`` for what ``stale`` touched: its pairs, plus the later scored
    periods whose cumulative window reads a touched day; pairs and days of closed periods are
    held instead (listed on their ``ClosedPeriod``), not re-scored."""
    if not stale.pairs:
        return
    pairs = set(stale.pairs)
    if has_cumulative(plan):
        until = ctx.clock.now().astimezone(plan.tz).date()
        latest: dict[tuple[SubjectRef, str], dt.date] = {}
        month_of: dict[str, tuple[dt.date, str]] = {}
        for subject, day in stale.days:
            found = month_of.get(day)
            if found is None:
                date = dt.date.fromisoformat(day)
                found = month_of[day] = (date, Period.containing(plan.period_kind, date).key)
            date, key = found
            at = (subject, key)
            latest[at] = max(latest.get(at, date), date)
        # per batch: the later periods of each day once, and (where the repository can) the
        # scored subjects of each such period with one query instead of one per pair
        reach: dict[dt.date, tuple[str, ...]] = {}
        scored_in = getattr(uow.scorecards, "scored_subjects", None)
        scored: dict[str, set[SubjectRef]] = {}
        for (subject, _key), date in latest.items():
            later = reach.get(date)
            if later is None:
                keys = list(_later_keys(plan, date, until))
                if scored_in is not None:  # periods nobody was scored in are left out at once
                    for k in keys:
                        if k not in scored:
                            scored[k] = scored_in(k)
                    keys = [k for k in keys if scored[k]]
                later = reach[date] = tuple(keys)
            for period_key in later:
                pair = (subject, period_key)
                if pair in pairs:
                    continue
                if scored_in is None:
                    if uow.scorecards.get(subject, period_key) is not None:
                        pairs.add(pair)
                elif subject in scored[period_key]:
                    pairs.add(pair)
    cache: dict[str, ClosedPeriod | None] = {}
    stale.held = {p for p in pairs if _closed(uow, cache, p[1])}
    stale.rescored = pairs - stale.held
    days = stale.days
    if stale.held:
        days = {
            (s, d)
            for s, d in stale.days
            if not _closed(
                uow, cache, Period.containing(plan.period_kind, dt.date.fromisoformat(d)).key
            )
        }
        for key in sorted({k for _s, k in stale.held}):
            closed = cache[key]
            assert closed is not None
            held_now = {str(s) for s, k in stale.held if k == key}
            merged = tuple(sorted(set(closed.held) | held_now))
            if merged != closed.held:
                uow.periods.add(key, evolve(closed, held=merged))
    if stale.rescored:
        uow.emit(ScorecardsStale(_ordered(stale.rescored), _ordered(days)))


def _ordered(pairs: set[tuple[SubjectRef, str]]) -> tuple[tuple[SubjectRef, str], ...]:
    """By period, then subject text (``kind:id``; kinds and ids compared in that order give the
    same order without building the text)."""
    return tuple(sorted(pairs, key=lambda p: (p[1], p[0].kind, p[0].id)))


_LATER: dict[tuple[str, dt.date, dt.date], tuple[str, ...]] = {}


def _later_keys(plan: Plan, day: dt.date, until: dt.date) -> tuple[str, ...]:
    """:func:`later_periods_reaching` as period keys, remembered per (plan text, day, until):
    ingest asks it for every touched day of every batch."""
    key = (plan.content_hash, day, until)
    found = _LATER.get(key)
    if found is None:
        if len(_LATER) > 8192:
            _LATER.clear()
        found = _LATER[key] = tuple(p.key for p in later_periods_reaching(plan, day, until))
    return found


def revision_key(source: str, external_id: str, revision: int) -> str:
    """The idempotency key of revision ``revision`` of a record from a source with a
    ``version`` column: ``<source>:<external id>:r<revision>`` (parts escaped as in
    :func:`~perfcore.domain.evidence.default_idempotency_key`)."""
    return default_idempotency_key(source, external_id, 1)[: -len(":v1")] + f":r{revision}"


def _revision_of(key: str) -> int:
    """The source revision a stored key carries (``…:r3`` → 3); 0 for a key without one (stored
    before the source had a ``version`` column, or through another path)."""
    head, sep, tail = key.rpartition(":r")
    return int(tail) if sep and head and tail.isdigit() else 0


def _revised(
    uow: AbstractUnitOfWork, ev: AcceptedEvidence, revision: int, spec: SourceSpec
) -> AcceptedEvidence | Rejected | None:
    """Where revision ``revision`` of ``ev``'s record goes (sources with a ``version`` column):
    the record to store, a rejection (field path: the version column), or ``None`` for a
    duplicate.

    - This revision is stored already: a duplicate with the same values, else refused.
    - No version of the record is stored: an original (version 1) under the revision's key.
    - A higher revision than the current one: the next version, superseding it — also when its
      values are the same (the source's revision order is kept), except over a version stored
      without a revision (revision 0), which the same values merely confirm.
    - A lower revision: a duplicate with the current values, else refused as stale.
    """
    key = revision_key(ev.source, ev.external_id, revision)
    stored: AcceptedEvidence | None = uow.evidence.get_by_idempotency_key(key)
    versions: list[AcceptedEvidence] = uow.evidence.versions(ev.source, ev.external_id)
    current = versions[-1] if versions else None
    have = _revision_of(current.key) if current is not None else 0
    if stored is not None:
        if _content(stored) == _content(ev):
            return None
        return Rejected(
            f"revision {revision} of {ev.source}/{ev.external_id} is already stored with other "
            f"values (key {key!r}); send changed values as a revision higher than {have}",
            spec.version,
        )
    if current is None:
        return evolve(ev, key=key)
    same = _content(current) == _content(ev)
    if revision < have or (have == 0 and same):
        if same:
            return None
        return Rejected(
            f"stale revision {revision} of {ev.source}/{ev.external_id}: revision {have} is "
            f"stored (key {current.key!r}); send a revision higher than {have}",
            spec.version,
        )
    return evolve(ev, key=key, version=current.version + 1, supersedes=current.key)


def _content(ev: AcceptedEvidence) -> tuple[object, ...]:
    return (ev.subject, ev.evidence_type, ev.occurred_at, dict(ev.values))


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
    # rows the compiled mapper accepts skip map_row/to_evidence; their keys are looked up in
    # bulk first (one query per few hundred keys where the repository offers it)
    mapper = RowMapper(plan, name, spec, ctx.identity, now)
    batch = [(row, given_id, mapper.accept(row, given_id)) for row, given_id in rows]
    lookup = getattr(uow.evidence, "stored_keys", None)
    if lookup is not None:
        lookup([ev.key for _row, _id, ev in batch if ev is not None])
    for row, given_id, fast in batch:
        read += 1
        if fast is not None:
            outcome, _reason = _store(uow, ctx, plan, fast, stale)
            if outcome == "accepted":
                accepted += 1
            elif outcome == "duplicate":
                duplicates += 1
            else:
                rejected += 1
            continue
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
        record: EvidenceRecord | AcceptedEvidence = result
        if mapped.revision is not None:
            revised = _revised(uow, AcceptedEvidence.from_record(result), mapped.revision, spec)
            if isinstance(revised, Rejected):
                _quarantine(uow, ctx, name, row, revised)
                rejected += 1
                continue
            if revised is None:
                duplicates += 1
                continue
            record = revised
        outcome, _reason = _store(uow, ctx, plan, record, stale)
        if outcome in ("accepted", "corrected"):
            accepted += 1
        elif outcome == "duplicate":
            duplicates += 1
        else:
            rejected += 1
    _emit_stale(uow, ctx, plan, stale)
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
