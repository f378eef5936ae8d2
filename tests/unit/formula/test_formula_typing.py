"""Type inference at definition time: result types and the names a formula reads."""

from __future__ import annotations

import pytest

from perfcore.formula import FieldType, FormulaError, compile

SCHEMA = {
    "n": "number",
    "m": "number",
    "s": "text",
    "b": "boolean",
    "d": "date",
    "e": "date",
    "t": "datetime",
    "u": "datetime",
    "du": FieldType.DURATION,
}


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("n + m", "number"),
        ("n / m", "number"),
        ("85%", "number"),
        ('"x"', "text"),
        ("true", "boolean"),
        ("n > m", "boolean"),
        ('s == "a"', "boolean"),
        ("b and not b", "boolean"),
        ("n in [1, 2]", "boolean"),
        ("@2025-03-01", "date"),
        ("@2025-03-01T08:00:00Z", "datetime"),
        ("48h", "duration"),
        ("d - e", "duration"),
        ("t - u", "duration"),
        ("d + 7d", "date"),
        ("7d + d", "date"),
        ("t - 30min", "datetime"),
        ("du * 2", "duration"),
        ("2 * du", "duration"),
        ("du / 2", "duration"),
        ("du / 1h", "number"),
        ("-du", "duration"),
        ('s if b else "none"', "text"),
        ("min(d, e)", "date"),
        ('max(s, "z")', "text"),
        ("coalesce(t, u)", "datetime"),
        ("abs(du)", "duration"),
        ("round(n)", "number"),
        ("safe_div(n, m, 1)", "number"),
        ("clamp(du, 0s, 8h)", "duration"),
        ("year(t)", "number"),
        ("weekday(d)", "number"),
        ("days_between(d, e)", "number"),
        ("hours(du)", "number"),
    ],
)
def test_result_type_is_inferred(text: str, result: str) -> None:
    assert compile(text, SCHEMA).result_type is FieldType(result)


def test_names_are_the_fields_read() -> None:
    f = compile("n / m if b else coalesce(n, 0)", SCHEMA)
    assert f.names == frozenset({"n", "m", "b"})
    assert compile("1 + 2", SCHEMA).names == frozenset()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("n + true", "type_mismatch"),
        ("n * s", "string_repetition"),
        ("d * 2", "type_mismatch"),
        ("du / d", "type_mismatch"),
        ("t - d", "type_mismatch"),
        ("not n", "not_boolean"),
        ("b or n", "not_boolean"),
        ("if(n, 1, 2)", "not_boolean"),
        ("days_between(d, t)", "type_mismatch"),
        ("year(n)", "type_mismatch"),
        ("hours(n)", "type_mismatch"),
        ("safe_div(n, s)", "type_mismatch"),
        ("coalesce(n, s)", "type_mismatch"),
        ('clamp(s, "a", "b")', "type_mismatch"),
        ("round(n, 13)", "bad_argument"),
        ("round(n, 1.5)", "bad_argument"),
        ("min(n)", "wrong_arguments"),
        ("d in [@2025-01-01, 1]", "type_mismatch"),
    ],
)
def test_type_errors_are_found_at_definition_time(text: str, code: str) -> None:
    with pytest.raises(FormulaError) as info:
        compile(text, SCHEMA)
    assert info.value.code == code


def test_schema_accepts_type_names_and_field_type_members_alike() -> None:
    a = compile("x + 1", {"x": "number"})
    b = compile("x + 1", {"x": FieldType.NUMBER})
    assert a.ir == b.ir


def test_field_type_values_are_the_shared_type_names() -> None:
    assert [t.value for t in FieldType] == [
        "number",
        "text",
        "boolean",
        "date",
        "datetime",
        "duration",
    ]
