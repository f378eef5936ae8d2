"""Queueing notifications in the outbox and delivering them through the notifiers.

:func:`enqueue` is called by handlers *inside* their unit of work, so the message commits (or
rolls back) with the change that caused it. :func:`deliver_outbox` is the separate delivery
step: at least once, dedupe key carried to the channel; failures are retried with backoff
(``retry_after`` from the channel when given), permanent failures are marked dead.

Routing: a message queued for a named channel goes there; a message for the default channel
``"*"`` goes to the channels the plan's ``route:`` names for its type (its template), else to
those of ``route["*"]``, else to the default notifier. Channels are the notifiers passed to
``bootstrap`` plus those the plan declares under ``notifiers:`` (a passed one wins on a name
clash); an unknown name falls back to ``"*"``. A message routed to several channels is delivered
when every channel took it; if one asks to retry, all are tried again later (at least once —
receivers drop repeats by the dedupe key).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from perfcore.domain.errors import NotFound
from perfcore.plan import Plan
from perfcore.ports.notifications import DeliveryResult, DeliveryStatus, Message, Notifier
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


def _targets(
    plan: Plan | None, channels: Mapping[str, Notifier], message: OutboxMessage
) -> list[tuple[str, Notifier]]:
    """The (channel name, notifier) pairs ``message`` goes to (see the module docstring)."""
    names = [message.channel]
    if message.channel == "*" and plan is not None and plan.spec.route:
        route = plan.spec.route
        names = list(route.get(message.template) or route.get("*") or ["*"])
    out: list[tuple[str, Notifier]] = []
    seen: set[int] = set()
    for name in names:
        notifier = channels.get(name) or channels.get("*")
        if notifier is not None and id(notifier) not in seen:
            seen.add(id(notifier))
            out.append((name, notifier))
    return out


def _combined(results: list[DeliveryResult]) -> DeliveryResult:
    """All delivered → delivered; else a retryable failure if any (retry all), else permanent."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return results[0]
    retry = [r for r in failed if r.status is DeliveryStatus.RETRYABLE]
    return retry[0] if retry else failed[0]


def deliver_outbox(ctx: Context, *, limit: int = 100, max_attempts: int = 10) -> int:
    """Deliver due notifications; returns how many were delivered now."""
    now = ctx.clock.now()
    try:
        plan: Plan | None = ctx.plan()
    except NotFound:
        plan = None
    channels = ctx.channels(plan)
    with ctx.uow as uow:
        due = [m for m in uow.outbox.pending(now, limit=limit) if m.kind == "notification"]
    delivered = 0
    for message in due:
        targets = _targets(plan, channels, message)
        if not targets:
            continue  # no channel configured: the message waits in the outbox
        subject, body = render(message.template, message.params, message.locale)
        results = [
            notifier.send(
                Message(
                    channel=name,
                    recipients=(message.recipient,),
                    subject=subject,
                    body=body,
                    locale=message.locale,
                    dedupe_key=message.dedupe_key,
                )
            )
            for name, notifier in targets
        ]
        result = _combined(results)
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
