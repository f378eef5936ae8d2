"""Evaluation semantics of the Python back end: exact decimals, NULL rules, division by zero,
three-valued logic, dates and durations, the allowed functions and the mission scenarios."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.formula import FieldType, FormulaError, compile

UTC = dt.UTC
CST = dt.timezone(dt.timedelta(hours=8))


def ev(text: str, schema: dict[str, str] | None = None, **row: object) -> object:
    schema = schema or {k: _kind(v) for k, v in row.items()}
    return compile(text, schema).evaluate(row)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.timedelta):
        return "duration"
    raise AssertionError(value)


# --- mission scenarios -------------------------------------------------------------------


def test_first_pass_yield_is_good_parts_over_inspected_parts() -> None:
    """ISO 22400-2 first pass yield = GP/IP; 1,043 of 1,050 inspected."""
    fpy = compile("good_qty / inspected_qty", {"good_qty": "number", "inspected_qty": "number"})
    value = fpy.evaluate({"good_qty": 1043, "inspected_qty": 1050})
    assert value == Decimal("0." + "9933" + "3" * 30)  # 34 significant digits
    assert round(value, 4) == Decimal("0.9933")  # T5 quality 99.33 %


def test_first_pass_yield_without_inspections_has_no_value_not_zero() -> None:
    """perfcore's rule: division by zero yields "no value", never an exception and never 0."""
    fpy = compile("good_qty / inspected_qty", {"good_qty": "number", "inspected_qty": "number"})
    assert fpy.evaluate({"good_qty": 0, "inspected_qty": 0}) is None


def test_oee_t2_reference_case() -> None:
    """waycalculator OEE example: PBT 480, APT 420, PRU 1, PQ 400, GQ 380 -> OEE 0.791667."""
    oee = compile(
        "(apt / pbt) * (pru * pq / apt) * (gq / pq)",
        dict.fromkeys(["apt", "pbt", "pru", "pq", "gq"], "number"),
    )
    value = oee.evaluate({"apt": 420, "pbt": 480, "pru": 1, "pq": 400, "gq": 380})
    assert value.quantize(Decimal("0.000001")) == Decimal("0.791667")


def test_oee_t5_reference_case_is_exact() -> None:
    """GE Vernova Proficy OEE example: 96.00 % x 87.50 % x 99.33 % -> OEE exactly 0.8344."""
    oee = compile(
        "(apt / pbt) * (pru * pq / apt) * (gq / pq)",
        dict.fromkeys(["apt", "pbt", "pru", "pq", "gq"], "number"),
    )
    value = oee.evaluate({"apt": 120, "pbt": 125, "pru": Decimal("0.1"), "pq": 1050, "gq": 1043})
    assert value.quantize(Decimal("0.0000000001")) == Decimal("0.8344")


def test_customer_value_is_visits_times_conversion_times_order_value() -> None:
    """the sales scenario; 40 quality visits x 25 % x 1,200.50 = 12,005 (computed by hand)."""
    cv = compile(
        "quality_visits * conversion_rate * average_order_value",
        {"quality_visits": "number", "conversion_rate": "number", "average_order_value": "number"},
    )
    row = {"quality_visits": 40, "conversion_rate": Decimal("0.25"), "average_order_value": 1200.5}
    assert cv.evaluate(row) == Decimal("12005")


def test_safety_points_condition() -> None:
    """Safety behaviour points: the IncentiveRule `when`."""
    rule = compile(
        "safety_points >= 100 and incidents_30d == 0",
        {"safety_points": "number", "incidents_30d": "number"},
    )
    assert rule.result_type is FieldType.BOOLEAN
    assert rule.evaluate({"safety_points": 100, "incidents_30d": 0}) is True
    assert rule.evaluate({"safety_points": 99, "incidents_30d": 0}) is False
    assert rule.evaluate({"safety_points": 150, "incidents_30d": 1}) is False
    assert rule.evaluate({"safety_points": None, "incidents_30d": 1}) is False
    assert rule.evaluate({"safety_points": None, "incidents_30d": 0}) is None


def test_hazard_rectification_within_48_hours() -> None:
    """the safety scenario: hazard-rectification closing time as a condition."""
    rule = compile(
        "closed_at - opened_at <= 48h", {"closed_at": "datetime", "opened_at": "datetime"}
    )
    opened = dt.datetime(2025, 3, 1, 8, 0, tzinfo=CST)
    assert rule.evaluate({"opened_at": opened, "closed_at": opened + dt.timedelta(hours=48)})
    assert not rule.evaluate({"opened_at": opened, "closed_at": opened + dt.timedelta(hours=49)})
    assert rule.evaluate({"opened_at": opened, "closed_at": None}) is None


