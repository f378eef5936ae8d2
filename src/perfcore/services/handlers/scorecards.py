"""ComputeScorecards and the incremental refresh when evidence arrives.

A scorecard is computed for one (subject, period) from that subject's evidence; the record keeps
every indicator value and the plan version used (``uow.plans.record_scoring``).

Plan versions and history: late evidence for a period that was already scored re-scores it with
**the plan version that scored it** (the rules a person was measured by do not change behind
their back); a period scored for the first time uses the current version; an explicit
``ComputeScorecards`` re-scores with the current version and records that. Only the
(subject, period) pairs touched by new evidence are refreshed (``ScorecardsStale``).
"""

from __future__ import annotations

from perfcore.domain.events import ScorecardComputed, ScorecardsStale
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.ports.records import PeriodScoring
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import ComputeScorecards
from perfcore.services.context import Context
from perfcore.services.measuring import evidence_for, score_subject
from perfcore.services.records import ScorecardRecord

__all__ = ["compute_scorecards", "refresh_on_evidence", "score_into"]


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
    repeating a computation raises nothing new)."""
    evidence = evidence_for(uow, plan, subject, period)
    values, card, count = score_subject(plan, subject, period, evidence)
    if version is None:
        latest = uow.plans.latest()
        version = latest.number if latest is not None else 0
    now = ctx.clock.now()
    record = ScorecardRecord(subject, period.key, version, now, values, card, count)
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
        uow.commit()
    return out


def refresh_on_evidence(event: ScorecardsStale, ctx: Context) -> None:
    """Event handler: refresh the scorecards of the (subject, period) pairs new evidence
    touched — and only those."""
    current: Plan = ctx.plan()
    with ctx.uow as uow:
        for subject, key in event.pairs:
            found = _plan_that_scored(uow, ctx, subject, key)
            if found is None:
                score_into(uow, ctx, current, subject, Period.parse(key), incremental=True)
            else:
                plan, number = found
                period = Period.parse(key)
                score_into(uow, ctx, plan, subject, period, number, incremental=True)
        uow.commit()
