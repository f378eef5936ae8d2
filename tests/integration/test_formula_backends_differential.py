"""Differential property test: one IR, three back ends (Python, SQL on SQLite, polars), the same
results — including NULLs and division by zero.

Formulas are generated as *text* (so the parser is exercised too) from a small typed grammar.
Numbers are small integers and halves, which binary floats (SQLite, polars) represent exactly;
divisions only appear where rounding cannot change the outcome of a comparison or a zero test
(comparisons, ``in`` and denominators use division-free "exact" expressions), and numeric results
are compared after quantizing to 9 places relative to the magnitude (see formula_sql.py and
polars_backend.py for the documented tolerance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfcore.formula import CompiledFormula, FieldType, compile
from perfcore_adapters.sqlalchemy.formula_sql import to_sql
from perfcore_adapters.vectorised.polars_backend import to_polars

NUM = ["a", "b", "c"]
BOOL = ["p", "q"]
SCHEMA = {"a": "number", "b": "number", "c": "number", "p": "boolean", "q": "boolean", "s": "text"}

small_int = st.integers(min_value=-6, max_value=6)
num_lit = st.one_of(
    small_int.map(str),
    st.sampled_from(["0.5", "2.5", "-1.5", "50%", "25%"]),
)


def _paren(*parts: str) -> str:
    return "(" + " ".join(parts) + ")"


def _exact(bools: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Division-free numeric expressions: exact in every back end."""
    leaf = st.one_of(st.sampled_from(NUM), num_lit)

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: _paren(*t)),
            inner.map(lambda x: f"(-{x})"),
            st.tuples(inner, bools, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(st.sampled_from(["min", "max", "coalesce"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            inner.map(lambda x: f"abs({x})"),
            st.tuples(inner, small_int, st.integers(0, 6)).map(
                lambda t: f"clamp({t[0]}, {t[1]}, {t[1] + t[2]})"
            ),
        )

    return st.recursive(leaf, grow, max_leaves=6)


bool_leaf = st.one_of(st.sampled_from(BOOL), st.sampled_from(["true", "false"]))
exact_simple = _exact(bool_leaf)


def _bools() -> st.SearchStrategy[str]:
    cmp = st.tuples(
        exact_simple, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), exact_simple
    ).map(lambda t: _paren(*t))
    membership = st.one_of(
        st.tuples(exact_simple, st.lists(small_int, min_size=1, max_size=3)).map(
            lambda t: f"({t[0]} in [{', '.join(map(str, t[1]))}])"
        ),
        st.sampled_from(['(s in ["x", "y"])', '(s not in ["x"])', '(s == "y")', '(s < "m")']),
    )
    base = st.one_of(bool_leaf, cmp, membership)

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: _paren(*t)),
            inner.map(lambda x: f"(not {x})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[1]} if {t[0]} else {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} == {t[1]})"),
        )

    return st.recursive(base, grow, max_leaves=5)


BOOLS = _bools()
EXACT = _exact(BOOLS)


