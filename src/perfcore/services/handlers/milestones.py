"""Milestones (the NPI scenario) on the domain :class:`~perfcore.domain.milestone.Milestone`.

The plan declares each milestone (owner, due date, weight, deliverables, escalation targets);
``uow.milestones`` stores the domain ``Milestone`` once something happened to it (completion,
root cause). The static parts always come from the current plan, the recorded parts (completion
instant and local date, delivered files, root cause) from storage, so a re-planned due date or
weight applies while history stays.

- Lateness is counted in whole days of the plan's time zone (``Milestone.days_late``): a
  milestone due on the 10th is late from 00:00 local time on the 11th.
- A late completion needs a root-cause category (``InvalidValue`` on
  ``milestones[<id>].root_cause`` otherwise, listing the categories); deliverables are checked
  against their rules.
- ``TickClock`` escalates an open, late milestone once: to its owner and its escalation targets
  (the last one in ``escalate_to`` is the ``department_head``, the one before it the
  ``project_manager``), through the outbox (keys ``milestone:<id>:overdue:<person>``).
- :func:`milestone_report` gives the on-time rate (ratio of counts, or of weights).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from attrs import evolve

from perfcore.domain.deliverable import DeliverableMetadata, DeliverableRequirement
from perfcore.domain.errors import NotFound
from perfcore.domain.events import MilestoneOverdue
from perfcore.domain.milestone import EscalationTarget, Milestone, on_time_rate
from perfcore.domain.values import PERCENT_PLACES, SubjectRef, quantize
from perfcore.plan import Plan
from perfcore.plan.model import MilestoneSpec
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import CompleteMilestone
from perfcore.services.context import Context
from perfcore.services.notify import enqueue

__all__ = [
    "complete_milestone",
    "escalate_overdue",
    "milestone_report",
    "plan_milestone",
]


def _targets(spec: MilestoneSpec) -> tuple[EscalationTarget, ...]:
    roles = ["department_head", "project_manager"]
    out: list[EscalationTarget] = []
    for i, who in enumerate(reversed(spec.escalate_to)):
        role = roles[i] if i < len(roles) else "escalation"
        out.append(EscalationTarget(role, SubjectRef.person(who)))
    return tuple(reversed(out))


def plan_milestone(plan: Plan, milestone_id: str) -> Milestone:
    """The domain milestone the plan declares (nothing recorded yet).

    Raises:
        NotFound: unknown id (field ``milestone_id``; valid lists the plan's milestones).
    """
    spec = plan.spec.milestones.get(milestone_id)
    if spec is None:
        raise NotFound(
            f"unknown milestone {milestone_id!r}",
            field="milestone_id",
            valid=", ".join(plan.spec.milestones),
        )
    requirements = [DeliverableRequirement(name) for name in spec.deliverables]
    escalation = list(_targets(spec))
    return Milestone(
        id=milestone_id,
        title=spec.title or milestone_id,
        owner=SubjectRef.person(spec.owner),
        due=spec.due,
        weight=spec.weight,
        requirements=requirements,  # type: ignore[arg-type]  # attrs converter=tuple
        escalation=escalation,  # type: ignore[arg-type]
    )


def _current(uow: AbstractUnitOfWork, plan: Plan, milestone_id: str) -> Milestone:
    """The plan's milestone with what storage recorded for it."""
    declared = plan_milestone(plan, milestone_id)
    stored = uow.milestones.get(milestone_id)
    if not isinstance(stored, Milestone):
        return declared
    return evolve(
        declared,
        completed_at=stored.completed_at,
        completed_on=stored.completed_on,
        deliverables=stored.deliverables,
        root_cause=stored.root_cause,
        root_cause_note=stored.root_cause_note,
    )


def _files(cmd: CompleteMilestone) -> dict[str, DeliverableMetadata]:
    files = dict(cmd.files)
    for name in cmd.deliverables:
        files.setdefault(str(name), DeliverableMetadata(str(name), "application/octet-stream", 0))
    return files


def complete_milestone(cmd: CompleteMilestone, ctx: Context) -> bool:
    """Complete a milestone at ``completed_at`` (default now); returns whether it was on time
    (completed on or before its due date, local). A repeat keeps the first completion.

    Raises:
        NotFound: unknown milestone.
        InvalidValue: deliverables breaking their rules (``milestones[<id>].deliverables``);
            late without a root cause (``milestones[<id>].root_cause``, valid lists the
            categories); an unknown root cause.
    """
    plan: Plan = ctx.plan()
    with ctx.uow as uow:
        milestone = _current(uow, plan, cmd.milestone_id)
        if not milestone.is_completed:
            at = cmd.completed_at or ctx.clock.now()
            milestone = milestone.complete(
                at, plan.tz, _files(cmd), root_cause=cmd.root_cause or None, note=cmd.note
            )
            uow.milestones.add(cmd.milestone_id, milestone, subject=milestone.owner)
            uow.commit()
    return milestone.on_time() is True


def _due_at(milestone: Milestone, plan: Plan) -> dt.datetime:
    """The instant a milestone becomes late: 00:00 local on the day after its due date."""
    return dt.datetime.combine(milestone.due + dt.timedelta(days=1), dt.time(), plan.tz)


def escalate_overdue(uow: AbstractUnitOfWork, plan: Plan, now: dt.datetime) -> int:
    """Inside an open unit of work: queue the escalations of every open, late milestone (owner
    and targets, once each) and emit ``MilestoneOverdue``; returns how many milestones were
    escalated now (0 on a repeat)."""
    today = now.astimezone(plan.tz).date()
    count = 0
    for mid in plan.spec.milestones:
        milestone = _current(uow, plan, mid)
        escalation = milestone.escalation_for(today)
        if escalation is None:
            continue
        due_at = _due_at(milestone, plan)
        params = {
            "milestone": milestone.title,
            "owner": milestone.owner.id,
            "due_at": due_at.astimezone(plan.tz).strftime("%Y-%m-%d %H:%M %Z"),
            "days_late": str(escalation.days_late),
            "root_cause": "" if escalation.root_cause is None else escalation.root_cause.value,
        }
        recipients = [("owner", milestone.owner.id)]
        recipients += [(t.role, t.subject.id) for t in escalation.targets]
        new = False
        for role, who in recipients:
            added = enqueue(
                uow,
                key=f"milestone:{mid}:overdue:{who}",
                template="milestone_overdue",
                recipient=who,
                params={**params, "role": role},
                at=now,
                locale=plan.locale,
            )
            new = new or (role == "owner" and added)
        if new:
            targets = tuple(t.subject.id for t in escalation.targets)
            uow.emit(MilestoneOverdue(mid, milestone.owner, due_at, targets))
            count += 1
    return count


def milestone_report(
    uow: AbstractUnitOfWork, plan: Plan, as_of: dt.date, *, weighted: bool = False
) -> dict[str, object]:
    """The plan's milestones as of the local date ``as_of`` and the on-time rate
    (:func:`perfcore.domain.milestone.on_time_rate`: on time / counted, where counted = completed
    by ``as_of`` or open past due; ``None`` when nothing is counted). ``rate_percent`` has 2 dp
    (12 of 13 on time gives 92.31, the 92.3 % an NPI project report rounds to)."""
    milestones = [_current(uow, plan, mid) for mid in plan.spec.milestones]
    rate = on_time_rate(milestones, as_of, weighted=weighted)
    rows: list[dict[str, object]] = []
    for m in milestones:
        rows.append(
            {
                "milestone": m.id,
                "title": m.title,
                "owner": str(m.owner),
                "due": m.due.isoformat(),
                "completed_on": None if m.completed_on is None else m.completed_on.isoformat(),
                "days_late": m.days_late(as_of),
                "on_time": m.on_time(),
                "root_cause": None if m.root_cause is None else m.root_cause.value,
            }
        )
    percent = None if rate.value is None else quantize(rate.value * 100, PERCENT_PLACES)
    return {
        "as_of": as_of.isoformat(),
        "milestones": rows,
        "counted": _text(rate.denominator),
        "on_time_count": _text(rate.numerator),
        "rate": None if rate.value is None else _text(rate.value),
        "rate_percent": None if percent is None else format(percent, "f"),
        "late": list(rate.late),
        "weighted": weighted,
    }


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)
