"""Contract tests: the Feishu/Lark custom-bot notifier against a loopback fake of the bot API.

The fake reproduces the Feishu custom-bot guide (see docs/notifiers.md):
``POST /open-apis/bot/v2/hook/<token>``;
``timestamp`` (seconds) and ``sign`` in the JSON body, verified the way Feishu does (HMAC-SHA256
keyed by ``"timestamp\\nsecret"`` over an empty message, base64; at most one hour of skew →
``19021``); ``code`` in the body — 0 ok, 11232 frequency limited (100/min, 5/s), body over 20 KB
refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from perfcore_adapters.notifiers import FeishuConfig, FeishuNotifier, SlidingWindowLimiter
from perfcore_adapters.notifiers.ratelimit import RateLimit

HOOK = "2f0d6f4e-96b4-4a7e-9c1e-7d1e0c1b2a3f"
SECRET = "fs_b3c9d2e1"


class FakeFeishu:
    """Answers like a Feishu custom bot with signature verification enabled."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.accepted: list[dict[str, Any]] = []
        self._sent: list[float] = []
        self.next_answer: Answer | None = None

    def __call__(self, request: ReceivedRequest) -> Answer:
        if request.path != f"/open-apis/bot/v2/hook/{HOOK}":
            return 200, {}, {"code": 19001, "msg": "param invalid: incoming webhook access token"}
        if self.next_answer is not None:
            answer, self.next_answer = self.next_answer, None
            return answer
        if len(request.body) > 20 * 1024:
            return 400, {}, {"code": 9499, "msg": "Bad Request", "data": {}}
        body = request.json()
        timestamp = body.get("timestamp", "")
        key = f"{timestamp}\n{SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if (
            not str(timestamp).isdigit()
            or abs(int(timestamp) - self.clock()) > 3600
            or not hmac.compare_digest(expected, str(body.get("sign", "")))
        ):
            return (
                200,
                {},
                {
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                },
            )
        now = self.clock()
        per_second = [t for t in self._sent if now - t < 1]
        per_minute = [t for t in self._sent if now - t < 60]
        if len(per_second) >= 5 or len(per_minute) >= 100:
            return (
                200,
                {},
                {
                    "code": 11232,
                    "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]",
                },
            )
        self._sent.append(now)
        self.accepted.append(body)
        return 200, {}, {"code": 0, "msg": "success", "data": {}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> FakeFeishu:
    return FakeFeishu(clock)


@pytest.fixture
def server(fake: FakeFeishu) -> Iterator[LoopbackHTTPServer]:
    with LoopbackHTTPServer(fake) as running:
        yield running


def _notifier(
    url: str, clock: ManualClock, limiter: SlidingWindowLimiter | None = None, **cfg: Any
) -> FeishuNotifier:
    config = structure_config(
        {"hook": HOOK, "secret": SECRET, "base_url": url, **cfg}, FeishuConfig
    )
    return FeishuNotifier(config, clock=clock, limiter=limiter or SlidingWindowLimiter(()))


class TestFeishuContract(NotifierChannelContract):
    @pytest.fixture
    def notifier(self, server: LoopbackHTTPServer, clock: ManualClock) -> FeishuNotifier:
        return _notifier(server.url, clock)

    @pytest.fixture
    def down_notifier(self, clock: ManualClock) -> FeishuNotifier:
        return _notifier(closed_port_url(), clock)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [HOOK, SECRET]


def test_feishu_post_payload_is_signed_in_the_body_with_a_localised_title(
    server: LoopbackHTTPServer, fake: FakeFeishu, clock: ManualClock
) -> None:
    message = contract_message("一次合格率 92.5%\n请复核", subject="预警", locale="zh-CN")
    assert _notifier(server.url, clock, mentions={"M1": "ou_7d8a"}).send(message).ok
    body = fake.accepted[0]
    assert body["timestamp"] == "1700000000"
    assert body["msg_type"] == "post"
    assert body["content"] == {
        "post": {
            "zh_cn": {
                "title": "预警",
                "content": [
                    [{"tag": "text", "text": "一次合格率 92.5%"}],
                    [{"tag": "text", "text": "请复核"}],
                    [{"tag": "at", "user_id": "ou_7d8a"}],
                ],
            }
        }
    }


def test_feishu_text_payload(
    server: LoopbackHTTPServer, fake: FakeFeishu, clock: ManualClock
) -> None:
    assert _notifier(server.url, clock, msg_type="text").send(contract_message("b", subject="s")).ok
    assert fake.accepted[0]["content"] == {"text": "s\n\nb"}


def test_feishu_wrong_secret_code_19021_is_permanent(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    result = _notifier(server.url, clock, secret="fs_wrong").send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "19021" in result.detail


def test_feishu_pasted_hook_url_is_reduced_to_the_token(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    pasted = f"https://open.feishu.cn/open-apis/bot/v2/hook/{HOOK}"
    assert _notifier(server.url, clock, hook=pasted).send(contract_message()).ok


def test_feishu_body_over_20_kb_is_refused_before_sending(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    notifier = _notifier(
        server.url, clock, mentions={f"M{i}": "ou_" + "x" * 60 for i in range(400)}
    )
    message = contract_message("绩效" * 2000)
    recipients: Any = tuple(f"M{i}" for i in range(400))
    big = type(message)(
        channel="c", recipients=recipients, subject="s", body=message.body, dedupe_key="k"
    )
    result = notifier.send(big)
    assert result.status is DeliveryStatus.PERMANENT
    assert "20 KB" in result.detail
    assert server.requests == []


def test_feishu_http_400_with_code_9499_bad_request_is_permanent(
    server: LoopbackHTTPServer, fake: FakeFeishu, clock: ManualClock
) -> None:
    fake.next_answer = (400, {}, {"code": 9499, "msg": "Bad Request", "data": {}})
    result = _notifier(server.url, clock).send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "9499" in result.detail


def test_feishu_code_9499_too_many_request_is_retryable(
    server: LoopbackHTTPServer, fake: FakeFeishu, clock: ManualClock
) -> None:
    fake.next_answer = (200, {}, {"code": 9499, "msg": "too many request", "data": {}})
    result = _notifier(server.url, clock).send(contract_message())
    assert result.status is DeliveryStatus.RETRYABLE
    assert result.retry_after == 60.0


def test_feishu_code_11232_frequency_limited_is_retryable(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    limiter = SlidingWindowLimiter([RateLimit(1000, 60.0)], clock=clock)
    notifier = _notifier(server.url, clock, limiter=limiter)
    results = [notifier.send(contract_message(key=f"k{i}")) for i in range(6)]
    assert all(r.ok for r in results[:5])
    assert results[5].status is DeliveryStatus.RETRYABLE
    assert "11232" in results[5].detail


def test_feishu_default_limit_is_5_per_second_and_100_per_minute(
    server: LoopbackHTTPServer, fake: FakeFeishu, clock: ManualClock
) -> None:
    config = FeishuConfig(hook=HOOK, secret=SECRET, base_url=server.url)
    limiter = SlidingWindowLimiter(config.rate_limit.limits(), clock)
    notifier = FeishuNotifier(config, clock=clock, limiter=limiter)
    first_second = [notifier.send(contract_message(key=f"a{i}")) for i in range(6)]
    assert sum(r.ok for r in first_second) == 5
    assert first_second[5].retry_after == pytest.approx(1.0)
    sent = 5
    for second in range(1, 60):  # 5 per second would be 300 a minute; 100 is the cap
        clock.advance(1)
        sent += sum(notifier.send(contract_message(key=f"b{second}-{i}")).ok for i in range(5))
    assert sent == 100
    assert len(fake.accepted) == 100
    assert all("11232" not in str(a) for a in fake.accepted)
