"""B1: ingest evidence through the real pipeline into SQLite vs raw ``sqlite3`` executemany.

Also home of the reference workload shared by storage_b2.py and storage_b3.py ("one plant-quarter",
shared/design/performance.md): 10,000 subjects, 20 indicators (simple, ratio, derived, cumulative),
1,000,000 evidence rows over 92 days (Jan 1 - Apr 2, 2025), deterministic from a seed.

Measured: the application's ``ingest_batch`` handler (``perfcore.services.handlers.evidence``) —
``map_row`` parses and validates each raw text row against the plan (subject, time, typed
fields), the idempotency key is looked up, the record stored through ``SqlAlchemyUnitOfWork``
(batched ``executemany`` at commit) — in units of work of 10,000 rows. The handler's events are
collected and dropped (the scorecard refresh is B3's subject).
Baseline: ``sqlite3`` ``executemany`` of the already-built final column tuples into an equivalent
table (same columns, same unique key and the same three indexes as perfcore's ``evidence``), on a
connection with perfcore's SQLite PRAGMAs, in one transaction per 10,000 rows.

    python bench/storage_b1.py [--quick] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

SUBJECTS = 10_000
DAYS = 92
CHUNK = 10_000

PLAN = """\
perfcore: 1
name: plant quarter
time_zone: Asia/Shanghai
period: month
evidence:
  inspection:
    fields: {inspected: number, good: number, defects: number, passed: boolean}
  downtime:
    fields: {minutes: number, planned: boolean}
indicators:
  inspected: {evidence: inspection, agg: sum, expr: inspected}
  good: {evidence: inspection, agg: sum, expr: good}
  defects: {evidence: inspection, agg: sum, expr: defects}
  lots: {evidence: inspection, agg: count}
  failed_lots: {evidence: inspection, agg: count, filter: "not passed"}
  mean_good: {evidence: inspection, agg: average, expr: good}
  max_defects: {evidence: inspection, agg: max, expr: defects}
  min_good: {evidence: inspection, agg: min, expr: good}
  scrap: {evidence: inspection, agg: sum, expr: "inspected - good"}
  big_lots: {evidence: inspection, agg: count, filter: "inspected > 40"}
  fpy: {type: ratio, numerator: good, denominator: inspected, target: 0.95}
  defect_rate:
    type: ratio
    numerator: defects
    denominator: inspected
    direction: lower_is_better
    target: 0.02
    scoring: {method: inverse}
  fpy_pct: {type: derived, expr: "fpy * 100", inputs: [fpy]}
  quality_index: {type: derived, expr: "fpy * 100 - defect_rate * 10", inputs: [fpy, defect_rate]}
  good_qtd: {type: cumulative, evidence: inspection, agg: sum, expr: good, grain_to_date: quarter}
  insp_3m: {type: cumulative, evidence: inspection, agg: sum, expr: inspected, window: 3 months}
  downtime_minutes: {evidence: downtime, agg: sum, expr: minutes}
  stops: {evidence: downtime, agg: count}
  unplanned: {evidence: downtime, agg: sum, expr: minutes, filter: "not planned"}
  availability: {type: derived, expr: "1 - unplanned / 14400", inputs: [unplanned], target: 0.9}
objectives:
  quality: {weight: 70, indicators: {fpy: 60, defect_rate: 40}}
  uptime: {weight: 30, indicators: {availability: 100}}
weights: {sum_to: 100}
sources:
  mes:
    evidence: inspection
    subject: {field: badge, kind: person}
    occurred_at: {field: at}
    id: [lot]
    fields: {inspected: inspected, good: good, defects: defects, passed: passed}
  andon:
    evidence: downtime
    subject: {field: badge, kind: person}
    occurred_at: {field: at}
    id: [stop]
    fields: {minutes: minutes, planned: planned}