# --- numbers ------------------------------------------------------------------------------


def test_decimal_arithmetic_is_exact() -> None:
    """perfcore's rule: 0.8*5*0.7 + 0.7*5*0.3 is 3.85, not 3.8499999."""
    assert ev("0.8*5*0.7 + 0.7*5*0.3", {}) == Decimal("3.85")
    assert ev("0.1 + 0.2 == 0.3", {}) is True


def test_floats_in_rows_are_read_through_repr() -> None:
    assert ev("x + 0.2", x=0.1) == Decimal("0.3")


def test_division_is_always_real_division() -> None:
    assert ev("a / b", a=7, b=2) == Decimal("3.5")
    assert ev("1 / 3", {}) == Decimal("0." + "3" * 34)  # decimal128: 34 significant digits


def test_percentages_are_hundredths() -> None:
    assert ev("85%", {}) == Decimal("0.85")
    assert ev("x >= 85%", x=Decimal("0.851")) is True
    assert ev("12.5% * 8", {}) == Decimal("1.000")


def test_unary_minus_and_precedence() -> None:
    assert ev("-2 * 3 + 10 / 4 - -1", {}) == Decimal("-2.5")
    assert ev("2 + 3 * 4", {}) == 14
    assert ev("(2 + 3) * 4", {}) == 20


# --- NULL (no value) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a + b",
        "a - b",
        "a * b",
        "a / b",
        "-a",
        "a < b",
        "a == b",
        "a != b",
        "abs(a)",
        "round(a, 1)",
        "min(a, b)",
        "max(a, b)",
        "clamp(a, 0, b)",
        "a in [1, 2]",
    ],
)
def test_no_value_propagates(text: str) -> None:
    f = compile(text, {"a": "number", "b": "number"})
    assert f.evaluate({"a": None, "b": 1}) is None
    assert f.evaluate({"b": 1}) is None  # a missing field is no value


def test_nan_in_a_row_counts_as_no_value() -> None:
    assert ev("a + 1", {"a": "number"}, a=float("nan")) is None
    assert ev("a + 1", {"a": "number"}, a=Decimal("NaN")) is None


@pytest.mark.parametrize(
    ("a", "b", "and_", "or_"),
    [
        (True, True, True, True),
        (True, False, False, True),
        (True, None, None, True),
        (False, None, False, None),
        (None, False, False, None),
        (None, True, None, True),
        (None, None, None, None),
        (False, False, False, False),
    ],
)
def test_and_or_are_three_valued_like_sql(
    a: bool | None, b: bool | None, and_: bool | None, or_: bool | None
) -> None:
    schema = {"a": "boolean", "b": "boolean"}
    assert compile("a and b", schema).evaluate({"a": a, "b": b}) is and_
    assert compile("a or b", schema).evaluate({"a": a, "b": b}) is or_


def test_not_of_no_value_is_no_value() -> None:
    f = compile("not a", {"a": "boolean"})
    assert (f.evaluate({"a": True}), f.evaluate({"a": False}), f.evaluate({"a": None})) == (
        False,
        True,
        None,
    )


def test_condition_without_value_takes_the_else_branch() -> None:
    f = compile("1 if a > 0 else 2", {"a": "number"})
    assert f.evaluate({"a": None}) == 2
    assert f.evaluate({"a": 5}) == 1


def test_excel_style_if_is_the_same_as_python_style() -> None:
    schema = {"a": "number"}
    assert compile("if(a > 0, a, 0)", schema).ir == compile("a if a > 0 else 0", schema).ir


def test_coalesce_takes_the_first_value() -> None:
    f = compile("coalesce(a, b, 0)", {"a": "number", "b": "number"})
    assert f.evaluate({"a": None, "b": None}) == 0
    assert f.evaluate({"a": None, "b": 3}) == 3
    assert f.evaluate({"a": 2, "b": 3}) == 2


def test_safe_div_gives_the_fallback_for_zero_or_missing_denominator() -> None:
    f = compile("safe_div(a, b)", {"a": "number", "b": "number"})
    assert f.evaluate({"a": 1, "b": 0}) == 0
    assert f.evaluate({"a": 1, "b": None}) == 0
    assert f.evaluate({"a": None, "b": 2}) is None
    assert f.evaluate({"a": 1, "b": 4}) == Decimal("0.25")
    g = compile("safe_div(a, b, -1)", {"a": "number", "b": "number"})
    assert g.evaluate({"a": 1, "b": 0}) == -1


