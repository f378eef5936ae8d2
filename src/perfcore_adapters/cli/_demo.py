"""``perfcore demo``: the whole closed loop on the bundled real data, in under a minute.

The two scenarios are independent and run side by side in two worker processes
(:func:`scenario_job`); each returns plain data (its summary text and report section).

Two scenarios (see ``demo_data/*.yaml`` and :mod:`perfcore_adapters.cli._replay` for what is
real and what is simulated): the garment factory (UCI 597) and the sales organisation (Maven CRM).
Each is replayed through the message bus on in-memory storage with a simulated clock, then its
state is written to a SQLite database in the work directory (``perfcore.db`` for the garment
factory, ``sales.db`` for sales), and the HTML/PNG report is written to ``DIR/report/``.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from attrs import define, field

from perfcore.bootstrap import bootstrap
from perfcore.domain.commission import CommissionPlan, CommissionResult, CommissionTier, TierMethod
from perfcore.plan import Plan, load
from perfcore.services import commands as c
from perfcore.services import queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, RecordingNotifier
from perfcore_adapters.cli._calib import CalibrationView, analyse_session
from perfcore_adapters.cli._common import (
    close_storage,
    console,
    err_console,
    fail,
    guarded,
    storage_url,
)
from perfcore_adapters.cli._fastmem import indexed_unit_of_work
from perfcore_adapters.cli._ingest import make_progress
from perfcore_adapters.cli._replay import ReplayLog, close_period_with_reviews, replay
from perfcore_adapters.cli._scenarios import (
    GARMENT,
    SALES,
    Scenario,
    garment_slices,
    install_demo_files,
    sales_slices,
)

__all__ = ["COMMISSION", "DemoRun", "register", "run_demo"]

COMMISSION = CommissionPlan(
    method=TierMethod.MARGINAL,
    tiers=(  # type: ignore[arg-type]
        CommissionTier(lower=Decimal(0), multiplier=Decimal(1)),
        CommissionTier(lower=Decimal(1), multiplier=Decimal("1.5")),
        CommissionTier(lower=Decimal("1.5"), multiplier=Decimal(2)),
    ),
)
"""The sales demo's commission plan: 8 % of bookings up to the quarterly quota of 100,000 USD,
1.5x on the slice from 100 % to 150 % of quota and 2x above (marginal accelerators)."""
QUOTA = Decimal(100000)
RATE = Decimal("0.08")


@define
class ScenarioRun:
    """The outcome of one scenario replay."""

    scenario: Scenario
    bus: MessageBus
    plan: Plan
    log: ReplayLog
    clock: FakeClock
    notifier: RecordingNotifier
    db_path: Path
    periods: list[str] = field(factory=list)
    sessions: list[CalibrationView] = field(factory=list)
    commissions: dict[tuple[str, str], CommissionResult] = field(factory=dict)
    seconds: float = 0.0
    copied: dict[str, int] = field(factory=dict)
    diagnosis: dict[str, list[str]] = field(factory=dict)
    sandbox: Any = None


@define
class DemoRun:
    """The demo's outcome: each scenario's summary text, the report directory, the simulated
    "now" at the end of the garment replay, and the total wall time."""

    workdir: Path
    texts: list[str]
    report_dir: Path | None
    asof: str
    seconds: float


class _QueueProgress:
    """Progress calls from a worker process, sent to the parent through a queue."""

    def __init__(self, queue: Any, key: str) -> None:
        self.queue = queue
        self.key = key

    def add_task(self, title: str, *, total: int, rejected: int = 0) -> str:
        self.queue.put(("add", self.key, title, total, rejected))
        return self.key

    def update(self, task: str, *, advance: int = 0, rejected: int = 0) -> None:
        self.queue.put(("update", task, advance, rejected))


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)


def _run_scenario(workdir: Path, scenario: Scenario, progress: Any) -> ScenarioRun:
    started = time.perf_counter()
    plan_path = workdir / scenario.plan_file
    plan = load(plan_path)
    source = next(iter(plan.spec.sources.values()))
    data = workdir / str(source.config["path"])
    cut = garment_slices if scenario is GARMENT else sales_slices
    slices = cut(plan, data)
    clock = FakeClock(slices[0].arrives - dt.timedelta(days=1))
    notifier = RecordingNotifier()
    bus = bootstrap(uow=indexed_unit_of_work(), clock=clock, notifiers={"*": notifier})
    bus.handle(c.ApplyPlan(plan_path.read_text(encoding="utf-8"), scenario.plan_file))
    rows = sum(len(s.rows) for s in slices)
    task = progress.add_task(scenario.key, total=rows, rejected=0)

    def advance(n: int) -> None:
        done = log_ref[0].ingest if log_ref else {}
        rejected = sum(t.rejected for t in done.values())
        progress.update(task, advance=n, rejected=rejected)

    log_ref: list[ReplayLog] = []
    until = slices[-1].arrives + dt.timedelta(hours=18)
    log = replay(
        bus,
        clock,
        plan,
        slices,
        until=until,
        on_period_close=close_period_with_reviews(rater_bias=scenario.rater_bias),
        progress=advance,
    )
    progress.update(task, rejected=sum(t.rejected for t in log.ingest.values()))
    run = ScenarioRun(scenario, bus, plan, log, clock, notifier, workdir / scenario.db_file)
    with bus.uow as uow:
        run.periods = sorted({key for _, key, _ in uow.scorecards.list()})
    run.sessions = [analyse_session(bus, s) for s in log.calibrations]
    if scenario is SALES:
        run.commissions = _commissions(bus, run.periods)
    run.seconds = time.perf_counter() - started
    return run


def _commissions(bus: MessageBus, periods: list[str]) -> dict[tuple[str, str], CommissionResult]:
    out: dict[tuple[str, str], CommissionResult] = {}
    for period in periods:
        for card in queries.scorecards(bus, period):
            revenue = card["values"].get("revenue")
            if revenue is None:
                continue
            out[(card["subject"], period)] = COMMISSION.compute(
                quota=QUOTA, credited=Decimal(revenue), rate=RATE
            )
    return out


DIAGNOSED = {GARMENT.key: "attainment", SALES.key: "revenue"}
"""The indicator whose target the demo's challenge diagnosis looks at, per scenario."""


