"""Contract tests: the generic signed webhook against a loopback receiver written from the
documented format (docs/notifiers.md, ``perfcore_adapters.notifiers.webhook``).

The receiver verifies ``X-Perfcore-Signature`` = ``v1=`` hex HMAC-SHA256(secret,
``"<X-Perfcore-Timestamp>." + raw body``) before parsing, refuses timestamps older than five
minutes (401), and answers 200 — also for a repeated delivery id, which it does not store twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from perfcore.plugins.registry import structure_config
from perfcore.ports.notifications import DeliveryStatus
from perfcore.testing.notifiers import (
    Answer,
    LoopbackHTTPServer,
    ManualClock,
    NotifierChannelContract,
    ReceivedRequest,
    closed_port_url,
    contract_message,
)
from perfcore_adapters.notifiers import SlidingWindowLimiter, WebhookConfig, WebhookNotifier

SECRET = "whsec_9f8e7d6c"


class Receiver:
    """A receiver that follows the documented verification recipe."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.stored: dict[str, dict[str, Any]] = {}
        self.failing_with: Answer | None = None

    def __call__(self, request: ReceivedRequest) -> Answer:
        if self.failing_with is not None:
            return self.failing_with
        timestamp = request.headers.get("x-perfcore-timestamp", "")
        given = request.headers.get("x-perfcore-signature", "")
        mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
        if not hmac.compare_digest("v1=" + mac.hexdigest(), given):
            return 401, {}, {"error": "bad signature"}
        if abs(self.clock() - int(timestamp)) > 300:
            return 401, {}, {"error": "stale timestamp"}
        body = json.loads(request.body)
        if request.headers.get("x-perfcore-delivery") != body["id"]:
            return 400, {}, {"error": "delivery header does not match id"}
        self.stored.setdefault(body["id"], body)
        return 200, {}, {"received": body["id"]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def receiver(clock: ManualClock) -> Receiver:
    return Receiver(clock)


@pytest.fixture
def server(receiver: Receiver) -> Iterator[LoopbackHTTPServer]:
    with LoopbackHTTPServer(receiver) as running:
        yield running


def _notifier(url: str, clock: ManualClock, **cfg: Any) -> WebhookNotifier:
    config = structure_config({"url": url, "secret": SECRET, **cfg}, WebhookConfig)
    return WebhookNotifier(config, clock=clock, limiter=SlidingWindowLimiter(()))


class TestWebhookContract(NotifierChannelContract):
    @pytest.fixture
    def notifier(self, server: LoopbackHTTPServer, clock: ManualClock) -> WebhookNotifier:
        return _notifier(server.url + "/hooks/perfcore", clock)

    @pytest.fixture
    def down_notifier(self, clock: ManualClock) -> WebhookNotifier:
        return _notifier(closed_port_url() + "/hooks/perfcore", clock)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET, "Bearer t0k3n"]


def test_webhook_body_is_the_documented_json(
    server: LoopbackHTTPServer, receiver: Receiver, clock: ManualClock
) -> None:
    message = contract_message("一次合格率 92.5%", subject="预警", locale="zh-CN", key="alert:L1:3")
    assert _notifier(server.url, clock).send(message).ok
    assert receiver.stored["alert:L1:3"] == {
        "id": "alert:L1:3",
        "channel": "contract",
        "recipients": ["M1"],
        "subject": "预警",
        "body": "一次合格率 92.5%",
        "format": "text",
        "locale": "zh-CN",
        "sent_at": "2023-11-14T22:13:20+00:00",
    }
    assert server.requests[0].headers["idempotency-key"] == "alert:L1:3"
    assert "一次合格率".encode() in server.requests[0].body  # UTF-8, not \\u escapes


def test_webhook_wrong_secret_is_refused_permanently(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    config = WebhookConfig(url=server.url, secret="other")
    result = WebhookNotifier(config, clock=clock).send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "401" in result.detail
    assert "other" not in result.detail


def test_webhook_stale_timestamp_is_refused(server: LoopbackHTTPServer, clock: ManualClock) -> None:
    late = ManualClock(clock() - 600)
    assert _notifier(server.url, late).send(contract_message()).status is DeliveryStatus.PERMANENT


def test_webhook_extra_headers_are_sent_and_kept_secret(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    notifier = _notifier(server.url, clock, headers={"Authorization": "Bearer t0k3n"})
    assert notifier.send(contract_message()).ok
    assert server.requests[0].headers["authorization"] == "Bearer t0k3n"
    assert "t0k3n" not in repr(notifier.config)


def test_webhook_503_with_retry_after_is_retryable_for_that_long(
    server: LoopbackHTTPServer, receiver: Receiver, clock: ManualClock
) -> None:
    receiver.failing_with = (503, {"Retry-After": "30"}, {"error": "maintenance"})
    result = _notifier(server.url, clock).send(contract_message())
    assert result.status is DeliveryStatus.RETRYABLE
    assert result.retry_after == 30.0


def test_webhook_redirect_is_a_configuration_error(
    server: LoopbackHTTPServer, receiver: Receiver, clock: ManualClock
) -> None:
    receiver.failing_with = (301, {"Location": "https://example.invalid/new"}, "")
    result = _notifier(server.url, clock).send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "redirect" in result.detail


def test_webhook_malformed_url_is_permanent_not_an_exception(clock: ManualClock) -> None:
    result = _notifier("http://[::1/hook", clock).send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "invalid URL" in result.detail
