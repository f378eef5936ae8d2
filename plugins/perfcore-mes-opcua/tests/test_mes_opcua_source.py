"""perfcore-mes-opcua against a real asyncua server on 127.0.0.1 replaying AI4I 2020 rows.

Expected numbers are computed here from the CSV itself (independently of the source).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from perfcore.plugins.manager import PluginHost
from perfcore.ports.sources import EvidenceSource, SourceState
from perfcore.testing.sources import EvidenceSourceContract, check_source_contract, read_all

from perfcore_mes_opcua.replay import START, ReplayServer, load_rows, machine_of
from perfcore_mes_opcua.source import OpcUaConfig, OpcUaSource

DATA = Path(__file__).parent / "data" / "ai4i2020_first200.csv"
MACHINES = ["MachineH", "MachineL", "MachineM"]


def _csv_rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with ReplayServer(load_rows(DATA, 200)) as url:
        yield url


def _source(endpoint: str) -> OpcUaSource:
    return OpcUaSource(OpcUaConfig(endpoint, machines=MACHINES))


class TestOpcUaSourceContract(EvidenceSourceContract):
    @pytest.fixture(autouse=True)
    def _endpoint(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def make_source(self, tmp_path: Path) -> EvidenceSource:
        return _source(self.endpoint)


def test_produced_counters_end_at_the_rows_per_machine(endpoint: str) -> None:
    rows = _csv_rows()
    per_machine = Counter(machine_of(r) for r in rows)
    records, _ = read_all(_source(endpoint), "counters")
    last: dict[str, object] = {}
    for record in records:
        if record.data["counter"] == "ProducedCount":
            last[record.partition] = record.data["value"]
    assert last == {m: Decimal(n) for m, n in per_machine.items()}
    assert sum(per_machine.values()) == 200


def test_failure_counter_and_states_follow_the_machine_failure_flag(endpoint: str) -> None:
    rows = _csv_rows()
    failures = Counter(machine_of(r) for r in rows if r["Machine failure"] == "1")
    records, _ = read_all(_source(endpoint), "counters")
    failure_values = Counter(r.partition for r in records if r.data["counter"] == "FailureCount")
    assert failure_values == failures
    # State is stored on change only: count the RUNNING -> FAILED transitions per machine
    transitions: Counter[str] = Counter()
    previous: dict[str, str] = {}
    for r in rows:
        state = "FAILED" if r["Machine failure"] == "1" else "RUNNING"
        if state == "FAILED" and previous.get(machine_of(r)) != "FAILED":
            transitions[machine_of(r)] += 1
        previous[machine_of(r)] = state
    states, _ = read_all(_source(endpoint), "states")
    failed = [r for r in states if r.data["state"] == "FAILED"]
    assert Counter(r.partition for r in failed) == transitions
    first = next(r for r in rows if r["Machine failure"] == "1")
    assert failed[0].occurred_at == START + timedelta(minutes=int(first["UDI"]))


def test_signals_carry_the_csv_values_at_one_minute_steps(endpoint: str) -> None:
    rows = _csv_rows()
    records, _ = read_all(_source(endpoint), "signals")
    torque = [r for r in records if r.data["signal"] == "Torque" and r.partition == "MachineM"]
    expected = [r["Torque [Nm]"] for r in rows if r["Type"] == "M"]
    assert [str(r.data["value"]) for r in torque] == expected
    assert torque[0].occurred_at == START + timedelta(minutes=1)  # UDI 1 is an M row


def test_second_sync_from_the_bookmark_reads_nothing_new(endpoint: str) -> None:
    source = _source(endpoint)
    first, state = read_all(source, "signals")
    assert len(first) == 600
    again, state2 = read_all(source, "signals", state)
    assert again == []
    assert state2 == state
    assert set(state.bookmarks["signals"]) == set(MACHINES)


def test_a_bookmark_in_the_middle_resumes_after_it_per_machine(endpoint: str) -> None:
    source = _source(endpoint)
    everything, _ = read_all(source, "states")
    cut = START + timedelta(minutes=100)
    from perfcore.ports.sources import Bookmark

    state = SourceState()
    for machine in MACHINES:
        state = state.with_bookmark("states", Bookmark(cut.isoformat()), machine)
    later, _ = read_all(source, "states", state)
    assert {r.external_id for r in later} == {
        r.external_id for r in everything if r.occurred_at >= cut
    }


def test_check_reports_current_states(endpoint: str) -> None:
    result = _source(endpoint).check()
    assert result.ok
    assert "MachineL=" in result.detail


def test_unreachable_server_fails_check_without_raising() -> None:
    from perfcore_mes_opcua.replay import free_port

    config = OpcUaConfig(f"opc.tcp://127.0.0.1:{free_port()}/x", ["M"], timeout_seconds=0.5)
    assert not OpcUaSource(config).check().ok


def test_plugin_registers_the_opcua_kind() -> None:
    import perfcore_mes_opcua

    host = PluginHost()
    host.load(entry_points=False, builtin=False, extra=[("mes_opcua", perfcore_mes_opcua)])
    registration = host.sources.get("opcua")
    assert registration.plugin == "mes_opcua"


def test_contract_function_passes(endpoint: str) -> None:
    check_source_contract(_source(endpoint))