"""


def raw_rows(
    n: int, seed: int = 7, subjects: int = SUBJECTS
) -> Iterator[tuple[str, dict[str, str]]]:
    """``(source, raw text row)`` x ``n``: 80 % inspections, 20 % downtime events, uniform over
    subjects and the 92 days (times in UTC, as an MES export would give them)."""
    rng = random.Random(seed)
    for i in range(n):
        badge = f"E{rng.randrange(subjects):05d}"
        minute = rng.randrange(DAYS * 24 * 60)
        day, rest = divmod(minute, 24 * 60)
        month, dom = (1, day + 1) if day < 31 else (2, day - 30) if day < 59 else (3, day - 58)
        if day >= 90:
            month, dom = 4, day - 89
        at = f"2025-{month:02d}-{dom:02d}T{rest // 60:02d}:{rest % 60:02d}:00+00:00"
        if rng.random() < 0.8:
            inspected = rng.randrange(1, 60)
            good = inspected - rng.randrange(0, min(inspected, 5) + 1)
            yield (
                "mes",
                {
                    "lot": f"L{i:08d}",
                    "badge": badge,
                    "at": at,
                    "inspected": str(inspected),
                    "good": str(good),
                    "defects": str(rng.randrange(0, 4)),
                    "passed": "true" if good == inspected else "false",
                },
            )
        else:
            yield (
                "andon",
                {
                    "stop": f"S{i:08d}",
                    "badge": badge,
                    "at": at,
                    "minutes": f"{rng.randrange(1, 240)}.{rng.randrange(10)}",
                    "planned": "true" if rng.random() < 0.3 else "false",
                },
            )


def load_store(url: str, n: int, *, seed: int = 7) -> tuple[Any, float]:
    """Ingest ``n`` rows into a new store at ``url`` through the real pipeline; returns the
    message bus and the seconds spent ingesting."""
    from perfcore.bootstrap import bootstrap
    from perfcore.services.commands import IngestBatch
    from perfcore.services.handlers.evidence import ingest_batch

    bus = bootstrap(storage=url, plan=PLAN, notifiers={"*": _Quiet()})
    ctx = bus.ctx
    elapsed = 0.0
    chunk: dict[str, list[dict[str, str]]] = {"mes": [], "andon": []}
    pending = 0
    for source, row in raw_rows(n, seed):  # generating the rows is not timed (nor for the baseline)
        chunk[source].append(row)
        pending += 1
        if pending >= CHUNK:
            started = time.perf_counter()
            _flush(ctx, chunk, ingest_batch, IngestBatch)
            elapsed += time.perf_counter() - started
            pending = 0
    started = time.perf_counter()
    _flush(ctx, chunk, ingest_batch, IngestBatch)
    return bus, elapsed + time.perf_counter() - started


def _flush(ctx: Any, chunk: dict[str, list[dict[str, str]]], handler: Any, cmd: Any) -> None:
    for source, rows in chunk.items():
        if rows:
            handler(cmd(source, tuple(rows)), ctx)
            rows.clear()
            for _ in ctx.uow.collect_new_events():
                pass


class _Quiet:
    def send(self, message: Any) -> Any:
        from perfcore.ports.notifications import DeliveryResult

        return DeliveryResult.delivered("quiet")


_BASE_DDL = """
CREATE TABLE evidence (
  seq INTEGER PRIMARY KEY, idempotency_key VARCHAR(400) NOT NULL UNIQUE,
  evidence_type VARCHAR(100) NOT NULL, subject_kind VARCHAR(20) NOT NULL,
  subject_id VARCHAR(200) NOT NULL, occurred_at DATETIME NOT NULL, period_day VARCHAR(10) NOT NULL,
  period_month VARCHAR(7) NOT NULL, recorded_at DATETIME NOT NULL, source VARCHAR(200) NOT NULL,
  external_id VARCHAR(400) NOT NULL, version INTEGER NOT NULL, supersedes VARCHAR(400),
  is_current BOOLEAN NOT NULL, fields JSON NOT NULL, field_types VARCHAR(400), doc JSON,
  n0 NUMERIC, n1 NUMERIC, n2 NUMERIC, n3 NUMERIC, n4 NUMERIC, n5 NUMERIC, n6 NUMERIC, n7 NUMERIC);
CREATE INDEX ix1 ON evidence (subject_kind, subject_id, occurred_at);
CREATE INDEX ix2 ON evidence (evidence_type, period_month, subject_kind, subject_id, is_current,
  period_day, n0, n1, n2, n3, n4, n5, n6, n7);
CREATE INDEX ix3 ON evidence (source, external_id, version);
"""


def baseline_tuples(n: int, seed: int = 7, subjects: int = SUBJECTS) -> list[tuple[object, ...]]:
    """The final column values of the same rows, built outside the timing (typed slots:
    inspection inspected/good/defects/passed → n0..n3, downtime minutes/planned → n0, n1)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    out = []
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    for source, row in raw_rows(n, seed, subjects):
        at = dt.datetime.fromisoformat(row["at"])
        day = at.astimezone(tz).date().isoformat()
        if source == "mes":
            key = f"mes:inspection:{row['lot']}"
            fields = (
                f'{{"inspected":{row["inspected"]},"good":{row["good"]},'
                f'"defects":{row["defects"]},"passed":{row["passed"]}}}'
            )
            ext, etype = row["lot"], "inspection"
            passed = 1 if row["passed"] == "true" else 0
            slots = (row["inspected"], row["good"], row["defects"], passed, None, None, None, None)
        else:
            key = f"andon:downtime:{row['stop']}"
            fields = f'{{"minutes":{row["minutes"]},"planned":{row["planned"]}}}'
            ext, etype = row["stop"], "downtime"
            planned = 1 if row["planned"] == "true" else 0
            slots = (row["minutes"], planned, None, None, None, None, None, None)
        out.append(
            (key, etype, "person", row["badge"], at.strftime("%Y-%m-%d %H:%M:%S.%f"), day,
             day[:7], now, source, ext, 1, None, 1, fields, None, None, *slots)
        )  # fmt: skip
    return out


