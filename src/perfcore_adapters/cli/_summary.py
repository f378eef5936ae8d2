"""The readable summary ``perfcore demo`` prints (rich tables, key figures per scenario)."""

from __future__ import annotations

import io
import statistics
from collections import Counter
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from perfcore.services import queries
from perfcore.services.records import AlertRecord
from perfcore_adapters.cli._cmd_views import short_numbers
from perfcore_adapters.cli._common import console
from perfcore_adapters.cli._demo import QUOTA, RATE, DemoRun, ScenarioRun
from perfcore_adapters.cli._scenarios import GARMENT, SALES

__all__ = ["print_summary", "scenario_figures", "scenario_text"]


def _pct(value: Decimal | float | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %"


def scenario_figures(run: ScenarioRun, key_indicator: str) -> list[dict[str, Any]]:
    """Per period: subjects scored, median/best/worst of ``key_indicator`` and alert counts."""
    with run.bus.uow as uow:
        alerts: list[AlertRecord] = list(uow.alerts.list())
    by_period = Counter(a.period_key[:7] if len(a.period_key) > 7 else a.period_key for a in alerts)
    out: list[dict[str, Any]] = []
    for period in run.periods:
        cards = queries.scorecards(run.bus, period)
        values = [
            (Decimal(c["values"][key_indicator]), c["subject"])
            for c in cards
            if c["values"].get(key_indicator) is not None
        ]
        values.sort()
        out.append(
            {
                "period": period,
                "subjects": len(cards),
                "median": statistics.median(v for v, _ in values) if values else None,
                "best": values[-1] if values else None,
                "worst": values[0] if values else None,
                "alerts": by_period.get(period, 0),
            }
        )
    return out


def _period_table(run: ScenarioRun, indicator: str, label: str) -> Table:
    table = Table(title=f"{label} by period", title_justify="left")
    for col in ("period", "scored", "median", "best", "worst", "alerts"):
        table.add_column(col, justify="left" if col in {"period", "best", "worst"} else "right")
    for row in scenario_figures(run, indicator):
        best, worst = row["best"], row["worst"]
        table.add_row(
            row["period"],
            str(row["subjects"]),
            _pct(row["median"]),
            f"{best[1].split(':')[1]} {_pct(best[0])}" if best else "—",
            f"{worst[1].split(':')[1]} {_pct(worst[0])}" if worst else "—",
            str(row["alerts"]),
        )
    notes = _partial_notes(run)
    if notes:
        table.caption = "; ".join(f"{k}: {v}" for k, v in notes.items())
        table.caption_justify = "left"
    return table


def _partial_notes(run: ScenarioRun) -> dict[str, str]:
    """Periods whose evidence covers only some of their months (e.g. Q1 with March only)."""
    from perfcore_adapters.report._data import partial_periods

    with run.bus.uow as uow:
        evidence = list(uow.evidence.list())
    return partial_periods(run.plan, list(run.periods), evidence)


def _loop_table(run: ScenarioRun) -> Table:
    log = run.log
    with run.bus.uow as uow:
        alerts: list[AlertRecord] = list(uow.alerts.list())
        still_open = len(uow.reviews.open_keys())
        reviews = len(uow.reviews.list())
    by_rule = Counter(a.rule for a in alerts)
    answered = log.answered_on_time + log.answered_late
    table = Table(title="the loop", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("note", style="dim")
    for total in log.ingest.values():
        table.add_row(
            "evidence read",
            f"{total.read:,}",
            f"accepted {total.accepted:,}, rejected {total.rejected:,} (quarantined with reason)",
        )
    for rule, count in sorted(by_rule.items()):
        title = run.plan.spec.alerts[rule].title if rule in run.plan.spec.alerts else rule
        table.add_row(f"alerts: {rule}", str(count), title)
    alert_reviews = reviews - log.period_reviews
    table.add_row("alert reviews opened", str(alert_reviews), "48 h SLA from the alert")
    on_time = _pct(Decimal(log.answered_on_time) / answered) if answered else "—"
    table.add_row("answered within SLA", str(log.answered_on_time), f"{on_time} of answered")
    table.add_row("answered late", str(log.answered_late), "after reminder and escalation")
    table.add_row("reminders / escalations", f"{log.reminders} / {log.escalations}", "")
    table.add_row("reviews still open", str(still_open), "see `perfcore reviews`")
    table.add_row("period reviews by managers", str(log.period_reviews), "ratings simulated")
    table.add_row("notifications delivered", str(len(run.notifier.sent)), "via the outbox")
    return table


def _calibration_table(run: ScenarioRun) -> Table:
    table = Table(title="calibration sessions", title_justify="left")
    for col in ("session", "original", "calibrated", "guideline", "rater flags", "moved"):
        table.add_column(col, no_wrap=col in {"session", "moved"})
    for view in run.sessions:
        total = sum(view.counts.values()) or 1

        def dist(
            counts: dict[str, int], total: int = total, buckets: tuple[str, ...] = view.buckets
        ) -> str:
            return "/".join(f"{round(counts.get(b, 0) * 100 / total)}" for b in buckets) + " %"

        targets = view.targets or {}
        guide = "/".join(f"{targets.get(b, 0) * 100:.0f}" for b in view.buckets) + " %"
        marks = {"leniency": "lenient", "severity": "severe"}
        flags = sorted({f"{r} {marks[f.kind]}" for r, f in view.flags if f.kind in marks})
        moved = len(view.session.adjustments)
        table.add_row(
            view.session.id,
            dist(view.original_counts),
            dist(view.counts),
            guide,
            ", ".join(flags) or "—",
            str(moved),
        )
    buckets = " / ".join(run.sessions[0].buckets) if run.sessions else ""
    table.caption = f"shares per bucket ({buckets}); moved = ratings adjusted by the committee"
    return table


def _ledger_line(run: ScenarioRun) -> str:
    rows = queries.ledger_balances(run.bus)
    total = sum((Decimal(r["balance"]) for r in rows), Decimal(0))
    top = sorted(rows, key=lambda r: -Decimal(r["balance"]))[:3]
    best = ", ".join(f"{r['subject'].split(':')[1]} {r['balance']}" for r in top)
    return f"incentive points awarded: {total:,} to {len(rows)} people (top: {best})"


def _commission_table(run: ScenarioRun) -> Table:
    table = Table(
        title=(
            f"commission: {RATE:.0%} of bookings, quota {QUOTA:,.0f} USD per quarter, "
            "1.5x from 100 % and 2x from 150 % of quota (marginal)"
        ),
        title_justify="left",
    )
    for col in ("agent", "quarter", "bookings", "attainment", "commission"):
        table.add_column(col, justify="left" if col in {"agent", "quarter"} else "right")
    ranked = sorted(run.commissions.items(), key=lambda kv: -kv[1].amount)[:5]
    for (subject, period), result in ranked:
        booked = result.attainment * QUOTA
        table.add_row(
            subject.split(":")[1],
            period,
            f"{booked:,.0f}",
            _pct(result.attainment),
            f"{result.amount:,.2f}",
        )
    total = sum((r.amount for r in run.commissions.values()), Decimal(0))
    table.caption = f"total commission over {len(run.commissions)} agent-quarters: {total:,.2f} USD"
    return table


def _overall_win_rate(run: ScenarioRun) -> str:
    won = closed = Decimal(0)
    for period in run.periods:
        for card in queries.scorecards(run.bus, period):
            won += Decimal(card["values"].get("won") or 0)
            closed += Decimal(card["values"].get("closed") or 0)
    rate = won / closed if closed else None
    return f"overall win rate {won:,.0f} / {closed:,.0f} = {_pct(rate)}"


def scenario_text(run: ScenarioRun, *, width: int, color: bool) -> str:
    """One scenario's part of the summary, rendered to text (ANSI colours when ``color``)."""
    out = io.StringIO()
    con = Console(
        file=out,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
    )
    if run.scenario is GARMENT:
        con.rule("[bold]Garment factory[/] — UCI 597, 1,197 real team-days, Jan-Mar 2015")
        con.print(_period_table(run, "attainment", "productivity attainment (actual / target)"))
    else:
        con.rule("[bold]Sales organisation[/] — Maven CRM, 8,800 opportunities, 2017")
        con.print(_period_table(run, "win_rate", "agents' win rate (won / closed)"))
        con.print(_overall_win_rate(run))
    con.print(_loop_table(run))
    escalations = [m for m in run.notifier.sent if m.subject.startswith("Escalation")]
    sample = next((m for m in escalations if "level 2" in m.body), None) or next(
        iter(escalations), None
    )
    if sample is not None:
        con.print(
            f"[dim]e.g. to {', '.join(sample.recipients)}: {sample.subject} — "
            f"{short_numbers(sample.body)}[/]"
        )
    con.print(_calibration_table(run))
    con.print(_ledger_line(run))
    if run.commissions:
        con.print(_commission_table(run))
    con.print(_diagnosis_line(run))
    if run.sandbox is not None:
        con.print(_sandbox_lines(run))
    return out.getvalue()


def _diagnosis_line(run: ScenarioRun) -> str:
    from perfcore_adapters.cli._demo import DIAGNOSED

    levels = run.diagnosis
    parts = []
    for level in ("too_easy", "healthy", "too_hard", "insufficient_data"):
        names = levels.get(level, [])
        if not names:
            continue
        shown = ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")
        parts.append(
            f"{level.replace('_', ' ')} {len(names)}"
            + (f" ({shown})" if level != "healthy" else "")
        )
    return (
        f"challenge diagnosis of the {DIAGNOSED[run.scenario.key]} targets "
        f"(> 130 % too easy, < 70 % too hard): " + "; ".join(parts)
    )


def _sandbox_lines(run: ScenarioRun) -> str:
    """The sandbox result, each figure next to the live one it can be compared with, and what
    differs between the two said in the line (the sandbox checks month rules at month end and
    evaluates incentives for every replayed month; live checks month-to-date as data arrive and
    pays closed months only)."""
    base, new = run.sandbox
    keys = set(base.totals) | set(new.totals)
    moved = [(new.totals.get(k) or Decimal(0)) - (base.totals.get(k) or Decimal(0)) for k in keys]
    mean = sum(moved, Decimal(0)) / len(moved) if moved else Decimal(0)
    pa, pb = (o.rewards.get("points", Decimal(0)) for o in (base, new))
    with run.bus.uow as uow:
        live_rules = Counter(a.rule for a in uow.alerts.list())
    live_points = sum((Decimal(r["balance"]) for r in queries.ledger_balances(run.bus)), Decimal(0))
    first, last = run.periods[0], run.periods[-1]
    rules = sorted(set(base.alerts_by_rule) | set(new.alerts_by_rule))
    parts = []
    for rule in rules:
        a, b = base.alerts_by_rule.get(rule, 0), new.alerts_by_rule.get(rule, 0)
        note = f"live {live_rules.get(rule, 0)}"
        if rule.endswith("month"):
            note += ": live checks it month-to-date as data arrive, the sandbox once at month end"
        parts.append(f"{rule} alerts {a} → {b} ({note})")
    return (
        "sandbox — garment-proposed.yaml (daily alert under 70 % instead of 75 %, attainment "
        f"weighs 90 % of output instead of 70 %) vs the plan in force, {first} to {last} "
        "replayed in throwaway stores, live data untouched:\n  "
        + "; ".join(parts)
        + f"; reviews {base.reviews} → {new.reviews}; points {pa:,} → {pb:,} (all replayed "
        f"months; live pays closed months only: {live_points:,}); mean total {mean:+.3f}"
    )


def print_summary(result: DemoRun) -> None:
    """Print the demo summary: each scenario's part, then where things are."""
    for text in result.texts:
        console.print(Text.from_ansi(text), end="")
    console.rule()
    console.print(
        "[dim]Data are real (see data/*/PROVENANCE.md). Simulated, declared: when reviewers "
        "answer alert reviews, and the managers' period ratings (rank of the scorecard total "
        "within the manager's team; in sales rocco.neubert rates one step high and cara.losch "
        "one step low) — so that calibration has something to find.[/]"
    )
    wd = result.workdir
    console.print(f"databases: [cyan]{wd / GARMENT.db_file}[/], [cyan]{wd / SALES.db_file}[/]")
    if result.report_dir is not None:
        console.print(f"report:    [cyan]{result.report_dir / 'index.html'}[/]")
    console.print(
        f"explore:   cd {wd} && perfcore dashboard --plan garment.yaml --now {result.asof}\n"
        f"           perfcore calibrate cal-2015-02 --plan garment.yaml\n"
        f"           perfcore score --period 2017-Q3 --db sales.db --plan sales.yaml"
    )
    console.print(f"[green]done in {result.seconds:.1f} s[/]")
