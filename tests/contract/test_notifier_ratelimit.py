"""The client-side sliding-window limiter (vendor limits, see docs/notifiers.md: 20/min WeCom &
DingTalk, 100/min and 5/s Feishu, ~1/s Slack). Time is injected; nothing sleeps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import InvalidValue
from perfcore.testing.notifiers import ManualClock
from perfcore_adapters.notifiers import RateLimit, RateLimitConfig, SlidingWindowLimiter


def test_twenty_per_minute_admits_twenty_then_says_how_long_to_wait() -> None:
    clock = ManualClock(0.0)
    limiter = SlidingWindowLimiter([RateLimit(20, 60.0)], clock)
    waits = []
    for _ in range(21):
        waits.append(limiter.acquire())
        clock.advance(2.0)
    assert waits[:20] == [0.0] * 20
    # sends at t=0,2,...,38; the 21st at t=40 must wait until t=60
    assert waits[20] == pytest.approx(20.0)


def test_a_refused_acquire_takes_no_slot() -> None:
    clock = ManualClock(0.0)
    limiter = SlidingWindowLimiter([RateLimit(1, 1.0)], clock)
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(1.0)
    assert limiter.acquire() == pytest.approx(2.0)  # the next refusal is spread a window later
    clock.advance(1.0)
    assert limiter.acquire() == 0.0  # the refusals took no slot


def test_pause_blocks_every_send_until_it_ends() -> None:
    clock = ManualClock(0.0)
    limiter = SlidingWindowLimiter([], clock)
    assert limiter.acquire() == 0.0
    limiter.pause(600)
    clock.advance(599)
    assert limiter.wait_time() == pytest.approx(1.0)
    clock.advance(1)
    assert limiter.acquire() == 0.0


def test_rate_limit_config_turns_into_windows() -> None:
    config = RateLimitConfig(per_minute=100, per_second=5)
    assert config.limits() == (RateLimit(100, 60.0), RateLimit(5, 1.0))
    assert RateLimitConfig().limits() == ()


@pytest.mark.parametrize(("count", "per"), [(0, 60.0), (3, 0.0)])
def test_rate_limit_rejects_non_positive_values(count: int, per: float) -> None:
    with pytest.raises(InvalidValue):
        RateLimit(count, per)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=120),
    per_minute=st.integers(min_value=1, max_value=25),
    per_second=st.integers(min_value=1, max_value=6),
)
def test_no_window_ever_holds_more_sends_than_its_limit_and_the_wait_is_exact(
    steps: list[float], per_minute: int, per_second: int
) -> None:
    clock = ManualClock(0.0)
    limits = [RateLimit(per_minute, 60.0), RateLimit(per_second, 1.0)]
    limiter = SlidingWindowLimiter(limits, clock)
    sent: list[float] = []
    held = 0
    for step in steps:
        clock.advance(step)
        now = clock()
        # the wait the definition implies: for each full window, until its count-th most
        # recent send leaves it
        expected = 0.0
        for limit in limits:
            inside = [t for t in sent if t + limit.per_seconds > now]  # window [t, t + per)
            if len(inside) >= limit.count:
                expected = max(expected, inside[-limit.count] + limit.per_seconds - now)
        wait = limiter.acquire()
        if expected == 0.0:
            held = 0
        else:  # the n-th refusal in a row comes (n // per_minute) minutes later (spreading)
            expected += (held // per_minute) * 60.0
            held += 1
        assert wait == pytest.approx(expected, abs=1e-9)
        if wait == 0.0:
            sent.append(now)
    for limit in limits:
        for i, start in enumerate(sent):
            inside = [t for t in sent[i:] if t < start + limit.per_seconds]
            assert len(inside) <= limit.count


def test_a_burst_is_spread_twenty_per_minute() -> None:
    clock = ManualClock(0.0)
    limiter = SlidingWindowLimiter([RateLimit(20, 60.0)], clock)
    waits = [limiter.acquire() for _ in range(70)]
    assert waits[:20] == [0.0] * 20
    assert waits[20:40] == [60.0] * 20
    assert waits[40:60] == [120.0] * 20
    assert waits[60:] == [180.0] * 10
    clock.advance(60)
    assert [limiter.acquire() for _ in range(20)] == [0.0] * 20
