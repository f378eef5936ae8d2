"""Evidence and scores: ``sync`` and ``score``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from perfcore.domain.values import PERCENT_PLACES, SCORE_PLACES, Period, SubjectRef, quantize
from perfcore.plan import Plan
from perfcore.ports.clock import FixedClock
from perfcore.services.commands import ComputeScorecards
from perfcore.services.records import ScorecardRecord
from perfcore_adapters.cli._common import (
    DEFAULT_DB,
    DbOpt,
    PlanOpt,
    Runtime,
    console,
    err_console,
    fail,
    guarded,
    open_runtime,
    parse_now,
)
from perfcore_adapters.cli._ingest import sync_all
from perfcore_adapters.cli._quarantine import group_reasons, print_reasons, quarantine

__all__ = ["ensure_data", "register", "scorecard_json"]


def register(app: typer.Typer) -> None:
    """Add ``sync``, ``score`` and ``quarantine`` to ``app``."""
    app.command("sync")(sync)
    app.command("score")(score)
    app.command("quarantine")(quarantine)


def ensure_data(runtime: Runtime) -> None:
    """Without persistent storage, load the plan's file sources into memory first (quietly)."""
    if runtime.persistent:
        return
    plan: Plan = runtime.bus.ctx.plan()
    plan_dir = runtime.plan_path.parent if runtime.plan_path is not None else None
    err_console.print("[yellow]note:[/] no SQL storage available — reading the sources into memory")
    sync_all(runtime.bus, plan, plan_dir, err_console)


def sync(
    source: Annotated[
        str | None, typer.Argument(help="One plan source (default: every source).")
    ] = None,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Sync as of this ISO time (e.g. 2015-03-12T18:00+06:00), for replaying "
            "history: records, alerts and review deadlines are dated then. Default: now.",
        ),
    ] = None,
) -> None:
    """Pull evidence from the plan's sources (files or plugin sources) into the database."""

    def run() -> None:
        at = parse_now(now)
        runtime = open_runtime(db, plan, clock=FixedClock(at) if at is not None else None)
        compiled: Plan = runtime.bus.ctx.plan()
        if not compiled.spec.sources:
            fail("the plan declares no sources", "add a `sources:` section to the plan")
        plan_dir = runtime.plan_path.parent if runtime.plan_path is not None else None
        started = (at or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=1)
        results = sync_all(runtime.bus, compiled, plan_dir, console, only=source)
        table = Table(title="sync", title_justify="left")
        for col in ("source", "read", "new", "duplicates", "rejected", "rows/s"):
            table.add_column(col, justify="left" if col == "source" else "right")
        for r in results:
            table.add_row(
                r.source,
                f"{r.read:,}",
                f"{r.accepted:,}",
                f"{r.duplicates:,}",
                f"[red]{r.rejected:,}[/]" if r.rejected else "0",
                f"{r.rows_per_second:,.0f}",
            )
        console.print(table)
        if any(r.rejected for r in results):
            _show_rejections(runtime, [r.source for r in results if r.rejected], started)
        all_bad = [r for r in results if r.read and r.rejected == r.read]
        if all_bad:
            names = ", ".join(f"{r.source!r} ({r.rejected:,} of {r.read:,})" for r in all_bad)
            fail(
                f"every row of source {names} was rejected",
                "see the reasons above; when every row fails the same way, the plan's source "
                "mapping (id, subject, occurred_at, fields) or the file is usually wrong",
            )

    guarded(run)


def _f(value: Decimal | None, places: int | None = None) -> float | None:
    if value is None:
        return None
    return float(quantize(value, places) if places is not None else value)


def scorecard_json(record: ScorecardRecord) -> dict[str, Any]:
    """One scorecard as the ``score --json`` object: indicator values, attainments (percent,
    2 dp), scores (3 dp), objective scores, total and the plan version."""
    card = record.scorecard
    attainments: dict[str, float | None] = {}
    scores: dict[str, float | None] = {}
    objectives: dict[str, float | None] = {}
    if card is not None:
        for line in card.lines:
            attainments[line.indicator] = _f(line.attainment_percent, PERCENT_PLACES)
            scores[line.indicator] = _f(line.score, SCORE_PLACES)
        for obj in card.objectives:
            objectives[obj.objective] = _f(obj.score, SCORE_PLACES)
    return {
        "subject": str(record.subject),
        "period": record.period_key,
        "plan_version": record.plan_version,
        "values": {k: _f(v) for k, v in record.values.items()},
        "attainments_percent": attainments,
        "scores": scores,
        "objective_scores": objectives,
        "total": _f(record.total, SCORE_PLACES),
        "evidence_count": record.evidence_count,
    }


