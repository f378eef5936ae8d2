"""Must-show (issue 7): a notifier that is down keeps messages in the outbox until it recovers.

Everything goes through the application layer: messages are queued with
``perfcore.services.notify.enqueue`` inside a unit of work and delivered by the
``DeliverOutbox`` command of a bootstrapped message bus, with real notifiers talking HTTP to a
peer on 127.0.0.1 that is first not listening at all, then answers 503 (or a vendor rate-limit
code), then recovers. Time is a fake clock: nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.ports.outbox import OutboxStatus
from perfcore.services.commands import DeliverOutbox
from perfcore.services.messagebus import MessageBus
from perfcore.services.notify import enqueue
from perfcore.testing.fakes import FakeClock, InMemoryUnitOfWork
from perfcore.testing.notifiers import Answer, LoopbackHTTPServer, ReceivedRequest, free_port
from perfcore_adapters.notifiers import (
    SlidingWindowLimiter,
    WebhookConfig,
    WebhookNotifier,
    WeComConfig,
    WeComNotifier,
)

T0 = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.UTC)
SECRET = "whsec_outbox"
ALERTS = [
    ("alert:L1:FPY:2025-03", "zh", {"indicator": "FPY", "subject": "L1", "reason": "低于 95%"}),
    ("alert:L2:OEE:2025-03", "en", {"indicator": "OEE", "subject": "L2", "reason": "below 60%"}),
    ("alert:L3:FPY:2025-03", "en", {"indicator": "FPY", "subject": "L3", "reason": "below 95%"}),
]


class Receiver:
    """A webhook receiver that verifies signatures and counts deliveries per id."""

    def __init__(self) -> None:
        self.deliveries: dict[str, int] = {}
        self.bodies: dict[str, dict[str, Any]] = {}

    def __call__(self, request: ReceivedRequest) -> Answer:
        stamp = request.headers["x-perfcore-timestamp"]
        mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.body, hashlib.sha256)
        assert request.headers["x-perfcore-signature"] == "v1=" + mac.hexdigest()
        body = json.loads(request.body)
        self.deliveries[body["id"]] = self.deliveries.get(body["id"], 0) + 1
        self.bodies[body["id"]] = body
        return 200, {}, {"ok": True}


def _queue(bus: MessageBus, clock: FakeClock) -> None:
    with bus.uow as uow:
        for key, locale, params in ALERTS:
            assert enqueue(
                uow,
                key=key,
                template="alert_raised",
                recipient="M1",
                params={**params, "period": "2025-03"},
                at=clock.now(),
                locale=locale,
            )
        # the same alert raised again keeps one outbox row
        assert not enqueue(
            uow,
            key=ALERTS[0][0],
            template="alert_raised",
            recipient="M1",
            params={},
            at=clock.now(),
        )
        uow.commit()


def _outbox(bus: MessageBus) -> dict[str, Any]:
    with bus.uow as uow:
        return {m.dedupe_key: m for m in uow.outbox.all()}


def test_messages_wait_in_the_outbox_while_the_webhook_is_down_and_arrive_once_after_recovery() -> (
    None
):
    clock = FakeClock(T0)
    port = free_port()
    notifier = WebhookNotifier(
        WebhookConfig(url=f"http://127.0.0.1:{port}/hooks/perfcore", secret=SECRET),
        clock=lambda: clock.now().timestamp(),
    )
    bus = bootstrap(uow=InMemoryUnitOfWork(), clock=clock, notifiers={"*": notifier})
    _queue(bus, clock)

    # 1. nothing listens on the port: connection refused -> retryable, all kept
    assert bus.handle(DeliverOutbox()) == 0
    rows = _outbox(bus)
    assert len(rows) == 3
    for row in rows.values():
        assert row.status is OutboxStatus.FAILED
        assert row.attempts == 1
        assert "no answer" in row.last_error
        assert row.next_attempt_at is not None
        assert row.next_attempt_at > clock.now()

    receiver = Receiver()
    outage: list[ReceivedRequest] = []

    def unavailable(request: ReceivedRequest) -> Answer:
        outage.append(request)
        return 503, {"Retry-After": "120"}, {"error": "maintenance"}

    with LoopbackHTTPServer(unavailable, port=port) as server:
        # 2. the peer is up but answers 503 + Retry-After: still kept, retry in 120 s; the
        #    notifier honours Retry-After for the destination, so the other two messages are
        #    held back without bothering the peer
        clock.advance(hours=1)
        assert bus.handle(DeliverOutbox()) == 0
        assert len(outage) == 1
        for row in _outbox(bus).values():
            assert row.status is OutboxStatus.FAILED
            assert row.attempts == 2
            assert row.next_attempt_at == clock.now() + dt.timedelta(seconds=120)

        clock.advance(seconds=60)  # not due yet: the peer is not bothered
        assert bus.handle(DeliverOutbox()) == 0
        assert len(outage) == 1

        # 3. the peer recovers: every message is delivered exactly once
        server.respond = receiver
        clock.advance(seconds=60)
        assert bus.handle(DeliverOutbox()) == 3
        clock.advance(hours=5)
        assert bus.handle(DeliverOutbox()) == 0

    assert receiver.deliveries == {key: 1 for key, _locale, _params in ALERTS}
    assert all(row.status is OutboxStatus.DELIVERED for row in _outbox(bus).values())
    # rendered from the service-layer templates in each message's language
    zh = receiver.bodies["alert:L1:FPY:2025-03"]
    assert (zh["subject"], zh["body"], zh["locale"]) == (
        "预警：L1 的 FPY",
        "低于 95%（周期 2025-03）。",
        "zh",
    )
    en = receiver.bodies["alert:L2:OEE:2025-03"]
    assert (en["subject"], en["body"]) == ("Alert: OEE for L2", "below 60% (period 2025-03).")


def test_a_rate_limited_wecom_robot_gets_the_message_after_the_pause_exactly_once() -> None:
    clock = FakeClock(T0)
    seconds = lambda: clock.now().timestamp()  # noqa: E731 - one clock for outbox and limiter
    accepted: list[str] = []
    limited = {"answers": 1}

    def robot(request: ReceivedRequest) -> Answer:
        if limited["answers"]:
            limited["answers"] -= 1
            return 200, {}, {"errcode": 45009, "errmsg": "api freq out of limit"}
        accepted.append(request.json()["markdown"]["content"])
        return 200, {}, {"errcode": 0, "errmsg": "ok"}

    with LoopbackHTTPServer(robot) as server:
        config = WeComConfig(key="k-outbox", base_url=server.url)
        limiter = SlidingWindowLimiter(config.rate_limit.limits(), clock=seconds)
        notifier = WeComNotifier(config, limiter=limiter)
        bus = bootstrap(uow=InMemoryUnitOfWork(), clock=clock, notifiers={"*": notifier})
        with bus.uow as uow:
            params = {"subject": "E1", "trigger": "FPY", "due_at": "03-05"}
            enqueue(
                uow, key="r1", template="review_opened", recipient="M1", at=clock.now(),
                params=params, locale="zh",
            )  # fmt: skip
            uow.commit()

        assert bus.handle(DeliverOutbox()) == 0  # 45009 in an HTTP 200 answer
        row = _outbox(bus)["r1"]
        assert row.status is OutboxStatus.FAILED
        assert "45009" in row.last_error
        assert row.next_attempt_at == T0 + dt.timedelta(seconds=60)

        clock.advance(seconds=60)
        assert bus.handle(DeliverOutbox()) == 1
        assert bus.handle(DeliverOutbox()) == 0
    assert accepted == ["**待办评审：E1**\n\n已为 E1 发起评审（FPY），请在 03-05 前完成。"]
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 404])
def test_a_permanent_refusal_is_not_retried(status: int) -> None:
    clock = FakeClock(T0)
    with LoopbackHTTPServer(lambda _r: (status, {}, {"error": "no"})) as server:
        notifier = WebhookNotifier(WebhookConfig(url=server.url, secret=SECRET))
        bus = bootstrap(uow=InMemoryUnitOfWork(), clock=clock, notifiers={"*": notifier})
        _queue(bus, clock)
        assert bus.handle(DeliverOutbox()) == 0
        clock.advance(hours=24)
        assert bus.handle(DeliverOutbox()) == 0
    assert len(server.requests) == 3
    assert all(row.status is OutboxStatus.DEAD for row in _outbox(bus).values())
