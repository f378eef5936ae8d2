"""Contract tests: the WeCom group-robot notifier against a loopback fake of the robot API.

The fake reproduces https://developer.work.weixin.qq.com/document/path/91770:
``POST /cgi-bin/webhook/send?key=<key>``,
``text``/``markdown`` payloads with byte limits (2048 / 4096 UTF-8 bytes), every answer HTTP 200
with ``errcode`` — 0 ok, 93000 invalid key, 45009 over 20 messages per minute.
"""

from __future__ import annotations

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
from perfcore_adapters.notifiers import SlidingWindowLimiter, WeComConfig, WeComNotifier
from perfcore_adapters.notifiers.ratelimit import RateLimit

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


class FakeWeCom:
    """Answers like the WeCom robot: errcode in an HTTP 200 body; 20 messages/min per key."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.accepted: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self._window: list[float] = []

    def __call__(self, request: ReceivedRequest) -> Answer:
        if request.method != "POST" or request.path != "/cgi-bin/webhook/send":
            return 404, {}, "not found"
        if request.query.get("key") != KEY:
            hint = "invalid webhook url, hint: [1700000000_7_abc], from ip: 127.0.0.1"
            return 200, {}, {"errcode": 93000, "errmsg": hint}
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.violations.append("content-type")
        body = request.json()
        kind = body.get("msgtype")
        limit = {"text": 2048, "markdown": 4096}.get(kind)
        if limit is None:
            return 200, {}, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(body[kind]["content"].encode("utf-8")) > limit:
            self.violations.append(f"{kind} content over {limit} bytes")
        now = self.clock()
        self._window = [t for t in self._window if now - t < 60]
        if len(self._window) >= 20:
            return 200, {}, {"errcode": 45009, "errmsg": "api freq out of limit"}
        self._window.append(now)
        self.accepted.append(body)
        return 200, {}, {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def wecom(clock: ManualClock) -> Iterator[tuple[LoopbackHTTPServer, FakeWeCom]]:
    fake = FakeWeCom(clock)
    with LoopbackHTTPServer(fake) as server:
        yield server, fake


def _notifier(url: str, key: str = KEY, limiter: SlidingWindowLimiter | None = None, **cfg: Any):
    config = structure_config({"key": key, "base_url": url, **cfg}, WeComConfig)
    return WeComNotifier(config, limiter=limiter or SlidingWindowLimiter(()))


class TestWeComContract(NotifierChannelContract):
    @pytest.fixture
    def notifier(self, wecom: tuple[LoopbackHTTPServer, FakeWeCom]) -> WeComNotifier:
        return _notifier(wecom[0].url)

    @pytest.fixture
    def down_notifier(self) -> WeComNotifier:
        return _notifier(closed_port_url())

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [KEY]


def test_wecom_markdown_payload_has_bold_subject_and_mentions(wecom: Any) -> None:
    server, fake = wecom
    notifier = _notifier(server.url, mentions={"M1": "zhangsan"})
    result = notifier.send(contract_message("一次合格率 92.5%", subject="预警", locale="zh-CN"))
    assert result.ok
    assert fake.accepted == [
        {
            "msgtype": "markdown",
            "markdown": {"content": "**预警**\n\n一次合格率 92.5%\n<@zhangsan>"},
        }
    ]
    assert fake.violations == []


def test_wecom_text_payload_lists_mentioned_users_and_mobiles(wecom: Any) -> None:
    server, fake = wecom
    notifier = _notifier(
        server.url, msgtype="text", mentions={"M1": "@all"}, mention_mobiles={"M1": "13800001111"}
    )
    assert notifier.send(contract_message("body", subject="title")).ok
    assert fake.accepted == [
        {
            "msgtype": "text",
            "text": {
                "content": "title\n\nbody",
                "mentioned_list": ["@all"],
                "mentioned_mobile_list": ["13800001111"],
            },
        }
    ]


def test_wecom_text_is_cut_to_2048_utf8_bytes_on_a_character_boundary(wecom: Any) -> None:
    server, fake = wecom
    notifier = _notifier(server.url, msgtype="text")
    assert notifier.send(contract_message("绩" * 1000, subject="")).ok
    content = fake.accepted[0]["text"]["content"]
    # 3 bytes per CJK character (§3.1 limit 2048 bytes): 681 characters + "…" (3 bytes) = 2046
    assert len(content.encode("utf-8")) == 2046
    assert content == "绩" * 681 + "…"
    assert fake.violations == []


def test_wecom_invalid_key_errcode_93000_in_a_200_answer_is_permanent(wecom: Any) -> None:
    server, _fake = wecom
    result = _notifier(server.url, key="wrong-key").send(contract_message())
    assert result.status is DeliveryStatus.PERMANENT
    assert "93000" in result.detail
    assert "wrong-key" not in result.detail


def test_wecom_pasted_webhook_url_is_reduced_to_its_key(wecom: Any) -> None:
    server, fake = wecom
    pasted = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"
    assert _notifier(server.url, key=pasted).send(contract_message()).ok
    assert len(fake.accepted) == 1


def test_wecom_errcode_45009_is_retryable_and_pauses_the_robot_for_a_minute(
    wecom: Any, clock: ManualClock
) -> None:
    server, _fake = wecom
    limiter = SlidingWindowLimiter([RateLimit(1000, 60.0)], clock=clock)
    notifier = _notifier(server.url, limiter=limiter)
    results = [notifier.send(contract_message(key=f"k{i}")) for i in range(21)]
    assert [r.status for r in results[:20]] == [DeliveryStatus.OK] * 20
    assert results[20].status is DeliveryStatus.RETRYABLE
    assert "45009" in results[20].detail
    assert results[20].retry_after == 60.0
    before = len(server.requests)
    held = notifier.send(contract_message(key="k21"))
    assert held.status is DeliveryStatus.RETRYABLE
    assert len(server.requests) == before  # paused: the robot is not hit again
    clock.advance(60)
    assert notifier.send(contract_message(key="k21")).ok


def test_wecom_default_limit_keeps_to_20_messages_per_minute_without_sleeping(
    wecom: Any, clock: ManualClock
) -> None:
    server, _fake = wecom
    config = WeComConfig(key=KEY, base_url=server.url)
    notifier = WeComNotifier(
        config, limiter=SlidingWindowLimiter(config.rate_limit.limits(), clock)
    )
    results = []
    for i in range(25):
        results.append(notifier.send(contract_message(key=f"k{i}")))
        clock.advance(1)
    assert sum(r.ok for r in results) == 20
    assert len(server.requests) == 20  # the 5 extra never reached the robot
    held = results[20]
    assert held.status is DeliveryStatus.RETRYABLE
    # first send at t=0, 21st at t=20: the window frees at t=60 → 40 s to wait
    assert held.retry_after == pytest.approx(40.0)
    clock.advance(60)
    assert notifier.send(contract_message(key="late")).ok
    assert all("45009" not in r.detail for r in results)


def test_wecom_config_errors_name_the_field_path() -> None:
    with pytest.raises(InvalidValue) as info:
        structure_config({"key": KEY, "msgtype": "card"}, WeComConfig, path="notifiers.ops.config")
    assert info.value.field == "notifiers.ops.config.msgtype"
    with pytest.raises(InvalidValue) as info:
        structure_config(
            {"key": KEY, "rate_limit": {"per_minut": 3}}, WeComConfig, path="notifiers.ops.config"
        )
    assert info.value.field == "notifiers.ops.config.rate_limit.per_minut"
    with pytest.raises(InvalidValue) as info:
        structure_config({}, WeComConfig, path="notifiers.ops.config")
    assert info.value.field == "notifiers.ops.config.key"


def test_wecom_config_repr_hides_the_key() -> None:
    assert KEY not in repr(WeComConfig(key=KEY))