def _records(runtime: Runtime, period: str, subject: SubjectRef | None) -> list[ScorecardRecord]:
    with runtime.bus.uow as uow:
        if subject is not None:
            one: ScorecardRecord | None = uow.scorecards.get(subject, period)
            return [one] if one is not None else []
        rows = uow.scorecards.list(period_key=period)
    out: list[ScorecardRecord] = [r for _, _, r in rows]
    out.sort(key=lambda r: (r.total is None, -(r.total or Decimal(0)), str(r.subject)))
    return out


def _show_rejections(runtime: Runtime, sources: list[str], since: dt.datetime) -> None:
    """The top reasons of this sync's rejections (grouped, count, one example each)."""
    with runtime.bus.uow as uow:
        records = [q for name in sources for q in uow.evidence.quarantined(source=name)]
    recent = [q for q in records if q.received_at >= since] or records
    print_reasons(console, group_reasons(recent), 5, "top reasons for rejected rows")
    only = f" --source {sources[0]}" if len(sources) == 1 else ""
    console.print(
        "[dim]rejected rows are kept in quarantine with their reason (read = new + duplicates + "
        f"rejected); all of them: perfcore quarantine{only}[/]"
    )


def score(
    period: Annotated[
        str, typer.Option("--period", "-p", help="Period key: 2025-03, 2025-Q1, 2025-W09 ...")
    ],
    subject: Annotated[
        str | None, typer.Option("--subject", "-s", help="One subject, e.g. person:E1.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array on stdout.")] = False,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """Compute and show scorecards for a period (all subjects, or one)."""

    def run() -> None:
        the_period = Period.parse(period, field="--period")
        ref = SubjectRef.parse(subject, field="--subject") if subject is not None else None
        runtime = open_runtime(db, plan, must_exist=True)
        ensure_data(runtime)
        if ref is not None:
            _check_subject(runtime, ref, the_period)
        subjects = (ref,) if ref is not None else ()
        runtime.bus.handle(ComputeScorecards((the_period.key,), subjects))  # type: ignore[arg-type]
        records = _records(runtime, the_period.key, ref)
        if not records:
            who = f" for {ref}" if ref is not None else ""
            fail(
                f"no scorecard{who} in {the_period.key}: no evidence in that period",
                "run `perfcore sync` first, or check --period and --subject",
            )
        if as_json:
            typer.echo(json.dumps([scorecard_json(r) for r in records], indent=2))
            return
        compiled: Plan = runtime.bus.ctx.plan()
        _print_table(records, compiled, the_period.key)

    guarded(run)


def _check_subject(runtime: Any, ref: SubjectRef, period: Period) -> None:
    """Refuse (before anything is computed or stored) a ``--subject`` without evidence in
    ``period``: a typo must not leave an empty scorecard behind."""
    from perfcore.plan.problems import did_you_mean

    tz = runtime.bus.ctx.plan().tz
    start = dt.datetime.combine(period.start, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    with runtime.bus.uow as uow:
        known = uow.evidence.subjects()
        in_period = ref in known and bool(uow.evidence.list(subject=ref, start=start, end=end))
    if ref not in known:
        fail(
            f"--subject {ref}: no evidence for this subject in the database",
            did_you_mean(str(ref), [str(s) for s in known])
            or "list the scored subjects with `perfcore score --period <period>`",
        )
    if not in_period:
        fail(
            f"--subject {ref}: no evidence for this subject in {period.key}",
            "check --period (the subject has evidence in other periods)",
        )


def _print_table(records: list[ScorecardRecord], plan: Plan, period: str) -> None:
    names = list(plan.scorecard)
    table = Table(
        title=f"scorecards {period} — plan {plan.name!r} v{records[0].plan_version}",
        title_justify="left",
    )
    table.add_column("subject")
    table.add_column("total", justify="right", style="bold")
    for name in names:
        unit = plan.indicators[name].current.unit if name in plan.indicators else ""
        table.add_column(f"{name}\n[dim]{unit}[/]" if unit else name, justify="right")
    places = {
        name: 0
        if all(v == v.to_integral_value() for r in records if (v := r.values.get(name)) is not None)
        else 3
        for name in names
    }
    for record in records:
        values = []
        for name in names:
            v = record.values.get(name)
            values.append("—" if v is None else _fmt(v, places[name]))
        total = record.total
        table.add_row(
            str(record.subject),
            "—" if total is None else f"{quantize(total, SCORE_PLACES)}",
            *values,
        )
    console.print(table)
    console.print("[dim]total: weighted score, 1.000 = every indicator exactly on target[/]")


def _fmt(value: Decimal, places: int) -> str:
    """One table cell: every value of a column with the same number of places (0 when all of
    the column's values are whole numbers, else 3), thousands separated."""
    return f"{quantize(value, places):,.{places}f}"
