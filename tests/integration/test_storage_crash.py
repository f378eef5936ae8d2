"""Crash safety: a sync killed with SIGKILL in the middle of a batch, then run again, leaves
exactly the source's records in the SQLite store — no duplicates, no gaps.

The child process runs the real pipeline: bootstrap(storage=sqlite URL) → SyncSource → the
built-in CSV source → ingest → SqlAlchemyUnitOfWork, with every batch and its bookmark committed
in one transaction. Each stored row is slowed down a little so that the kill lands inside a batch
transaction; the committed row count is then a whole number of batches.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROWS = 600
BATCH = 50

CHILD = """
import sys, time
from perfcore.bootstrap import bootstrap
from perfcore.plugins.manager import PluginHost
from perfcore.services.commands import SyncSource
from perfcore_adapters.sqlalchemy import repositories

slow = float(sys.argv[3])
original = repositories.SqlEvidenceRepository.add

def add(self, *args, **kwargs):
    time.sleep(slow)
    return original(self, *args, **kwargs)

repositories.SqlEvidenceRepository.add = add
host = PluginHost()
host.load(entry_points=False)
bus = bootstrap(storage=sys.argv[1], plugins=host, plan=open(sys.argv[2]).read())
result = bus.handle(SyncSource("mes"))
print("done", result.read, result.accepted, result.duplicates, flush=True)
"""


def _plan(csv: Path) -> str:
    return textwrap.dedent(
        f"""\
        perfcore: 1
        name: crash
        time_zone: UTC
        period: month
        evidence:
          inspection:
            fields: {{inspected: number, good: number}}
        indicators:
          good: {{evidence: inspection, agg: sum, expr: good}}
        sources:
          mes:
            kind: csv
            stream: rows
            config:
              path: {csv}
              batch_size: {BATCH}
              raw:
                occurred_at: at
                id_columns: [lot]
            evidence: inspection
            subject: {{field: badge, kind: person}}
            occurred_at: {{field: at}}
            id: [lot]
            fields: {{inspected: inspected, good: good}}
        """
    )


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM evidence").fetchone()[0])
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _run(args: list[str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_sync_killed_mid_batch_and_rerun_stores_every_record_once(tmp_path: Path) -> None:
    csv = tmp_path / "lots.csv"
    lines = ["lot,badge,at,inspected,good"]
    lines += [
        f"L{i:05d},E{i % 7},2025-03-{1 + i % 28:02d}T08:00:00,10,{i % 11}" for i in range(ROWS)
    ]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text(_plan(csv), encoding="utf-8")
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"

    child = _run([str(script), url, str(plan), "0.004"])
    deadline = time.monotonic() + 60
    while _count(db) < 2 * BATCH and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert child.poll() is None, "the first run finished before it could be killed"
    time.sleep(0.1)  # well inside the next batch (50 rows x 4 ms)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    partial = _count(db)
    assert 0 < partial < ROWS
    assert partial % BATCH == 0  # only whole batches were committed

    again = _run([str(script), url, str(plan), "0"])
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.split()[:3] == ["done", str(ROWS), str(ROWS - partial)]

    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT external_id FROM evidence ORDER BY external_id")]
        bookmarks = conn.execute("SELECT count(*) FROM bookmarks").fetchone()[0]
    assert ids == [f"L{i:05d}" for i in range(ROWS)]  # every record, once, nothing else
    assert bookmarks == 1
