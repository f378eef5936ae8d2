"""EvaluateAlerts (and the reaction to ScorecardComputed): threshold and fluctuation rules.

- threshold: the indicator's value is below ``below`` or above ``above``;
- fluctuation: the value differs from the mean of the ``window`` previous periods (same grain)
  by more than ``change`` × |mean| (previous periods without a value are skipped; no history →
  no alert).

An alert is raised once per (rule, subject, period) — the key ``alert:<rule>:<subject>:<period>``
is stored — and, with ``open_review``, opens a review whose SLA clock starts at the alert.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from perfcore.domain.events import AlertRaised, ScorecardComputed, ScorecardsStale
from perfcore.domain.values import Period, PeriodKind, SubjectRef
from perfcore.plan import Plan
from perfcore.plan.model import AlertSpec
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import EvaluateAlerts
from perfcore.services.context import Context
from perfcore.services.measuring import compute_indicator_values, evidence_for, rows_by_type
from perfcore.services.notify import enqueue
from perfcore.services.records import AlertRecord, ScorecardRecord

__all__ = ["alerts_on_scorecard", "check_rule", "evaluate_alerts"]


def _value(
    uow: AbstractUnitOfWork, plan: Plan, subject: SubjectRef, period: Period, name: str
) -> Decimal | None:
    if period.kind is plan.period_kind:
        stored: ScorecardRecord | None = uow.scorecards.get(subject, period.key)
        if stored is not None:
            return stored.values.get(name)
    rows = rows_by_type(evidence_for(uow, plan, subject, period))
    return compute_indicator_values(plan, period, rows)[name].value


def _fmt(d: Decimal | None) -> str:
    return "no value" if d is None else format(d.normalize(), "f")


def check_rule(
    uow: AbstractUnitOfWork, plan: Plan, rule: AlertSpec, subject: SubjectRef, period: Period
) -> tuple[Decimal | None, str] | None:
    """``(value, reason)`` when ``rule`` fires for the subject in ``period``, else ``None``."""
    value = _value(uow, plan, subject, period, rule.indicator)
    if value is None:
        return None
    if rule.kind == "threshold":
        if rule.below is not None and value < rule.below:
            return value, f"{rule.indicator} = {_fmt(value)} is below {_fmt(rule.below)}"
        if rule.above is not None and value > rule.above:
            return value, f"{rule.indicator} = {_fmt(value)} is above {_fmt(rule.above)}"
        return None
    history: list[Decimal] = []
    previous = period
    for _ in range(rule.window):
        previous = previous.previous()
        past = _value(uow, plan, subject, previous, rule.indicator)
        if past is not None:
            history.append(past)
    if not history or rule.change is None:
        return None
    mean = sum(history, Decimal(0)) / len(history)
    moved = abs(value - mean)
    if moved > rule.change * abs(mean):
        pct = (moved / abs(mean) * 100).quantize(Decimal("0.1")) if mean else Decimal(0)
        return value, (
            f"{rule.indicator} = {_fmt(value)} moved {pct} % from the mean {_fmt(mean)} of the "
            f"previous {len(history)} period(s)"
        )
    return None


def _raise(
    uow: AbstractUnitOfWork,
    ctx: Context,
    plan: Plan,
    rule_id: str,
    rule: AlertSpec,
    subject: SubjectRef,
    period: Period,
) -> None:
    key = f"alert:{rule_id}:{subject}:{period.key}"
    if uow.alerts.get(key) is not None:
        return
    fired = check_rule(uow, plan, rule, subject, period)
    if fired is None:
        return
    value, reason = fired
    now = ctx.clock.now()
    uow.alerts.add(
        key,
        AlertRecord(key, rule_id, subject, period.key, rule.indicator, value, reason, now),
        subject=subject,
    )
    uow.emit(AlertRaised(key, rule_id, subject, period.key, rule.indicator, value, reason, now))
    recipient = plan.manager_of(subject)
    if recipient:
        enqueue(
            uow,
            key=f"{key}:notify",
            template="alert_raised",
            recipient=recipient,
            params={
                "subject": str(subject),
                "indicator": rule.indicator,
                "reason": reason,
                "period": period.key,
            },
            at=now,
            locale=plan.locale,
        )


def _periods(plan: Plan, rule: AlertSpec, period: Period) -> list[Period]:
    if rule.grain is None or PeriodKind(rule.grain) is period.kind:
        return [period]
    return period.split(rule.grain) if period.days > 1 else [period]


def evaluate_alerts(cmd: EvaluateAlerts, ctx: Context) -> list[str]:
    """Evaluate every alert rule for one subject and period; returns the alert keys raised so
    far for them (new and old)."""
    plan: Plan = ctx.plan()
    period = Period.parse(cmd.period_key, field="period_key")
    with ctx.uow as uow:
        for rule_id, rule in plan.spec.alerts.items():
            for p in _periods(plan, rule, period):
                _raise(uow, ctx, plan, rule_id, rule, cmd.subject, p)
        uow.commit()
        return [a.key for a in uow.alerts.list(subject=cmd.subject) if a.period_key == period.key]


def _grain(plan: Plan, rule: AlertSpec) -> PeriodKind:
    return PeriodKind(rule.grain) if rule.grain is not None else plan.period_kind


def alerts_on_scorecard(event: ScorecardComputed, ctx: Context) -> None:
    """Event handler: evaluate alert rules whenever a scorecard changed. After an incremental
    refresh only the rules of the scorecard's grain run here — rules of a finer grain run for the
    days touched (:func:`alerts_on_days`); after an explicit recompute every rule runs over every
    sub-period."""
    if not event.incremental:
        evaluate_alerts(EvaluateAlerts(event.subject, event.period_key), ctx)
        return
    plan: Plan = ctx.plan()
    period = Period.parse(event.period_key)
    with ctx.uow as uow:
        for rule_id, rule in plan.spec.alerts.items():
            if _grain(plan, rule) is period.kind:
                _raise(uow, ctx, plan, rule_id, rule, event.subject, period)
        uow.commit()


def alerts_on_days(event: ScorecardsStale, ctx: Context) -> None:
    """Event handler: evaluate alert rules of another grain than the plan's (a daily exception
    rule on a monthly plan) for the periods containing the days new evidence touched — only
    those, not every day of the month."""
    plan: Plan = ctx.plan()
    rules = [
        (rid, r) for rid, r in plan.spec.alerts.items() if _grain(plan, r) is not plan.period_kind
    ]
    if not rules or not event.days:
        return
    with ctx.uow as uow:
        for rule_id, rule in rules:
            grain = _grain(plan, rule)
            seen: set[tuple[SubjectRef, str]] = set()
            for subject, day in event.days:
                period = Period.containing(grain, dt.date.fromisoformat(day))
                if (subject, period.key) in seen:
                    continue
                seen.add((subject, period.key))
                _raise(uow, ctx, plan, rule_id, rule, subject, period)
        uow.commit()
