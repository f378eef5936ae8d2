"""Fuzzing ``compile``: whatever the text, the outcome is a CompiledFormula or a FormulaError.

Never another exception, a crash, a hang, an import or any other side effect. The CI examples are
moderate; ``test_fuzz_compile_long_running`` (marked slow) runs the same properties much longer:
``pytest -m slow tests/unit/formula/test_formula_fuzz.py``.
"""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfcore.formula import CompiledFormula, FormulaError, compile

SCHEMA = {
    "a": "number",
    "b": "number",
    "合格数": "number",
    "s": "text",
    "ok": "boolean",
    "d": "date",
    "t": "datetime",
    "du": "duration",
}

TOKENS = [
    "a",
    "b",
    "合格数",
    "s",
    "ok",
    "d",
    "t",
    "du",
    "x",
    "__class__",
    "__import__",
    "os",
    "1",
    "0",
    "2.5",
    "85%",
    "48h",
    "7d",
    "1e9",
    "'txt'",
    '"q"',
    "@2025-03-01",
    "@0001-01-01T00:00+05:00",
    "@9999-12-31",
    "1000000000d",
    "999999999d",
    "@2025-03-01T08:00Z",
    "true",
    "false",
    "None",
    "+",
    "-",
    "*",
    "/",
    "**",
    "%",
    "^",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ";",
    "\\",
    "'",
    '"',
    "@",
    "and",
    "or",
    "not",
    "if",
    "else",
    "in",
    "for",
    "lambda",
    "import",
    "is",
    "min",
    "max",
    "abs",
    "round",
    "coalesce",
    "safe_div",
    "clamp",
    "year",
    "month",
    "day",
    "weekday",
    "days_between",
    "hours",
    "eval",
    "exec",
    "open",
    "getattr",
    " ",
    "\n",
    "\t",
    "\x00",
    "\u200b",
    "𝔞",
    "é",
    "٣",
]

token_soup = st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join)
tight_soup = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
any_text = st.text(max_size=300)
nested = st.tuples(
    st.integers(min_value=0, max_value=3000), st.sampled_from(["(", "[", "-", "not ", "abs("])
).map(lambda p: p[1] * p[0] + "a")

ROW = {
    "a": Decimal(3),
    "b": Decimal(0),
    "合格数": None,
    "s": "x",
    "ok": None,
    "d": None,
    "t": None,
    "du": None,
}


def _outcome(text: str) -> None:
    before = set(sys.modules)
    compiled: CompiledFormula | None = None
    error: FormulaError | None = None
    try:
        compiled = compile(text, SCHEMA)
    except FormulaError as exc:
        error = exc
    if error is not None:
        assert error.code
        assert str(error)  # rendering never fails
        if error.span is not None:
            assert 1 <= error.span[0] <= error.span[1]
    else:
        assert isinstance(compiled, CompiledFormula)
        compiled.evaluate(ROW)  # evaluation of a compiled formula never raises here
        # the generated Python holds no quoted text at all: user values are constants
        assert "'" not in compiled.source
        assert '"' not in compiled.source
        assert compile(compiled.canonical, SCHEMA).ir == compiled.ir
    assert set(sys.modules) == before  # compiling imported nothing


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(any_text)
def test_arbitrary_unicode_text_compiles_or_is_a_formula_error(text: str) -> None:
    _outcome(text)


@FAST
@given(st.one_of(token_soup, tight_soup))
def test_token_soup_compiles_or_is_a_formula_error(text: str) -> None:
    _outcome(text)


@FAST
@given(nested)
def test_deep_nesting_is_refused_cleanly(text: str) -> None:
    _outcome(text)


ATTACKS = [
    "().__class__.__bases__[0].__subclasses__()",
    "__import__('os').system('echo hi')",
    "'{0.__class__.__mro__}'.format(s)",
    "9**9**9",
    "'x' * 2000000000",
    "(" * 5000 + "a" + ")" * 5000,
    " + ".join(["a"] * 100000),
    "[x for x in [1, 2] for y in [3, 4]]",
    "lambda: open('/etc/passwd').read()",
    "s =~ '(a+)+$'",
    "getattr(a, '__class__')",
    "a if a else a",
    "\x00",
    "a" * 5000,
]


@pytest.mark.parametrize("text", ATTACKS, ids=[f"attack{i}" for i in range(len(ATTACKS))])
def test_known_attacks_are_formula_errors(text: str) -> None:
    with pytest.raises(FormulaError):
        compile(text, SCHEMA)


@pytest.mark.slow
@settings(max_examples=20000, deadline=2000, suppress_health_check=list(HealthCheck))
@given(st.one_of(any_text, token_soup, tight_soup, nested, st.text(min_size=1000, max_size=2100)))
def test_fuzz_compile_long_running(text: str) -> None:
    _outcome(text)


EVAL_FORMULAS = [
    "a * a - a * a > 0",
    "a / b",
    "round(a, 12)",
    "du * a",
    "du / a",
    "d + du",
    "t - du",
    "days_between(d, d)",
    "hours(du)",
    "year(t)",
    "clamp(a, b, 合格数)",
    "safe_div(a, b, 1)",
    "a in [1, 2.5]",
    "min(a, b, 合格数) + max(a, b)",
    "abs(du) / 1s",
    "-du",
    "t + du > t",
    "coalesce(a, b) * 85%",
    "not ok or a > 0",
]
numbers = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e999999999"), Decimal("-1e-999999999"), Decimal("1e999999"), 0]),
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e999999999"), Decimal("-1e-999999999"), Decimal("1e999999")]),
    st.dates(),
    st.datetimes(timezones=st.timezones()),
    st.datetimes(),
    st.timedeltas(),
)


@FAST
@given(
    st.sampled_from(EVAL_FORMULAS),
    st.fixed_dictionaries(
        {
            "a": st.one_of(numbers, anything),
            "b": st.one_of(numbers, anything),
            "合格数": st.one_of(numbers, anything),
            "ok": st.one_of(st.none(), st.booleans(), anything),
            "d": st.one_of(st.none(), st.dates(), anything),
            "t": st.one_of(st.none(), st.datetimes(timezones=st.timezones()), anything),
            "du": st.one_of(st.none(), st.timedeltas(), anything),
        }
    ),
)
def test_evaluation_returns_a_value_or_a_formula_error(text: str, row: dict[str, object]) -> None:
    compiled = compile(text, SCHEMA)
    try:
        compiled.evaluate(row)
    except FormulaError as exc:
        assert exc.code == "bad_value"  # noqa: PT017 - the only allowed failure


@pytest.mark.slow
@settings(max_examples=20000, deadline=2000, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(EVAL_FORMULAS),
    st.fixed_dictionaries(
        {
            "a": st.one_of(numbers, anything),
            "b": st.one_of(numbers, anything),
            "合格数": st.one_of(numbers, anything),
            "ok": st.one_of(st.none(), st.booleans(), anything),
            "d": st.one_of(st.none(), st.dates(), anything),
            "t": st.one_of(st.none(), st.datetimes(timezones=st.timezones()), anything),
            "du": st.one_of(st.none(), st.timedeltas(), anything),
        }
    ),
)
def test_fuzz_evaluate_long_running(text: str, row: dict[str, object]) -> None:
    test_evaluation_returns_a_value_or_a_formula_error.hypothesis.inner_test(text, row)  # type: ignore[attr-defined]