def test_division_by_zero_inside_a_larger_formula_is_no_value() -> None:
    assert ev("1 + a / b * 3", a=1, b=0) is None
    assert ev("coalesce(a / b, 0)", a=1, b=0) == 0


# --- comparisons, in, functions ----------------------------------------------------------


def test_chained_comparison_means_both_comparisons() -> None:
    f = compile("0 <= x <= 100", {"x": "number"})
    assert f.canonical == "0 <= x and x <= 100"
    assert [f.evaluate({"x": v}) for v in (-1, 0, 50, 100, 101)] == [False, True, True, True, False]


def test_in_and_not_in_over_literal_lists() -> None:
    schema = {"grade": "text", "n": "number"}
    assert compile('grade in ["A", "B"]', schema).evaluate({"grade": "B"}) is True
    assert compile('grade not in ["A", "B"]', schema).evaluate({"grade": "B"}) is False
    assert compile("n in [1, -2, 3.0]", schema).evaluate({"n": 3}) is True
    assert compile("n in [1, -2, 3.0]", schema).evaluate({"n": -2}) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(3, 1, 2)", Decimal(1)),
        ("max(3, 1, 2)", Decimal(3)),
        ("min(2, 5)", Decimal(2)),
        ("abs(-2.5)", Decimal("2.5")),
        ("round(2.345, 2)", Decimal("2.35")),
        ("round(-2.5)", Decimal(-3)),
        ("round(2.5)", Decimal(3)),
        ("clamp(120%, 0, 1)", Decimal(1)),
        ("clamp(-5, 0, 1)", Decimal(0)),
        ("clamp(0.5, 0, 1)", Decimal("0.5")),
        ('max("a", "b")', "b"),
    ],
)
def test_functions(text: str, expected: object) -> None:
    assert ev(text, {}) == expected


def test_round_is_half_up_like_the_house_quantize() -> None:
    assert ev("round(x, 2)", x=Decimal("1.005")) == Decimal("1.01")


# --- dates and durations ------------------------------------------------------------------


def test_date_parts_and_iso_weekday() -> None:
    day = dt.date(2025, 3, 1)  # a Saturday
    schema = {"d": "date"}
    values = [
        compile(f"{fn}(d)", schema).evaluate({"d": day})
        for fn in ("year", "month", "day", "weekday")
    ]
    assert values == [2025, 3, 1, 6]


def test_datetime_parts_are_taken_in_utc() -> None:
    moment = dt.datetime(2025, 3, 1, 7, 0, tzinfo=CST)  # 2025-02-28 23:00 UTC
    assert ev("day(t)", t=moment) == 28
    assert ev("month(t)", t=moment) == 2


def test_days_between_dates_and_datetimes() -> None:
    assert ev("days_between(a, b)", a=dt.date(2025, 2, 1), b=dt.date(2025, 3, 1)) == 28
    start = dt.datetime(2025, 3, 1, tzinfo=UTC)
    assert ev("days_between(a, b)", a=start, b=start + dt.timedelta(hours=36)) == Decimal("1.5")


def test_date_literals_and_comparisons() -> None:
    assert ev("d >= @2025-03-01", d=dt.date(2025, 3, 1)) is True
    assert ev("t < @2025-03-01T08:00+08:00", t=dt.datetime(2025, 3, 1, 0, 0, tzinfo=UTC)) is False


def test_duration_literals_and_arithmetic() -> None:
    assert ev("48h == 2d", {}) is True
    assert ev("1w + 30min + 15s", {}) == dt.timedelta(days=7, minutes=30, seconds=15)
    assert ev("hours(90min)", {}) == Decimal("1.5")
    assert ev("2d / 12h", {}) == 4
    assert ev("3h * 1.5", {}) == dt.timedelta(hours=4, minutes=30)
    assert ev("d + 7d", d=dt.date(2025, 3, 1)) == dt.date(2025, 3, 8)
    assert ev("d - @2025-02-01", d=dt.date(2025, 3, 1)) == dt.timedelta(days=28)
    assert ev("t + 48h", t=dt.datetime(2025, 3, 1, tzinfo=UTC)) == dt.datetime(
        2025, 3, 3, tzinfo=UTC
    )