def _diagnose(run: ScenarioRun) -> None:
    """Challenge diagnosis (too easy > 130 %, too hard < 70 % over the last periods) of each
    subject's target for the scenario's key indicator; names grouped by level."""
    indicator = DIAGNOSED[run.scenario.key]
    found = run.bus.handle(c.DiagnoseChallenge(indicator, tuple(run.periods)))  # type: ignore[arg-type]
    levels: dict[str, list[str]] = {}
    for d in found:
        levels.setdefault(d.level.value, []).append(str(d.subject).split(":", 1)[1])
    run.diagnosis = levels


PROPOSED_CHANGES = (
    ("below: 0.75\n    grain: day", "below: 0.7\n    grain: day"),
    ("indicators: {attainment: 70, met_rate: 30}", "indicators: {attainment: 90, met_rate: 10}"),
)
"""The garment sandbox's proposal: daily alert under 70 % instead of 75 %, and attainment
weighing 90 % of the output objective instead of 70 %."""


def _sandbox(run: ScenarioRun, root: Path) -> Any:
    """Write ``garment-proposed.yaml`` and replay Jan-Mar against it in a throwaway store."""
    from perfcore.domain.values import Period
    from perfcore_adapters.cli._cmd_sim import run_sandbox

    text = (root / run.scenario.plan_file).read_text(encoding="utf-8")
    for old, new in PROPOSED_CHANGES:
        text = text.replace(old, new)
    proposed = root / "garment-proposed.yaml"
    proposed.write_text(text, encoding="utf-8")
    first, last = Period.parse(run.periods[0]), Period.parse(run.periods[-1])
    return run_sandbox(run.bus, proposed, first, last)


def _write_db(run: ScenarioRun) -> None:
    """Write the scenario's whole state into its SQLite file (replacing an older one)."""
    from perfcore.bootstrap import make_unit_of_work
    from perfcore_adapters.cli._snapshot import copy_state

    if run.db_path.exists():
        run.db_path.unlink()
    target = make_unit_of_work(storage_url(str(run.db_path)))
    try:
        run.copied = copy_state(run.bus.uow, target)
    finally:
        close_storage(target)


def scenario_job(
    workdir: str, key: str, width: int, color: bool, report: bool, queue: Any
) -> dict[str, Any]:
    """Run one scenario end to end (replay, database, summary text, report section); runs in a
    worker process, so everything returned is plain data."""
    from perfcore_adapters.cli._summary import scenario_text

    scenario = GARMENT if key == GARMENT.key else SALES
    root = Path(workdir)
    run = _run_scenario(root, scenario, _QueueProgress(queue, key))
    _write_db(run)
    _diagnose(run)
    if scenario is GARMENT:
        run.sandbox = _sandbox(run, root)
    section = None
    if report:
        from perfcore_adapters.report import build_section

        section = build_section(
            run.bus, scenario.title, root / "report" / "charts", run.commissions or None
        )
    queue.put(("done", key, 0, 0))
    return {
        "key": key,
        "text": scenario_text(run, width=width, color=color),
        "section": section,
        "asof": run.clock.now().isoformat(timespec="minutes"),
    }


_WORKER_QUEUE: Any = None


def _init_worker(queue: Any) -> None:
    """Worker start-up: Ctrl-C is the parent's business (it stops the workers), and the progress
    queue is inherited here (a multiprocessing queue cannot be passed with each task)."""
    import signal

    global _WORKER_QUEUE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_QUEUE = queue


def _worker_job(workdir: str, key: str, width: int, color: bool, report: bool) -> dict[str, Any]:
    return scenario_job(workdir, key, width, color, report, _WORKER_QUEUE)


OUTPUTS = ("perfcore.db", "sales.db", GARMENT.plan_file, SALES.plan_file, "garment-proposed.yaml")
"""Files the demo writes in its work directory (besides ``data/`` and ``report/``)."""


