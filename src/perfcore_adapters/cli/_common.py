"""Shared CLI plumbing: the ``--db``/``--plan`` options, opening a bus, and user-facing errors.

Every command goes through :func:`guarded`, which turns the errors a *user* can cause (a plan
problem, a bad period, an unknown subject, a missing file) into one red line plus a hint and exit
code 1, and never prints a traceback for them. Programming errors still raise.
"""

from __future__ import annotations

import datetime as dt
import re
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
    "check_sqlite_path",
    "close_storage",
    "console",
    "err_console",
    "fail",
    "guarded",
    "open_runtime",
    "read_plan_text",
    "resolve_plan_path",
    "storage_url",
    "upgrade_database",
]

DEFAULT_DB = "perfcore.db"
"""The database file used when ``--db`` is not given (in the working directory)."""

# emoji=False: data (keys such as ``mes:A:r2``, names) must never turn into emoji
console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)

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
        option = getattr(exc, "field", "") or ""
        if option.startswith("--"):  # a command-line option the user typed
            return f"check {option}; `--help` after the command shows what it takes"
        if option == "storage":  # a --db URL
            return "--db takes a SQLite file path or postgresql://user@host/db"
    return ""


_OPENED: list[Any] = []
"""Units of work opened by :func:`open_runtime`; closed (engine disposed, WAL checkpointed) when
the command ends, so no ``-wal``/``-shm`` files stay behind."""


def close_storage(uow: Any) -> None:
    """Dispose the engine of a SQL unit of work and, for a SQLite file, checkpoint and remove its
    write-ahead log (the last connection to close deletes ``-wal`` and ``-shm``). Idempotent;
    a unit of work without an engine (memory) is left alone."""
    engine = getattr(uow, "engine", None)
    if engine is None:
        return
    engine.dispose()
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(str(url.database))
    if not path.is_file():
        return
    import sqlite3

    try:
        conn = sqlite3.connect(str(path), timeout=5)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # pragma: no cover - best effort at exit
        pass


def _close_opened() -> None:
    while _OPENED:
        close_storage(_OPENED.pop())


