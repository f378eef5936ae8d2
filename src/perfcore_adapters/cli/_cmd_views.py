"""Read-side commands: ``dashboard``, ``reviews``, ``calibrate``, ``incentives``."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from perfcore.domain.values import SubjectRef
from perfcore.plan import Plan
from perfcore.services import queries
from perfcore.services.messagebus import MessageBus
from perfcore.services.records import AlertRecord
from perfcore_adapters.cli._calib import CalibrationView, analyse_session, as_dict, list_sessions
from perfcore_adapters.cli._cmd_data import ensure_data
from perfcore_adapters.cli._common import (
    DEFAULT_DB,
    DbOpt,
    PlanOpt,
    console,
    fail,
    guarded,
    open_runtime,
    parse_now,
)

__all__ = [
    "calibration_panel",
    "dashboard_panel",
    "latest_day",
    "register",
    "reviews_table",
    "sparkline",
]

NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Show SLA countdowns as of this ISO time (e.g. 2015-03-12T12:00+06:00); "
        "default: the current time.",
    ),
]

_BARS = "▁▂▃▄▅▆▇█"


def register(app: typer.Typer) -> None:
    """Add the read-side commands to ``app``."""
    app.command("dashboard")(dashboard)
    app.command("reviews")(reviews)
    app.command("calibrate")(calibrate)
    app.command("incentives")(incentives)


def sparkline(values: list[Decimal | None], low: Decimal | None = None) -> str:
    """A one-line chart of ``values`` (gaps as spaces; all equal → mid-height bars); values under
    ``low`` are marked red."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = hi - lo
    out: list[str] = []
    for v in values:
        if v is None:
            out.append(" ")
            continue
        index = len(_BARS) // 2 if span == 0 else int((v - lo) / span * (len(_BARS) - 1))
        bar = _BARS[index]
        out.append(f"[red]{bar}[/]" if low is not None and v < low else bar)
    return "".join(out)


_LONG_NUMBER = re.compile(r"\d+\.\d{4,}")


def short_numbers(text: str) -> str:
    """Round long decimals in a sentence to 3 places (``0.67451851866`` → ``0.675``)."""
    return _LONG_NUMBER.sub(lambda m: f"{Decimal(m.group(0)):.3f}", text)


def latest_day(bus: MessageBus, plan: Plan) -> dt.date | None:
    """The local date of the most recent evidence (``None`` without evidence)."""
    with bus.uow as uow:
        records = uow.evidence.list()
    if not records:
        return None
    latest: dt.datetime = max(r.occurred_at for r in records)
    return latest.astimezone(plan.tz).date()


def _alert_threshold(plan: Plan, indicator: str) -> Decimal | None:
    for rule in plan.spec.alerts.values():
        if rule.indicator == indicator and rule.kind == "threshold" and rule.below is not None:
            return rule.below
    return None


