"""Invariants of band tables (issue 2, "band tables monotone where their points are")."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.scoring import BandTable, StepTable

_dec = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)


@st.composite
def monotone_points(draw: st.DrawFn) -> list[tuple[Decimal, Decimal]]:
    """Points with strictly increasing x and non-decreasing y."""
    n = draw(st.integers(min_value=2, max_value=6))
    xs = sorted(set(draw(st.lists(_dec, min_size=n, max_size=n))))
    if len(xs) < 2:
        xs = [Decimal(0), Decimal(1)]
    ys = sorted(
        draw(
            st.lists(
                st.decimals(min_value=0, max_value=500, places=2),
                min_size=len(xs),
                max_size=len(xs),
            )
        )
    )
    return list(zip(xs, ys, strict=True))


@settings(max_examples=150, deadline=None)
@given(points=monotone_points(), a=_dec, b=_dec)
def test_band_table_with_non_decreasing_points_is_monotone_from_the_first_point(
    points: list[tuple[Decimal, Decimal]], a: Decimal, b: Decimal
) -> None:
    table = BandTable(points)
    lo, hi = sorted((a, b))
    first_x = points[0][0]
    if lo >= first_x:
        assert table.score(lo) <= table.score(hi)
    # below the first point the deliberate cliff scores 0; nothing scores above the last y
    assert table.score(first_x - 1) == 0
    assert table.score(hi) <= points[-1][1]


@settings(max_examples=150, deadline=None)
@given(points=monotone_points())
def test_band_table_passes_through_each_of_its_points(
    points: list[tuple[Decimal, Decimal]],
) -> None:
    table = BandTable(points)
    for x, y in points:
        assert table.score(x) == y


@settings(max_examples=150, deadline=None)
@given(points=monotone_points(), a=_dec, b=_dec)
def test_lower_is_better_table_with_non_increasing_points_is_non_increasing(
    points: list[tuple[Decimal, Decimal]], a: Decimal, b: Decimal
) -> None:
    xs = [x for x, _ in points]
    ys = sorted((y for _, y in points), reverse=True)
    table = BandTable(list(zip(xs, ys, strict=True)), direction="lower_is_better")
    lo, hi = sorted((a, b))
    if hi <= xs[-1]:
        assert table.score(lo) >= table.score(hi)
    assert table.score(xs[-1] + 1) == 0


@settings(max_examples=100, deadline=None)
@given(points=monotone_points(), a=_dec, b=_dec)
def test_step_table_with_non_decreasing_steps_is_monotone(
    points: list[tuple[Decimal, Decimal]], a: Decimal, b: Decimal
) -> None:
    steps = StepTable(points)
    lo, hi = sorted((a, b))
    assert steps.score(lo) <= steps.score(hi)
