"""Run the sales plan on the CRM sales-opportunities data and print the Q3 2017 ranking.

python examples/sales/run.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.services import commands, queries
from perfcore.testing.fakes import FakeClock

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "crm-sales-opportunities" / "sales_pipeline.csv"


def closed_deals() -> list[dict[str, str]]:
    """The Won/Lost rows (open deals have no close date and are not scored)."""
    with DATA.open(newline="", encoding="ascii") as f:
        return [r for r in csv.DictReader(f) if r["deal_stage"] in ("Won", "Lost")]


def main() -> None:
    clock = FakeClock(dt.datetime(2018, 1, 2, 9, 0, tzinfo=dt.UTC))
    bus = bootstrap(clock=clock, plan=HERE / "plan.yaml")
    result = bus.handle(commands.IngestBatch("crm_pipeline", closed_deals()))
    print(f"read {result.read}: accepted {result.accepted}, rejected {result.rejected}")
    for card in queries.scorecards(bus, "2017-Q3")[:10]:
        v = card["values"]
        print(
            f"{card['subject']:<28} total {card['total']}  win rate {v['win_rate'][:5]}  "
            f"avg deal {v['average_deal_size'][:7]}  cycle {v['cycle_time'][:5]} d"
        )
    bus.handle(commands.EvaluateIncentives("2017-Q3"))
    for row in queries.ledger_balances(bus)[:5]:
        print(row)


if __name__ == "__main__":
    main()
