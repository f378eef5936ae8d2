"""Queueing notifications in the outbox and delivering them through the notifiers.

:func:`enqueue` is called by handlers *inside* their unit of work, so the message commits (or
rolls back) with the change that caused it. :func:`deliver_outbox` is the separate delivery
step: at least once, dedupe key carried to the channel; failures are retried with backoff
(``retry_after`` from the channel when given), permanent failures are marked dead.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from perfcore.ports.notifications import DeliveryStatus, Message
from perfcore.ports.outbox import OutboxMessage
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.context import Context
from perfcore.services.templates import render

__all__ = ["deliver_outbox", "enqueue"]

_log = logging.getLogger(__name__)


def enqueue(
    uow: AbstractUnitOfWork,
    *,
    key: str,
    template: str,
    recipient: str,
    params: Mapping[str, str],
    at: dt.datetime,
    locale: str = "en",
    channel: str = "*",
) -> bool:
    """Add a notification to the outbox of ``uow``; ``False`` when ``key`` was already queued."""
    return uow.outbox.add(
        OutboxMessage(
            dedupe_key=key,
            kind="notification",
            template=template,
            recipient=recipient,
            created_at=at,
            params=dict(params),
            channel=channel,
            locale=locale,
        )
    )


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts)))


def deliver_outbox(ctx: Context, *, limit: int = 100, max_attempts: int = 10) -> int:
    """Deliver due notifications; returns how many were delivered now."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        due = [m for m in uow.outbox.pending(now, limit=limit) if m.kind == "notification"]
    delivered = 0
    for message in due:
        notifier = ctx.notifiers.get(message.channel) or ctx.notifiers.get("*")
        if notifier is None:
            continue  # no channel configured: the message waits in the outbox
        subject, body = render(message.template, message.params, message.locale)
        result = notifier.send(
            Message(
                channel=message.channel,
                recipients=(message.recipient,),
                subject=subject,
                body=body,
                locale=message.locale,
                dedupe_key=message.dedupe_key,
            )
        )
        with ctx.uow as uow:
            if result.status is DeliveryStatus.OK:
                uow.outbox.mark_delivered(message.dedupe_key, now)
                delivered += 1
            elif result.status is DeliveryStatus.RETRYABLE and message.attempts + 1 < max_attempts:
                wait = (
                    dt.timedelta(seconds=result.retry_after)
                    if result.retry_after
                    else _backoff(message.attempts)
                )
                uow.outbox.mark_failed(message.dedupe_key, result.detail, now + wait)
            else:
                _log.warning("giving up on %s: %s", message.dedupe_key, result.detail)
                uow.outbox.mark_failed(message.dedupe_key, result.detail, None)
            uow.commit()
    return delivered
