"""The ``Clock`` port: every "now" in perfcore comes from here, never from ``datetime.now()``.

Services ask the clock for the current instant so that tests can advance time
(:class:`perfcore.testing.fakes.FakeClock`) and SLA deadlines, reminders and escalations are
deterministic.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


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
