"""Contract tests for :class:`~perfcore.ports.sources.EvidenceSource` implementations.

Plugin authors (and perfcore's own sources) subclass :class:`EvidenceSourceContract` in a test
module and provide one fixture-like method::

    from perfcore.testing.sources import EvidenceSourceContract

    class TestAcmeSource(EvidenceSourceContract):
        def make_source(self, tmp_path):
            return AcmeSource(AcmeConfig(...))   # a source with some data in every stream

The inherited ``test_*`` methods pin the port's promises: ``check`` answers a
:class:`CheckResult`, ``discover`` declares unique streams with valid field types, ``read``
yields batches of records with aware timestamps and ids unique per read, data keys are declared
fields, unknown streams raise ``NotFound``, the state round-trips through its JSON form, and a
second read from the final state delivers no id that was not delivered before (nothing is lost,
nothing new is invented). :func:`check_source_contract` runs the same checks without pytest.

:class:`InMemorySource` is a small reference implementation (incremental on ``occurred_at``
with tie handling) for tests of code that consumes sources.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from perfcore.domain.errors import NotFound
from perfcore.plugins.incremental import WatermarkTracker
from perfcore.ports.sources import (
    CheckResult,
    EvidenceSource,
    FieldSpec,
    FieldType,
    RawRecord,
    RecordBatch,
    SourceState,
    StreamSpec,
)

__all__ = [
    "EvidenceSourceContract",
    "InMemorySource",
    "check_source_contract",
    "read_all",
]


def read_all(
    source: EvidenceSource, stream: str, state: SourceState | None = None
) -> tuple[list[RawRecord], SourceState]:
    """Read ``stream`` to the end; return every record and the final state."""
    records: list[RawRecord] = []
    final = state or SourceState()
    for batch in source.read(stream, state):
        assert isinstance(batch, RecordBatch), f"read() yielded {type(batch).__name__}"
        assert batch.stream == stream, f"batch for {batch.stream!r} while reading {stream!r}"
        records.extend(batch.records)
        final = batch.state
    return records, final


def _check_discover(source: EvidenceSource) -> Sequence[StreamSpec]:
    streams = source.discover()
    assert streams, "discover() returned no stream"
    names = [s.name for s in streams]
    assert len(names) == len(set(names)), f"duplicate stream names: {names}"
    for spec in streams:
        assert isinstance(spec, StreamSpec)
        fields = [f.name for f in spec.fields]
        assert len(fields) == len(set(fields)), f"{spec.name}: duplicate fields {fields}"
        assert all(isinstance(f.type, FieldType) for f in spec.fields)
        if spec.cursor_field is not None:
            assert spec.cursor_field in fields, f"{spec.name}: cursor field is not a field"
    return streams


def _check_records(spec: StreamSpec, records: Sequence[RawRecord]) -> None:
    declared = {f.name for f in spec.fields}
    ids = [r.external_id for r in records]
    assert len(ids) == len(set(ids)), f"{spec.name}: an external id was delivered twice"
    for record in records:
        assert isinstance(record, RawRecord)
        assert record.external_id, f"{spec.name}: empty external id"
        assert record.occurred_at.utcoffset() is not None
        extra = set(record.data) - declared
        assert not extra, f"{spec.name}: undeclared fields {sorted(extra)}"


def check_source_contract(source: EvidenceSource) -> None:
    """Run every contract check against ``source`` (raises ``AssertionError``/port errors)."""
    result = source.check()
    assert isinstance(result, CheckResult), f"check() answered {type(result).__name__}"
    assert result.ok, f"check() failed: {result.detail}"
    for spec in _check_discover(source):
        records, state = read_all(source, spec.name)
        assert records, f"{spec.name}: the contract needs a source with data in every stream"
        _check_records(spec, records)
        assert SourceState.from_dict(state.to_dict()) == state
        again, _ = read_all(source, spec.name, SourceState.from_dict(state.to_dict()))
        new = {r.external_id for r in again} - {r.external_id for r in records}
        assert not new, f"{spec.name}: resuming from the final state invented ids {new}"
    try:
        list(source.read("no-such-stream-xyz", None))
    except NotFound:
        pass
    else:
        raise AssertionError("read() of an unknown stream must raise NotFound")


class EvidenceSourceContract:
    """Mix-in test class: subclass it as ``Test...`` and implement :meth:`make_source`."""

    def make_source(self, tmp_path: Path) -> EvidenceSource:
        """Build the source under test; every stream must have at least one record."""
        raise NotImplementedError

    @pytest.fixture
    def source(self, tmp_path: Path) -> Iterator[EvidenceSource]:
        """The source from :meth:`make_source`, closed after the test."""
        made = self.make_source(tmp_path)
        yield made
        made.close()

    def test_source_satisfies_the_protocol(self, source: EvidenceSource) -> None:
        assert isinstance(source, EvidenceSource)

    def test_check_succeeds_for_a_reachable_source(self, source: EvidenceSource) -> None:
        result = source.check()
        assert isinstance(result, CheckResult)
        assert result.ok, result.detail

    def test_discover_declares_unique_streams_with_typed_fields(
        self, source: EvidenceSource
    ) -> None:
        _check_discover(source)

    def test_read_yields_records_with_unique_ids_and_aware_times(
        self, source: EvidenceSource
    ) -> None:
        for spec in source.discover():
            records, _ = read_all(source, spec.name)
            assert records, f"{spec.name} has no data; make_source must provide some"
            _check_records(spec, records)

    def test_state_round_trips_through_its_json_form(self, source: EvidenceSource) -> None:
        for spec in source.discover():
            _, state = read_all(source, spec.name)
            assert SourceState.from_dict(state.to_dict()) == state

    def test_resuming_from_final_state_invents_no_new_ids(self, source: EvidenceSource) -> None:
        for spec in source.discover():
            first, state = read_all(source, spec.name)
            again, _ = read_all(source, spec.name, state)
            assert {r.external_id for r in again} <= {r.external_id for r in first}

    def test_unknown_stream_raises_not_found(self, source: EvidenceSource) -> None:
        with pytest.raises(NotFound):
            list(source.read("no-such-stream-xyz", None))


class InMemorySource:
    """A source over in-memory records, incremental on ``occurred_at``.

    Args:
        streams: stream name -> records (any order).
        specs: stream name -> spec (default: every key seen, typed ``text``).
        batch_size: records per batch.
    """

    def __init__(
        self,
        streams: Mapping[str, Sequence[RawRecord]],
        *,
        specs: Mapping[str, StreamSpec] | None = None,
        batch_size: int = 100,
    ) -> None:
        self.streams = {name: list(recs) for name, recs in streams.items()}
        self._specs = dict(specs or {})
        self.batch_size = batch_size
        self.closed = False

    def check(self) -> CheckResult:
        """Always reachable."""
        return CheckResult.success("in memory")

    def discover(self) -> list[StreamSpec]:
        """Given specs, or text fields inferred from the records."""
        out = []
        for name, records in self.streams.items():
            if name in self._specs:
                out.append(self._specs[name])
                continue
            keys = sorted({k for r in records for k in r.data})
            out.append(StreamSpec(name, tuple(FieldSpec(k, FieldType.TEXT) for k in keys)))
        return out

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """Records after the bookmark, oldest first; the bookmark moves with each batch."""
        if stream not in self.streams:
            raise NotFound(
                f"unknown stream {stream!r}", field="stream", valid=", ".join(self.streams)
            )
        state = state or SourceState()
        tracker = WatermarkTracker(state.bookmark(stream))
        ordered = sorted(self.streams[stream], key=lambda r: (r.occurred_at, r.external_id))
        chosen = [r for r in ordered if tracker.admit(r.occurred_at, r.external_id)]
        final = state.with_bookmark(stream, tracker.bookmark())
        for start in range(0, len(chosen), self.batch_size):
            chunk = chosen[start : start + self.batch_size]
            last = start + self.batch_size >= len(chosen)
            yield RecordBatch(stream, chunk, final if last else state)
        if not chosen:
            yield RecordBatch(stream, (), final)

    def close(self) -> None:
        """Mark closed."""
        self.closed = True
