"""run_sync: the state only advances with committed batches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from perfcore.plugins.sync import SyncStats, run_sync
from perfcore.ports.sources import (
    Bookmark,
    CheckResult,
    RawRecord,
    RecordBatch,
    SourceState,
    StreamSpec,
)
from perfcore.testing.sources import InMemorySource

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _records(n: int) -> list[RawRecord]:
    return [RawRecord({}, f"r{i}", T0 + timedelta(minutes=i)) for i in range(n)]


def test_all_batches_are_committed_and_the_final_state_returned() -> None:
    committed: list[RecordBatch] = []
    source = InMemorySource({"s": _records(5)}, batch_size=2)
    result = run_sync(source, "s", None, committed.append)
    assert result.ok
    assert result.stats == SyncStats(records=5, batches=3)
    assert [r.external_id for b in committed for r in b.records] == [f"r{i}" for i in range(5)]
    assert result.state.bookmark("s").value == (T0 + timedelta(minutes=4)).isoformat()


class _BreaksAfterFirstBatch:
    def check(self) -> CheckResult:
        return CheckResult.success()

    def discover(self) -> list[StreamSpec]:
        return [StreamSpec("s", ())]

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        moved = SourceState().with_bookmark("s", Bookmark("first"))
        yield RecordBatch("s", _records(1), moved)
        raise ConnectionError("peer reset")

    def close(self) -> None:
        pass


def test_a_failure_keeps_the_state_of_the_last_committed_batch() -> None:
    start = SourceState().with_bookmark("s", Bookmark("start"))
    result = run_sync(_BreaksAfterFirstBatch(), "s", start, lambda b: None)
    assert isinstance(result.error, ConnectionError)
    assert result.state.bookmark("s") == Bookmark("first")
    assert result.stats.records == 1


def test_a_refused_batch_does_not_advance_the_state() -> None:
    def sink(batch: RecordBatch) -> None:
        raise OSError("database locked")

    start = SourceState().with_bookmark("s", Bookmark("start"))
    result = run_sync(InMemorySource({"s": _records(3)}), "s", start, sink)
    assert result.state is start
    assert result.stats == SyncStats()
