"""The ``Notifier`` port: deliver one message over one channel.

Deliberately small. A notifier never raises for a delivery problem it can classify: it answers a
:class:`DeliveryResult` saying whether the message was delivered, may be retried later (rate limit,
outage) or will never succeed (bad credentials, malformed payload). The outbox in the application
layer keeps retryable messages until the channel recovers.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from attrs import field, frozen

__all__ = ["BodyFormat", "DeliveryResult", "DeliveryStatus", "Message", "Notifier"]


class BodyFormat(enum.StrEnum):
    """How ``Message.body`` is written."""

    TEXT = "text"
    MARKDOWN = "markdown"


def _recipients(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@frozen
class Message:
    """One notification.

    Attributes:
        channel: channel kind it is meant for (``"wecom"``, ``"smtp"``, ``"console"`` ...).
        recipients: channel-specific addresses (emails, user ids, ``@all``); may be empty for
            group robots.
        subject: short title (e-mail subject, card title).
        body: the message text in ``body_format``.
        body_format: text or markdown.
        locale: BCP-47 language tag the text is written in (``"zh-CN"``, ``"en"``).
        dedupe_key: idempotency key; the same key is delivered at most once by the outbox.
    """

    channel: str
    recipients: tuple[str, ...] = field(converter=_recipients)
    subject: str
    body: str
    body_format: BodyFormat = field(default=BodyFormat.TEXT, converter=BodyFormat)
    locale: str = "en"
    dedupe_key: str = ""


class DeliveryStatus(enum.StrEnum):
    """Delivered, try again later, or give up."""

    OK = "ok"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@frozen
class DeliveryResult:
    """What happened to one :class:`Message`.

    Attributes:
        status: see :class:`DeliveryStatus`.
        detail: vendor code / reason text (never contains secrets).
        retry_after: seconds the channel asked us to wait (rate limits), if any.
    """

    status: DeliveryStatus
    detail: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """``True`` when delivered."""
        return self.status is DeliveryStatus.OK

    @classmethod
    def delivered(cls, detail: str = "") -> DeliveryResult:
        """Delivered."""
        return cls(DeliveryStatus.OK, detail)

    @classmethod
    def retryable(cls, detail: str, retry_after: float | None = None) -> DeliveryResult:
        """Not delivered now; may succeed later."""
        return cls(DeliveryStatus.RETRYABLE, detail, retry_after)

    @classmethod
    def permanent(cls, detail: str) -> DeliveryResult:
        """Will never succeed as sent."""
        return cls(DeliveryStatus.PERMANENT, detail)


@runtime_checkable
class Notifier(Protocol):
    """A delivery channel (WeCom robot, SMTP, console ...)."""

    def send(self, message: Message) -> DeliveryResult:
        """Deliver ``message``; classify failures instead of raising."""
        ...
