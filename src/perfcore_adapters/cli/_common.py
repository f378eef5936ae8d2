"""Shared CLI plumbing: the ``--db``/``--plan`` options, opening a bus, and user-facing errors.

Every command goes through :func:`guarded`, which turns the errors a *user* can cause (a plan
problem, a bad period, an unknown subject, a missing file) into one red line plus a hint and exit
code 1, and never prints a traceback for them. Programming errors still raise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from attrs import frozen
from rich.console import Console
from rich.markup import escape

from perfcore.domain.errors import DomainError, PerfcoreError
from perfcore.formula.errors import FormulaError
from perfcore.plan import PlanError
from perfcore.services.messagebus import MessageBus

__all__ = [
    "DEFAULT_DB",
    "DbOpt",
    "PlanOpt",
    "Runtime",
    "UserError",
    "console",
    "err_console",
    "fail",
    "guarded",
    "open_runtime",
    "resolve_plan_path",
    "storage_url",
    "upgrade_database",
]

DEFAULT_DB = "perfcore.db"
"""The database file used when ``--db`` is not given (in the working directory)."""

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DbOpt = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="PERFCORE_DB",
        help="SQLite file or database URL (postgresql+psycopg://...).",
        show_default=True,
    ),
]
PlanOpt = Annotated[
    Path | None,
    typer.Option(
        "--plan",
        envvar="PERFCORE_PLAN",
        help="Plan file (YAML). Default: perfcore.yaml here, else the plan stored in --db.",
        dir_okay=False,
    ),
]


class UserError(Exception):
    """An error caused by the user's input: shown as one line plus a hint, exit code 1."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def fail(message: str, hint: str = "") -> NoReturn:
    """Raise :class:`UserError` (handled by :func:`guarded`)."""
    raise UserError(message, hint)


def _print_error(message: str, hint: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    if hint and hint not in message:
        err_console.print(f"[dim]hint:[/] {escape(hint)}", soft_wrap=True)


def _hint_for(exc: PerfcoreError) -> str:
    if isinstance(exc, DomainError):
        valid = getattr(exc, "valid", None)
        if valid and str(valid) not in str(exc):
            return f"valid: {valid}"
    return ""


def guarded(func: Callable[[], Any]) -> Any:
    """Run ``func``; report user errors as ``error: ...`` + ``hint: ...`` and exit 1."""
    try:
        return func()
    except UserError as exc:
        _print_error(exc.message, exc.hint)
    except PlanError as exc:
        for problem in exc.messages:
            err_console.print(f"[bold red]error:[/] {escape(problem)}", soft_wrap=True)
        _print_error(
            f"the plan has {len(exc.problems)} problem(s)",
            "fix them and run `perfcore validate PLAN`",
        )
    except FormulaError as exc:
        _print_error(f"formula: {exc}", "see docs/formula.md for the formula language")
    except PerfcoreError as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _print_error(text, _hint_for(exc))
    except OSError as exc:
        _print_error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), "check the path")
    raise typer.Exit(1)


def storage_url(db: str) -> str:
    """``--db`` value → a database URL (a plain path means a SQLite file)."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def resolve_plan_path(plan: Path | None) -> Path | None:
    """The plan file to use: ``--plan``, else ``./perfcore.yaml`` when it exists, else ``None``."""
    if plan is not None:
        if not plan.is_file():
            fail(f"no plan file at {plan}", "pass --plan PATH, or run `perfcore init`")
        return plan
    default = Path("perfcore.yaml")
    return default if default.is_file() else None


@frozen
class Runtime:
    """An opened perfcore: the bus, whether storage is persistent, and the plan file used."""

    bus: MessageBus
    persistent: bool
    plan_path: Path | None
    url: str


def _sql_available() -> bool:
    try:
        import perfcore_adapters.sqlalchemy as adapter
    except ImportError:  # pragma: no cover - ships with perfcore
        return False
    return any(hasattr(adapter, n) for n in ("make_unit_of_work", "SqlAlchemyUnitOfWork"))


def open_runtime(
    db: str,
    plan: Path | None,
    *,
    clock: Any = None,
    notifiers: Any = None,
    memory: bool = False,
    require_plan: bool = True,
) -> Runtime:
    """Open storage ``db`` (or memory), apply ``plan`` (or the default plan file) and return the
    runtime. Raises :class:`UserError` when no plan is available and ``require_plan``."""
    from perfcore.bootstrap import bootstrap
    from perfcore.plugins.manager import PluginHost

    url = storage_url(db)
    persistent = not memory and _sql_available()
    if persistent and url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    host = PluginHost.from_env()
    host.load()
    kwargs: dict[str, Any] = {"plugins": host, "storage": url if persistent else "memory"}
    if clock is not None:
        kwargs["clock"] = clock
    if notifiers is not None:
        kwargs["notifiers"] = notifiers
    bus = bootstrap(**kwargs)
    path = resolve_plan_path(plan)
    if path is not None:
        from perfcore.services.commands import ApplyPlan

        bus.handle(ApplyPlan(path.read_text(encoding="utf-8"), str(path)))
    elif require_plan:
        with bus.uow as uow:
            stored = uow.plans.latest()
        if stored is None:
            fail(
                "no plan: none given, no perfcore.yaml here and none stored in the database",
                "pass --plan PATH, or run `perfcore init` to write a starter plan",
            )
    return Runtime(bus, persistent, path, url)


def upgrade_database(url: str) -> None:
    """Create or upgrade the database schema at ``url`` to the latest revision."""
    import perfcore_adapters.sqlalchemy as adapter

    upgrade = getattr(adapter, "upgrade", None)
    if upgrade is None:
        fail("this perfcore has no SQL storage adapter", "use --memory where offered")
    upgrade(url)
