"""ComputeScorecards and the incremental refresh when evidence arrives.

A scorecard is computed for one (subject, period) from that subject's evidence; the record keeps
every indicator value and the plan version used (``uow.plans.record_scoring``).

Plan versions and history: late evidence for a period that was already scored re-scores it with
**the plan version that scored it** (the rules a person was measured by do not change behind
their back); a period scored for the first time uses the current version; an explicit
``ComputeScorecards`` re-scores with the current version and records that. Only the
(subject, period) pairs touched by new evidence are refreshed (``ScorecardsStale``).

Closed periods (``ClosePeriod``) are never re-scored by the refresh; evidence landing in them is
stored and the subject is *held* on the ``ClosedPeriod`` record until an explicit
``ComputeScorecards`` of the period, which re-scores it and clears the hold.
"""

from __future__ import annotations

from attrs import evolve

from perfcore.domain.events import ScorecardComputed, ScorecardsStale
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.ports.records import PeriodScoring
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import ClosePeriod, ComputeScorecards
from perfcore.services.context import Context
from perfcore.services.measuring import evidence_for, score_subject
from perfcore.services.records import ClosedPeriod, ScorecardRecord

__all__ = ["close_period", "compute_scorecards", "refresh_on_evidence", "score_into"]


def _plan_that_scored(
    uow: AbstractUnitOfWork, ctx: Context, subject: SubjectRef, period_key: str
) -> tuple[Plan, int] | None:
    for scoring in uow.plans.scorings(period_key=period_key):
        if scoring.subject == subject:
            version = uow.plans.get(scoring.plan_version)
            if version is not None:
                return ctx.plan_for(version), version.number
    return None


def score_into(
    uow: AbstractUnitOfWork,
    ctx: Context,
    plan: Plan,
    subject: SubjectRef,
    period: Period,
    version: int | None = None,
    *,
    incremental: bool = False,
) -> ScorecardRecord:
    """Compute and store one scorecard inside an open unit of work with ``plan`` (version
    ``version``, default the latest); emits ScorecardComputed when the result changed (so
    repeating a computation raises nothing new). A subject without any evidence that can count
    for the period gets no scorecard: one stored earlier is removed (a correction moved its
    last record to another period), and the empty record is returned unstored."""
    evidence = evidence_for(uow, plan, subject, period)
    values, card, count = score_subject(plan, subject, period, evidence)
    if version is None:
        latest = uow.plans.latest()
        version = latest.number if latest is not None else 0
    now = ctx.clock.now()
    record = ScorecardRecord(subject, period.key, version, now, values, card, count)
    if not evidence:
        uow.scorecards.remove(subject, period.key)
        return record
    previous: ScorecardRecord | None = uow.scorecards.get(subject, period.key)
    uow.scorecards.put(subject, period.key, record)
    uow.plans.record_scoring(PeriodScoring(subject, period.key, version, now))
    changed = (
        previous is None
        or previous.values != record.values
        or previous.total != record.total
        or previous.plan_version != version
    )
    if changed:
        uow.emit(ScorecardComputed(subject, period.key, version, record.total, incremental))
    return record


def compute_scorecards(cmd: ComputeScorecards, ctx: Context) -> list[ScorecardRecord]:
    """(Re)compute the requested scorecards; returns them in (period, subject) order."""
    plan: Plan = ctx.plan()
    periods = [Period.parse(k, field="period_keys") for k in cmd.period_keys] or [
        plan.period_of(ctx.clock.now())
    ]
    out: list[ScorecardRecord] = []
    with ctx.uow as uow:
        for period in periods:
            subjects = list(cmd.subjects)
            if not subjects:
                start, end = period.bounds(plan.tz)
                subjects = sorted(
                    {e.subject for e in uow.evidence.list(start=start, end=end)}, key=str
                )
            out.extend(score_into(uow, ctx, plan, s, period) for s in subjects)
            _release(uow, period.key, subjects, everyone=not cmd.subjects)
        uow.commit()
    return out


def _release(
    uow: AbstractUnitOfWork, key: str, subjects: list[SubjectRef], *, everyone: bool
) -> None:
    """An explicit recompute of a closed period clears the hold of the subjects it scored."""
    closed: ClosedPeriod | None = uow.periods.get(key)
    if closed is None or not closed.held:
        return
    done = {str(s) for s in subjects}
    held = () if everyone else tuple(h for h in closed.held if h not in done)
    if held != closed.held:
        uow.periods.add(key, evolve(closed, held=held))


def close_period(cmd: ClosePeriod, ctx: Context) -> ClosedPeriod | None:
    """Close (or, with ``reopen``, open again) a period; returns the stored record (``None``
    after a reopen, which refreshes the held subjects). Closing a closed period keeps the first
    record.

    Raises:
        InvalidPeriod: ``period_key`` is not a period key (field ``period_key``).
    """
    period = Period.parse(cmd.period_key, field="period_key")
    with ctx.uow as uow:
        existing: ClosedPeriod | None = uow.periods.get(period.key)
        if cmd.reopen:
            if existing is not None:
                uow.periods.add(period.key, None)
                if existing.held:  # what was held is refreshed now that the period is open
                    pairs = tuple((SubjectRef.parse(h), period.key) for h in existing.held)
                    uow.emit(ScorecardsStale(pairs))
                uow.commit()
            return None
        if existing is not None:
            return existing
        record = ClosedPeriod(period.key, ctx.clock.now(), cmd.by, cmd.reason)
        uow.periods.add(period.key, record)
        uow.commit()
    return record


def refresh_on_evidence(event: ScorecardsStale, ctx: Context) -> None:
    """Event handler: refresh the scorecards of the (subject, period) pairs new evidence
    touched — and only those."""
    current: Plan = ctx.plan()
    with ctx.uow as uow:
        closed: dict[str, bool] = {}
        for subject, key in event.pairs:
            if key not in closed:
                closed[key] = uow.periods.get(key) is not None
            if closed[key]:
                continue  # held until an explicit recompute (see the evidence handlers)
            found = _plan_that_scored(uow, ctx, subject, key)
            if found is None:
                score_into(uow, ctx, current, subject, Period.parse(key), incremental=True)
            else:
                plan, number = found
                period = Period.parse(key)
                score_into(uow, ctx, plan, subject, period, number, incremental=True)
        uow.commit()
