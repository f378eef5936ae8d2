"""Scorecards from push-down values, and the incremental refresh.

:func:`score_periods` computes indicator values with :mod:`perfcore_adapters.sqlalchemy.pushdown`,
builds the domain scorecards and stores them; :func:`refresh_dirty` recomputes only the
(subject, period) pairs touched by evidence written after the ``scored_through_seq`` watermark —
new rows, the rows a correction superseded, and the later, already scored periods whose cumulative
window reads a touched day (:mod:`perfcore.services.staleness`) — and advances the watermark in
the same transaction (a crash repeats the refresh rather than skipping it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from perfcore.domain.scorecard import build_scorecard
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.ports.records import PeriodScoring
from perfcore.services.records import ScorecardRecord
from perfcore.services.staleness import has_cumulative, later_periods_reaching
from perfcore_adapters.sqlalchemy import mappers as m
from perfcore_adapters.sqlalchemy import tables as t
from perfcore_adapters.sqlalchemy.pushdown import _check_zone, _compute, _zone_name
from perfcore_adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork

__all__ = ["dirty_pairs", "refresh_dirty", "score_periods"]

_E = t.evidence


def score_periods(
    uow: SqlAlchemyUnitOfWork,
    plan: Plan,
    periods: Sequence[Period],
    *,
    subjects: Sequence[SubjectRef] | None = None,
    now: dt.datetime | None = None,
    store: bool = True,
) -> list[ScorecardRecord]:
    """Compute (push-down) and store the scorecards of ``periods`` inside an open unit of work.

    Each record holds every indicator value, the domain scorecard (``None`` when the plan has no
    objectives), the evidence count and the latest plan version; the plan repository records
    which version scored each pair. A pair asked for (``subjects``) without any evidence
    behind its values gets no scorecard: one stored earlier is removed (a correction moved its
    last record away) and its record is left out of the result. The caller commits. Returns
    records in (period, subject) order."""
    conn = uow.connection
    uow.evidence.flush()
    when = now or uow.now()
    if _zone_name(plan.tz) != _zone_name(uow.period_tz()):
        _check_zone(conn, plan)  # raises with the stored zone
    values, counts, present = _compute(conn, plan, periods, subjects, uow.slot_layout())
    latest = uow.plans.latest()
    version = latest.number if latest is not None else 0
    by_key = {p.key: p for p in periods}
    records: list[ScorecardRecord] = []
    for (subject, key), ivalues in values.items():
        if (subject, key) not in present:
            if store:
                uow.scorecards.remove(subject, key)
            continue
        period = by_key[key]
        card = None
        if plan.scorecard:
            versions = plan.versions_for(period)
            card = build_scorecard(
                subject,
                period,
                {n: versions[n] for n in plan.scorecard},
                {n: ivalues[n] for n in plan.scorecard},
                plan.weights,
                objective_of=plan.objective_of,
                objective_weights=plan.objective_weights,
            )
        numbers = {n: v.value for n, v in ivalues.items()}
        records.append(
            ScorecardRecord(
                subject, key, version, when, numbers, card, counts.get((subject, key), 0)
            )
        )
    if store:
        uow.scorecards.put_many([(r.subject, r.period_key, r) for r in records])
        uow.plans.record_scorings(
            [PeriodScoring(r.subject, r.period_key, version, when) for r in records]
        )
    return records


_WATERMARK = "scored_through_seq"
_WRITTEN_AFTER = sa.select(
    _E.c.seq, _E.c.subject_kind, _E.c.subject_id, _E.c.period_day, _E.c.supersedes
).where(_E.c.seq > sa.bindparam("mark"))
_SCORED_KEYS_OF = sa.select(
    t.period_scorings.c.subject_kind,
    t.period_scorings.c.subject_id,
    t.period_scorings.c.period_key,
).where(
    t.period_scorings.c.subject_kind == sa.bindparam("kind"),
    t.period_scorings.c.subject_id == sa.bindparam("ident"),
)


def dirty_pairs(
    uow: SqlAlchemyUnitOfWork, plan: Plan
) -> tuple[set[tuple[SubjectRef, Period]], int]:
    """The (subject, period of the plan's grain) pairs touched by evidence written after the
    watermark — new rows and the rows their corrections superseded — and the highest ``seq``
    seen (the next watermark)."""
    conn = uow.connection
    uow.evidence.flush()
    mark = int(uow.setting(_WATERMARK) or 0)
    days: set[tuple[str, str, str]] = set()
    replaced: list[str] = []
    top = mark
    for seq, kind, ident, day, supersedes in conn.execute(_WRITTEN_AFTER, {"mark": mark}):
        top = max(top, int(seq))
        days.add((kind, ident, day))
        if supersedes:
            replaced.append(supersedes)
    for i in range(0, len(replaced), 500):
        old = sa.select(_E.c.subject_kind, _E.c.subject_id, _E.c.period_day).where(
            _E.c.idempotency_key.in_(replaced[i : i + 500])
        )
        days.update((k, i2, d) for k, i2, d in conn.execute(old))
    pairs: set[tuple[SubjectRef, Period]] = set()
    latest: dict[tuple[str, str, Period], dt.date] = {}
    for kind, ident, day in days:
        date = dt.date.fromisoformat(day)
        period = Period.containing(plan.period_kind, date)
        pairs.add((m.subject_from(kind, ident), period))
        at = (kind, ident, period)
        latest[at] = max(latest.get(at, date), date)
    if latest and has_cumulative(plan):
        pairs |= _later_scored(conn, plan, latest)
    return pairs, top


def _later_scored(
    conn: sa.Connection, plan: Plan, latest: dict[tuple[str, str, Period], dt.date]
) -> set[tuple[SubjectRef, Period]]:
    """Already scored later periods whose cumulative window reads a touched day (``latest``:
    the last touched day per subject and period)."""
    ps = t.period_scorings
    wanted = {(k, i) for k, i, _p in latest}
    scored: dict[tuple[str, str], set[str]] = {}
    if len(wanted) == 1:  # the common case of a live refresh: one statement, built once
        ((kind, ident),) = wanted
        rows = conn.execute(_SCORED_KEYS_OF, {"kind": kind, "ident": ident})
    else:
        stmt = sa.select(ps.c.subject_kind, ps.c.subject_id, ps.c.period_key)
        if len(wanted) <= 500:  # the touched subjects' rows only, not every scoring
            stmt = stmt.where(sa.tuple_(ps.c.subject_kind, ps.c.subject_id).in_(sorted(wanted)))
        rows = conn.execute(stmt)
    for kind, ident, key in rows:
        if (kind, ident) in wanted:
            scored.setdefault((kind, ident), set()).add(key)
    out: set[tuple[SubjectRef, Period]] = set()
    for (kind, ident, _period), day in latest.items():
        keys = scored.get((kind, ident))
        if not keys:
            continue
        until = max(Period.parse(k).end for k in keys)
        for later in later_periods_reaching(plan, day, until):
            if later.key in keys:
                out.add((m.subject_from(kind, ident), later))
    return out


def refresh_dirty(
    uow: SqlAlchemyUnitOfWork, plan: Plan, *, now: dt.datetime | None = None
) -> list[ScorecardRecord]:
    """Recompute only the scorecards whose (subject, period) evidence changed since the last
    refresh, store them and advance the watermark (all in the caller's unit of work)."""
    pairs, top = dirty_pairs(uow, plan)
    by_period: dict[Period, list[SubjectRef]] = {}
    for subject, period in pairs:
        by_period.setdefault(period, []).append(subject)
    out: list[ScorecardRecord] = []
    for period, subjects in sorted(by_period.items(), key=lambda kv: kv[0].key):
        out.extend(score_periods(uow, plan, [period], subjects=sorted(subjects, key=str), now=now))
    uow.set_setting(_WATERMARK, str(top))
    return out
