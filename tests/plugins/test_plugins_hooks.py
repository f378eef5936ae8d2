"""One ``test_hook_<name>`` per hookspec (enforced by test_plugins_docs.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from perfcore.domain.values import SubjectRef
from perfcore.plugins import hookimpl
from perfcore.plugins.manager import PluginHost
from perfcore.plugins.registry import NotifierRegistry, SourceRegistry
from perfcore.plugins.sync import SyncStats, run_sync
from perfcore.ports.notifications import DeliveryResult, Message
from perfcore.ports.sources import RawRecord, RecordBatch
from perfcore.testing.sources import InMemorySource


@attrs.frozen
class EmptyConfig:
    pass


def _source(_: EmptyConfig) -> InMemorySource:
    return InMemorySource({"s": []})


class _Console:
    def send(self, message: Message) -> DeliveryResult:
        return DeliveryResult.delivered(message.subject)


def _host(*plugins: object) -> PluginHost:
    host = PluginHost()
    host.load(
        entry_points=False, builtin=False, extra=[(f"p{i}", p) for i, p in enumerate(plugins)]
    )
    return host


def test_hook_perfcore_register_sources() -> None:
    class Plugin:
        @hookimpl
        def perfcore_register_sources(self, registry: SourceRegistry) -> None:
            registry.add("memory", _source, EmptyConfig)

    host = _host(Plugin())
    registration = host.sources.get("memory")
    assert registration.plugin == "p0"
    assert isinstance(host.sources.create("memory", {}), InMemorySource)


def test_hook_perfcore_register_notifiers() -> None:
    class Plugin:
        @hookimpl
        def perfcore_register_notifiers(self, registry: NotifierRegistry) -> None:
            registry.add("console", lambda _cfg: _Console(), EmptyConfig)

    host = _host(Plugin())
    notifier = host.notifiers.create("console", {})
    assert notifier.send(Message("console", (), "hi", "body")).ok


def _one_record_source() -> InMemorySource:
    when = datetime(2025, 3, 1, 8, tzinfo=UTC)
    return InMemorySource({"s": [RawRecord({"v": "1"}, "r1", when)]})


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    @hookimpl
    def perfcore_before_sync(self, source_name: str, stream: str) -> None:
        self.calls.append(("before", source_name, stream))

    @hookimpl
    def perfcore_after_sync(self, source_name: str, stream: str, stats: SyncStats) -> None:
        self.calls.append(("after", source_name, stream, stats))

    @hookimpl
    def perfcore_on_sync_error(self, source_name: str, stream: str, error: BaseException) -> None:
        self.calls.append(("error", source_name, stream, str(error)))


def _sink(_: RecordBatch) -> None:
    pass


def test_hook_perfcore_before_sync() -> None:
    recorder = _Recorder()
    run_sync(_one_record_source(), "s", None, _sink, _host(recorder), source_name="mem")
    assert recorder.calls[0] == ("before", "mem", "s")


def test_hook_perfcore_after_sync() -> None:
    recorder = _Recorder()
    run_sync(_one_record_source(), "s", None, _sink, _host(recorder), source_name="mem")
    assert recorder.calls[-1] == ("after", "mem", "s", SyncStats(records=1, batches=1))


def test_hook_perfcore_on_sync_error() -> None:
    recorder = _Recorder()

    def refusing_sink(_: RecordBatch) -> None:
        raise RuntimeError("disk full")

    result = run_sync(
        _one_record_source(), "s", None, refusing_sink, _host(recorder), source_name="mem"
    )
    assert not result.ok
    assert recorder.calls == [("before", "mem", "s"), ("error", "mem", "s", "disk full")]


def test_hook_perfcore_resolve_identity() -> None:
    class Hris:
        @hookimpl
        def perfcore_resolve_identity(self, system: str, external_id: str) -> SubjectRef | None:
            return SubjectRef.person("E" + external_id) if system == "hris" else None

    class Nobody:
        @hookimpl
        def perfcore_resolve_identity(self, external_id: str) -> SubjectRef | None:
            return None

    host = _host(Hris(), Nobody())
    assert host.resolve_identity("hris", "42") == SubjectRef.person("E42")
    assert host.resolve_identity("crm", "42") is None
