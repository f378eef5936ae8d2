"""Checked by ``mypy --strict`` (nox -s typing), not run by pytest: the plugin and source API is
typed the way a plugin author and a host use it."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import attrs

from perfcore.domain.values import SubjectRef
from perfcore.plugins import hookimpl
from perfcore.plugins.manager import PluginHost, PluginInfo
from perfcore.plugins.registry import SourceRegistry
from perfcore.plugins.sync import SyncResult, run_sync
from perfcore.ports.notifications import DeliveryResult, Message, Notifier
from perfcore.ports.sources import (
    CheckResult,
    EvidenceSource,
    RecordBatch,
    SourceState,
    StreamSpec,
)
from perfcore_adapters.http import RetryPolicy, make_client


@attrs.frozen
class AcmeConfig:
    endpoint: str


class AcmeSource:
    def __init__(self, config: AcmeConfig) -> None:
        self.config = config

    def check(self) -> CheckResult:
        return CheckResult.success()

    def discover(self) -> list[StreamSpec]:
        return [StreamSpec("s", ())]

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        yield RecordBatch(stream, (), state or SourceState())

    def close(self) -> None:
        pass


@hookimpl
def perfcore_register_sources(registry: SourceRegistry) -> None:
    registry.add("acme", AcmeSource, AcmeConfig)


class Console:
    def send(self, message: Message) -> DeliveryResult:
        return DeliveryResult.delivered(message.subject)


host = PluginHost.from_env()
host.load(entry_points=False, extra=[("acme", sys.modules[__name__])])
source: EvidenceSource = host.sources.create("acme", {"endpoint": "x"})
result: SyncResult = run_sync(source, "s", None, lambda batch: None, host, source_name="acme")
rows: list[PluginInfo] = host.list_plugins()
who: SubjectRef | None = host.resolve_identity("hris", "42")
notifier: Notifier = Console()
policy = RetryPolicy.for_tests(attempts=3)
with make_client("https://erp.test/") as client:
    pass
