"""Run the garment-factory plan on the real UCI 597 data and print the monthly scorecards.

    python examples/garment/run.py

In-memory storage, a fixed clock after the data (so SLAs are computed against a known "now"),
and the console notifier.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.services import commands, queries
from perfcore.testing.fakes import FakeClock

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "garment-worker-productivity" / "garments_worker_productivity.csv"


def main() -> None:
    clock = FakeClock(dt.datetime(2015, 3, 12, 8, 0, tzinfo=dt.UTC))
    bus = bootstrap(clock=clock, plan=HERE / "plan.yaml")
    with DATA.open(newline="", encoding="ascii") as f:
        rows = list(csv.DictReader(f))
    result = bus.handle(commands.IngestBatch("uci_csv", rows))
    print(f"read {result.read}: accepted {result.accepted}, rejected {result.rejected}")
    for month in ("2015-01", "2015-02", "2015-03"):
        print(f"\n{month}")
        for card in queries.scorecards(bus, month)[:5]:
            print(
                f"  {card['subject']:<14} total {card['total']}  attainment "
                f"{card['values']['attainment']}"
            )
    print(f"\nopen reviews: {len(queries.review_inbox(bus))}")


if __name__ == "__main__":
    main()
