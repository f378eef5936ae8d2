"""Client-side rate limiting for notification channels.

Chat robots throttle senders (per the vendors' robot docs, listed in docs/notifiers.md): WeCom
and DingTalk robots accept 20 messages per minute, Feishu bots 100 per minute and 5 per second,
Slack webhooks about one per second. A :class:`SlidingWindowLimiter` keeps the times of recent
sends and answers, for each new send, either "go" (``0.0``) or how many seconds to wait. It never
sleeps: the notifier turns a wait into a retryable
:class:`~perfcore.ports.notifications.DeliveryResult` with ``retry_after`` and the outbox tries
again later. The clock is injected, so tests move time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue

__all__ = ["RateLimit", "RateLimitConfig", "SlidingWindowLimiter"]


def _positive_or_none(_inst: object, attribute: object, value: int | None) -> None:
    if value is not None and value < 1:
        name = getattr(attribute, "name", "limit")
        raise ValueError(f"{name} must be >= 1 or null (no limit), got {value}")


@frozen
class RateLimit:
    """At most ``count`` sends in any window of ``per_seconds`` seconds."""

    count: int
    per_seconds: float

    def __attrs_post_init__(self) -> None:
        if self.count < 1:
            raise InvalidValue(f"count must be >= 1, got {self.count}", field="count", valid=">= 1")
        if self.per_seconds <= 0:
            raise InvalidValue(
                f"per_seconds must be > 0, got {self.per_seconds}", field="per_seconds", valid="> 0"
            )


@frozen
class RateLimitConfig:
    """Plan form of a channel's limits: ``per_minute`` and/or ``per_second`` (``null`` = none).

    Raises (when structured from a plan): ``InvalidValue`` at ``...rate_limit`` for a value < 1.
    """

    per_minute: int | None = field(default=None, validator=_positive_or_none)
    per_second: int | None = field(default=None, validator=_positive_or_none)

    def limits(self) -> tuple[RateLimit, ...]:
        """The configured windows as :class:`RateLimit` values."""
        out: list[RateLimit] = []
        if self.per_minute is not None:
            out.append(RateLimit(self.per_minute, 60.0))
        if self.per_second is not None:
            out.append(RateLimit(self.per_second, 1.0))
        return tuple(out)


class SlidingWindowLimiter:
    """A sliding-window log over several :class:`RateLimit` windows at once.

    ``acquire()`` records a send and returns ``0.0`` when every window has room; otherwise it
    records nothing and returns the seconds until the earliest moment all windows have room
    (spread over later windows for a burst, see :meth:`acquire`).
    ``pause(seconds)`` blocks all sends for a while (the vendor told us we were too fast).

    Args:
        limits: the windows; an empty sequence means no limit.
        clock: monotonic seconds (default :func:`time.monotonic`; tests pass a fake).

    Thread-safe.
    """

    def __init__(
        self, limits: Sequence[RateLimit], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = tuple(limits)
        self._clock = clock
        self._sent: deque[float] = deque(maxlen=max((lim.count for lim in self.limits), default=1))
        self._paused_until = float("-inf")
        self._held = 0
        self._lock = threading.Lock()

    def wait_time(self) -> float:
        """Seconds until a send would be allowed (``0.0`` = now); records nothing."""
        with self._lock:
            return self._wait(self._clock())

    def _wait(self, now: float) -> float:
        wait = max(0.0, self._paused_until - now)
        for limit in self.limits:
            if len(self._sent) >= limit.count:
                oldest = self._sent[-limit.count]
                frees_at = oldest + limit.per_seconds  # the window is [oldest, frees_at)
                if frees_at > now:
                    wait = max(wait, frees_at - now)
        return wait

    def acquire(self) -> float:
        """Take a slot (``0.0``) or answer the seconds to wait (nothing taken).

        Consecutive refusals are spread over later windows: the *n*-th refusal since the last
        admitted send waits ``wait + (n // count) * per_seconds`` of the longest window, so a
        burst of 250 messages to a 20-per-minute robot comes back 20 per minute instead of all
        at once (and is not refused again and again, using up the outbox's attempts).
        """
        with self._lock:
            now = self._clock()
            wait = self._wait(now)
            if wait <= 0.0:
                if self.limits:
                    self._sent.append(now)
                self._held = 0
                return 0.0
            if self.limits:
                longest = max(self.limits, key=lambda lim: lim.per_seconds)
                wait += (self._held // longest.count) * longest.per_seconds
            self._held += 1
            return wait

    def pause(self, seconds: float) -> None:
        """Refuse every send for ``seconds`` from now (e.g. after a vendor rate-limit answer)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
