"""``perfcore simulate``: the sandbox — replay history against a proposed plan.

The evidence of the chosen periods is read from the live database (read only) and copied into
two throwaway in-memory stores: one scored with the plan in force, one with the proposed plan.
Both go through the same handlers, driven by the event an ingest emits (scorecards refresh,
alert rules of every grain, the reviews they open), then incentives per period, so the
difference is the plan's alone. Nothing is written to the live database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import attrs
import typer
from attrs import frozen
from rich.table import Table

from perfcore.bootstrap import bootstrap
from perfcore.domain.events import ScorecardsStale
from perfcore.domain.values import SCORE_PLACES, Period, SubjectRef, quantize
from perfcore.plan import Plan
from perfcore.services import commands as c
from perfcore.services.messagebus import MessageBus
from perfcore.services.records import AcceptedEvidence, ScorecardRecord
from perfcore.testing.fakes import FakeClock, RecordingNotifier
from perfcore_adapters.cli._cmd_data import ensure_data
from perfcore_adapters.cli._common import (
    DEFAULT_DB,
    DbOpt,
    console,
    fail,
    guarded,
    open_runtime,
)

__all__ = ["Outcome", "register", "run_sandbox"]


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command("simulate")(simulate)


@frozen
class Outcome:
    """What one plan produced in the sandbox."""

    totals: dict[tuple[str, str], Decimal | None]
    alerts: int
    alerts_by_rule: dict[str, int]
    reviews: int
    rewards: dict[str, Decimal]
    plan_version_text: str


def _sandbox(plan_text: str, name: str, at: dt.datetime) -> MessageBus:
    bus = bootstrap(storage="memory", clock=FakeClock(at), notifiers={"*": RecordingNotifier()})
    bus.handle(c.ApplyPlan(plan_text, name))
    return bus


def _periods(plan: Plan, start: Period, end: Period) -> list[Period]:
    span = Period.custom(start.start, end.end)
    return span.split(plan.period_kind.value)


def _sorted(items: set[tuple[SubjectRef, str]]) -> tuple[tuple[SubjectRef, str], ...]:
    return tuple(sorted(items, key=lambda p: (p[1], str(p[0]))))


def _play(
    plan_text: str, name: str, evidence: list[AcceptedEvidence], start: Period, end: Period
) -> Outcome:
    _, until = end.bounds(dt.UTC)
    bus = _sandbox(plan_text, name, until)
    plan: Plan = bus.ctx.plan()
    pairs: set[tuple[SubjectRef, str]] = set()
    days: set[tuple[SubjectRef, str]] = set()
    with bus.uow as uow:
        for ev in evidence:
            uow.evidence.add(
                ev.key, ev, subject=ev.subject, evidence_type=ev.evidence_type, at=ev.occurred_at
            )
            pairs.add((ev.subject, plan.period_of(ev.occurred_at).key))
            days.add((ev.subject, ev.occurred_at.astimezone(plan.tz).date().isoformat()))
        uow.commit()
    # the same event an ingest emits: scorecards refresh and alert rules (of every grain) run
    # for what the evidence touched, exactly as in live operation
    extra = {"days": _sorted(days)} if "days" in attrs.fields_dict(ScorecardsStale) else {}
    bus.handle(ScorecardsStale(_sorted(pairs), **extra))
    periods = _periods(plan, start, end)
    bus.handle(c.ComputeScorecards(tuple(p.key for p in periods)))  # type: ignore[misc]
    rewards: dict[str, Decimal] = {}
    for p in periods:
        for entry in bus.handle(c.EvaluateIncentives(p.key)) or []:
            unit = entry.account.unit
            rewards[unit] = rewards.get(unit, Decimal(0)) + entry.amount
    with bus.uow as uow:
        cards = uow.scorecards.list()
        alerts = list(uow.alerts.list())
        reviews = list(uow.reviews.list())
    totals: dict[tuple[str, str], Decimal | None] = {}
    for subject, key, record in cards:
        assert isinstance(record, ScorecardRecord)
        totals[(str(subject), key)] = record.total
    return Outcome(
        totals=totals,
        alerts=len(alerts),
        alerts_by_rule=dict(Counter(a.rule for a in alerts)),
        reviews=len(reviews),
        rewards=dict(rewards),
        plan_version_text=plan.name,
    )


def run_sandbox(
    live: MessageBus, proposed: Path, start: Period, end: Period
) -> tuple[Outcome, Outcome]:
    """Score the evidence of ``start``..``end`` from ``live`` with the plan in force and with
    ``proposed``; returns ``(current, proposed)``. ``live`` is only read."""
    from perfcore.plan import load

    load(proposed)  # report every problem of the proposal before anything runs
    tz = live.ctx.plan().tz
    with live.uow as uow:
        current = uow.plans.latest()
        if current is None:
            fail("the database has no plan in force", "apply one first: perfcore sync --plan P")
        lo, _ = start.bounds(tz)
        _, hi = end.bounds(tz)
        evidence = list(uow.evidence.list(start=lo, end=hi))
    if not evidence:
        fail(f"no evidence between {start.key} and {end.key}", "check --from/--to, or sync first")
    base = _play(current.source, current.name, evidence, start, end)
    new = _play(proposed.read_text(encoding="utf-8"), str(proposed), evidence, start, end)
    return base, new


def _fmt(d: Decimal | None) -> str:
    return "—" if d is None else str(quantize(d, SCORE_PLACES))


def simulate(
    plan: Annotated[Path, typer.Option("--plan", help="The proposed plan (YAML).", dir_okay=False)],
    start: Annotated[str, typer.Option("--from", help="First period, e.g. 2015-01.")],
    end: Annotated[str, typer.Option("--to", help="Last period, e.g. 2015-03.")],
    top: Annotated[int, typer.Option(help="Rows in the biggest-changes table.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Replay history against a proposed plan in a throwaway store; compare with the live plan."""

    def run() -> None:
        p1 = Period.parse(start, field="--from")
        p2 = Period.parse(end, field="--to")
        if p2.end < p1.start:
            fail(f"--to {p2.key} is before --from {p1.key}", "swap them")
        if not plan.is_file():
            fail(f"no plan file at {plan}", "give the proposed plan's path")
        runtime = open_runtime(db, None, must_exist=True)
        ensure_data(runtime)
        base, new = run_sandbox(runtime.bus, plan, p1, p2)
        _show(base, new, top, as_json)

    guarded(run)


