"""Value objects: periods (keys, ISO weeks, time-zone bounds, bad texts), decimals, org chart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from perfcore.domain.errors import CycleError, InvalidPeriod, InvalidValue, NotFound
from perfcore.domain.values import (
    OrgChart,
    OrgUnit,
    Period,
    PeriodKind,
    Person,
    SubjectRef,
    as_decimal,
    ensure_aware,
    quantize,
    zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2025-03-14", dt.date(2025, 3, 14), dt.date(2025, 3, 14), PeriodKind.DAY),
        ("2025-W10", dt.date(2025, 3, 3), dt.date(2025, 3, 9), PeriodKind.WEEK),
        ("2025-03", dt.date(2025, 3, 1), dt.date(2025, 3, 31), PeriodKind.MONTH),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), PeriodKind.MONTH),
        ("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31), PeriodKind.QUARTER),
        ("2025-Q4", dt.date(2025, 10, 1), dt.date(2025, 12, 31), PeriodKind.QUARTER),
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31), PeriodKind.YEAR),
        (
            "2025-03-01..2025-03-15",
            dt.date(2025, 3, 1),
            dt.date(2025, 3, 15),
            PeriodKind.CUSTOM,
        ),
    ],
)
def test_period_texts_parse_and_round_trip_through_their_key(
    text: str, start: dt.date, end: dt.date, kind: PeriodKind
) -> None:
    p = Period.parse(text)
    assert (p.start, p.end, p.kind) == (start, end, kind)
    assert p.key == text
    assert str(p) == text
    assert Period.parse(p.key) == p


def test_iso_week_53_exists_only_in_long_years() -> None:
    w53 = Period.parse("2020-W53")
    assert (w53.start, w53.end) == (dt.date(2020, 12, 28), dt.date(2021, 1, 3))
    assert Period.week(2026, 53).start == dt.date(2026, 12, 28)
    with pytest.raises(InvalidPeriod) as err:
        Period.parse("2025-W53")
    assert err.value.field == "period"
    assert err.value.valid == "weeks 1-52, or 1-53 in long ISO years"


def test_iso_week_of_a_date_near_new_year_belongs_to_the_iso_year() -> None:
    # 2024-12-30 is Monday of ISO week 1 of 2025; 2021-01-01 is in 2020-W53.
    assert Period.containing("week", dt.date(2024, 12, 30)).key == "2025-W01"
    assert Period.containing("week", dt.date(2021, 1, 1)).key == "2020-W53"


@pytest.mark.parametrize(
    "text",
    ["2025-13", "2025-Q5", "March 2025", "2025-02-30", "25-03", "", "2025-03-10..2025-03-01"],
)
def test_bad_period_texts_raise_invalid_period_with_the_valid_syntax(text: str) -> None:
    with pytest.raises(InvalidPeriod) as err:
        Period.parse(text, field="cycle.period")
    assert err.value.field == "cycle.period"
    assert err.value.valid


def test_unparseable_text_lists_every_accepted_form() -> None:
    with pytest.raises(InvalidPeriod) as err:
        Period.parse("March 2025")
    assert err.value.valid is not None
    for form in ("YYYY-MM-DD", "YYYY-Www", "YYYY-MM", "YYYY-Qn", "YYYY", ".."):
        assert form in err.value.valid


def test_bounds_are_local_midnights_in_the_plan_time_zone_and_half_open() -> None:
    march = Period.month(2025, 3)
    lo, hi = march.bounds(BERLIN)
    assert lo == dt.datetime(2025, 3, 1, tzinfo=BERLIN)
    assert hi == dt.datetime(2025, 4, 1, tzinfo=BERLIN)
    # Berlin switches to summer time on 2025-03-30: March is 31 days minus one hour long
    assert hi.astimezone(dt.UTC) - lo.astimezone(dt.UTC) == dt.timedelta(days=31, hours=-1)
    assert lo.astimezone(dt.UTC) == dt.datetime(2025, 2, 28, 23, tzinfo=dt.UTC)
    assert march.contains(dt.datetime(2025, 2, 28, 23, 30, tzinfo=dt.UTC), BERLIN)
    assert not march.contains(dt.datetime(2025, 2, 28, 23, 30, tzinfo=dt.UTC), dt.UTC)


def test_instants_are_placed_by_local_date() -> None:
    instant = dt.datetime(2025, 3, 31, 17, 0, tzinfo=dt.UTC)  # 01:00 on 1 April in Shanghai
    assert Period.of_instant("month", instant, SHANGHAI).key == "2025-04"
    assert Period.of_instant("month", instant, dt.UTC).key == "2025-03"
    with pytest.raises(InvalidValue):
        Period.of_instant("month", dt.datetime(2025, 3, 1), SHANGHAI)


def test_split_next_previous_and_overlap() -> None:
    q1 = Period.quarter(2025, 1)
    assert [p.key for p in q1.split("month")] == ["2025-01", "2025-02", "2025-03"]
    assert Period.month(2025, 12).next().key == "2026-01"
    assert Period.parse("2025-W01").previous().key == "2024-W52"
    assert Period.parse("2020-W53").next().key == "2021-W01"
    custom = Period.custom(dt.date(2025, 3, 1), dt.date(2025, 3, 10))
    assert custom.next() == Period.custom(dt.date(2025, 3, 11), dt.date(2025, 3, 20))
    assert custom.days == 10
    assert q1.overlaps(Period.month(2025, 3))
    assert not q1.overlaps(Period.month(2025, 4))
    assert [p.key for p in Period.parse("2025-03-30..2025-04-01").split("day")] == [
        "2025-03-30",
        "2025-03-31",
        "2025-04-01",
    ]


def test_period_kind_and_month_numbers_are_checked() -> None:
    with pytest.raises(InvalidPeriod) as err:
        Period.containing("fortnight", dt.date(2025, 1, 1))
    assert err.value.field == "period.kind"
    with pytest.raises(InvalidPeriod) as err:
        Period.month(2025, 0)
    assert (err.value.field, err.value.valid) == ("period.month", "1..12")
    with pytest.raises(InvalidPeriod) as err:
        Period.custom(dt.date(2025, 3, 2), dt.date(2025, 3, 1))
    assert err.value.field == "period.end"


def test_a_named_kind_must_cover_its_canonical_range() -> None:
    # A "month" from the 2nd to the 5th would print as 2025-03 and parse back differently.
    with pytest.raises(InvalidPeriod) as err:
        Period(dt.date(2025, 3, 2), dt.date(2025, 3, 5), PeriodKind.MONTH)
    assert err.value.field == "period"
    assert err.value.valid == "2025-03-01..2025-03-31 for month 2025-03, or kind custom"


# --------------------------------------------------------------------------- decimals / time


def test_decimals_are_exact_and_rounding_is_half_up() -> None:
    assert as_decimal(0.1) + as_decimal(0.2) == Decimal("0.3")
    assert quantize(Decimal("2.0005"), 3) == Decimal("2.001")
    assert quantize(Decimal("-2.0005"), 3) == Decimal("-2.001")
    assert quantize(Decimal("12.345"), 2) == Decimal("12.35")
    for bad in (True, "abc", float("nan"), None):
        with pytest.raises(InvalidValue):
            as_decimal(bad, field="weight")


def test_zones_and_aware_instants() -> None:
    assert zone("Asia/Shanghai") == SHANGHAI
    with pytest.raises(InvalidValue) as err:
        zone("Mars/Olympus")
    assert err.value.field == "time_zone"
    with pytest.raises(InvalidValue):
        ensure_aware(dt.datetime(2025, 1, 1))


def test_subject_references() -> None:
    assert str(SubjectRef.person("E1")) == "person:E1"
    assert SubjectRef.parse("team:sewing-3") == SubjectRef.team("sewing-3")
    with pytest.raises(InvalidValue) as err:
        SubjectRef.parse("robot:R2")
    assert err.value.valid == "person:<id> or team:<id>"


# --------------------------------------------------------------------------- org chart


def plant() -> OrgChart:
    return OrgChart.build(
        people=[
            Person("PM", "Plant manager", "plant"),
            Person("SL", "Sewing lead", "sewing"),
            Person("T1", "Team leader 1", "sewing-3"),
            Person("OP", "Operator", "sewing-3"),
            Person("HR", "HR partner", "plant"),
        ],
        units=[
            OrgUnit("plant", "Plant", manager_id="PM"),
            OrgUnit("sewing", "Sewing", manager_id="SL", parent_id="plant"),
            OrgUnit("sewing-3", "Sewing line 3", manager_id="T1", parent_id="sewing"),
        ],
    )


def test_reporting_line_is_manager_then_managers_manager() -> None:
    chart = plant()
    assert chart.reporting_line("OP") == ["T1", "SL", "PM"]
    assert chart.manager_of("OP") == "T1"
    # a unit's manager reports to the parent unit's manager, not to themself
    assert chart.reporting_line("T1") == ["SL", "PM"]
    assert chart.manager_of("PM") is None
    assert chart.subtree("SL") == {"T1", "OP"}
    assert chart.subtree("PM") == {"SL", "T1", "OP", "HR"}


def test_org_chart_refuses_unknown_units_and_cycles() -> None:
    with pytest.raises(NotFound):
        plant().reporting_line("nobody")
    with pytest.raises(InvalidValue) as err:
        OrgChart.build([Person("A", unit_id="ghost")], [])
    assert err.value.field == "people.A.unit_id"
    with pytest.raises(CycleError) as cyc:
        OrgChart.build(
            [],
            [OrgUnit("a", parent_id="b"), OrgUnit("b", parent_id="a")],
        )
    assert cyc.value.path == ("a", "b", "a")
