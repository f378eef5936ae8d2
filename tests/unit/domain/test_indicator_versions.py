"""Indicator definitions, versions in force, direction/scoring checks and reference cycles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import CycleError, InvalidScoring, InvalidValue, NotFound
from perfcore.domain.indicator import (
    Agg,
    Cumulative,
    Derived,
    Indicator,
    IndicatorType,
    IndicatorVersion,
    Ratio,
    Simple,
    Timing,
    Window,
    dependency_order,
)
from perfcore.domain.scoring import (
    AttainmentRatio,
    BandTable,
    BaselineProgress,
    Direction,
    Reflection,
    TargetRange,
)
from perfcore.domain.values import Period, PeriodKind


def fpy_v1() -> IndicatorVersion:
    return IndicatorVersion(
        1,
        "2025-01",
        Ratio("good_parts", "inspected_parts"),
        unit="%",
        target="0.95",
        note="first pass yield, ISO 22400-2 GP/IP",
    )


# --------------------------------------------------------------------------- definitions


def test_metricflow_types_and_their_references() -> None:
    assert Simple("sum", "good_qty").type is IndicatorType.SIMPLE
    assert Simple("count").expr is None
    assert Ratio("a", "b").references() == ("a", "b")
    assert Derived("a - b", ["a", "b"]).references() == ("a", "b")
    cum = Cumulative("sum", "qty", window="7 days")
    assert cum.type is IndicatorType.CUMULATIVE
    assert cum.window == Window(7, "day")  # type: ignore[arg-type]


def test_simple_needs_an_expression_except_for_count() -> None:
    with pytest.raises(InvalidValue) as err:
        Simple("sum")
    assert err.value.field == "expr"
    with pytest.raises(InvalidValue) as err:
        Simple("mean", "x")
    assert err.value.field == "agg"
    assert err.value.valid is not None
    assert "count_distinct" in err.value.valid
    assert {a.value for a in Agg} >= {"sum", "count", "average", "median", "min", "max"}


@pytest.mark.parametrize(
    ("text", "end", "first"),
    [
        ("7 days", dt.date(2025, 3, 31), dt.date(2025, 3, 25)),
        ("1 week", dt.date(2025, 3, 31), dt.date(2025, 3, 25)),
        ("1 month", dt.date(2025, 3, 31), dt.date(2025, 3, 1)),
        ("3 months", dt.date(2025, 3, 31), dt.date(2025, 1, 1)),
        ("1 quarter", dt.date(2025, 5, 31), dt.date(2025, 3, 1)),
        ("1 year", dt.date(2024, 2, 29), dt.date(2023, 3, 1)),
    ],
)
def test_trailing_windows_cover_the_dates_before_the_period_end(
    text: str, end: dt.date, first: dt.date
) -> None:
    assert Window.parse(text).first_date(end) == first


@pytest.mark.parametrize("text", ["seven days", "0 days", "3 fortnights", ""])
def test_bad_window_text_names_the_valid_syntax(text: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Window.parse(text)
    assert err.value.field == "window"
    assert err.value.valid is not None
    assert "day(s)" in err.value.valid


def test_cumulative_takes_a_window_or_a_grain_to_date_not_both() -> None:
    march = Period.month(2025, 3)
    assert Cumulative("sum", "x", grain_to_date="quarter").first_date(march) == dt.date(2025, 1, 1)
    assert Cumulative("sum", "x", grain_to_date=PeriodKind.YEAR).first_date(march) == dt.date(
        2025, 1, 1
    )
    assert Cumulative("sum", "x").first_date(march) is None
    with pytest.raises(InvalidValue) as err:
        Cumulative("sum", "x", window="7 days", grain_to_date="month")
    assert err.value.field == "window"
    with pytest.raises(InvalidValue) as err:
        Cumulative("sum", "x", grain_to_date="day")
    assert err.value.field == "grain_to_date"


def test_indicator_names_must_be_identifiers() -> None:
    with pytest.raises(InvalidValue) as err:
        Ratio("good parts", "ip")
    assert err.value.field == "numerator"
    with pytest.raises(InvalidValue) as err:
        Indicator("1st", [fpy_v1()])
    assert err.value.field == "name"


# --------------------------------------------------------------------------- versions


def test_version_defaults_to_attainment_ratio_for_higher_is_better() -> None:
    v = fpy_v1()
    assert v.rule == AttainmentRatio("0.95")
    assert v.attainment(Decimal("0.9025")) == Decimal("0.95")


def test_simple_indicator_must_name_its_evidence_type() -> None:
    with pytest.raises(InvalidValue) as err:
        IndicatorVersion(1, "2025-01", Simple("sum", "x"), target=1)
    assert err.value.field == "evidence_type"


def test_lower_is_better_must_name_its_scoring_method() -> None:
    # perfcore's rule: lower-is-better scoring names its method.
    with pytest.raises(InvalidScoring) as err:
        IndicatorVersion(
            1, "2025-01", Simple("sum", "x"), evidence_type="e", direction="lower_is_better"
        )
    assert err.value.field == "scoring"
    assert err.value.valid is not None
    assert "reflection" in err.value.valid


def test_target_at_or_below_zero_without_band_table_is_refused() -> None:
    with pytest.raises(InvalidScoring) as err:
        IndicatorVersion(1, "2025-01", Simple("sum", "x"), evidence_type="e", target=-3)
    assert err.value.field == "target"
    # ... but a band table scores it fine
    v = IndicatorVersion(
        1,
        "2025-01",
        Simple("sum", "x"),
        evidence_type="e",
        target=0,
        scoring=BandTable([(-2, 50), (0, 100)]),
    )
    assert v.rule.score(Decimal(-1)) == 75


def test_scoring_rule_must_fit_the_direction() -> None:
    with pytest.raises(InvalidScoring) as err:
        IndicatorVersion(
            1,
            "2025-01",
            Simple("sum", "x"),
            evidence_type="e",
            direction=Direction.LOWER_IS_BETTER,
            scoring=AttainmentRatio(2),
        )
    assert err.value.field == "scoring"
    assert err.value.valid is not None
    assert "Reflection" in err.value.valid
    with pytest.raises(InvalidScoring):
        IndicatorVersion(
            1,
            "2025-01",
            Simple("sum", "x"),
            evidence_type="e",
            direction="lower_is_better",
            scoring=BandTable([(1, 1), (2, 2)]),  # a higher-is-better table
        )
    with pytest.raises(InvalidScoring):
        IndicatorVersion(  # progress towards a higher target on a lower-is-better indicator
            1,
            "2025-01",
            Simple("sum", "x"),
            evidence_type="e",
            direction="lower_is_better",
            scoring=BaselineProgress(10, 20),
        )
    ok = IndicatorVersion(
        1,
        "2025-01",
        Simple("average", "temp"),
        evidence_type="e",
        direction="target_range",
        scoring=TargetRange(18, 22, falloff=2),
    )
    assert ok.rule.kind == "target_range"


def test_rule_target_must_match_the_indicator_target() -> None:
    with pytest.raises(InvalidScoring) as err:
        IndicatorVersion(
            1,
            "2025-01",
            Simple("sum", "x"),
            evidence_type="e",
            direction="lower_is_better",
            target=2,
            scoring=Reflection(3),
        )
    assert (err.value.field, err.value.valid) == ("scoring.target", "2")


def test_threshold_target_stretch_must_be_ordered_for_the_direction() -> None:
    with pytest.raises(InvalidValue) as err:
        IndicatorVersion(
            1, "2025-01", Simple("sum", "x"), evidence_type="e", threshold=90, target=80
        )
    assert err.value.field == "target"
    assert err.value.valid == "a value at or above threshold 90"
    lower = IndicatorVersion(
        1,
        "2025-01",
        Simple("average", "scrap"),
        evidence_type="e",
        direction="lower_is_better",
        threshold=3,
        target=2,
        stretch=1,
        scoring=Reflection(2),
    )
    assert lower.stretch == 1


def test_version_for_keeps_the_old_version_for_a_period_changed_mid_way() -> None:
    ind = Indicator("first_pass_yield", [fpy_v1()])
    revised = ind.revise(valid_from=dt.date(2025, 3, 15), target="0.97", note="tighter")
    march, april = Period.month(2025, 3), Period.month(2025, 4)
    assert revised.version_for(march).number == 1
    assert revised.version_for(march).target == Decimal("0.95")
    assert revised.version_for(april).number == 2
    assert revised.version_for(april).target == Decimal("0.97")
    assert revised.current.note == "tighter"
    assert ind.current.number == 1  # the original is unchanged


def test_version_for_a_period_before_the_first_version_is_not_found() -> None:
    ind = Indicator("first_pass_yield", [fpy_v1()])
    with pytest.raises(NotFound) as err:
        ind.version_for(Period.month(2024, 12))
    assert err.value.field == "period"
    assert err.value.valid == "periods starting on or after 2025-01-01"


def test_revise_cannot_rewrite_periods_already_scored() -> None:
    ind = Indicator("first_pass_yield", [fpy_v1()])
    with pytest.raises(InvalidValue) as err:
        ind.revise(valid_from="2025-03", scored_through=Period.month(2025, 3), target="0.97")
    assert (err.value.field, err.value.valid) == ("valid_from", "a date after 2025-03-31")
    ok = ind.revise(valid_from="2025-04", scored_through=Period.month(2025, 3), target="0.97")
    assert ok.current.valid_from == dt.date(2025, 4, 1)


def test_versions_must_increase_in_number_and_date() -> None:
    v1 = fpy_v1()
    with pytest.raises(InvalidValue) as err:
        Indicator("fpy", [v1, IndicatorVersion(2, "2024-06", v1.definition, target=1)])
    assert err.value.field == "versions[1].valid_from"
    with pytest.raises(InvalidValue) as err:
        Indicator("fpy", [v1, IndicatorVersion(1, "2025-06", v1.definition, target=1)])
    assert err.value.field == "versions[1].number"
    with pytest.raises(InvalidValue) as err:
        Indicator("fpy", [])
    assert err.value.field == "versions"


def test_version_fields_report_bad_numbers_by_name() -> None:
    with pytest.raises(InvalidValue) as err:
        IndicatorVersion(1, "2025-01", Ratio("a", "b"), target="lots")
    assert err.value.field == "target"
    with pytest.raises(InvalidValue) as err:
        IndicatorVersion(0, "2025-01", Ratio("a", "b"), target=1)
    assert err.value.field == "number"
    with pytest.raises(InvalidValue) as err:
        IndicatorVersion(1, "March", Ratio("a", "b"), target=1)
    assert err.value.field == "valid_from"


# --------------------------------------------------------------------------- graph


def test_dependency_order_puts_inputs_first() -> None:
    defs = {
        "oee": Derived("availability * effectiveness * quality", ["availability", "quality"]),
        "quality": Ratio("good", "produced"),
        "availability": Ratio("apt", "pbt"),
        "good": Simple("sum", "gq"),
        "produced": Simple("sum", "pq"),
        "apt": Simple("sum", "apt"),
        "pbt": Simple("sum", "pbt"),
    }
    order = dependency_order(defs)
    for name, d in defs.items():
        for ref in d.references():
            assert order.index(ref) < order.index(name)
    assert order == dependency_order(dict(reversed(list(defs.items()))))


def test_cycle_in_derived_indicators_is_reported_with_its_path() -> None:
    defs = {
        "a": Derived("b + 1", ["b"]),
        "b": Ratio("c", "a"),
        "c": Simple("count"),
    }
    with pytest.raises(CycleError) as err:
        dependency_order(defs)
    assert err.value.path == ("a", "b", "a")
    assert err.value.field == "indicators.a"
    assert "a -> b -> a" in str(err.value)


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(CycleError) as err:
        dependency_order({"x": Derived("x * 2", ["x"])})
    assert err.value.path == ("x", "x")


def test_unknown_reference_names_the_field_and_the_known_names() -> None:
    with pytest.raises(InvalidValue) as err:
        dependency_order({"fpy": Ratio("good", "inspected"), "good": Simple("count")})
    assert err.value.field == "indicators.fpy.denominator"
    assert err.value.valid == "fpy, good"
    assert dependency_order({"fpy": Ratio("good", "inspected")}, known=["good", "inspected"]) == (
        "fpy",
    )


def test_iso_22400_1_kpi_attributes_are_recorded() -> None:
    # ISO 22400-1 §4.3 attributes (unit, trend, timing, audience).
    v = IndicatorVersion(
        1,
        "2025-01",
        Ratio("good_parts", "inspected_parts"),
        unit="%",
        target="0.95",
        timing="periodic",
        audience=("supervisor", "management"),
    )
    assert v.timing is Timing.PERIODIC
    assert v.audience == ("supervisor", "management")
    with pytest.raises(InvalidValue) as err:
        IndicatorVersion(1, "2025-01", Ratio("a", "b"), target=1, timing="hourly")
    assert err.value.field == "timing"
    assert err.value.valid == "real_time, periodic, on_demand"
