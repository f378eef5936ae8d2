"""Objective roll-up and evidence validation costs, as same-run ratios (not a B-target script).

1. ``rollup_incremental``: one key-result update followed by reading the root's progress, in a
   tree of about ``--nodes`` objectives (each under a random group). Baseline: a full,
   from-scratch roll-up of the same tree (``ObjectiveTree.build(...).rollup()``). The ratio
   shows what the cache buys: incremental / full (lower is better; target ≤ 0.05 for 20k
   nodes).
2. ``validate_record``: per-row cost of :func:`validate_record` on a 6-field evidence type,
   against a plain-Python baseline that only copies the row's fields and parses the timestamp
   (the least any validator must do). Ratio = ours / baseline; reported, no target.

Usage: python3 bench/objective_evidence.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time

from perfcore.domain.evidence import EvidenceType, validate_record
from perfcore.domain.objective import Objective
from perfcore.domain.objective_tree import ObjectiveTree


def make_tree(n: int, seed: int = 3) -> tuple[list[Objective], list[str]]:
    rng = random.Random(seed)
    objectives = [Objective("g0")]
    groups = ["g0"]
    leaves: list[str] = []
    i = 1
    while i < n:
        parent = rng.choice(groups)
        if rng.random() < 0.2:
            objectives.append(Objective(f"g{i}", parent_id=parent))
            groups.append(f"g{i}")
        else:
            objectives.append(
                Objective(f"k{i}", parent_id=parent, target=100, current=rng.randint(0, 120))
            )
            leaves.append(f"k{i}")
        i += 1
    # every group gets one key result so nothing is empty
    for g in groups:
        objectives.append(Objective(f"a-{g}", parent_id=g, target=10, current=5))
    return objectives, leaves


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_rollup(nodes: int, updates: int) -> dict[str, object]:
    objectives, leaves = make_tree(nodes)
    tree = ObjectiveTree.build(objectives)
    tree.rollup()
    rng = random.Random(7)

    def incremental() -> None:
        for _ in range(updates):
            tree.set_current(rng.choice(leaves), rng.randint(0, 120))
            tree.progress("g0")

    def full() -> None:
        ObjectiveTree.build(list(tree)).rollup()

    inc = best(incremental, 3) / updates
    base = best(full, 3)
    ratio = inc / base
    return {
        "bench": "objective_rollup_incremental",
        "nodes": len(objectives),
        "seconds_per_update": inc,
        "baseline_full_rollup_seconds": base,
        "ratio": ratio,
        "target": 0.05,
        "ok": ratio <= 0.05,
    }


def bench_validate(rows: int) -> dict[str, object]:
    etype = EvidenceType.declare(
        "inspection",
        {
            "inspected": "number",
            "good": "number",
            "line": "text",
            "passed": "boolean",
            "shift_date": "date",
            "downtime": "duration?",
        },
    )
    now = dt.datetime(2025, 3, 14, tzinfo=dt.UTC)
    data = [
        {
            "subject": f"person:E{i % 500}",
            "source": "mes",
            "external_id": f"r{i}",
            "occurred_at": "2025-03-14T08:30:00+08:00",
            "fields": {
                "inspected": 120,
                "good": "117",
                "line": "L3",
                "passed": True,
                "shift_date": "2025-03-14",
                "downtime": None,
            },
        }
        for i in range(rows)
    ]

    def ours() -> None:
        for raw in data:
            validate_record(etype, raw, recorded_at=now)

    def baseline() -> None:
        for raw in data:
            dict(raw["fields"])  # type: ignore[call-overload]
            dt.datetime.fromisoformat(raw["occurred_at"])  # type: ignore[arg-type]

    a = best(ours, 3)
    b = best(baseline, 3)
    return {
        "bench": "evidence_validate_record",
        "rows": rows,
        "seconds_per_row": a / rows,
        "ratio": a / b,
        "target": None,
        "ok": True,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    nodes, updates, rows = (2_000, 50, 5_000) if args.quick else (20_000, 200, 50_000)
    print(json.dumps(bench_rollup(nodes, updates)))
    print(json.dumps(bench_validate(rows)))


if __name__ == "__main__":
    main()
