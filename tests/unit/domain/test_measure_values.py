"""Evidence rows → indicator values: aggregation, ratio of sums, no-value diagnostics, windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from perfcore.domain.errors import CycleError, InvalidValue
from perfcore.domain.indicator import (
    Cumulative,
    Derived,
    IndicatorVersion,
    Ratio,
    Simple,
)
from perfcore.domain.measure import IndicatorValue, RowFn, aggregate, compute_values
from perfcore.domain.values import Period

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
MARCH = Period.month(2025, 3)


class _Fields(dict[str, object]):
    def __missing__(self, key: str) -> None:  # an absent field reads as "no value"
        return None


def compile_(text: str) -> RowFn:
    """Test stand-in for perfcore.formula: a Python expression over the row's fields."""
    code = compile(text, "<expr>", "eval")

    def run(row: Mapping[str, object]) -> object:
        return eval(code, {"__builtins__": {}}, _Fields(row))

    return run


def at(day: int, hour: int = 12, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=SHANGHAI)


def simple(agg: str, expr: str | None = None, **kw: object) -> IndicatorVersion:
    return IndicatorVersion(
        1,
        "2025-01",
        Simple(agg, expr, **kw),  # type: ignore[arg-type]
        evidence_type="inspection",
        target=1,
    )


def other(definition: Ratio | Derived) -> IndicatorVersion:
    return IndicatorVersion(2, "2025-01", definition, target=1)


LOTS = [
    # lot A: 90 of 100 good (90 %); lot B: 1 of 10 good (10 %)
    {"id": "E1", "occurred_at": at(3), "good": 90, "inspected": 100, "line": "L1"},
    {"id": "E2", "occurred_at": at(4), "good": 1, "inspected": 10, "line": "L2"},
]


def values(
    versions: dict[str, IndicatorVersion],
    rows: list[dict[str, object]],
    period: Period = MARCH,
    **kw: object,
) -> dict[str, IndicatorValue]:
    return compute_values(
        versions,
        {"inspection": rows},
        period=period,
        tz=SHANGHAI,
        compile=compile_,
        **kw,  # type: ignore[arg-type]
    )


def test_first_pass_yield_is_a_ratio_of_sums_not_a_mean_of_row_ratios() -> None:
    # ISO 22400: FPY = sum(GP) / sum(IP) = 91/110, not mean(0.9, 0.1) = 0.5.
    out = values(
        {
            "good": simple("sum", "good"),
            "inspected": simple("sum", "inspected"),
            "fpy": other(Ratio("good", "inspected")),
            "mean_of_ratios": simple("average", "good / inspected"),
        },
        LOTS,
    )
    assert out["fpy"].value == Decimal(91) / Decimal(110)
    assert out["mean_of_ratios"].value == Decimal("0.5")
    assert out["fpy"].evidence_count == 2
    assert out["fpy"].evidence_ids == ("E1", "E2")
    assert out["fpy"].version == 2


def test_zero_denominator_gives_no_value_and_a_diagnostic() -> None:
    rows = [{"id": "E9", "occurred_at": at(5), "good": 0, "inspected": 0}]
    out = values(
        {
            "good": simple("sum", "good"),
            "inspected": simple("sum", "inspected"),
            "fpy": other(Ratio("good", "inspected")),
        },
        rows,
    )
    assert out["fpy"].value is None
    assert not out["fpy"].has_value
    assert out["fpy"].diagnostics == (
        "denominator 'inspected' is 0: no value (not 0, not an error)",
    )


def test_aggregations_follow_sql_semantics() -> None:
    nums = [Decimal(3), None, Decimal(1), Decimal(4), Decimal(1)]
    assert aggregate("sum", nums) == 9
    assert aggregate("count", nums) == 4
    assert aggregate("count_distinct", nums) == 3
    assert aggregate("average", nums) == Decimal("2.25")
    assert aggregate("min", nums) == 1
    assert aggregate("max", nums) == 4
    assert aggregate("median", nums) == 2  # (1 + 3) / 2
    assert aggregate("median", [5, 1, 3]) == 3
    assert aggregate("sum", []) is None
    assert aggregate("count", []) == 0
    assert aggregate("sum", [0.1, 0.2]) == Decimal("0.3")  # floats read exactly via repr


def test_non_numeric_values_raise_a_typed_error_naming_the_indicator() -> None:
    rows = [{"id": "E1", "occurred_at": at(3), "good": "many"}]
    with pytest.raises(InvalidValue) as err:
        values({"good": simple("sum", "good")}, rows)
    assert err.value.field == "indicators.good.expr"


def test_filter_and_count() -> None:
    out = values(
        {
            "l1_lots": simple("count", filter="line == 'L1'"),
            "all_lots": simple("count"),
            "lines": simple("count_distinct", "line"),
        },
        LOTS,
    )
    assert out["l1_lots"].value == 1
    assert out["l1_lots"].evidence_ids == ("E1",)
    assert out["all_lots"].value == 2
    assert out["lines"].value == 2


def test_rows_are_assigned_to_periods_by_local_date_in_the_plan_time_zone() -> None:
    # 2025-02-28 17:00 UTC is 2025-03-01 01:00 in Shanghai: it belongs to March there.
    rows = [
        {"id": "late-feb-utc", "occurred_at": dt.datetime(2025, 2, 28, 17, tzinfo=UTC), "good": 1},
        {"id": "april", "occurred_at": at(1, month=4), "good": 100},
        {"id": "feb", "occurred_at": at(27, month=2), "good": 100},
    ]
    out = values({"good": simple("sum", "good")}, rows)
    assert out["good"].value == 1
    assert out["good"].evidence_ids == ("late-feb-utc",)