def dashboard_panel(
    bus: MessageBus,
    *,
    indicator: str | None = None,
    days: int = 30,
    limit: int = 12,
    now: dt.datetime | None = None,
    width: int | None = None,
) -> Group:
    """The dashboard as a rich renderable: team table with sparklines, latest alerts and the
    open reviews with their SLA countdown. With ``width`` (terminal columns) the sparkline is
    shortened to the latest days that fit on one line."""
    plan: Plan = bus.ctx.plan()
    from perfcore_adapters.report._data import key_indicator

    name = indicator or key_indicator(plan)
    if name not in plan.indicators:
        from perfcore.plan.problems import did_you_mean

        fail(f"unknown indicator {name!r}", did_you_mean(name, plan.indicators))
    end = latest_day(bus, plan)
    if end is None:
        fail("no evidence yet", "run `perfcore sync` first")
    start = end - dt.timedelta(days=days - 1)
    data = queries.team_dashboard(bus, start=start, end=end, indicators=[name])
    series: dict[str, list[Decimal | None]] = {}
    for row in data["rows"]:
        raw = row[name]
        series.setdefault(row["subject"], []).append(None if raw is None else Decimal(raw))
    low = _alert_threshold(plan, name)
    period = plan.period_of(dt.datetime.combine(end, dt.time(12), plan.tz))
    cards = {c["subject"]: c for c in queries.scorecards(bus, period.key)}
    head3, head4 = f"{period.key} {name}", f"{period.key} total"
    if width is not None:
        name_w = max([len("subject"), *(len(str(k)) for k in series)])
        fixed = name_w + len("last day") + len(head3) + len(head4) + 5 * 3 + 1
        fit = max(7, width - fixed)
        if fit < days:
            days = fit
            start = end - dt.timedelta(days=days - 1)
            series = {k: v[-days:] for k, v in series.items()}
    team = Table(
        title=f"{name} per day, {start} → {end}  (▁ low … █ high, red = under {low})"
        if low is not None
        else f"{name} per day, {start} → {end}",
        title_justify="left",
    )
    team.add_column("subject")
    team.add_column(f"last {days} days", no_wrap=True, min_width=days)
    team.add_column("last day", justify="right")
    team.add_column(head3, justify="right")
    team.add_column(head4, justify="right", style="bold")
    ordered = sorted(
        series,
        key=lambda s: Decimal(cards[s]["total"]) if s in cards and cards[s]["total"] else 0,
    )
    for subject in ordered:
        values = series[subject]
        last = next((v for v in reversed(values) if v is not None), None)
        card = cards.get(subject, {})
        month_value = (card.get("values") or {}).get(name)
        total = card.get("total")
        team.add_row(
            subject,
            sparkline(values, low),
            "—" if last is None else f"{last:.3f}",
            "—" if month_value is None else f"{Decimal(month_value):.3f}",
            "—" if total is None else total,
        )
    with bus.uow as uow:
        alerts: list[AlertRecord] = list(uow.alerts.list())
    alerts.sort(key=lambda a: (a.raised_at, a.key), reverse=True)
    alert_table = Table(title=f"latest alerts ({len(alerts)} in all)", title_justify="left")
    for col in ("raised", "subject", "rule", "period", "reason"):
        alert_table.add_column(col)
    for a in alerts[:limit]:
        alert_table.add_row(
            a.raised_at.astimezone(plan.tz).strftime("%Y-%m-%d %H:%M"),
            str(a.subject),
            a.rule,
            a.period_key,
            short_numbers(a.reason),
        )
    return Group(team, alert_table, reviews_table(bus, now=now, limit=limit))


def reviews_table(
    bus: MessageBus,
    *,
    assignee: str | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> Table:
    """Open reviews, most urgent first, with SLA status and hours left (as of ``now``)."""
    rows = _inbox(bus, assignee, now)
    shown = rows if limit is None else rows[:limit]
    plan: Plan = bus.ctx.plan()
    title = f"open reviews ({len(rows)})" + (f", most urgent {len(shown)}" if limit else "")
    table = Table(title=title, title_justify="left")
    table.add_column("review", overflow="fold", ratio=1)
    table.add_column("assignee", no_wrap=True)
    table.add_column(f"due ({plan.spec.time_zone})", no_wrap=True)
    table.add_column("SLA", justify="right", no_wrap=True)
    for r in shown:
        status = r["sla_status"]
        hours = r["hours_left"]
        if status == "overdue":
            text = f"[bold red]overdue {_span(abs(Decimal(hours)))}[/]"
        elif status == "due_soon":
            text = f"[yellow]{_span(Decimal(hours))} left[/]"
        elif status == "on_time":
            text = f"[green]{_span(Decimal(hours))} left[/]"
        else:
            text = status
        due = r["due_at"]
        local = (
            dt.datetime.fromisoformat(due).astimezone(plan.tz).strftime("%Y-%m-%d %H:%M")
            if due
            else ""
        )
        table.add_row(r["review_id"], r["assignee"] or "", local, text)
    return table


def _span(hours: Decimal) -> str:
    """``5 h`` up to three days, then ``4 d``."""
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:,.0f} d"


