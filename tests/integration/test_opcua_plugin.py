"""perfcore-mes-opcua: its own suite passes, and it syncs through the plugin host.

A real asyncua server on 127.0.0.1 replays AI4I 2020 rows (plugins/perfcore-mes-opcua/tests/data,
PROVENANCE.md there).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from perfcore.plugins import hookimpl
from perfcore.plugins.manager import PluginHost
from perfcore.plugins.sync import SyncStats, run_sync
from perfcore.ports.sources import RecordBatch

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "perfcore-mes-opcua"
DATA = PLUGIN / "tests" / "data" / "ai4i2020_first200.csv"


def test_opcua_plugin_own_test_suite_passes() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PLUGIN / "src"), str(ROOT / "src")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN / "tests")],
        cwd=PLUGIN,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_opcua_source_from_plan_data_syncs_through_the_plugin_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(PLUGIN / "src"))
    import perfcore_mes_opcua
    from perfcore_mes_opcua.replay import ReplayServer, load_rows

    finished: list[SyncStats] = []

    class Audit:
        @hookimpl
        def perfcore_after_sync(self, stats: SyncStats) -> None:
            finished.append(stats)

    host = PluginHost()
    host.load(
        entry_points=False,
        builtin=False,
        extra=[("mes_opcua", perfcore_mes_opcua), ("audit", Audit())],
    )
    with ReplayServer(load_rows(DATA, 200)) as endpoint:
        plan = {"endpoint": endpoint, "machines": ["MachineL", "MachineM", "MachineH"]}
        source = host.sources.create("opcua", plan, path="sources[0].config")
        committed: list[RecordBatch] = []
        result = run_sync(source, "counters", None, committed.append, host, source_name="plant")
    assert result.ok, result.error
    with DATA.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = len(rows) + sum(r["Machine failure"] == "1" for r in rows)
    assert finished == [SyncStats(records=expected, batches=result.stats.batches)]
    produced = Counter(
        r.partition for b in committed for r in b.records if r.data["counter"] == "ProducedCount"
    )
    assert produced == Counter(f"Machine{r['Type']}" for r in rows)
