"""Safety points: a month of EHS events → points → a redemption for a training seat.

python examples/safety/run.py
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.domain.values import SubjectRef
from perfcore.services import commands, queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock

HERE = Path(__file__).resolve().parent


def generate() -> list[dict[str, object]]:
    """EHS events for March 2025: S-01 is very active, S-02 only joins the drill."""
    rows: list[dict[str, object]] = []
    day = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
    for i in range(6):
        rows.append(
            {
                "event_id": f"P-{i}",
                "employee": "S-01",
                "kind": "photo",
                "at": (day + dt.timedelta(days=i)).isoformat(),
                "hours_to_close": "",
            }
        )
    rows.append(
        {
            "event_id": "NM-1",
            "employee": "S-01",
            "kind": "near_miss",
            "at": (day + dt.timedelta(days=8)).isoformat(),
            "hours_to_close": "",
        }
    )
    rows.append(
        {
            "event_id": "HZ-1",
            "employee": "S-01",
            "kind": "hazard_closed",
            "at": (day + dt.timedelta(days=9)).isoformat(),
            "hours_to_close": "20",
        }
    )
    rows.append(
        {
            "event_id": "HZ-2",
            "employee": "S-01",
            "kind": "hazard_closed",
            "at": (day + dt.timedelta(days=12)).isoformat(),
            "hours_to_close": "26",
        }
    )
    for who in ("S-01", "S-02"):
        rows.append(
            {
                "event_id": f"DR-{who}",
                "employee": who,
                "kind": "drill",
                "at": (day + dt.timedelta(days=14)).isoformat(),
                "hours_to_close": "",
            }
        )
    return rows


def main() -> MessageBus:
    bus = bootstrap(
        clock=FakeClock(dt.datetime(2025, 4, 1, 1, 0, tzinfo=dt.UTC)), plan=HERE / "plan.yaml"
    )
    bus.handle(commands.IngestBatch("ehs_app", generate()))
    bus.handle(commands.EvaluateIncentives("2025-03"))
    print(queries.ledger_balances(bus))
    balance = bus.handle(
        commands.Redeem(
            SubjectRef.person("S-01"), Decimal(40), "training seat: forklift refresher", "req-1"
        )
    )
    print("S-01 balance after redemption:", balance)
    return bus


if __name__ == "__main__":
    main()