def _any_number() -> st.SearchStrategy[str]:
    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, EXACT).map(lambda t: f"({t[0]} / {t[1]})"),
            st.tuples(inner, EXACT).map(lambda t: f"safe_div({t[0]}, {t[1]})"),
            st.tuples(inner, EXACT, inner).map(lambda t: f"safe_div({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: _paren(*t)),
            st.tuples(inner, BOOLS, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(st.sampled_from(["coalesce", "min", "max"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
        )

    return st.recursive(EXACT, grow, max_leaves=5)


TEXTS = st.one_of(
    st.just("s"),
    st.tuples(BOOLS, st.sampled_from(['"x"', "s"]), st.sampled_from(['"y"', "s"])).map(
        lambda t: f"({t[1]} if {t[0]} else {t[2]})"
    ),
    st.just('coalesce(s, "none")'),
)

FORMULAS = st.one_of(_any_number(), BOOLS, TEXTS)

maybe_int = st.one_of(st.none(), st.integers(-6, 6), st.just(0))
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "a": maybe_int,
            "b": maybe_int,
            "c": maybe_int,
            "p": st.one_of(st.none(), st.booleans()),
            "q": st.one_of(st.none(), st.booleans()),
            "s": st.one_of(st.none(), st.sampled_from(["x", "y", "z", "a"])),
        }
    ),
    min_size=1,
    max_size=6,
)


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[sa.Engine, sa.Table]]:
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    table = sa.Table(
        "evidence",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(n, sa.Integer) for n in NUM),
        *(sa.Column(n, sa.Boolean) for n in BOOL),
        sa.Column("s", sa.String),
    )
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def _normal(value: Any, kind: FieldType) -> Any:
    if value is None:
        return None
    if kind is FieldType.BOOLEAN:
        return bool(value)
    if kind is FieldType.NUMBER:
        d = value if isinstance(value, Decimal) else Decimal(repr(value))
        if d == 0:
            return Decimal(0)
        # 9 significant digits relative to magnitude: binary floats carry ~15-16
        return round(d, max(0, 9 - d.adjusted()))
    return value


def _close(x: Any, y: Any, kind: FieldType) -> bool:
    if x is None or y is None or kind is not FieldType.NUMBER:
        return bool(x == y) if x is not None and y is not None else x is y
    scale = max(abs(x), abs(y), Decimal(1))
    return abs(x - y) <= scale * Decimal("1e-8")


def _python(compiled: CompiledFormula, rows: list[dict[str, Any]]) -> list[Any]:
    return [compiled.evaluate(r) for r in rows]


def _sql(
    compiled: CompiledFormula, rows: list[dict[str, Any]], engine: sa.Engine, table: sa.Table
) -> list[Any]:
    expr = to_sql(compiled, table.c)
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(table.insert(), [{"id": i, **r} for i, r in enumerate(rows)])
        query = sa.select(expr).select_from(table).order_by(table.c.id)
        return [r[0] for r in conn.execute(query)]


def _polars(compiled: CompiledFormula, rows: list[dict[str, Any]]) -> list[Any]:
    frame = pl.DataFrame(
        rows,
        schema={
            "a": pl.Int64,
            "b": pl.Int64,
            "c": pl.Int64,
            "p": pl.Boolean,
            "q": pl.Boolean,
            "s": pl.Utf8,
        },
    )
    # with_columns broadcasts a formula without fields (e.g. `true`) to every row
    return list(frame.with_columns(to_polars(compiled))["value"].to_list())


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(FORMULAS, ROWS)
def test_python_sql_and_polars_back_ends_agree(
    database: tuple[sa.Engine, sa.Table], text: str, rows: list[dict[str, Any]]
) -> None:
    engine, table = database
    compiled = compile(text, SCHEMA)
    kind = compiled.result_type
    expected = [_normal(v, kind) for v in _python(compiled, rows)]
    from_sql = [_normal(v, kind) for v in _sql(compiled, rows, engine, table)]
    from_polars = [_normal(v, kind) for v in _polars(compiled, rows)]
    for i, row in enumerate(rows):
        assert _close(expected[i], from_sql[i], kind), (text, row, expected[i], from_sql[i])
        assert _close(expected[i], from_polars[i], kind), (text, row, expected[i], from_polars[i])


def test_division_by_zero_is_null_in_every_back_end(database: tuple[sa.Engine, sa.Table]) -> None:
    engine, table = database
    compiled = compile("a / c + 1", SCHEMA)
    rows = [{"a": 1, "b": 0, "c": 0, "p": None, "q": None, "s": None}]
    assert _python(compiled, rows) == [None]
    assert _sql(compiled, rows, engine, table) == [None]
    assert _polars(compiled, rows) == [None]


# --- dates, datetimes and durations -------------------------------------------------------

