"""SQL and polars lowering specifics: bound parameters only, dialect rendering, dates, durations,
and the documented refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from perfcore.formula import FormulaError, compile
from perfcore_adapters.sqlalchemy.formula_sql import to_sql
from perfcore_adapters.vectorised.polars_backend import to_polars

SCHEMA = {
    "good_qty": "number",
    "inspected_qty": "number",
    "grade": "text",
    "opened_at": "datetime",
    "closed_at": "datetime",
    "day": "date",
    "wait": "duration",
}
metadata = sa.MetaData()
EVIDENCE = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("good_qty", sa.Integer),
    sa.Column("inspected_qty", sa.Integer),
    sa.Column("grade", sa.String),
    sa.Column("opened_at", sa.DateTime),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("day", sa.Date),
    sa.Column("wait", sa.Numeric),  # seconds
)

OPENED = dt.datetime(2025, 3, 1, 0, 0)
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "good_qty": 1043,
        "inspected_qty": 1050,
        "grade": "A",
        "opened_at": OPENED,
        "closed_at": OPENED + dt.timedelta(hours=47),
        "day": dt.date(2025, 3, 1),
        "wait": 7200,
    },
    {
        "id": 2,
        "good_qty": 0,
        "inspected_qty": 0,
        "grade": "B",
        "opened_at": OPENED,
        "closed_at": OPENED + dt.timedelta(hours=49),
        "day": dt.date(2025, 3, 3),
        "wait": None,
    },
]


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    eng = sa.create_engine("sqlite://")
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(EVIDENCE.insert(), ROWS)
    yield eng
    eng.dispose()


def run(engine: sa.Engine, text: str) -> list[Any]:
    expr = to_sql(compile(text, SCHEMA), EVIDENCE.c)
    query = sa.select(expr).select_from(EVIDENCE).order_by(EVIDENCE.c.id)
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(query)]


def test_first_pass_yield_in_sql_is_a_real_ratio_and_null_without_inspections(
    engine: sa.Engine,
) -> None:
    """ISO 22400-2 FPY = GP/IP; 1,043/1,050 = 0.99333..."""
    values = run(engine, "good_qty / inspected_qty")
    assert Decimal(values[0]).quantize(Decimal("0.000001")) == Decimal("0.993333")
    assert values[1] is None


def test_ratio_of_sums_can_be_pushed_down(engine: sa.Engine) -> None:
    """perfcore's rule: FPY over a period is sum(good)/sum(inspected), computed in the database."""
    compiled = compile("good / inspected", {"good": "number", "inspected": "number"})
    expr = to_sql(
        compiled,
        {
            "good": sa.func.sum(EVIDENCE.c.good_qty),
            "inspected": sa.func.sum(EVIDENCE.c.inspected_qty),
        },
    )
    with engine.connect() as conn:
        value = conn.execute(sa.select(expr)).scalar_one()
    assert Decimal(value).quantize(Decimal("0.000001")) == Decimal("0.993333")


def test_hazard_rectification_within_48_hours_in_sql(engine: sa.Engine) -> None:
    assert run(engine, "closed_at - opened_at <= 48h") == [True, False]
    assert run(engine, "hours(closed_at - opened_at)") == [Decimal(47), Decimal(49)]


def test_durations_are_seconds_in_sql(engine: sa.Engine) -> None:
    assert run(engine, "wait >= 2h") == [True, None]
    assert run(engine, "weekday(day)") == [6, 1]
    assert run(engine, "days_between(day, @2025-03-08)") == [Decimal(7), Decimal(5)]


def test_user_text_never_becomes_sql_text() -> None:
    nasty = "x'); DROP TABLE evidence; --"
    compiled = compile(f'grade == "{nasty}" or grade in ["{nasty}", "A"]', SCHEMA)
    expr = to_sql(compiled, EVIDENCE.c)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        sql = str(sa.select(expr).compile(dialect=dialect))
        assert "DROP" not in sql
        assert nasty in sa.select(expr).compile(dialect=dialect).params.values()


def test_postgres_rendering_casts_to_numeric_and_guards_zero() -> None:
    compiled = compile("good_qty / inspected_qty", SCHEMA)
    sql = str(to_sql(compiled, EVIDENCE.c).compile(dialect=postgresql.dialect()))
    assert sql == (
        "(CAST((evidence.good_qty) AS NUMERIC) / "
        "(nullif(evidence.inspected_qty, %(param_1)s::INTEGER)))"
    )


def test_moving_a_date_by_a_duration_is_unsupported_in_sql() -> None:
    with pytest.raises(FormulaError) as info:
        to_sql(compile("day + 7d > @2025-03-05", SCHEMA), EVIDENCE.c)
    assert info.value.code == "unsupported_backend"
    assert info.value.message == (
        "the SQL back end cannot evaluate a date or datetime moved by a duration"
    )


def test_missing_column_is_a_formula_error() -> None:
    with pytest.raises(FormulaError) as info:
        to_sql(compile("good_qty + 1", SCHEMA), {})
    assert (info.value.code, info.value.message) == (
        "bad_schema",
        "no column was given for field `good_qty`",
    )


def test_polars_handles_dates_and_durations_like_python() -> None:
    frame = pl.DataFrame(
        {
            "day": [dt.date(2025, 3, 1), None],
            "wait": [dt.timedelta(hours=30), None],
            "opened_at": [dt.datetime(2025, 3, 1, tzinfo=dt.UTC)] * 2,
            "closed_at": [dt.datetime(2025, 3, 3, 1, tzinfo=dt.UTC), None],
        },
        schema={
            "day": pl.Date,
            "wait": pl.Duration("us"),
            "opened_at": pl.Datetime("us", "UTC"),
            "closed_at": pl.Datetime("us", "UTC"),
        },
    )
    for text in (
        "day + wait",
        "day - wait",
        "wait * 1.5",
        "wait / 4",
        "closed_at - opened_at <= 48h",
        "hours(closed_at - opened_at)",
        "weekday(day)",
        "wait / 1h",
    ):
        compiled = compile(text, SCHEMA)
        got = frame.with_columns(to_polars(compiled))["value"].to_list()
        want = [compiled.evaluate(r) for r in frame.to_dicts()]
        assert [None if g is None else g for g in got] == [
            None if w is None else (float(w) if isinstance(w, Decimal) else w) for w in want
        ], text


def test_polars_comparison_with_a_constant_on_the_left_over_an_all_null_column() -> None:
    """Regression: polars 2.1 could not broadcast `lit == when(...)` when the column is all null
    (found by the differential test); the lowering puts the constant on the right."""
    frame = pl.DataFrame({"good_qty": [None, None]}, schema={"good_qty": pl.Int64})
    for text, want in (
        ("0 == coalesce(good_qty, 0)", [True, True]),
        ("0 == clamp(good_qty, 0, 0)", [None, None]),
        ("2 < (good_qty if good_qty > 0 else 5)", [True, True]),
    ):
        compiled = compile(text, SCHEMA)
        assert frame.with_columns(to_polars(compiled))["value"].to_list() == want
        assert [compiled.evaluate(r) for r in frame.to_dicts()] == want
