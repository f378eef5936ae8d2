"""``OpcUaSource``: machine counters, states and process signals from an OPC UA server.

Each configured machine is an object under ``Objects`` (browse name ``<ns>:<machine>``) with
variables for counters (``ProducedCount``, ``FailureCount``), a state (``State``) and process
signals. Values come from the server's *history* (HistoryRead, raw), so a sync sees every change
since the bookmark, not just the current value (anchors-connectors.md §2.1). Streams:

* ``counters`` — one record per historized counter value: ``machine``, ``counter``, ``value``;
* ``states`` — one record per state change: ``machine``, ``state``;
* ``signals`` — one record per signal value: ``machine``, ``signal``, ``value``.

Each machine is a partition with its own bookmark (the last ``SourceTimestamp`` read plus the ids
at it). Browse paths are configuration because every vendor lays out its address space
differently. Plant servers without history need a historian; this source then reports an error
for the stream instead of inventing data.

asyncua is asynchronous; the port is synchronous, so each ``read``/``check`` runs its own event
loop (in a worker thread when called from inside a running loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from attrs import frozen
from perfcore.domain.errors import NotFound
from perfcore.plugins.incremental import WatermarkTracker
from perfcore.ports.sources import (
    CheckResult,
    FieldSpec,
    FieldType,
    RawRecord,
    RecordBatch,
    SourceState,
    StreamSpec,
)

__all__ = ["STREAMS", "OpcUaConfig", "OpcUaSource"]

T = TypeVar("T")

STREAMS = ("counters", "states", "signals")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@frozen
class OpcUaConfig:
    """Configuration of an ``opcua`` source.

    Attributes:
        endpoint: ``opc.tcp://host:4840/path``.
        machines: browse names of the machine objects under ``Objects``.
        namespace: namespace URI of those browse names.
        counters: counter variables per machine.
        state_variable: the state variable per machine.
        signals: process-signal variables per machine.
        timeout_seconds: connect/request timeout.
        batch_size: records per batch.
    """

    endpoint: str
    machines: list[str]
    namespace: str = "urn:perfcore:mes:replay"
    counters: list[str] = attrs.field(factory=lambda: ["ProducedCount", "FailureCount"])
    state_variable: str = "State"
    signals: list[str] = attrs.field(factory=lambda: ["RotationalSpeed", "Torque", "ToolWear"])
    timeout_seconds: float = 4.0
    batch_size: int = attrs.field(default=500, validator=attrs.validators.ge(1))


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _value(raw: object) -> object:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    return None if raw is None else str(raw)


class OpcUaSource:
    """An :class:`~perfcore.ports.sources.EvidenceSource` over OPC UA history."""

    def __init__(self, config: OpcUaConfig) -> None:
        self.config = config

    # ------------------------------------------------------------------ port

    def check(self) -> CheckResult:
        """Connect and read every machine's state variable; never raises."""
        try:
            states = _run(self._current_states())
        except Exception as exc:  # noqa: BLE001 - check() reports, never raises
            return CheckResult.failure(f"{type(exc).__name__}: {exc}")
        return CheckResult.success(", ".join(f"{m}={s}" for m, s in states.items()))

    def discover(self) -> list[StreamSpec]:
        """``counters``, ``states`` and ``signals``; every stream is cursored on time."""
        when = FieldSpec("occurred_at", FieldType.DATETIME)
        machine = FieldSpec("machine", FieldType.TEXT)
        return [
            StreamSpec(
                "counters",
                (machine, FieldSpec("counter", "text"), FieldSpec("value", "number"), when),
                "occurred_at",
            ),
            StreamSpec("states", (machine, FieldSpec("state", "text"), when), "occurred_at"),
            StreamSpec(
                "signals",
                (machine, FieldSpec("signal", "text"), FieldSpec("value", "number"), when),
                "occurred_at",
            ),
        ]

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """History of ``stream`` per machine after its bookmark.

        Raises:
            NotFound: unknown stream.
            Exception: connection/history errors from asyncua (while iterating).
        """
        if stream not in STREAMS:
            raise NotFound(f"unknown stream {stream!r}", field="stream", valid=", ".join(STREAMS))
        return self._read(stream, state or SourceState())

    def close(self) -> None:
        """Nothing held between calls (each call opens and closes its session)."""

    # ------------------------------------------------------------------ internals

    def _variables(self, stream: str) -> list[str]:
        if stream == "counters":
            return list(self.config.counters)
        if stream == "states":
            return [self.config.state_variable]
        return list(self.config.signals)

    def _read(self, stream: str, state: SourceState) -> Iterator[RecordBatch]:
        starts = {
            m: WatermarkTracker(state.bookmark(stream, m)).start for m in self.config.machines
        }
        history = _run(self._history(self._variables(stream), starts))
        for machine in self.config.machines:
            tracker = WatermarkTracker(state.bookmark(stream, machine))
            chosen: list[RawRecord] = []
            for variable, stamp, raw in history[machine]:
                external_id = f"{machine}/{variable}/{stamp.isoformat()}"
                if not tracker.admit(stamp, external_id):
                    continue
                chosen.append(self._record(stream, machine, variable, stamp, raw, external_id))
            size = self.config.batch_size
            for start in range(0, len(chosen), size):
                yield RecordBatch(stream, chosen[start : start + size], state)
            state = state.with_bookmark(stream, tracker.bookmark(), machine)
            yield RecordBatch(stream, (), state)

    def _record(
        self,
        stream: str,
        machine: str,
        variable: str,
        stamp: datetime,
        raw: object,
        external_id: str,
    ) -> RawRecord:
        data: dict[str, object] = {"machine": machine, "occurred_at": stamp}
        if stream == "counters":
            data |= {"counter": variable, "value": _value(raw)}
        elif stream == "states":
            data["state"] = None if raw is None else str(raw)
        else:
            data |= {"signal": variable, "value": _value(raw)}
        location = f"{self.config.endpoint}#{machine}/{variable}"
        return RawRecord(data, external_id, stamp, machine, location)

    async def _connect(self) -> Any:
        from asyncua.client.client import Client

        client = Client(self.config.endpoint, timeout=self.config.timeout_seconds)
        await client.connect()
        return client

    async def _node(self, client: Any, ns: int, machine: str, variable: str) -> Any:
        return await client.nodes.objects.get_child([f"{ns}:{machine}", f"{ns}:{variable}"])

    async def _current_states(self) -> dict[str, str]:
        client = await self._connect()
        try:
            ns = await client.get_namespace_index(self.config.namespace)
            out = {}
            for machine in self.config.machines:
                node = await self._node(client, ns, machine, self.config.state_variable)
                out[machine] = str(await node.read_value())
            return out
        finally:
            await client.disconnect()

    async def _history(
        self, variables: Sequence[str], starts: Mapping[str, object]
    ) -> dict[str, list[tuple[str, datetime, object]]]:
        client = await self._connect()
        try:
            ns = await client.get_namespace_index(self.config.namespace)
            out: dict[str, list[tuple[str, datetime, object]]] = {}
            for machine in self.config.machines:
                start = starts[machine]
                begin = start if isinstance(start, datetime) else _EARLIEST
                rows: list[tuple[str, datetime, object]] = []
                for variable in variables:
                    node = await self._node(client, ns, machine, variable)
                    for dv in await node.read_raw_history(begin, None, 0, False):
                        stamp = dv.SourceTimestamp or dv.ServerTimestamp
                        if stamp is None:
                            continue
                        if stamp.tzinfo is None:
                            stamp = stamp.replace(tzinfo=UTC)
                        rows.append((variable, stamp, dv.Value.Value))
                rows.sort(key=lambda row: (row[1], row[0]))
                out[machine] = rows
            return out
        finally:
            await client.disconnect()
