"""The ``Clock`` port: every "now" in perfcore comes from here, never from ``datetime.now()``.

Services ask the clock for the current instant so that tests can advance time
(:class:`perfcore.testing.fakes.FakeClock`) and SLA deadlines, reminders and escalations are
deterministic.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FixedClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current instant.

    ``now()`` must return a timezone-aware :class:`datetime.datetime` (UTC recommended).
    """

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real wall clock, in UTC. Stateless; creating one does nothing."""

    def now(self) -> dt.datetime:
        """``datetime.now(UTC)``."""
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that always answers one instant: for running the application *as of* a moment,
    e.g. replaying history (the CLI's ``--now``). ``FixedClock(dt.datetime(2015, 3, 12, 12,
    tzinfo=dt.UTC))``.

    Raises:
        ValueError: the instant has no time zone.
    """

    def __init__(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self._instant = instant

    def now(self) -> dt.datetime:
        """The fixed instant."""
        return self._instant
