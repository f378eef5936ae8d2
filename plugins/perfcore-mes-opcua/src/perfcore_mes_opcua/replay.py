"""An OPC UA server replaying AI4I 2020 rows as machine history (for tests, demos, examples).

Rows of the AI4I 2020 predictive-maintenance dataset (UCI 601, synthetic, CC BY 4.0) become one
production event each, one minute apart from ``start``, on the machine named after the product
quality type (``MachineL``, ``MachineM``, ``MachineH``):

* ``ProducedCount`` +1 per row, ``FailureCount`` +1 when ``Machine failure`` is 1;
* ``State`` is ``FAILED`` on a failing row and ``RUNNING`` otherwise (stored only on change);
* ``RotationalSpeed`` [rpm], ``Torque`` [Nm], ``ToolWear`` [min] per row.

History is written straight into the server's history storage with explicit source timestamps, so
replay is deterministic (no subscription sampling).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

__all__ = [
    "NAMESPACE",
    "ReplayServer",
    "free_port",
    "load_rows",
    "machine_of",
    "start_replay_server",
]

NAMESPACE = "urn:perfcore:mes:replay"
START = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)


def load_rows(path: Path, limit: int | None = None) -> list[dict[str, str]]:
    """Rows of an AI4I CSV (UTF-8 with BOM), up to ``limit``."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
        return rows


def machine_of(row: Mapping[str, str]) -> str:
    """Machine name for a row: ``Machine`` + its product type letter."""
    return f"Machine{row['Type']}"


async def start_replay_server(
    rows: Iterable[Mapping[str, str]], port: int, start: datetime = START
) -> Any:
    """Start an asyncua ``Server`` on ``127.0.0.1:port`` with the rows' history loaded.

    Returns the started server; ``await server.stop()`` when done.
    """
    from asyncua import ua
    from asyncua.server.server import Server

    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/perfcore/replay/")
    server.set_server_name("perfcore AI4I replay")
    ns = await server.register_namespace(NAMESPACE)
    storage = server.iserver.history_manager.storage
    rows = list(rows)
    machines: dict[str, dict[str, Any]] = {}
    kinds = {
        "ProducedCount": ua.VariantType.Int64,
        "FailureCount": ua.VariantType.Int64,
        "State": ua.VariantType.String,
        "RotationalSpeed": ua.VariantType.Double,
        "Torque": ua.VariantType.Double,
        "ToolWear": ua.VariantType.Int64,
    }
    initial: dict[str, object] = {
        "ProducedCount": 0,
        "FailureCount": 0,
        "State": "IDLE",
        "RotationalSpeed": 0.0,
        "Torque": 0.0,
        "ToolWear": 0,
    }
    for name in sorted({machine_of(r) for r in rows}):
        obj = await server.nodes.objects.add_object(ns, name)
        nodes = {}
        for var, kind in kinds.items():
            node = await obj.add_variable(ns, var, ua.Variant(initial[var], kind))
            await storage.new_historized_node(node.nodeid, None, 0)
            nodes[var] = node
        machines[name] = {"nodes": nodes, "produced": 0, "failures": 0, "state": "IDLE"}

    async def record(machine: dict[str, Any], var: str, value: object, when: datetime) -> None:
        variant = ua.Variant(value, kinds[var])
        stamp = cast(ua.DateTime, when)  # DataValue stores any aware datetime
        dv = ua.DataValue(variant, SourceTimestamp=stamp, ServerTimestamp=stamp)
        await storage.save_node_value(machine["nodes"][var].nodeid, dv)
        await machine["nodes"][var].write_value(dv)

    for row in rows:
        when = start + timedelta(minutes=int(row["UDI"]))
        machine = machines[machine_of(row)]
        failed = row["Machine failure"] == "1"
        machine["produced"] += 1
        await record(machine, "ProducedCount", machine["produced"], when)
        if failed:
            machine["failures"] += 1
            await record(machine, "FailureCount", machine["failures"], when)
        state = "FAILED" if failed else "RUNNING"
        if state != machine["state"]:
            machine["state"] = state
            await record(machine, "State", state, when)
        await record(machine, "RotationalSpeed", float(row["Rotational speed [rpm]"]), when)
        await record(machine, "Torque", float(row["Torque [Nm]"]), when)
        await record(machine, "ToolWear", int(row["Tool wear [min]"]), when)
    await server.start()
    return server


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ReplayServer:
    """Run :func:`start_replay_server` in a background thread (its own event loop).

    Usage::

        with ReplayServer(load_rows(path, 200)) as endpoint:
            source = OpcUaSource(OpcUaConfig(endpoint, machines=["MachineL"]))
    """

    def __init__(self, rows: Iterable[Mapping[str, str]], port: int | None = None) -> None:
        import asyncio
        import threading

        self.rows = list(rows)
        self.port = port or free_port()
        self.endpoint = f"opc.tcp://127.0.0.1:{self.port}/perfcore/replay/"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Any = None

    def __enter__(self) -> str:
        import asyncio

        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            start_replay_server(self.rows, self.port), self._loop
        )
        self._server = future.result(timeout=30)
        return self.endpoint

    def __exit__(self, *exc: object) -> None:
        import asyncio

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