def test_no_rows_gives_no_value_unless_fill_nulls_with() -> None:
    out = values(
        {"scrap": simple("sum", "scrap"), "scrap0": simple("sum", "scrap", fill_nulls_with=0)},
        [],
    )
    assert out["scrap"].value is None
    assert out["scrap"].diagnostics == ("no 'inspection' evidence with a value in 2025-03",)
    assert out["scrap0"].value == 0
    assert "filled with 0 (fill_nulls_with)" in out["scrap0"].diagnostics


def test_derived_indicators_evaluate_after_their_inputs() -> None:
    out = values(
        {
            "pct": other(Derived("fpy * 100", ["fpy"])),
            "fpy": other(Ratio("good", "inspected")),
            "good": simple("sum", "good"),
            "inspected": simple("sum", "inspected"),
        },
        LOTS,
    )
    assert out["pct"].value == Decimal(9100) / Decimal(110)
    assert out["pct"].evidence_count == 2
    assert list(out) == ["pct", "fpy", "good", "inspected"]  # input order kept


def test_derived_without_an_input_value_or_dividing_by_zero_has_no_value() -> None:
    out = values(
        {
            "good": simple("sum", "good"),
            "bad": simple("sum", "bad"),
            "share": other(Derived("bad / good", ["bad", "good"])),
            "inverse": other(Derived("1 / (good - 91)", ["good"])),
        },
        LOTS,
    )
    assert out["share"].value is None
    assert out["share"].diagnostics == ("input 'bad' has no value",)
    assert out["inverse"].value is None
    assert out["inverse"].diagnostics[0].startswith("'1 / (good - 91)' has no value")


def test_row_level_arithmetic_errors_skip_the_row_and_say_so() -> None:
    rows = [*LOTS, {"id": "E3", "occurred_at": at(6), "good": 0, "inspected": 0}]
    out = values({"avg_yield": simple("average", "good / inspected")}, rows)
    assert out["avg_yield"].value == Decimal("0.5")
    assert out["avg_yield"].evidence_count == 3
    assert "1 row(s) could not be evaluated" in out["avg_yield"].diagnostics[0]


def test_cumulative_window_and_grain_to_date() -> None:
    rows = [
        {"id": f"D{d}", "occurred_at": at(d, month=m), "qty": 1}
        for m, d in [(1, 15), (2, 10), (3, 1), (3, 25), (3, 31)]
    ] + [{"id": "A1", "occurred_at": at(1, month=4), "qty": 1}]

    def cum(**kw: object) -> IndicatorVersion:
        return IndicatorVersion(
            1,
            "2025-01",
            Cumulative("sum", "qty", **kw),  # type: ignore[arg-type]
            evidence_type="inspection",
            target=1,
        )

    out = values(
        {
            "last_7_days": cum(window="7 days"),
            "qtd": cum(grain_to_date="quarter"),
            "last_2_months": cum(window="2 months"),
            "all_time": cum(),
        },
        rows,
    )
    assert out["last_7_days"].evidence_ids == ("D25", "D31")
    assert out["qtd"].value == 5
    assert out["last_2_months"].value == 4  # 2025-02-01 .. 2025-03-31
    assert out["all_time"].value == 5  # April is after the period


def test_known_values_feed_ratios() -> None:
    known = {"target_qty": IndicatorValue("target_qty", Decimal(200))}
    out = values(
        {"good": simple("sum", "good"), "share": other(Ratio("good", "target_qty"))},
        LOTS,
        known=known,
    )
    assert out["share"].value == Decimal("0.455")
    assert set(out) == {"good", "share"}


def test_rows_need_an_aware_occurred_at() -> None:
    with pytest.raises(InvalidValue) as err:
        values({"good": simple("sum", "good")}, [{"good": 1}])
    assert err.value.field == "evidence.inspection[0].occurred_at"
    with pytest.raises(InvalidValue) as err:
        values(
            {"good": simple("sum", "good")},
            [{"good": 1, "occurred_at": dt.datetime(2025, 3, 1)}],
        )
    assert err.value.field == "evidence.inspection[0].occurred_at"


def test_cycles_are_refused_before_anything_is_computed() -> None:
    with pytest.raises(CycleError):
        values(
            {"a": other(Derived("b", ["b"])), "b": other(Derived("a", ["a"]))},
            LOTS,
        )


def test_each_expression_text_is_compiled_once() -> None:
    calls: list[str] = []

    def counting(text: str) -> RowFn:
        calls.append(text)
        return compile_(text)

    compute_values(
        {"a": simple("sum", "good"), "b": simple("max", "good")},
        {"inspection": LOTS},
        period=MARCH,
        tz=SHANGHAI,
        compile=counting,
    )
    assert calls == ["good"]


def test_a_filter_that_cannot_be_evaluated_does_not_pass_the_row() -> None:
    rows = [*LOTS, {"id": "E3", "occurred_at": at(6), "good": 0, "inspected": 0}]
    out = values({"high_yield_lots": simple("count", filter="good / inspected > 0.5")}, rows)
    assert out["high_yield_lots"].value == 1
    assert out["high_yield_lots"].evidence_ids == ("E1",)
    assert "1 row(s) could not be evaluated" in out["high_yield_lots"].diagnostics[0]