def _db_problem(exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) for a database error a user causes with ``--db``, else ``None``."""
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - SQLAlchemy ships with perfcore
        return None
    import sqlite3

    kinds = (sa_exc.DBAPIError, sa_exc.ArgumentError, sa_exc.NoSuchModuleError, sqlite3.Error)
    if not isinstance(exc, kinds):
        return None
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    low = detail.lower()
    if "readonly" in low or "read-only" in low:
        return (
            f"the database is read-only ({detail})",
            "run in a writable folder or pass --db PATH to a writable location",
        )
    if "not a database" in low:
        return (
            f"--db is not a SQLite database ({detail})",
            "pass the path of a perfcore database file, or a postgresql+psycopg:// URL",
        )
    if "unable to open" in low:
        return (
            f"cannot open the database ({detail})",
            "--db must be a SQLite file in an existing, writable folder, or a database URL",
        )
    return (
        f"database error: {detail}",
        "check --db (a SQLite file path or a postgresql+psycopg:// URL) and that it is reachable",
    )


def guarded(func: Callable[[], Any]) -> Any:
    """Run ``func``; report user errors as ``error: ...`` + ``hint: ...`` and exit 1.

    Ctrl-C prints one line (``interrupted; re-run to resume``) and exits 130. Storage opened by
    :func:`open_runtime` is closed on the way out."""
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
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted;[/] re-run to resume (committed batches are kept, repeats "
            "count as duplicates)",
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    except UnicodeDecodeError as exc:
        _print_error(
            f"a file is not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at offset {exc.start})",
            "save it as UTF-8",
        )
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in {"psycopg", "psycopg2", "psycopg_binary"}:
            raise
        _print_error(
            "a postgresql:// database needs the psycopg driver, which is not installed",
            "pip install 'perfcore[postgres]'",
        )
    except OSError as exc:
        _print_error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), "check the path")
    except Exception as exc:
        db_problem = _db_problem(exc)
        if db_problem is None:
            raise
        _print_error(*db_problem)
    finally:
        _close_opened()
    raise typer.Exit(1)


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")


def parse_now(now: str | None) -> dt.datetime | None:
    """A ``--now`` value: an ISO 8601 time with its offset (:class:`UserError` otherwise)."""
    if now is None:
        return None
    try:
        value = dt.datetime.fromisoformat(now)
    except ValueError:
        fail(f"--now {now!r} is not an ISO 8601 time", "e.g. 2015-03-12T12:00+06:00")
    if value.tzinfo is None:
        fail(f"--now {now!r} has no time zone", "add an offset, e.g. +00:00")
    if not 1900 <= value.year <= 2999:
        fail(f"--now {now!r} is out of range", "give a time between the years 1900 and 2999")
    return value


def storage_url(db: str) -> str:
    """``--db`` value → a database URL (a plain path means a SQLite file).

    A value that starts like a URL but is not one (``sqlite:/x.db``, ``sqlit:x.db``) or a
    SQLite URL with two slashes (``sqlite://x.db``) is refused rather than taken as a file name
    (:class:`UserError`)."""
    if "://" in db:
        if db.startswith("sqlite://") and db != "sqlite://" and not db.startswith("sqlite:///"):
            fail(
                f"--db {db}: a SQLite URL needs three slashes before the path",
                "write sqlite:///perfcore.db (four slashes for an absolute path: "
                "sqlite:////data/perfcore.db), or just the file path",
            )
        return db
    scheme = _SCHEME.match(db)
    if scheme is not None:
        fail(
            f"--db {db}: looks like a database URL, but '{scheme.group(1)}:' is not followed by //",
            "write sqlite:///path.db or postgresql://user@host/db, or a plain file path "
            "(./name for a file whose name has a colon)",
        )
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def resolve_plan_path(plan: Path | None) -> Path | None:
    """The plan file to use: ``--plan``, else ``./perfcore.yaml`` when it exists, else ``None``."""
    if plan is not None:
        if not plan.is_file():
            fail(f"no plan file at {plan}", "pass --plan PATH, or run `perfcore init`")
        return plan
    default = Path("perfcore.yaml")
    return default if default.is_file() else None


def read_plan_text(path: Path) -> str:
    """The text of plan file ``path``; a file that is not UTF-8 → :class:`UserError`."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02X} at offset {exc.start})",
            "a plan is a UTF-8 YAML file: re-save it as UTF-8",
        )


def check_sqlite_path(path: Path, *, must_exist: bool) -> None:
    """Check a SQLite ``--db`` path before opening it: not a directory; when ``must_exist``
    (read-only commands) the file must exist; otherwise its folder is created."""
    if path.is_dir():
        fail(f"--db {path} is a directory", "pass the path of a SQLite file, e.g. --db perfcore.db")
    if must_exist and not path.is_file():
        fail(
            f"no database at {path}",
            "check --db, or create one with `perfcore init` / `perfcore sync`",
        )
    if not must_exist:
        path.parent.mkdir(parents=True, exist_ok=True)


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
    must_exist: bool = False,
) -> Runtime:
    """Open storage ``db`` (or memory), apply ``plan`` (or the default plan file) and return the
    runtime. Raises :class:`UserError` when no plan is available and ``require_plan``, and when
    ``must_exist`` (read-only commands) and the SQLite file ``db`` does not exist."""
    from perfcore.bootstrap import bootstrap
    from perfcore.plugins.manager import PluginHost

    url = storage_url(db)
    persistent = not memory and _sql_available()
    if persistent and url.startswith("sqlite:///"):
        check_sqlite_path(Path(url.removeprefix("sqlite:///")), must_exist=must_exist)
    host = PluginHost.from_env()
    host.load()
    kwargs: dict[str, Any] = {"plugins": host, "storage": url if persistent else "memory"}
    if clock is not None:
        kwargs["clock"] = clock
    if notifiers is not None:
        kwargs["notifiers"] = notifiers
    bus = bootstrap(**kwargs)
    if persistent:
        _OPENED.append(bus.uow)
    path = resolve_plan_path(plan)
    if path is not None:
        from perfcore.services.commands import ApplyPlan

        bus.handle(ApplyPlan(read_plan_text(path), str(path)))
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