def test_date_overflow_is_no_value_not_an_exception() -> None:
    assert ev("d + 1000000w", d=dt.date(9999, 1, 1)) is None
    assert ev("x / 0h", x=dt.timedelta(hours=1)) is None


# --- rows with the wrong kind of value ----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("number", "12", "field `x` must be a number, got str '12'"),
        ("number", True, "field `x` must be a number, got bool True"),
        ("boolean", 1, "field `x` must be true/false, got int 1"),
        ("text", 5, "field `x` must be text, got int 5"),
        (
            "date",
            dt.datetime(2025, 1, 1, tzinfo=UTC),
            "field `x` must be a date, got datetime datetime.datetime(2025, 1, 1, 0, 0, t...",
        ),
        (
            "datetime",
            dt.datetime(2025, 1, 1),
            "field `x` must be a timezone-aware datetime, got "
            "datetime datetime.datetime(2025, 1, 1, 0, 0)",
        ),
        ("duration", 3, "field `x` must be a duration (timedelta), got int 3"),
    ],
)
def test_row_value_of_the_wrong_kind_is_bad_value(kind: str, value: object, message: str) -> None:
    f = compile("coalesce(x, x)", {"x": kind})
    with pytest.raises(FormulaError) as info:
        f.evaluate({"x": value})
    assert (info.value.code, info.value.message) == ("bad_value", message)
    assert info.value.formula == "coalesce(x, x)"


def test_non_ascii_field_names_evaluate() -> None:
    f = compile("合格数 / 检验数", {"合格数": "number", "检验数": "number"})
    assert f.names == frozenset({"合格数", "检验数"})
    assert f.evaluate({"合格数": 49, "检验数": 50}) == Decimal("0.98")


def test_generated_source_contains_no_user_text() -> None:
    f = compile("name == \"__import__('os')\" and 合格数 > 1", {"name": "text", "合格数": "number"})
    assert "__import__" not in f.source
    assert "合格数" not in f.source


# --- the generated code's fast paths keep the semantics ----------------------------------


def test_ints_and_floats_are_read_exactly_and_repeatably() -> None:
    f = compile("x * 1", {"x": "number"})
    for _ in range(2):  # second round is served from the conversion memo
        assert [f.evaluate({"x": v}) for v in (0, 7, 0.1, -0.0, 2.50)] == [
            Decimal(0),
            Decimal(7),
            Decimal("0.1"),
            Decimal(0),
            Decimal("2.5"),
        ]
    assert str(f.evaluate({"x": 2.5})) == "2.5"


def test_infinite_float_is_bad_value() -> None:
    with pytest.raises(FormulaError) as info:
        compile("x + 1", {"x": "number"}).evaluate({"x": float("inf")})
    assert info.value.code == "bad_value"


def test_a_guard_inside_one_branch_does_not_protect_a_division_outside_it() -> None:
    f = compile("(a / c if c > 0 else 0) + a / c", {"a": "number", "c": "number"})
    assert f.evaluate({"a": 1, "c": 0}) is None
    assert f.evaluate({"a": 1, "c": None}) is None
    assert f.evaluate({"a": 1, "c": 2}) == 1


@pytest.mark.parametrize(
    ("guard", "c", "expected"),
    [
        ("c > 0", -2, 0),
        ("c < 0", -2, Decimal("-0.5")),
        ("c != 0", 0, 0),
        ("c >= 0", 0, None),
        ("0 < c", 4, Decimal("0.25")),
        ("c > -1", 0, None),
    ],
)
def test_guarded_division(guard: str, c: int, expected: object) -> None:
    f = compile(f"1 / c if {guard} else 0", {"c": "number"})
    assert f.evaluate({"c": c}) == expected


def test_fields_in_a_branch_not_taken_are_not_read() -> None:
    f = compile("a if ok else 0", {"a": "number", "ok": "boolean"})
    assert f.evaluate({"a": "not a number", "ok": False}) == 0
    with pytest.raises(FormulaError):
        f.evaluate({"a": "not a number", "ok": True})


def test_values_at_the_edges_of_the_calendar_have_no_value_instead_of_raising() -> None:
    assert ev("year(@0001-01-01T00:00:00+05:00)", {}) is None
    assert ev("999999999d + 1d", {}) is None
    assert ev("@9999-12-31 + 1d", {}) is None


def test_a_duration_literal_beyond_the_calendar_is_bad_number() -> None:
    with pytest.raises(FormulaError) as info:
        compile("1000000000d > 1d", {})
    assert (info.value.code, info.value.span) == ("bad_number", (1, 11))
