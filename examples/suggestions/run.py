"""Suggestion scheme: one proposal moves through its stages over three months.

python examples/suggestions/run.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.services import commands, queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock

HERE = Path(__file__).resolve().parent

STAGES = [
    ("2025-01-20T10:00:00+01:00", "adopted", "", ""),
    ("2025-02-17T10:00:00+01:00", "benefit", "4.5", "1200"),
    ("2025-03-24T10:00:00+01:00", "rolled_out", "", ""),
]


def main() -> MessageBus:
    bus = bootstrap(
        clock=FakeClock(dt.datetime(2025, 4, 1, 8, 0, tzinfo=dt.UTC)), plan=HERE / "plan.yaml"
    )
    rows = [
        {
            "proposal": "LP-042 quick-change fixture",
            "stage": stage,
            "proposer": "E-KLEIN",
            "team": "line 3",
            "at": at,
            "takt_gain_seconds": takt,
            "energy_saved_kwh": kwh,
        }
        for at, stage, takt, kwh in STAGES
    ]
    bus.handle(commands.IngestBatch("idea_board", rows))
    for month in ("2025-01", "2025-02", "2025-03"):
        bus.handle(commands.EvaluateIncentives(month))
        bus.handle(commands.EvaluateIncentives(month))  # a re-run pays nothing twice
    print(queries.ledger_balances(bus))
    return bus


if __name__ == "__main__":
    main()
