"""The outbox port: notifications (and retried event deliveries) committed with the change.

A message is written through ``uow.outbox`` inside the same unit of work as the state change that
caused it, so a rollback drops both. A separate delivery step (``perfcore.services.delivery``)
reads ``pending()`` and hands messages to a ``Notifier``; it marks them delivered or failed with a
retry time. Delivery is therefore *at least once*; every message carries a ``dedupe_key`` so that
adding the same message twice keeps one row and receivers can drop repeats.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from attrs import field, frozen

__all__ = ["Outbox", "OutboxMessage", "OutboxStatus"]


class OutboxStatus(enum.StrEnum):
    """Life cycle of an outbox row: ``pending`` → ``delivered``, or ``failed`` (retry later) →
    ``pending`` again at ``next_attempt_at``, or ``dead`` after the retry budget is spent."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


def _params(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@frozen
class OutboxMessage:
    """One message waiting for delivery.

    - ``dedupe_key``: unique; the second ``add`` of the same key is ignored.
    - ``kind``: ``"notification"`` (rendered from ``template`` with ``params`` for ``recipient``)
      or ``"event"`` (an event whose handler failed; ``template`` names the handler and
      ``params["event"]`` holds the serialised event) — see ``perfcore.services.messagebus``.
    - ``channel``: notifier name (``"console"``, ``"wecom"``...) or ``"*"`` for the default.
    - ``locale``: ``"zh"`` or ``"en"``.
    - ``attempts``/``last_error``/``next_attempt_at``: delivery bookkeeping.
    """

    dedupe_key: str
    kind: str
    template: str
    recipient: str
    created_at: dt.datetime
    params: Mapping[str, str] = field(factory=dict, converter=_params)
    channel: str = "*"
    locale: str = "en"
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None


@runtime_checkable
class Outbox(Protocol):
    """Transactional outbox (part of the unit of work).

    Errors: ``mark_delivered``/``mark_failed`` on an unknown key raise
    :class:`perfcore.domain.errors.NotFound`.
    """

    def add(self, message: OutboxMessage) -> bool:
        """Add a message; ``False`` (and nothing stored) when its ``dedupe_key`` already exists."""
        ...

    def get(self, dedupe_key: str) -> OutboxMessage | None:
        """The message with this key, in whatever state, or ``None``."""
        ...

    def pending(self, now: dt.datetime, *, limit: int = 100) -> list[OutboxMessage]:
        """Messages due for a delivery attempt at ``now`` (pending, or failed with
        ``next_attempt_at <= now``), oldest first, at most ``limit``."""
        ...

    def mark_delivered(self, dedupe_key: str, at: dt.datetime) -> None:
        """Record a successful delivery."""
        ...

    def mark_failed(self, dedupe_key: str, error: str, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt; ``retry_at=None`` gives up (status ``dead``)."""
        ...

    def all(self) -> list[OutboxMessage]:
        """Every message, oldest first (for audits and tests)."""
        ...
