"""Contract tests: the Slack incoming-webhook notifier against a loopback fake of the webhook.

The fake reproduces https://docs.slack.dev/tools/python-slack-sdk/webhook: success is HTTP 200 with
the plain-text body ``ok``; failures are plain-text codes with 4xx (``invalid_payload``,
``no_text``, ``channel_is_archived``, ``no_service`` ...); about one message per second, beyond that
``429`` with ``Retry-After``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from perfcore.domain.errors import InvalidValue
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
from perfcore_adapters.notifiers import SlackConfig, SlackNotifier, SlidingWindowLimiter

PATH = "/services/T0PERF/B0CORE/x7Yz9QwErTy"


class FakeSlack:
    """Answers like a Slack incoming webhook."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.accepted: list[dict[str, Any]] = []
        self.archived = False
        self.failing_with: Answer | None = None
        self._last: float | None = None

    def __call__(self, request: ReceivedRequest) -> Answer:
        if request.path != PATH:
            return 404, {}, "no_service"
        if self.archived:
            return 410, {}, "channel_is_archived"
        if self.failing_with is not None:
            return self.failing_with
        try:
            body = json.loads(request.body)
        except ValueError:
            return 400, {}, "invalid_payload"
        if not body.get("text") and not body.get("blocks"):
            return 400, {}, "no_text"
        now = self.clock()
        if self._last is not None and now - self._last < 1.0:
            return 429, {"Retry-After": "1"}, "rate_limited"
        self._last = now
        self.accepted.append(body)
        return 200, {}, "ok"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> FakeSlack:
    return FakeSlack(clock)


@pytest.fixture
def server(fake: FakeSlack) -> Iterator[LoopbackHTTPServer]:
    with LoopbackHTTPServer(fake) as running:
        yield running


def _notifier(url: str, limiter: SlidingWindowLimiter | None = None, **cfg: Any) -> SlackNotifier:
    config = structure_config({"url": url, **cfg}, SlackConfig)
    return SlackNotifier(config, limiter=limiter or SlidingWindowLimiter(()))


class TestSlackContract(NotifierChannelContract):
    @pytest.fixture
    def notifier(
        self, server: LoopbackHTTPServer, fake: FakeSlack, clock: ManualClock
    ) -> SlackNotifier:
        fake.clock = _Ticking(clock)  # the suite sends several messages in a row
        return _notifier(server.url + PATH)

    @pytest.fixture
    def down_notifier(self) -> SlackNotifier:
        return _notifier(closed_port_url() + PATH)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [PATH.rsplit("/", 1)[1]]


class _Ticking(ManualClock):
    """A clock that moves 1 s every time it is read."""

    def __init__(self, inner: ManualClock) -> None:
        super().__init__(inner())

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_slack_payload_has_fallback_text_and_a_mrkdwn_section(
    server: LoopbackHTTPServer, fake: FakeSlack
) -> None:
    assert _notifier(server.url + PATH).send(contract_message("FPY 92.5%", subject="Alert")).ok
    assert fake.accepted == [
        {
            "text": "Alert\nFPY 92.5%",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Alert*\nFPY 92.5%"}}
            ],
        }
    ]


def test_slack_429_with_retry_after_is_retryable_for_that_long(server: LoopbackHTTPServer) -> None:
    notifier = _notifier(server.url + PATH)
    assert notifier.send(contract_message(key="a")).ok
    second = notifier.send(contract_message(key="b"))
    assert second.status is DeliveryStatus.RETRYABLE
    assert second.retry_after == 1.0


def test_slack_default_limiter_holds_the_second_message_in_the_same_second(
    server: LoopbackHTTPServer, fake: FakeSlack, clock: ManualClock
) -> None:
    config = SlackConfig(url=server.url + PATH)
    notifier = SlackNotifier(
        config, limiter=SlidingWindowLimiter(config.rate_limit.limits(), clock)
    )
    assert notifier.send(contract_message(key="a")).ok
    held = notifier.send(contract_message(key="b"))
    assert held.status is DeliveryStatus.RETRYABLE
    assert len(server.requests) == 1
    clock.advance(1.0)
    assert notifier.send(contract_message(key="b")).ok


@pytest.mark.parametrize(
    ("path", "archived", "code"),
    [
        (PATH, True, "channel_is_archived"),
        ("/services/T0PERF/B0CORE/zzQ1gone", False, "no_service"),
    ],
)
def test_slack_plain_text_4xx_codes_are_permanent_and_explained(
    server: LoopbackHTTPServer, fake: FakeSlack, path: str, archived: bool, code: str
) -> None:
    fake.archived = archived
    result = _notifier(server.url + path).send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert code in result.detail
    assert "zzQ1gone" not in result.detail  # the URL path is a secret


def test_slack_5xx_is_retryable(server: LoopbackHTTPServer, fake: FakeSlack) -> None:
    fake.failing_with = (500, {}, "rollup_error")
    result = _notifier(server.url + PATH).send(contract_message())
    assert result.status is DeliveryStatus.RETRYABLE


def test_slack_config_needs_the_full_webhook_url() -> None:
    with pytest.raises(InvalidValue) as info:
        structure_config({"url": "T0PERF/B0CORE/x"}, SlackConfig, path="notifiers.chat.config")
    assert info.value.field.startswith("notifiers.chat.config")
