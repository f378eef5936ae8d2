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
