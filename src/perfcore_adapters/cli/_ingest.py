"""Feeding evidence through the bus from the command line, with progress bars.

A plan source with ``config.path`` (a CSV file, relative to the plan file or the working
directory) is read here and pushed in chunks with
:class:`~perfcore.services.commands.IngestBatch`; a source with a plugin ``kind`` and no path is
pulled with :class:`~perfcore.services.commands.SyncSource`. Both are idempotent: the external id
of every record makes a repeat a duplicate, never a double count.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import define, frozen
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from perfcore.plan import Plan
from perfcore.services.commands import IngestBatch, SyncSource
from perfcore.services.ingest import EXTRA_VALUES, SOURCE_LINE
from perfcore.services.messagebus import MessageBus
from perfcore_adapters.cli._common import fail

__all__ = [
    "SourceFile",
    "SyncTotals",
    "ingest_rows",
    "make_progress",
    "plan_source_files",
    "read_csv",
    "sync_all",
]

Row = Mapping[str, object]


@frozen
class SourceFile:
    """A plan source fed from a file: ``name`` (plan source id) and the resolved ``path``."""

    name: str
    path: Path
    encoding: str = "utf-8-sig"


@define
class SyncTotals:
    """Counts of one source's sync: ``read == accepted + duplicates + rejected``."""

    source: str
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of wall time (0 when nothing was timed)."""
        return self.read / self.seconds if self.seconds > 0 else 0.0


class _RateColumn(ProgressColumn):
    """rows/s and the rejected count of a task."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        rate = task.completed / elapsed if elapsed else 0.0
        rejected = int(task.fields.get("rejected", 0))
        style = "red" if rejected else "dim"
        return Text.assemble((f"{rate:>7,.0f} rows/s ", "cyan"), (f"{rejected:,} rejected", style))


