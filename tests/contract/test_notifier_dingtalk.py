"""Contract tests: the DingTalk custom-robot notifier against a loopback fake of the robot API.

The fake reproduces the DingTalk custom-robot docs (see docs/notifiers.md): ``POST
/robot/send?access_token=..&timestamp=..&sign=..``; signature checked the way DingTalk does
(HMAC-SHA256 keyed by the secret over ``"timestamp\\nsecret"``, base64, compared after URL decoding;
timestamp within one hour); keyword guard; every answer HTTP 200 with ``errcode`` — 0 ok, 310000
security failures, 460101 too large (~20,000 bytes), 130101 too fast (20 messages per minute).
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
from perfcore_adapters.notifiers import DingTalkConfig, DingTalkNotifier, SlidingWindowLimiter
from perfcore_adapters.notifiers.ratelimit import RateLimit

TOKEN = "4f1e0c9a2b7d"
SECRET = "SECa1b2c3d4e5f6"
# at this instant the signature contains "+" (see test_notifier_signing.py), which breaks
# unless the client URL-encodes it
T_PLUS = 1_700_000_003.0


class FakeDingTalk:
    """Answers like a DingTalk robot with 加签 and optionally a keyword guard."""

    def __init__(self, clock: ManualClock, *, secret: str = SECRET, keyword: str = "") -> None:
        self.clock = clock
        self.secret = secret
        self.keyword = keyword
        self.accepted: list[dict[str, Any]] = []
        self.raw_queries: list[str] = []
        self._window: list[float] = []

    def _signature_ok(self, request: ReceivedRequest) -> str | None:
        timestamp = request.query.get("timestamp", "")
        sign = request.query.get("sign", "")  # parse_qs already URL-decoded it
        if not timestamp.isdigit():
            return "invalid timestamp"
        if abs(int(timestamp) - self.clock() * 1000) > 3_600_000:
            return "invalid timestamp"
        to_sign = f"{timestamp}\n{self.secret}".encode()
        digest = hmac.new(self.secret.encode(), to_sign, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), sign):
            return "sign not match"
        return None

    def __call__(self, request: ReceivedRequest) -> Answer:
        if request.path != "/robot/send" or request.method != "POST":
            return 404, {}, "not found"
        self.raw_queries.append(request.raw_query)
        if request.query.get("access_token") != TOKEN:
            return 200, {}, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret:
            problem = self._signature_ok(request)
            if problem:
                return 200, {}, {"errcode": 310000, "errmsg": f"{problem}, more: [...]"}
        if len(request.body) > 20_000:
            return 200, {}, {"errcode": 460101, "errmsg": "message too long"}
        body = request.json()
        kind = body["msgtype"]
        text = body[kind]["content"] if kind == "text" else body[kind]["text"]
        if self.keyword and self.keyword not in text:
            return 200, {}, {"errcode": 310000, "errmsg": "keywords not in content"}
        now = self.clock()
        self._window = [t for t in self._window if now - t < 60]
        if len(self._window) >= 20:
            return (
                200,
                {},
                {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
            )
        self._window.append(now)
        self.accepted.append(body)
        return 200, {}, {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T_PLUS)


@pytest.fixture
def fake(clock: ManualClock) -> FakeDingTalk:
    return FakeDingTalk(clock)


@pytest.fixture
def server(fake: FakeDingTalk) -> Iterator[LoopbackHTTPServer]:
    with LoopbackHTTPServer(fake) as running:
        yield running


def _notifier(
    url: str, clock: ManualClock, limiter: SlidingWindowLimiter | None = None, **cfg: Any
) -> DingTalkNotifier:
    data = {"access_token": TOKEN, "secret": SECRET, "base_url": url, **cfg}
    config = structure_config(data, DingTalkConfig)
    return DingTalkNotifier(config, clock=clock, limiter=limiter or SlidingWindowLimiter(()))


class TestDingTalkContract(NotifierChannelContract):
    @pytest.fixture
    def notifier(self, server: LoopbackHTTPServer, clock: ManualClock) -> DingTalkNotifier:
        return _notifier(server.url, clock)

    @pytest.fixture
    def down_notifier(self, clock: ManualClock) -> DingTalkNotifier:
        return _notifier(closed_port_url(), clock)

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [TOKEN, SECRET]


def test_dingtalk_signed_request_passes_the_vendor_check_with_plus_in_the_signature(
    server: LoopbackHTTPServer, fake: FakeDingTalk, clock: ManualClock
) -> None:
    result = _notifier(server.url, clock).send(contract_message())
    assert result.ok, result.detail
    assert "timestamp=1700000003000" in fake.raw_queries[0]
    assert "%2B" in fake.raw_queries[0]  # "+" travelled URL-encoded


def test_dingtalk_wrong_secret_errcode_310000_in_a_200_answer_is_permanent(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    result = _notifier(server.url, clock, secret="SECwrong").send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "310000" in result.detail
    assert "sign not match" in result.detail
    assert "SECwrong" not in result.detail


def test_dingtalk_each_attempt_is_signed_afresh(
    server: LoopbackHTTPServer, fake: FakeDingTalk, clock: ManualClock
) -> None:
    notifier = _notifier(server.url, clock)
    assert notifier.send(contract_message(key="a")).ok
    clock.advance(2 * 3600)  # a signature from two hours ago would be refused
    assert notifier.send(contract_message(key="a")).ok
    assert fake.raw_queries[0] != fake.raw_queries[1]


def test_dingtalk_clock_skew_over_an_hour_is_refused_permanently(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    skewed = ManualClock(clock() - 2 * 3600)
    result = _notifier(server.url, skewed).send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "invalid timestamp" in result.detail


def test_dingtalk_markdown_payload_carries_title_text_and_mentions(
    server: LoopbackHTTPServer, fake: FakeDingTalk, clock: ManualClock
) -> None:
    notifier = _notifier(server.url, clock, at_mobiles={"M1": "13800001111"})
    assert notifier.send(contract_message("一次合格率 92.5%", subject="预警")).ok
    assert fake.accepted == [
        {
            "msgtype": "markdown",
            "markdown": {"title": "预警", "text": "#### 预警\n\n一次合格率 92.5%\n\n@13800001111"},
            "at": {"atMobiles": ["13800001111"], "atUserIds": [], "isAtAll": False},
        }
    ]


def test_dingtalk_keyword_guard_is_satisfied_by_prefixing_the_keyword(
    clock: ManualClock,
) -> None:
    fake = FakeDingTalk(clock, secret="", keyword="KPI")
    with LoopbackHTTPServer(fake) as server:
        plain = _notifier(server.url, clock, secret="", msgtype="text")
        guarded = _notifier(server.url, clock, secret="", msgtype="text", keyword="KPI")
        refused = plain.send(contract_message("FPY dropped", subject=""))
        accepted = guarded.send(contract_message("FPY dropped", subject=""))
    assert refused.status is DeliveryStatus.PERMANENT
    assert "keywords" in refused.detail
    assert accepted.ok
    assert fake.accepted[0]["text"] == {"content": "KPI FPY dropped"}


def test_dingtalk_long_message_is_cut_below_the_20000_byte_limit(
    server: LoopbackHTTPServer, fake: FakeDingTalk, clock: ManualClock
) -> None:
    result = _notifier(server.url, clock, msgtype="text").send(contract_message("绩" * 9000))
    assert result.ok, result.detail
    assert len(fake.accepted[0]["text"]["content"].encode()) <= 18_000


def test_dingtalk_errcode_130101_is_retryable_and_holds_the_robot_ten_minutes(
    server: LoopbackHTTPServer, clock: ManualClock
) -> None:
    limiter = SlidingWindowLimiter([RateLimit(1000, 60.0)], clock=clock)
    notifier = _notifier(server.url, clock, limiter=limiter)
    results = [notifier.send(contract_message(key=f"k{i}")) for i in range(21)]
    assert all(r.ok for r in results[:20])
    assert results[20].status is DeliveryStatus.RETRYABLE
    assert "130101" in results[20].detail
    assert results[20].retry_after == 600.0
    clock.advance(599)
    assert notifier.send(contract_message(key="x")).status is DeliveryStatus.RETRYABLE
    clock.advance(1)
    assert notifier.send(contract_message(key="x")).ok


def test_dingtalk_default_limit_is_20_per_minute(
    server: LoopbackHTTPServer, fake: FakeDingTalk, clock: ManualClock
) -> None:
    config = DingTalkConfig(access_token=TOKEN, secret=SECRET, base_url=server.url)
    notifier = DingTalkNotifier(
        config, clock=clock, limiter=SlidingWindowLimiter(config.rate_limit.limits(), clock)
    )
    results = [notifier.send(contract_message(key=f"k{i}")) for i in range(22)]
    assert sum(r.ok for r in results) == 20
    assert len(fake.accepted) == 20
    assert results[21].retry_after == pytest.approx(60.0)