CAL_SCHEMA = {"d": "date", "e": "date", "t": "datetime", "u": "datetime", "w": "duration"}
CAL_FORMULAS = [
    "d < e",
    "d == @2025-03-01",
    "t >= u",
    "t - u <= 48h",
    "w > 2h",
    "u - t > w",
    "weekday(d) >= 6",
    "month(t) == 3",
    "day(e) + year(d)",
    "days_between(d, e)",
    "days_between(t, u)",
    "hours(u - t)",
    "hours(w) * 2",
    "w / 1h",
    "u - t",
    "e - d",
    "w * 2",
    "w + 30min",
    "-w",
    "abs(w)",
    "min(w, 3h)",
    "coalesce(w, 0s)",
    "t > @2025-03-01T08:00+08:00",
    "max(d, e)",
    "clamp(w, 1h, 1d)",
    "d in [@2025-03-01, @2025-03-02]",
]
UTC = dt.UTC
CAL_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "d": st.one_of(st.none(), st.dates(dt.date(2024, 12, 1), dt.date(2025, 4, 1))),
            "e": st.one_of(st.none(), st.dates(dt.date(2024, 12, 1), dt.date(2025, 4, 1))),
            "t": st.one_of(
                st.none(),
                st.datetimes(dt.datetime(2025, 2, 1), dt.datetime(2025, 4, 1)).map(
                    lambda v: v.replace(microsecond=0, tzinfo=UTC)
                ),
            ),
            "u": st.one_of(
                st.none(),
                st.datetimes(dt.datetime(2025, 2, 1), dt.datetime(2025, 4, 1)).map(
                    lambda v: v.replace(microsecond=0, tzinfo=UTC)
                ),
            ),
            "w": st.one_of(
                st.none(), st.integers(-3 * 86400, 3 * 86400).map(lambda s: dt.timedelta(seconds=s))
            ),
        }
    ),
    min_size=1,
    max_size=5,
)


@pytest.fixture(scope="module")
def calendar_db() -> Iterator[tuple[sa.Engine, sa.Table]]:
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    table = sa.Table(
        "calendar",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("d", sa.Date),
        sa.Column("e", sa.Date),
        sa.Column("t", sa.DateTime),  # UTC, naive in SQLite
        sa.Column("u", sa.DateTime),
        sa.Column("w", sa.Numeric),  # seconds
    )
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def _seconds(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return Decimal(value // dt.timedelta(microseconds=1)).scaleb(-6)
    return value


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(CAL_FORMULAS), CAL_ROWS)
def test_back_ends_agree_on_dates_datetimes_and_durations(
    calendar_db: tuple[sa.Engine, sa.Table], text: str, rows: list[dict[str, Any]]
) -> None:
    engine, table = calendar_db
    compiled = compile(text, CAL_SCHEMA)
    kind = compiled.result_type
    numeric = kind in (FieldType.NUMBER, FieldType.DURATION)
    check = FieldType.NUMBER if numeric else kind
    python = [_normal(_seconds(compiled.evaluate(r)), check) for r in rows]

    stored = [
        {
            "id": i,
            **r,
            "t": r["t"] and r["t"].replace(tzinfo=None),
            "u": r["u"] and r["u"].replace(tzinfo=None),
            "w": None if r["w"] is None else _seconds(r["w"]),
        }
        for i, r in enumerate(rows)
    ]
    expr = to_sql(compiled, table.c)
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(table.insert(), stored)
        query = sa.select(expr).select_from(table).order_by(table.c.id)
        from_sql = [_normal(v[0], check) for v in conn.execute(query)]

    frame = pl.DataFrame(
        rows,
        schema={
            "d": pl.Date,
            "e": pl.Date,
            "t": pl.Datetime("us", "UTC"),
            "u": pl.Datetime("us", "UTC"),
            "w": pl.Duration("us"),
        },
    )
    polars_out = frame.with_columns(to_polars(compiled))["value"].to_list()
    from_polars = [_normal(_seconds(v), check) for v in polars_out]

    for i, row in enumerate(rows):
        assert _close(python[i], from_sql[i], check), (text, row, python[i], from_sql[i])
        assert _close(python[i], from_polars[i], check), (text, row, python[i], from_polars[i])