def _show(base: Outcome, new: Outcome, top: int, as_json: bool) -> None:
    keys = sorted(set(base.totals) | set(new.totals))
    changes: list[tuple[Decimal, str, str, Decimal | None, Decimal | None]] = []
    for key in keys:
        a, b = base.totals.get(key), new.totals.get(key)
        delta = (b or Decimal(0)) - (a or Decimal(0))
        changes.append((delta, key[0], key[1], a, b))
    changes.sort(key=lambda x: (-abs(x[0]), x[1], x[2]))
    if as_json:
        doc: dict[str, Any] = {
            "scorecards": [
                {
                    "subject": s,
                    "period": p,
                    "current": None if a is None else float(quantize(a, SCORE_PLACES)),
                    "proposed": None if b is None else float(quantize(b, SCORE_PLACES)),
                }
                for _, s, p, a, b in sorted(changes, key=lambda x: (x[1], x[2]))
            ],
            "alerts": {"current": base.alerts, "proposed": new.alerts},
            "alerts_by_rule": {"current": base.alerts_by_rule, "proposed": new.alerts_by_rule},
            "reviews": {"current": base.reviews, "proposed": new.reviews},
            "rewards": {
                "current": {k: str(v) for k, v in base.rewards.items()},
                "proposed": {k: str(v) for k, v in new.rewards.items()},
            },
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    summary = Table(title="sandbox: plan in force vs proposed (live data untouched)")
    for col in ("", "current", "proposed", "change"):
        summary.add_column(col, justify="left" if not col else "right")
    summary.add_row("scorecards", str(len(base.totals)), str(len(new.totals)), "")
    summary.add_row("alerts", str(base.alerts), str(new.alerts), f"{new.alerts - base.alerts:+d}")
    summary.add_row(
        "reviews opened", str(base.reviews), str(new.reviews), f"{new.reviews - base.reviews:+d}"
    )
    for unit in sorted(set(base.rewards) | set(new.rewards)):
        a, b = base.rewards.get(unit, Decimal(0)), new.rewards.get(unit, Decimal(0))
        summary.add_row(f"rewards ({unit})", str(a), str(b), f"{b - a:+}")
    moved = [x for x in changes if x[0] != 0]
    if moved:
        avg = sum((x[0] for x in moved), Decimal(0)) / len(moved)
        summary.add_row("mean total change", "", "", f"{quantize(avg, SCORE_PLACES):+}")
    console.print(summary)
    rules = sorted(set(base.alerts_by_rule) | set(new.alerts_by_rule))
    if rules:
        by_rule = ", ".join(
            f"{r}: {base.alerts_by_rule.get(r, 0)} → {new.alerts_by_rule.get(r, 0)}" for r in rules
        )
        console.print(f"[dim]alerts by rule: {by_rule}[/]")
    table = Table(title=f"biggest score changes (top {top})", title_justify="left")
    for col in ("subject", "period", "current", "proposed", "change"):
        table.add_column(col, justify="left" if col in {"subject", "period"} else "right")
    for delta, subject, period, a, b in changes[:top]:
        colour = "green" if delta > 0 else "red" if delta < 0 else "dim"
        table.add_row(
            subject, period, _fmt(a), _fmt(b), f"[{colour}]{quantize(delta, SCORE_PLACES):+}[/]"
        )
    console.print(table)
