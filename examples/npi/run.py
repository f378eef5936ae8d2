"""NPI: close milestones (one late), let the clock run past a due date, see the escalations.

python examples/npi/run.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.services import commands, queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, RecordingNotifier

HERE = Path(__file__).resolve().parent

CLOSED = [
    ("m01", "ME-ZHOU", "2025-03-03T16:00:00+08:00", True, ""),
    ("m02", "ME-ZHOU", "2025-03-12T10:00:00+08:00", False, "internal review not closed"),
    ("m03", "SQE-LU", "2025-03-13T09:00:00+08:00", True, ""),
]


def main(notifier: RecordingNotifier | None = None) -> MessageBus:
    clock = FakeClock(dt.datetime(2025, 3, 14, 2, 0, tzinfo=dt.UTC))
    channel = notifier or RecordingNotifier()
    bus = bootstrap(clock=clock, notifiers={"*": channel}, plan=HERE / "plan.yaml")
    rows = [
        {"milestone": m, "owner": o, "closed_at": at, "on_time": str(ok), "root_cause": cause}
        for m, o, at, ok, cause in CLOSED
    ]
    bus.handle(commands.IngestBatch("project_tool", rows))
    for m, _o, at, _ok, cause in CLOSED:
        # a late completion needs a root-cause category (perfcore.domain.milestone.RootCause)
        category = cause.replace(" ", "_")
        bus.handle(
            commands.CompleteMilestone(m, dt.datetime.fromisoformat(at), root_cause=category)
        )
    print(queries.scorecards(bus, "2025-03")[0]["values"])
    clock.set(dt.datetime(2025, 4, 9, 1, 0, tzinfo=dt.UTC))  # m04 (due 7 April) is late
    result = bus.handle(commands.TickClock())
    print(result)
    print(queries.milestones(bus)["rate_percent"])
    for message in channel.sent:
        print(message.recipients, message.subject)
    return bus


if __name__ == "__main__":
    main()
