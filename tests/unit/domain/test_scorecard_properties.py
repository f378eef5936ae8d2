"""Invariants of weighted totals (issue 2): within min/max, exact and order-independent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.indicator import IndicatorVersion, Simple
from perfcore.domain.scorecard import build_scorecard, weighted_mean
from perfcore.domain.scoring import BandTable
from perfcore.domain.values import Period

_weight = st.decimals(min_value=0, max_value=100, places=3)
_score = st.decimals(min_value=-50, max_value=500, places=4)
_pairs = st.lists(st.tuples(_weight, _score), min_size=1, max_size=12)

IDENTITY = BandTable([(-1000, -1000), (1000, 1000)])


@settings(max_examples=200, deadline=None)
@given(pairs=_pairs)
def test_weighted_total_lies_within_the_min_and_max_of_weighted_scores(
    pairs: list[tuple[Decimal, Decimal]],
) -> None:
    total = weighted_mean(pairs)
    weighted = [s for w, s in pairs if w > 0]
    if not weighted:
        assert total is None
        return
    assert total is not None
    assert min(weighted) <= total <= max(weighted)


@settings(max_examples=200, deadline=None)
@given(pairs=_pairs, data=st.data())
def test_weighted_total_does_not_depend_on_input_order(
    pairs: list[tuple[Decimal, Decimal]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(pairs))
    assert weighted_mean(pairs) == weighted_mean(shuffled)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.decimals(min_value=0, max_value=10, places=2), _score | st.none()),
        min_size=1,
        max_size=8,
    ),
    data=st.data(),
)
def test_scorecard_total_is_order_independent_and_bounded(
    rows: list[tuple[Decimal, Decimal | None]], data: st.DataObject
) -> None:
    names = [f"k{i}" for i in range(len(rows))]
    version = IndicatorVersion(
        1, "2025-01", Simple("sum", "x"), evidence_type="e", scoring=IDENTITY
    )
    weights = {n: w for n, (w, _) in zip(names, rows, strict=True)}
    values = {n: s for n, (_, s) in zip(names, rows, strict=True)}
    if not any(weights.values()):
        weights[names[0]] = Decimal(1)
    order = data.draw(st.permutations(names))
    period = Period.month(2025, 3)
    a = build_scorecard("person:1", period, dict.fromkeys(names, version), values, weights)
    b = build_scorecard(
        "person:1",
        period,
        dict.fromkeys(order, version),
        {n: values[n] for n in order},
        {n: weights[n] for n in order},
    )
    assert a.total == b.total
    assert set(a.excluded) == set(b.excluded) == {n for n in names if values[n] is None}
    scored = [values[n] for n in names if values[n] is not None and weights[n] > 0]
    if scored and a.total is not None:
        assert min(s for s in scored if s is not None) <= a.total
        assert a.total <= max(s for s in scored if s is not None)
    if a.effective_weights:
        assert abs(sum(a.effective_weights.values()) - 1) < Decimal("1e-25")
