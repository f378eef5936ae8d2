"""WatermarkTracker: inclusive start, lookback, tie handling (after Singer SDK state,
https://github.com/meltano/sdk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import InvalidValue
from perfcore.plugins.incremental import WatermarkTracker
from perfcore.ports.sources import Bookmark, FieldType

T = datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_records_sharing_the_watermark_are_neither_lost_nor_repeated() -> None:
    bookmark = Bookmark(T.isoformat(), {"a"})
    tracker = WatermarkTracker(bookmark)
    assert tracker.start == T
    assert not tracker.admit(T, "a")  # delivered last time at the same instant
    assert tracker.admit(T, "b")  # arrived later with the same timestamp
    assert tracker.bookmark() == Bookmark(T.isoformat(), {"a", "b"})


def test_lookback_moves_the_start_back_and_never_the_bookmark() -> None:
    tracker = WatermarkTracker(Bookmark(T.isoformat(), {"a"}), lookback=timedelta(hours=1))
    assert tracker.start == T - timedelta(hours=1)
    assert tracker.admit(T - timedelta(minutes=30), "late")
    assert not tracker.admit(T - timedelta(hours=2), "too-old")
    assert tracker.bookmark() == Bookmark(T.isoformat(), {"a"})


def test_offsets_are_normalised_to_utc() -> None:
    tracker = WatermarkTracker(Bookmark())
    tracker.admit(datetime.fromisoformat("2025-03-01T20:00:00+08:00"), "x")
    assert tracker.bookmark().value == "2025-03-01T12:00:00+00:00"


def test_numeric_cursors_use_decimal_lookback() -> None:
    tracker = WatermarkTracker(Bookmark("100"), FieldType.NUMBER, lookback=Decimal(10))
    assert tracker.start == Decimal(90)
    with pytest.raises(InvalidValue):
        WatermarkTracker(Bookmark("100"), FieldType.NUMBER, lookback=timedelta(1))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from("abcdef")), unique=True, max_size=20),
    st.integers(0, 20),
)
def test_two_syncs_deliver_every_record_exactly_once(
    rows: list[tuple[int, str]], split: int
) -> None:
    """Whatever arrives between two syncs (same timestamps included) is delivered once."""
    first, later = rows[:split], rows[split:]
    seen: list[tuple[int, str]] = []
    tracker = WatermarkTracker(Bookmark(), FieldType.NUMBER)
    seen += [r for r in sorted(first) if tracker.admit(r[0], r[1])]
    mark = tracker.bookmark()
    # records that show up later but are older than the watermark are out of scope (lookback)
    wm = Decimal(mark.value) if mark.value else Decimal(-1)
    visible = [r for r in first + later if r[0] >= wm]
    tracker2 = WatermarkTracker(mark, FieldType.NUMBER)
    seen += [r for r in sorted(visible) if tracker2.admit(r[0], r[1])]
    expected = sorted(set(first) | {r for r in later if r[0] >= wm})
    assert sorted(seen) == expected
