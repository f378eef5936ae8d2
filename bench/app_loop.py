"""Application-layer overhead: one arriving record → its scorecard readable, through the bus.

Measured in the same run, on the same in-memory data (2,000 subjects × 30 records already
stored, plan of ``tests/e2e/loop_plan.yaml``):

- **bus**: ``bus.handle(RecordEvidence(...))`` (validation, idempotency, unit of work, refresh of
  the touched scorecard, alert rules, outbox) then ``queries.scorecard(...)``;
- **baseline**: the domain work alone for the same subject — ``compute_values`` over its rows of
  the period and ``build_scorecard`` — with no bus, no unit of work, no validation.

Prints one JSON line: p50/p99 milliseconds of both and ``ratio`` = p50(bus) / p50(baseline).
There is no target in performance.md for this; it shows what the application layer costs.

    python bench/app_loop.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.domain.measure import compute_values
from perfcore.domain.scorecard import build_scorecard
from perfcore.domain.values import Period, SubjectRef
from perfcore.services import commands, queries
from perfcore.services.measuring import rows_by_type
from perfcore.testing.fakes import FakeClock, RecordingNotifier

PLAN = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "loop_plan.yaml"
START = dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.UTC)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    subjects, per_subject, ops = (200, 30, 200) if args.quick else (2000, 30, 500)
    clock = FakeClock(dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    bus = bootstrap(clock=clock, notifiers={"*": RecordingNotifier()}, plan=PLAN)
    rows = [
        {
            "lot": f"L{s}-{i}",
            "who": f"E{s}",
            "at": (START + dt.timedelta(hours=i * 7)).isoformat(),
            "n": "100",
            "ok": str(96 + i % 4),
        }
        for s in range(subjects)
        for i in range(per_subject)
    ]
    plan_text = PLAN.read_text(encoding="utf-8").replace(
        "people:",
        "sources:\n  mes:\n    evidence: inspection\n    subject: {field: who}\n"
        "    occurred_at: {field: at}\n    id: [lot]\n    fields: {inspected: n, good: ok}\n"
        "people:",
        1,
    )
    bus.handle(commands.ApplyPlan(plan_text, "bench.yaml"))
    bus.handle(commands.IngestBatch("mes", rows))
    plan = bus.ctx.plan()
    period = Period.month(2025, 3)
    versions = plan.versions_for(period)
    scored = {n: versions[n] for n in plan.scorecard}
    bus_ms: list[float] = []
    base_ms: list[float] = []
    for k in range(ops):
        subject = SubjectRef.person(f"E{k % subjects}")
        at = START + dt.timedelta(days=20, minutes=k)
        t0 = time.perf_counter()
        bus.handle(
            commands.RecordEvidence(
                "inspection",
                {"inspected": 50, "good": 49},
                at,
                external_id=f"x{k}",
                subject=subject,
            )
        )
        queries.scorecard(bus, subject, "2025-03")
        bus_ms.append((time.perf_counter() - t0) * 1000)
        with bus.uow as uow:
            evidence = uow.evidence.list(subject=subject)
        t1 = time.perf_counter()
        values = compute_values(
            versions,
            rows_by_type(evidence),
            period=period,
            tz=plan.tz,
            compile=plan.compiler("inspection"),
        )
        build_scorecard(
            subject,
            period,
            scored,
            {n: values[n] for n in scored},
            plan.weights,
            objective_of=plan.objective_of,
            objective_weights=plan.objective_weights,
        )
        base_ms.append((time.perf_counter() - t1) * 1000)
    result = {
        "bench": "app_loop",
        "subjects": subjects,
        "rows": subjects * per_subject,
        "bus_p50_ms": round(statistics.median(bus_ms), 3),
        "bus_p99_ms": round(percentile(bus_ms, 0.99), 3),
        "domain_p50_ms": round(statistics.median(base_ms), 3),
        "domain_p99_ms": round(percentile(base_ms, 0.99), 3),
        "ratio": round(statistics.median(bus_ms) / statistics.median(base_ms), 2),
        "target": None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