def baseline_seconds(path: Path, tuples: list[tuple[object, ...]]) -> float:
    """Seconds to executemany ``tuples`` into an equivalent table, on a connection with the
    PRAGMAs perfcore's engine sets (WAL, synchronous=NORMAL, 64 MiB page cache ...)."""
    from perfcore_adapters.sqlalchemy.engine import SQLITE_PRAGMAS

    conn = sqlite3.connect(path)
    for name, value in SQLITE_PRAGMAS:
        conn.execute(f"PRAGMA {name}={value}")
    conn.executescript(_BASE_DDL)
    sql = (
        "INSERT INTO evidence (idempotency_key, evidence_type, subject_kind, subject_id, "
        "occurred_at, period_day, period_month, recorded_at, source, external_id, version, "
        "supersedes, is_current, fields, field_types, doc, n0, n1, n2, n3, n4, n5, n6, n7) "
        f"VALUES ({','.join('?' * 24)})"
    )
    started = time.perf_counter()
    for i in range(0, len(tuples), CHUNK):
        with conn:
            conn.executemany(sql, tuples[i : i + CHUNK])
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def storage_only_seconds(url: str, n: int, *, seed: int = 7) -> float:
    """Seconds for the adapter's share alone: the same records, already mapped to
    ``AcceptedEvidence`` outside the timing, looked up by key and added, committed per 10,000."""
    import datetime as dt

    from perfcore.domain.values import SubjectRef
    from perfcore.services.records import AcceptedEvidence
    from perfcore_adapters.sqlalchemy import make_unit_of_work

    uow = make_unit_of_work(url)
    now = dt.datetime.now(dt.UTC)
    items = []
    for source, row in raw_rows(n, seed):
        at = dt.datetime.fromisoformat(row["at"])
        if source == "mes":
            etype, ext = "inspection", row["lot"]
            values: dict[str, object] = {
                k: Decimal(row[k]) for k in ("inspected", "good", "defects")
            }
            values["passed"] = row["passed"] == "true"
        else:
            etype, ext = "downtime", row["stop"]
            values = {"minutes": Decimal(row["minutes"]), "planned": row["planned"] == "true"}
        subject = SubjectRef.person(row["badge"])
        key = f"{source}:{etype}:{ext}"
        items.append(AcceptedEvidence(key, etype, subject, at, now, source, ext, values))
    from zoneinfo import ZoneInfo

    uow._tz = ZoneInfo("Asia/Shanghai")
    started = time.perf_counter()
    for i in range(0, len(items), CHUNK):
        with uow:
            ev = uow.evidence
            for item in items[i : i + CHUNK]:
                if ev.get_by_idempotency_key(item.key) is None:
                    ev.add(item.key, item, subject=item.subject, evidence_type=item.evidence_type,
                           at=item.occurred_at)  # fmt: skip
            uow.commit()
    elapsed = time.perf_counter() - started
    uow.engine.dispose()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="B1 ingest")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=0)
    args = parser.parse_args(argv)
    n = args.rows or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="perfcore-b1-") as tmp:
        tuples = baseline_tuples(n)
        base = baseline_seconds(Path(tmp) / "base.db", tuples)
        del tuples
        bus, mine = load_store(f"sqlite:///{tmp}/perfcore.db", n)
        with bus.ctx.uow as uow:
            stored = uow.connection.exec_driver_sql("SELECT count(*) FROM evidence").scalar()
        bus.ctx.uow.engine.dispose()
        storage = storage_only_seconds(f"sqlite:///{tmp}/storage.db", n)
    ratio = mine / base
    print(
        json.dumps(
            {
                "bench": "B1",
                "rows": n,
                "stored": stored,
                "perfcore_s": round(mine, 3),
                "baseline_s": round(base, 3),
                "rows_per_s": round(n / mine),
                "ratio": round(ratio, 2),
                "target": 2.0,
                "ok": ratio <= 2.0 and stored == n,
            }
        )
    )
    print(
        json.dumps(
            {
                "bench": "B1.storage",
                "what": "adapter share only: lookup + add + commit of pre-mapped records",
                "rows": n,
                "perfcore_s": round(storage, 3),
                "baseline_s": round(base, 3),
                "ratio": round(storage / base, 2),
                "target": 2.0,
                "ok": storage / base <= 2.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
