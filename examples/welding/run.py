"""Welding engineers: generate one quarter of MES/ERP/HRIS records and score them.

    python examples/welding/run.py

The data are generated deterministically (``random.Random(7)``); one MES badge is unknown to the
identity map, so that record is quarantined ("unresolved identity"), not guessed.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.services import commands, queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock

HERE = Path(__file__).resolve().parent


def generate(seed: int = 7) -> dict[str, list[dict[str, object]]]:
    """Rows per source for Q1 2025."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    mes = []
    for i in range(120):
        badge = "B-1017" if i % 2 else "B-1022"
        pass_rate = 0.93 if badge == "B-1017" else 0.86
        at = start + dt.timedelta(hours=17 * i)
        mes.append(
            {
                "inspection_id": f"FP-{i:04d}",
                "badge": badge,
                "inspected_at": at.isoformat(),
                "ok": "true" if rng.random() < pass_rate else "false",
                "part_no": f"P-{rng.randint(100, 120)}",
            }
        )
    mes.append(
        {
            "inspection_id": "FP-9999",
            "badge": "B-9999",
            "inspected_at": start.isoformat(),
            "ok": "true",
            "part_no": "P-101",
        }
    )
    erp = [
        {
            "order_no": f"RW-{i:03d}",
            "user": "zhao.lei" if i % 3 else "qian.yu",
            "closed_on": (start.date() + dt.timedelta(days=3 * i)).isoformat(),
            "rework_hours": str(rng.randint(2, 6)),
        }
        for i in range(28)
    ]
    hris = [
        {
            "record_id": "TR-1",
            "employee_id": "100017",
            "completed_on": "2025-01-20",
            "mentee_id": "N-01",
            "course": "TIG basics",
        },
        {
            "record_id": "TR-2",
            "employee_id": "100017",
            "completed_on": "2025-02-11",
            "mentee_id": "N-02",
            "course": "TIG basics",
        },
        {
            "record_id": "TR-3",
            "employee_id": "100017",
            "completed_on": "2025-03-04",
            "mentee_id": "N-03",
            "course": "Fixture setup",
        },
        {
            "record_id": "TR-4",
            "employee_id": "100017",
            "completed_on": "2025-03-18",
            "mentee_id": "N-03",
            "course": "Weld inspection",
        },
        {
            "record_id": "TR-5",
            "employee_id": "100022",
            "completed_on": "2025-02-25",
            "mentee_id": "N-04",
            "course": "TIG basics",
        },
    ]
    return {"mes": mes, "erp": erp, "hris": hris}


def main() -> MessageBus:
    bus = bootstrap(
        clock=FakeClock(dt.datetime(2025, 4, 1, 1, 0, tzinfo=dt.UTC)), plan=HERE / "plan.yaml"
    )
    for source, rows in generate().items():
        result = bus.handle(commands.IngestBatch(source, rows))
        print(
            f"{source}: read {result.read}, accepted {result.accepted}, rejected {result.rejected}"
        )
    for card in queries.scorecards(bus, "2025-Q1"):
        print(card["subject"], card["total"], card["values"])
    bus.handle(commands.EvaluateIncentives("2025-Q1"))
    print(queries.ledger_balances(bus))
    return bus


if __name__ == "__main__":
    main()