def make_progress(console: Console) -> Progress:
    """A rich progress display with rows done/total, rows/s and rejected counts."""
    return Progress(
        TextColumn("[bold]{task.description:<12}"),
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _resolve(raw: str, base: Path | None) -> Path:
    path = Path(raw).expanduser()
    if path.is_absolute():
        return path
    candidates = [base / path] if base is not None else []
    candidates.append(Path.cwd() / path)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def plan_source_files(plan: Plan, plan_dir: Path | None) -> list[SourceFile]:
    """Every plan source with a ``config.path``, resolved against the plan's directory."""
    out: list[SourceFile] = []
    for name, spec in plan.spec.sources.items():
        raw = spec.config.get("path")
        if isinstance(raw, str) and raw:
            encoding = spec.config.get("encoding")
            enc = encoding if isinstance(encoding, str) and encoding else "utf-8-sig"
            out.append(SourceFile(name, _resolve(raw, plan_dir), enc))
    return out


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    """All rows of a CSV file as dicts (``encoding``: a codec name, default UTF-8 with or without
    BOM, or ``auto`` to detect it). Missing file or a file that does not decode → UserError."""
    if not path.is_file():
        fail(
            f"the source file {path} does not exist",
            "check config.path of the plan source: a relative path is looked up next to the "
            f"plan file, then in the working directory ({Path.cwd()})",
        )
    if encoding == "auto":
        from perfcore_adapters.sources.files import detect_encoding

        encoding = detect_encoding(path)[0]
    try:
        with path.open(newline="", encoding=encoding) as handle:
            reader = csv.DictReader(handle, restkey=EXTRA_VALUES)
            rows = []
            for row in reader:  # where each row ends, to find a rejected one again
                row[SOURCE_LINE] = f"{path.name}:{reader.line_num}"
                rows.append(row)
            header = reader.fieldnames
    except LookupError:
        fail(f"unknown encoding {encoding!r} for {path}", "use a Python codec name, e.g. latin-1")
    except UnicodeDecodeError:
        data = path.read_bytes()
        try:
            data.decode(encoding)
            where = ""
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            where = f" (byte 0x{data[exc.start]:02X} on line {line})"
        fail(
            f"{path}: not {encoding} text{where}",
            "re-save it as UTF-8, or set `encoding:` in the plan source's config "
            "(a codec name such as latin-1 or cp1252, or auto to detect it)",
        )
    if not header:  # nothing, or only blank lines
        fail(
            f"{path} is empty: no header row",
            "a CSV source starts with a header row naming its columns; a file with only the "
            "header is fine when there is nothing to load",
        )
    return rows


def _chunks(rows: Sequence[Row], size: int) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def ingest_rows(
    bus: MessageBus,
    source: str,
    rows: Sequence[Row],
    *,
    chunk: int = 500,
    totals: SyncTotals | None = None,
    on_chunk: Callable[[SyncTotals, int], None] | None = None,
) -> SyncTotals:
    """Push ``rows`` of plan source ``source`` through ``IngestBatch`` in chunks; returns (and
    accumulates into ``totals``) the counts. ``on_chunk(totals, rows_in_chunk)`` after each."""
    out = totals if totals is not None else SyncTotals(source)
    started = time.perf_counter()
    for part in _chunks(rows, chunk):
        result = bus.handle(IngestBatch(source, part))
        out.read += result.read
        out.accepted += result.accepted
        out.duplicates += result.duplicates
        out.rejected += result.rejected
        if on_chunk is not None:
            on_chunk(out, len(part))
    out.seconds += time.perf_counter() - started
    return out


class _Watched:
    """An evidence source that reports every batch it yields to a progress bar."""

    def __init__(self, inner: Any, on_batch: Callable[[int, int], None]) -> None:
        self.inner = inner
        self.on_batch = on_batch

    def check(self) -> Any:
        return self.inner.check()

    def discover(self) -> Any:
        return self.inner.discover()

    def read(self, stream: str, state: Any) -> Iterator[Any]:
        for batch in self.inner.read(stream, state):
            yield batch
            self.on_batch(len(batch.records) + len(batch.rejections), len(batch.rejections))

    def close(self) -> None:
        self.inner.close()


def _watch(bus: MessageBus, plan: Plan, name: str, progress: Progress, task: TaskID) -> None:
    """Build the plugin source of plan source ``name`` and wrap it so each batch moves the
    bar (rows and rejected counts). Without a plugin host, the handler builds it unwatched."""
    host = bus.ctx.plugins
    spec = plan.spec.sources[name]
    if host is None or name in bus.ctx.sources:
        return
    source = host.sources.create(spec.kind, spec.config, path=f"sources.{name}.config")
    rejected = [0]

    def moved(rows: int, bad: int) -> None:
        rejected[0] += bad
        progress.update(task, advance=rows, rejected=rejected[0])

    bus.ctx.sources[name] = _Watched(source, moved)


def sync_all(
    bus: MessageBus,
    plan: Plan,
    plan_dir: Path | None,
    console: Console,
    *,
    only: str | None = None,
) -> list[SyncTotals]:
    """Sync every plan source (or ``only`` that one) with a progress bar per source."""
    names = list(plan.spec.sources)
    if only is not None and only not in plan.spec.sources:
        from perfcore.plan.problems import did_you_mean

        fail(f"unknown source {only!r}", did_you_mean(only, names) or "the plan has no sources")
    files = {f.name: f for f in plan_source_files(plan, plan_dir)}
    selected = [n for n in names if only is None or n == only]
    # every file is read (and a missing, empty or undecodable one refused) before anything is
    # stored, and before the progress display starts
    loaded = {n: read_csv(files[n].path, files[n].encoding) for n in selected if n in files}
    results: list[SyncTotals] = []
    with make_progress(console) as progress:
        for name in selected:
            if name in loaded:
                rows = loaded.pop(name)
                task = progress.add_task(name, total=len(rows), rejected=0)

                def tick(t: SyncTotals, n: int, task_id: TaskID = task) -> None:
                    progress.update(task_id, advance=n, rejected=t.rejected)

                results.append(ingest_rows(bus, name, rows, on_chunk=tick))
            elif plan.spec.sources[name].kind:
                task = progress.add_task(name, total=None, rejected=0)
                _watch(bus, plan, name, progress, task)
                started = time.perf_counter()
                result = bus.handle(SyncSource(name))
                totals = SyncTotals(
                    name,
                    result.read,
                    result.accepted,
                    result.duplicates,
                    result.rejected,
                    time.perf_counter() - started,
                )
                progress.update(
                    task, total=result.read, completed=result.read, rejected=result.rejected
                )
                results.append(totals)
    return results
