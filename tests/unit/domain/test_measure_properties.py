"""Measurement invariants: exact results independent of row order (issue 2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.indicator import IndicatorVersion, Ratio, Simple
from perfcore.domain.measure import RowFn, compute_values
from perfcore.domain.values import Period

UTC = dt.UTC


def field(text: str) -> RowFn:
    def get(row: Mapping[str, object]) -> object:
        return row.get(text)

    return get


VERSIONS = {
    name: IndicatorVersion(1, "2025-01", Simple(agg, expr), evidence_type="qc", target=1)
    for name, agg, expr in [
        ("good", "sum", "good"),
        ("inspected", "sum", "inspected"),
        ("avg_good", "average", "good"),
        ("median_good", "median", "good"),
        ("max_good", "max", "good"),
        ("lots", "count", None),
    ]
} | {"fpy": IndicatorVersion(1, "2025-01", Ratio("good", "inspected"), target=1)}

_row = st.fixed_dictionaries(
    {
        "good": st.decimals(min_value=0, max_value=10_000, places=3) | st.none(),
        "inspected": st.decimals(min_value=0, max_value=10_000, places=3),
        "day": st.integers(min_value=1, max_value=31),
    }
)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(_row, max_size=30), data=st.data())
def test_values_do_not_depend_on_row_order(
    rows: list[dict[str, object]], data: st.DataObject
) -> None:
    evidence = [
        {**r, "id": f"E{i}", "occurred_at": dt.datetime(2025, 3, r["day"], 9, tzinfo=UTC)}  # type: ignore[arg-type]
        for i, r in enumerate(rows)
    ]
    shuffled = data.draw(st.permutations(evidence))
    march = Period.month(2025, 3)
    a = compute_values(VERSIONS, {"qc": evidence}, period=march, tz=UTC, compile=field)
    b = compute_values(VERSIONS, {"qc": shuffled}, period=march, tz=UTC, compile=field)
    assert a == b
    goods = [r["good"] for r in rows if r["good"] is not None]
    assert a["good"].value == (sum(goods, Decimal(0)) if goods else None)  # type: ignore[arg-type]
    assert a["lots"].value == len(rows)
    inspected = sum((r["inspected"] for r in rows), Decimal(0))  # type: ignore[misc]
    if goods and inspected:
        assert a["fpy"].value == sum(goods, Decimal(0)) / inspected  # type: ignore[arg-type]
    else:
        assert a["fpy"].value is None
        assert a["fpy"].diagnostics
