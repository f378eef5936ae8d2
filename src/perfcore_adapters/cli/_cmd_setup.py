"""Setting up: ``init``, ``validate``, ``db upgrade``, ``plugins``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from perfcore_adapters.cli._common import (
    DEFAULT_DB,
    DbOpt,
    PlanOpt,
    check_sqlite_path,
    console,
    fail,
    guarded,
    open_runtime,
    read_plan_text,
    storage_url,
    upgrade_database,
)
from perfcore_adapters.cli._starter import STARTER_CSV, STARTER_PLAN

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the setup commands to ``app``."""
    app.command("init")(init)
    app.command("validate")(validate)
    db = typer.Typer(help="Database schema management.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")
    app.command("plugins")(plugins)


def init(
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing plan file.")] = False,
) -> None:
    """Write a starter plan (perfcore.yaml + data/inspections.csv) and create the database."""

    def run() -> None:
        target = plan or Path("perfcore.yaml")
        if target.exists() and not force:
            fail(f"{target} already exists", "use --force to overwrite it, or --plan OTHER.yaml")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(STARTER_PLAN, encoding="utf-8")
        data = target.parent / "data" / "inspections.csv"
        data.parent.mkdir(parents=True, exist_ok=True)
        if not data.exists():
            data.write_text(STARTER_CSV, encoding="utf-8")
        runtime = open_runtime(db, target)
        where = db if runtime.persistent else "memory (no SQL storage adapter)"
        console.print(f"[green]✓[/] wrote [bold]{target}[/] and [bold]{data}[/]")
        console.print(f"[green]✓[/] database [bold]{where}[/] is ready, plan applied")
        console.print(
            "next: [cyan]perfcore sync[/] then [cyan]perfcore score --period 2025-03[/] "
            "and [cyan]perfcore dashboard[/]"
        )

    guarded(run)


def validate(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="The plan file to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Problems as a JSON array.")] = False,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """Check a plan file; print every problem as file:line:column (exit 1 when there is one)."""
    del db, plan  # accepted for uniformity; validation touches no database

    def run() -> None:
        from perfcore.plan import PlanError, load

        if not plan_file.is_file():
            fail(f"no plan file at {plan_file}", "give the path of a YAML plan")
        read_plan_text(plan_file)  # not UTF-8 → one line + hint
        try:
            loaded = load(plan_file)
        except PlanError as exc:
            if as_json:
                rows = [
                    {
                        "file": p.file,
                        "line": p.line,
                        "column": p.column,
                        "path": p.path,
                        "message": p.message,
                    }
                    for p in exc.problems
                ]
                console.print_json(json.dumps(rows))
                raise typer.Exit(1) from None
            raise
        spec = loaded.spec
        if as_json:
            console.print_json(json.dumps([]))
            return
        console.print(
            f"[green]✓[/] {plan_file}: plan [bold]{spec.name}[/] is valid — "
            f"{len(spec.indicators)} indicators, {len(spec.objectives)} objectives, "
            f"{len(spec.alerts)} alert rules, {len(spec.incentives)} incentive rules, "
            f"period {spec.period}, time zone {spec.time_zone}"
        )

    guarded(run)


def db_upgrade(db: DbOpt = DEFAULT_DB, plan: PlanOpt = None) -> None:
    """Create the database or upgrade its schema to the latest version."""
    del plan

    def run() -> None:
        url = storage_url(db)
        if url.startswith("sqlite:///"):
            check_sqlite_path(Path(url.removeprefix("sqlite:///")), must_exist=False)
        upgrade_database(url)
        console.print(f"[green]✓[/] database [bold]{db}[/] is at the latest schema")

    guarded(run)


def plugins(
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="As a JSON array.")] = False,
) -> None:
    """List installed plugins, their versions, hooks, and the source/notifier kinds they add."""
    del db, plan

    def run() -> None:
        from perfcore.plugins.manager import PluginHost

        host = PluginHost.from_env()
        host.load()
        infos = host.list_plugins()
        sources = sorted(host.sources.kinds()) if hasattr(host.sources, "kinds") else []
        notifiers = sorted(host.notifiers.kinds()) if hasattr(host.notifiers, "kinds") else []
        if as_json:
            rows = [
                {
                    "name": i.name,
                    "status": i.status,
                    "distribution": i.distribution,
                    "version": i.version,
                    "hooks": list(i.hooks),
                    "error": getattr(i, "error", None),
                }
                for i in infos
            ]
            console.print_json(
                json.dumps({"plugins": rows, "sources": sources, "notifiers": notifiers})
            )
            return
        table = Table(title="perfcore plugins", title_justify="left")
        for col in ("plugin", "status", "distribution", "version", "hooks"):
            table.add_column(col)
        for i in infos:
            colour = {"loaded": "green", "failed": "red"}.get(i.status, "yellow")
            detail = ", ".join(i.hooks) or (getattr(i, "error", None) or "")
            table.add_row(
                i.name,
                f"[{colour}]{i.status}[/]",
                i.distribution or "",
                i.version or "",
                detail,
            )
        console.print(table)
        if sources:
            console.print(f"source kinds: {', '.join(sources)}")
        if notifiers:
            console.print(f"notifier kinds: {', '.join(notifiers)}")

    guarded(run)