def _inbox(bus: MessageBus, assignee: str | None, now: dt.datetime | None) -> list[dict[str, Any]]:
    if now is None:
        return queries.review_inbox(bus, assignee)
    from perfcore.ports.clock import FixedClock

    real = bus.ctx.clock
    bus.ctx.clock = FixedClock(now)
    try:
        return queries.review_inbox(bus, assignee)
    finally:
        bus.ctx.clock = real


def dashboard(
    indicator: Annotated[
        str | None, typer.Option(help="Indicator to chart (default: the first on the scorecard).")
    ] = None,
    days: Annotated[int, typer.Option(min=2, max=120, help="Days in the sparkline.")] = 30,
    now: NowOpt = None,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """The daily operating dashboard: team sparklines, latest alerts, open reviews with SLAs."""

    def run() -> None:
        at = parse_now(now)
        runtime = open_runtime(db, plan, must_exist=True)
        ensure_data(runtime)
        panel = dashboard_panel(
            runtime.bus, indicator=indicator, days=days, now=at, width=console.width
        )
        console.print(panel)

    guarded(run)


def reviews(
    assignee: Annotated[str | None, typer.Option(help="Only this reviewer's inbox.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As a JSON array.")] = False,
    now: NowOpt = None,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """Open reviews with their SLA status (overdue, due soon, on time), most urgent first."""

    def run() -> None:
        at = parse_now(now)
        runtime = open_runtime(db, plan, must_exist=True)
        ensure_data(runtime)
        if as_json:
            typer.echo(json.dumps(_inbox(runtime.bus, assignee, at), indent=2))
            return
        console.print(reviews_table(runtime.bus, assignee=assignee, now=at))

    guarded(run)


def calibration_panel(view: CalibrationView, *, all_suggestions: bool = False) -> Group:
    """Distribution vs guideline, bias flags and suggestions as rich tables."""
    total = sum(view.counts.values()) or 1
    dist = Table(title=f"session {view.session.id} ({view.session.state.value})")
    for col in ("bucket", "guideline", "original", "calibrated"):
        dist.add_column(col, justify="left" if col == "bucket" else "right")
    for bucket in view.buckets:
        target = (view.targets or {}).get(bucket)
        orig = view.original_counts.get(bucket, 0)
        cal = view.counts.get(bucket, 0)
        dist.add_row(
            bucket,
            "—" if target is None else f"{target:.0%}",
            f"{orig} ({orig / total:.0%})",
            f"{cal} ({cal / total:.0%})",
        )
    parts: list[Any] = [dist]
    if view.guideline_summary:
        colour = "green" if view.guideline_ok else "yellow"
        parts.append(f"[{colour}]guideline: {view.guideline_summary}[/]")
    flags = Table(title="rater bias flags (original ratings)", title_justify="left")
    flags.add_column("rater")
    flags.add_column("flag")
    flags.add_column("finding")
    for rater, flag in view.flags:
        flags.add_row(rater, flag.kind, flag.sentence)
    if not view.flags:
        flags.add_row("—", "none", "no rater differs beyond the thresholds")
    parts.append(flags)
    means = ", ".join(f"{r} {m:.2f} (n={n})" for r, (n, m) in sorted(view.rater_means.items()))
    if means:
        parts.append(f"[dim]mean original rating per rater: {means}[/]")
    sugg = Table(title="suggestions (z-score normalisation per rater)", title_justify="left")
    for col in ("subject", "rater", "original", "calibrated", "suggested"):
        sugg.add_column(col)
    shown = 0
    for s in view.suggestions:
        if not all_suggestions and (s.suggested is None or s.suggested == s.original):
            continue
        sugg.add_row(
            str(s.subject),
            s.rater,
            str(s.original),
            str(s.calibrated),
            "—" if s.suggested is None else str(s.suggested),
        )
        shown += 1
    if shown:
        parts.append(sugg)
    else:
        parts.append("[dim]no rating would move under z-score normalisation[/]")
    return Group(*parts)


def calibrate(
    session: Annotated[
        str | None, typer.Argument(help="Session id (omit to list the sessions).")
    ] = None,
    all_suggestions: Annotated[
        bool, typer.Option("--all", help="Show every subject, not only those that would move.")
    ] = False,
    period: Annotated[
        str | None,
        typer.Option(help="Open SESSION over this period's finalized reviews if it is new."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """A calibration session: distribution vs guideline, rater-bias flags, suggestions."""

    def run() -> None:
        runtime = open_runtime(db, plan, must_exist=True)
        if period is not None:
            if session is None:
                fail(
                    "--period needs a SESSION id to open",
                    "e.g. perfcore calibrate cal-2025-03 --period 2025-03",
                )
            from perfcore.domain.values import Period
            from perfcore.services.commands import RunCalibration

            key = Period.parse(period, field="--period").key
            if not runtime.bus.handle(RunCalibration(session, key)):
                fail(
                    f"no finalized reviews in {key} to calibrate",
                    "reviews are finalized by the reviewer (or by `perfcore demo`)",
                )
        if session is None:
            sessions = list_sessions(runtime.bus)
            if not sessions:
                fail("no calibration sessions yet", "run `perfcore demo` to see one")
            table = Table(title="calibration sessions", title_justify="left")
            for col in ("session", "period", "state", "people"):
                table.add_column(col)
            for s in sessions:
                table.add_row(s.id, s.cycle_id, s.state.value, str(len(s.subjects)))
            console.print(table)
            return
        view = analyse_session(runtime.bus, session)
        if as_json:
            typer.echo(json.dumps(as_dict(view), indent=2))
            return
        console.print(calibration_panel(view, all_suggestions=all_suggestions))

    guarded(run)


def ledger_table(bus: MessageBus, subject: SubjectRef | None = None) -> Table:
    """Balances per account with the number of entries."""
    rows = queries.ledger_balances(bus, subject)
    table = Table(title="incentive ledger — balances", title_justify="left")
    for col in ("subject", "kind", "unit", "balance", "entries"):
        table.add_column(col, justify="right" if col in {"balance", "entries"} else "left")
    for r in rows:
        table.add_row(r["subject"], r["kind"], r["unit"], r["balance"], str(r["entries"]))
    return table


def incentives(
    subject: Annotated[str | None, typer.Option(help="One subject, e.g. person:E1.")] = None,
    entries: Annotated[bool, typer.Option("--entries", help="Every ledger line.")] = False,
    period: Annotated[
        str | None,
        typer.Option(help="First evaluate the plan's incentive rules for this period (once)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """The incentive ledger: balances per person and unit (and every entry with --entries)."""

    def run() -> None:
        ref = SubjectRef.parse(subject, field="--subject") if subject else None
        runtime = open_runtime(db, plan, must_exist=True)
        bus = runtime.bus
        if period is not None:
            from perfcore.domain.values import Period
            from perfcore.services.commands import ComputeScorecards, EvaluateIncentives

            ensure_data(runtime)
            key = Period.parse(period, field="--period").key
            bus.handle(ComputeScorecards((key,)))  # type: ignore[arg-type]
            awarded = bus.handle(EvaluateIncentives(key)) or []
            if not as_json:
                console.print(f"{len(awarded)} new award(s) for {key}")
        if as_json:
            typer.echo(json.dumps(queries.ledger_balances(bus, ref), indent=2))
            return
        out: Console = console
        out.print(ledger_table(bus, ref))
        if entries:
            with bus.uow as uow:
                lines = list(uow.ledger.entries(subject=ref))
            table = Table(title="ledger entries", title_justify="left")
            for col in ("#", "subject", "rule", "period", "amount", "kind"):
                table.add_column(col)
            for e in lines:
                table.add_row(
                    str(e.seq),
                    str(e.account.subject),
                    e.rule_id,
                    e.period_key,
                    str(e.amount),
                    e.kind.value,
                )
            out.print(table)

    guarded(run)


def panel(title: str, body: Any) -> Panel:
    """A titled panel (used by the demo summary)."""
    return Panel(body, title=title, title_align="left", expand=False)
