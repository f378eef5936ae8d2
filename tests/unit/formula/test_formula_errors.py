"""Every FormulaError code: exact message shape, 1-based span, caret rendering and hint.

The spans are 1-based character columns with an inclusive end (docs/formula.md, "Errors").
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfcore.formula import ERROR_CODES, MAX_DEPTH, MAX_LENGTH, FormulaError, compile, from_ir

SCHEMA = {
    "good_qty": "number",
    "inspected_qty": "number",
    "合格数": "number",
    "qty": "number",
    "name": "text",
    "active": "boolean",
    "due": "date",
    "closed_at": "datetime",
    "opened_at": "datetime",
    "open_for": "duration",
}


def error_of(text: str, schema: dict[str, str] | None = None) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        compile(text, SCHEMA if schema is None else schema)
    return info.value


# (text, code, message, span, hint) -- the exact shapes users see
CASES = [
    (
        "good_qtty / inspected_qty",
        "unknown_name",
        "unknown field `good_qtty`",
        (1, 9),
        "did you mean `good_qty`?",
    ),
    (
        "合格 / inspected_qty",
        "unknown_name",
        "unknown field `合格`",
        (1, 2),
        "did you mean `合格数`?",
    ),
    (
        "zzz + 1",
        "unknown_name",
        "unknown field `zzz`",
        (1, 3),
        "known fields: `active`, `closed_at`, `due`, `good_qty`, `inspected_qty`, `name`, "
        "`open_for`, `opened_at`, ...",
    ),
    (
        "max + 1",
        "unknown_name",
        "unknown field `max`",
        (1, 3),
        "`max` is a function; call it as max(x, y, ...)",
    ),
    (
        'qty + "x"',
        "type_mismatch",
        "cannot add number and text",
        (1, 9),
        "text cannot be used in arithmetic; numbers are written without quotes",
    ),
    (
        "合格数 - active",
        "type_mismatch",
        "cannot subtract number and boolean",
        (1, 12),
        "true/false values cannot be used in arithmetic; use `x if cond else y`",
    ),
    (
        "due + due",
        "type_mismatch",
        "cannot add date and date",
        (1, 9),
        "dates cannot be added; subtract them or add a duration such as `7d`",
    ),
    (
        "closed_at + 2",
        "type_mismatch",
        "cannot add datetime and number",
        (1, 13),
        "write durations with a unit, e.g. `48h` or `7d`",
    ),
    (
        'qty == "5"',
        "type_mismatch",
        "cannot compare number with text using `==`",
        (1, 10),
        "numbers are written without quotes, e.g. `qty == 5`",
    ),
    (
        "due < closed_at",
        "type_mismatch",
        "cannot compare date with datetime using `<`",
        (1, 15),
        "a date and a datetime differ; compare two dates or two datetimes",
    ),
    (
        "active < true",
        "type_mismatch",
        "`<` cannot order booleans",
        (1, 13),
        "use == or != with true/false values",
    ),
    (
        '1 if active else "a"',
        "type_mismatch",
        "the two results of `if` differ: number and text",
        (1, 20),
        "both branches must give the same type",
    ),
    (
        'qty in [1, "b"]',
        "type_mismatch",
        "the list holds a text but `qty` is a number",
        (12, 14),
        "every value in the list must have the type of the left side",
    ),
    (
        "-name",
        "type_mismatch",
        "cannot negate a text",
        (1, 5),
        "`-` works on numbers and durations",
    ),
    (
        "abs(name)",
        "type_mismatch",
        "`abs` needs a number or a duration, but `name` is a text",
        (5, 8),
        "write abs(x)",
    ),
    (
        "min(qty, due)",
        "type_mismatch",
        "`min` needs a number, but `due` is a date",
        (10, 12),
        "write min(x, y, ...)",
    ),
    (
        "qty if 合格数 else 0",
        "not_boolean",
        "the condition after `if` needs true/false, but `合格数` is a number",
        (8, 10),
        "compare it, e.g. `合格数 > 0`",
    ),
    (
        "name and active",
        "not_boolean",
        "`and` needs true/false, but `name` is a text",
        (1, 4),
        "use a comparison such as == or a true/false field",
    ),
    (
        "name * 3",
        "string_repetition",
        "text cannot be multiplied by a number",
        (1, 8),
        "repeating text is not supported",
    ),
    (
        "total(qty)",
        "unknown_function",
        "unknown function `total`",
        (1, 5),
        "aggregation (sum, average, count) is chosen in the indicator definition, not inside a row "
        "formula",
    ),
    ("mx(qty, 1)", "unknown_function", "unknown function `mx`", (1, 2), "did you mean `max`?"),
    (
        'eval("1")',
        "unknown_function",
        "unknown function `eval`",
        (1, 4),
        "allowed functions: abs, clamp, coalesce, day, days_between, hours, max, min, month, "
        "round, safe_div, weekday, year",
    ),
    (
        "qty(1)",
        "not_callable",
        "`qty` is a field, not a function",
        (1, 3),
        "use `qty` without brackets",
    ),
    ("(qty)(1)", "not_callable", "only functions can be called with `(...)`", (1, 6), ""),
    (
        "round(qty, 2, 3)",
        "wrong_arguments",
        "`round` takes 1 to 2 argument(s), got 3",
        (1, 16),
        "write round(x, places)",
    ),
    (
        "clamp(qty, 1)",
        "wrong_arguments",
        "`clamp` takes 3 argument(s), got 2",
        (1, 13),
        "write clamp(x, low, high)",
    ),
    (
        "if(active, 1)",
        "wrong_arguments",
        "if(condition, then, else) takes 3 arguments, got 2",
        (1, 13),
        "",
    ),
    (
        "round(qty, qty)",
        "bad_argument",
        "`round` places must be a whole number from 0 to 12",
        (12, 14),
        "e.g. round(x, 2)",
    ),
    (
        "clamp(qty, 10, 1)",
        "bad_argument",
        "`clamp` low is greater than high",
        (1, 17),
        "write clamp(x, low, high) with low <= high",
    ),
    (
        "qty ** 2",
        "power",
        "`**` (power) is not allowed",
        (5, 6),
        "multiply explicitly, e.g. `x * x`",
    ),
    ("qty ^ 2", "power", "`^` (power) is not allowed", (5, 5), "multiply explicitly, e.g. `x * x`"),
    (
        "qty % 3",
        "modulo",
        "`%` (remainder) is not allowed",
        (5, 5),
        "a percentage is written right after a number, e.g. `85%`",
    ),
    ("qty = 3", "assignment", "`=` (assignment) is not allowed", (5, 5), "to compare, write `=="),
    ("qty >== 3", "syntax_error", "`>==` is not an operator here", (5, 7), "write `>=`"),
    ("qty === 3", "syntax_error", "`===` is not an operator here", (5, 7), "write `==`"),
    (
        'name =~ "a+"',
        "regex",
        "regular expressions are not allowed",
        (6, 7),
        "compare with == or use `in [...]`",
    ),
    ("qty.real", "attribute_access", "`.` (attribute access) is not allowed", (4, 4), ""),
    (
        "name[0]",
        "subscript",
        "indexing with `[...]` is not allowed",
        (5, 5),
        "a list may only follow `in`",
    ),
    (
        "lambda: 1",
        "lambda",
        "`lambda` is not allowed in a formula",
        (1, 6),
        "functions cannot be defined inside a formula",
    ),
    (
        "[q for q in qty]",
        "comprehension",
        "`for` is not allowed in a formula",
        (4, 6),
        "loops and list comprehensions are not part of the language",
    ),
    (
        "import os",
        "forbidden_keyword",
        "`import` is not allowed in a formula",
        (1, 6),
        "formulas cannot import anything",
    ),
    (
        "qty is None",
        "forbidden_keyword",
        "`is` is not allowed in a formula",
        (5, 6),
        "compare with == or != instead of `is`",
    ),
    (
        "[1, 2]",
        "list_outside_in",
        "a list `[...]` may only follow `in`",
        (1, 1),
        "write `x in [1, 2, 3]`",
    ),
    (
        "qty in []",
        "empty_list",
        "the list after `in` is empty",
        (8, 9),
        "put at least one value in the list",
    ),
    (
        "qty in [inspected_qty]",
        "not_literal",
        "a list after `in` may only hold fixed values",
        (9, 21),
        "use numbers, texts, dates or true/false",
    ),
    (
        "qty $ 2",
        "unexpected_character",
        "the character `$` is not part of the language",
        (5, 5),
        "",
    ),
    (
        'name == "abc',
        "unterminated_string",
        "text in quotes is not closed",
        (9, 12),
        'close it with "',
    ),
    (
        "1e5",
        "bad_number",
        "`1e5` is not a number or a duration",
        (1, 3),
        "durations use the units w, d, h, min, s (e.g. `48h`); exponents like 1e5 are not "
        "supported; put a space between a number and a name",
    ),
    (
        "due == @2025-02-30",
        "bad_date",
        "`@2025-02-30` is not a valid date",
        (8, 18),
        "write @YYYY-MM-DD, or @YYYY-MM-DDTHH:MM[:SS]+HH:MM for a datetime (Z for UTC)",
    ),
    (
        "closed_at > @2025-03-01T08:00",
        "bad_date",
        "the datetime `@2025-03-01T08:00` has no UTC offset",
        (13, 29),
        "add Z (UTC) or an offset such as +08:00",
    ),
    (
        "qty +",
        "unexpected_end",
        "the formula ends where a value, a field name or `(` was expected",
        (6, 6),
        "",
    ),
    (
        "",
        "unexpected_end",
        "the formula is empty",
        (1, 1),
        "write an expression such as `good_qty / inspected_qty`",
    ),
    ("(qty + 1", "unclosed_bracket", "`(` is never closed", (1, 1), "add `)`"),
    ("qty + 1)", "syntax_error", "`)` has no matching opening bracket", (8, 8), ""),
    (
        "qty qty",
        "syntax_error",
        "unexpected `qty`; expected an operator or the end of the formula",
        (5, 7),
        "",
    ),
    (
        "qty if active",
        "unexpected_end",
        "the formula ends where `else` (write `x if condition else y`) was expected",
        (14, 14),
        "",
    ),
]


@pytest.mark.parametrize(("text", "code", "message", "span", "hint"), CASES)
def test_error_has_exact_code_message_span_and_hint(
    text: str, code: str, message: str, span: tuple[int, int], hint: str
) -> None:
    error = error_of(text)
    assert (error.code, error.message, error.span) == (code, message, span)
    assert error.hint.startswith(hint) if code == "assignment" else error.hint == hint
    assert error.formula == text


def test_every_error_code_is_documented_in_the_code_table() -> None:
    codes = {case[1] for case in CASES}
    assert codes <= set(ERROR_CODES)


def test_rendering_puts_carets_under_the_span() -> None:
    error = error_of("good_qtty / inspected_qty")
    assert str(error) == (
        "unknown_name: unknown field `good_qtty`\n"
        "  good_qtty / inspected_qty\n"
        "  ^^^^^^^^^\n"
        "hint: did you mean `good_qty`?"
    )


def test_rendering_counts_wide_characters_twice_so_carets_line_up() -> None:
    error = error_of("合格数 + 合格")
    assert error.span == (7, 8)
    assert str(error) == (
        "unknown_name: unknown field `合格`\n"
        "  合格数 + 合格\n"
        "           ^^^^\n"
        "hint: did you mean `合格数`?"
    )


def test_rendering_shows_newlines_as_spaces() -> None:
    error = error_of("qty +\nzzz")
    assert error.span == (7, 9)
    assert str(error).splitlines()[1:3] == ["  qty + zzz", "        ^^^"]


def test_too_long_formula_is_refused_before_parsing() -> None:
    error = error_of("qty + " * 400)
    assert error.code == "too_long"
    assert error.message == f"the formula has 2400 characters; the limit is {MAX_LENGTH}"
    assert error.span == (MAX_LENGTH + 1, 2400)


def test_deep_brackets_are_refused_before_parsing() -> None:
    text = "(" * (MAX_DEPTH + 1) + "qty" + ")" * (MAX_DEPTH + 1)
    error = error_of(text)
    assert (error.code, error.span) == ("too_deep", (MAX_DEPTH + 1, MAX_DEPTH + 1))
    assert error.message == f"brackets are nested more than {MAX_DEPTH} levels deep"


def test_long_chains_of_unary_minus_are_too_deep_not_a_recursion_error() -> None:
    error = error_of("-" * 500 + "qty")
    assert error.code == "too_deep"


def test_long_not_chains_are_too_deep() -> None:
    assert error_of("not " * 300 + "active").code == "too_deep"


def test_too_many_nodes() -> None:
    error = error_of(" + ".join(["1"] * 450))
    assert error.code == "too_many_nodes"
    assert error.message == "the formula has more than 400 parts"


def test_too_many_tokens_is_refused_by_the_lexer() -> None:
    assert error_of("," * 1001).code == "too_many_nodes"


def test_a_sum_of_many_terms_is_fine_but_a_tree_deeper_than_the_limit_is_not() -> None:
    compile(" + ".join(["qty"] * 90), SCHEMA)
    assert error_of(" + ".join(["qty"] * 120)).code == "too_deep"


def test_non_text_formula_is_a_formula_error() -> None:
    with pytest.raises(FormulaError) as info:
        compile(42, SCHEMA)  # type: ignore[arg-type]
    assert info.value.code == "syntax_error"


def test_unknown_type_in_schema_is_bad_schema_with_a_hint() -> None:
    with pytest.raises(FormulaError) as info:
        compile("x", {"x": "numbr"})
    assert info.value.code == "bad_schema"
    assert info.value.message == (
        "field `x` has unknown type 'numbr'; valid types are number, text, boolean, date, "
        "datetime, duration"
    )
    assert info.value.hint == "did you mean `number`?"
    assert info.value.span is None


def test_schema_field_names_must_be_names() -> None:
    with pytest.raises(FormulaError) as info:
        compile("x", {"good qty": "number"})
    assert info.value.code == "bad_schema"


def test_repr_names_code_and_span() -> None:
    assert repr(error_of("zzz")) == (
        "FormulaError(code='unknown_name', message='unknown field `zzz`', span=(1, 3))"
    )


BY_TEXT = {case[1]: case[0] for case in CASES}
PROVOKE: dict[str, Callable[[], object]] = {
    "too_long": lambda: compile("1" * (MAX_LENGTH + 1), SCHEMA),
    "too_deep": lambda: compile("-" * 100 + "1", SCHEMA),
    "too_many_nodes": lambda: compile("+".join(["1"] * 401), SCHEMA),
    "bad_schema": lambda: compile("1", {"x": "money"}),
    "bad_value": lambda: compile("qty + 1", SCHEMA).evaluate({"qty": "7"}),
    "ir_invalid": lambda: from_ir({"op": "pow"}, SCHEMA),
}
# unsupported_backend comes from the SQL adapter: tests/integration/test_formula_sql_lowering.py


@pytest.mark.parametrize("code", sorted(set(ERROR_CODES) - {"unsupported_backend"}))
def test_every_error_code_can_be_raised_and_renders(code: str) -> None:
    text = BY_TEXT.get(code)
    provoke = PROVOKE.get(code) or (lambda: compile(str(text), SCHEMA))
    with pytest.raises(FormulaError) as info:
        provoke()
    assert info.value.code == code
    assert str(info.value).startswith(f"{code}: {info.value.message}")
