"""B3: one new evidence row → its scorecard refreshed and readable, latency percentiles on SQLite.

The store holds the reference workload (storage_b1.py; 1,000,000 rows, 10,000 subjects;
``--quick``: 100,000 rows, 1,000 subjects), loaded untimed and marked as scored. Each timed
operation is what the embedded application does for one arriving record:

1. a unit of work stores the record (idempotency lookup + insert), runs
   ``refresh.refresh_dirty`` — which finds the one dirty (subject, month) pair past the watermark,
   recomputes its 20 indicator values with push-down queries restricted to that subject, builds
   the domain scorecard, stores it — and commits;
2. a second unit of work reads the scorecard back.

Reported: p50/p99 in milliseconds over the operations; target p99 ≤ 5 ms.

    python bench/storage_b3.py [--quick] [--ops N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from storage_b1 import PLAN
from storage_b2 import build_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="B3 evidence → scorecard latency")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ops", type=int, default=0)
    parser.add_argument("--rows", type=int, default=0)
    args = parser.parse_args(argv)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    subjects = rows // 100
    ops = args.ops or (300 if args.quick else 400)

    from perfcore.domain.values import SubjectRef
    from perfcore.plan import loads
    from perfcore.services.records import AcceptedEvidence
    from perfcore_adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for
    from perfcore_adapters.sqlalchemy.refresh import refresh_dirty

    plan = loads(PLAN)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="perfcore-b3-") as tmp:
        url = f"sqlite:///{tmp}/b3.db"
        build_store(url, rows, subjects)
        uow = SqlAlchemyUnitOfWork(create_engine_for(url))
        with uow:
            top = uow.connection.exec_driver_sql("SELECT max(seq) FROM evidence").scalar()
            uow.set_setting("scored_through_seq", str(top))
            uow.commit()
        latencies: list[float] = []
        now = dt.datetime.now(dt.UTC)
        for i in range(ops + 10):
            subject = SubjectRef.person(f"E{rng.randrange(subjects):05d}")
            at = dt.datetime(2025, 3, 10, 8, tzinfo=dt.UTC) + dt.timedelta(
                minutes=rng.randrange(20000)
            )
            inspected = rng.randrange(1, 60)
            values = {
                "inspected": Decimal(inspected),
                "good": Decimal(inspected - 1),
                "defects": Decimal(1),
                "passed": False,
            }
            key = f"live:inspection:{i}"
            ev = AcceptedEvidence(key, "inspection", subject, at, now, "live", str(i), values)
            started = time.perf_counter()
            with uow:
                if uow.evidence.get_by_idempotency_key(key) is None:
                    uow.evidence.add(key, ev, subject=subject, evidence_type="inspection", at=at)
                refresh_dirty(uow, plan, now=now)
                uow.commit()
            with uow:
                card = uow.scorecards.get(subject, "2025-03")
            elapsed = time.perf_counter() - started
            assert card is not None
            if i >= 10:  # warm-up excluded
                latencies.append(elapsed * 1000)
        uow.engine.dispose()
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        json.dumps(
            {
                "bench": "B3",
                "rows": rows,
                "ops": ops,
                "p50_ms": round(p50, 2),
                "p99_ms": round(p99, 2),
                "max_ms": round(latencies[-1], 2),
                "ratio": round(p99 / 5.0, 2),
                "target": 5.0,
                "ok": p99 <= 5.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