def existing_outputs(workdir: Path) -> list[str]:
    """What in ``workdir`` the demo would replace (or sit beside: a ``perfcore.yaml`` project)."""
    names = [n for n in (*OUTPUTS, "perfcore.yaml") if (workdir / n).exists()]
    if (workdir / "report" / "index.html").exists():
        names.append("report/")
    return names


def _remove_partial(workdir: Path) -> None:
    """After an interruption: the databases may be half written — remove them (and their WAL)."""
    for name in ("perfcore.db", "sales.db"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            (workdir / f"{name}{suffix}").unlink(missing_ok=True)


def _stop_pool(pool: Any) -> None:
    """Stop a process pool now: cancel what has not started, terminate the running workers and
    reap them (no orphans)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():  # pragma: no cover - a worker that ignores SIGTERM
            proc.kill()
            proc.join(timeout=5)


class _LocalQueue:
    """The queue used when both scenarios run in this process (``jobs=1``)."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def put(self, message: tuple[Any, ...]) -> None:
        _apply(self.progress, self.tasks, message)


def _apply(progress: Any, tasks: dict[str, Any], message: tuple[Any, ...]) -> None:
    kind = message[0]
    if kind == "add":
        _, key, title, total, rejected = message
        tasks[key] = progress.add_task(title, total=total, rejected=rejected)
    elif kind == "update":
        _, key, advance, rejected = message
        progress.update(tasks[key], advance=advance, rejected=rejected)


def run_demo(workdir: Path, *, report: bool = True, jobs: int = 2) -> DemoRun:
    """Run both scenarios in ``workdir`` (in ``jobs`` processes; the two scenarios are
    independent), write their databases, and the report. Returns the summary texts."""
    import multiprocessing
    import queue as queue_mod
    import signal
    from concurrent.futures import ProcessPoolExecutor

    started = time.perf_counter()
    install_demo_files(workdir)
    width, color = console.width, console.is_terminal
    keys = [GARMENT.key, SALES.key]
    results: dict[str, dict[str, Any]] = {}
    with make_progress(err_console) as progress:
        if jobs <= 1:
            local = _LocalQueue(progress)
            for key in keys:
                results[key] = scenario_job(str(workdir), key, width, color, report, local)
        else:
            ctx = multiprocessing.get_context("spawn")
            messages = ctx.Queue()
            pool = ProcessPoolExecutor(
                2, mp_context=ctx, initializer=_init_worker, initargs=(messages,)
            )
            try:
                # the workers are started by submit(): they inherit an ignored SIGINT, so a
                # Ctrl-C while they import cannot print a traceback from them
                previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
                try:
                    futures = {
                        key: pool.submit(_worker_job, str(workdir), key, width, color, report)
                        for key in keys
                    }
                finally:
                    signal.signal(signal.SIGINT, previous)
                tasks: dict[str, Any] = {}
                while not all(f.done() for f in futures.values()):
                    try:
                        _apply(progress, tasks, messages.get(timeout=0.2))
                    except queue_mod.Empty:
                        continue
                while True:
                    try:
                        _apply(progress, tasks, messages.get_nowait())
                    except queue_mod.Empty:
                        break
                results = {key: f.result() for key, f in futures.items()}
            except BaseException:
                _stop_pool(pool)
                raise
            finally:
                pool.shutdown(wait=True)
                messages.close()
                messages.cancel_join_thread()
    report_dir: Path | None = None
    if report:
        from perfcore_adapters.report import render_html

        report_dir = workdir / "report"
        render_html([results[k]["section"] for k in keys], report_dir)
    return DemoRun(
        workdir=workdir,
        texts=[results[k]["text"] for k in keys],
        report_dir=report_dir,
        asof=results[GARMENT.key]["asof"],
        seconds=time.perf_counter() - started,
    )


def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", "-w", help="Where to write plans, data, databases, report.")
    ] = Path("perfcore-demo"),
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the charts.")] = False,
    jobs: Annotated[
        int, typer.Option(min=1, max=2, help="Processes (the two scenarios run side by side).")
    ] = 2,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the databases, plans and report already in DIR."),
    ] = False,
) -> None:
    """Run the closed loop on the bundled real data (garment factory + sales organisation)."""

    def run() -> None:
        import signal

        from perfcore_adapters.cli._summary import print_summary

        found = existing_outputs(workdir)
        if found and not force:
            fail(
                f"{workdir} already has {', '.join(found)}; the demo would replace them",
                "pass --force to overwrite, or choose a new --workdir",
            )
        console.print(
            "[bold]perfcore demo[/] — the closed loop on real public data "
            f"(work directory: [cyan]{workdir}[/])\n"
        )
        try:
            result = run_demo(workdir, report=not no_report, jobs=jobs)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt this
            _remove_partial(workdir)
            err_console.print(
                f"[yellow]demo interrupted;[/] partial databases in {workdir} removed "
                "(re-run with --force)",
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
        print_summary(result)

    guarded(run)
