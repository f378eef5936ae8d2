"""``perfcore report --out DIR``: the HTML + PNG report of one database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfcore_adapters.cli._cmd_data import ensure_data
from perfcore_adapters.cli._common import (
    DEFAULT_DB,
    DbOpt,
    PlanOpt,
    console,
    err_console,
    fail,
    guarded,
    open_runtime,
)

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report)


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into.")] = Path(
        "perfcore-report"
    ),
    title: Annotated[str | None, typer.Option(help="Section title (default: plan name).")] = None,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """Write a self-contained HTML report with PNG charts (trend, attainment, calibration,
    9-box, exception heat map)."""

    def run() -> None:
        from perfcore_adapters.report import write_report

        runtime = open_runtime(db, plan, must_exist=True)
        ensure_data(runtime)
        with runtime.bus.uow as uow:
            if not uow.evidence.list():
                fail("the database holds no evidence", "run `perfcore sync` first")
        name = title or str(runtime.bus.ctx.plan().name)
        with err_console.status("drawing the charts"):
            path = write_report(out, [runtime.bus], titles=[name])
        console.print(f"[green]✓[/] report written: [cyan]{path}[/] (charts in {out / 'charts'})")

    guarded(run)
