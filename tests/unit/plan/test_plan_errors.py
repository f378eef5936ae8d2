"""Bad plans: every problem is reported at once, each as ``file:line:column: field.path:
message`` with the valid alternatives (issue 5, "Must show").

The base plan is ``plan_base.yaml`` (41 lines); each case edits one line. Line and column
numbers were counted by hand in the edited text (1-based; a mapping key's position for unknown
keys, the value's for bad values, and inside a formula the column of the offending token).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from perfcore.plan import PlanError, load, loads

BASE = (Path(__file__).parent / "plan_base.yaml").read_text(encoding="utf-8")


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new)


def messages(text: str) -> list[str]:
    with pytest.raises(PlanError) as info:
        loads(text, "base.yaml")
    return info.value.messages


def test_the_base_plan_loads() -> None:
    plan = loads(BASE, "base.yaml")
    assert plan.scorecard == ("fpy", "line_a_good")


def test_unknown_indicator_in_an_objective_names_the_closest_valid_one() -> None:
    # line 39: "    indicators: {fpy: 60, line_a_god: 40}" - the key starts at column 27
    text = edit("{fpy: 60, line_a_good: 40}", "{fpy: 60, line_a_god: 40}")
    assert messages(text) == [
        "base.yaml:39:27: objectives.quality.indicators.line_a_god: unknown indicator "
        "'line_a_god'; did you mean 'line_a_good'? valid: fpy, good, inspected, line_a_good"
    ]


def test_a_formula_type_error_points_into_the_formula() -> None:
    # line 33: "    expr: good + line" - the formula starts at column 11
    text = edit("    expr: good\n    filter", "    expr: good + line\n    filter")
    assert messages(text) == [
        "base.yaml:33:11: indicators.line_a_good.expr: cannot add number and text; text cannot "
        "be used in arithmetic; numbers are written without quotes"
    ]


def test_an_unknown_name_in_a_formula_points_at_the_name() -> None:
    # line 33: "    expr: good * (1 + goood)" - the formula starts at column 11 and `goood` is its
    # 13th character, so column 11 + 12 = 23
    text = edit("    expr: good\n    filter", "    expr: good * (1 + goood)\n    filter")
    assert messages(text) == [
        "base.yaml:33:23: indicators.line_a_good.expr: unknown field `goood`; did you mean `good`?"
    ]


def test_a_filter_must_be_boolean() -> None:
    # line 34: "    filter: good" - the formula starts at column 13
    text = edit('filter: line == "A"', "filter: good")
    assert messages(text) == [
        "base.yaml:34:13: indicators.line_a_good.filter: the formula gives number, but boolean "
        "is required here"
    ]


def test_weights_that_do_not_sum_as_required_report_the_actual_total() -> None:
    # line 39: the flow mapping "{fpy: 60, line_a_good: 30}" starts at column 17
    text = edit("{fpy: 60, line_a_good: 40}", "{fpy: 60, line_a_good: 30}")
    assert messages(text) == [
        "base.yaml:39:17: objectives.quality.indicators: indicator weights sum to 90, but "
        "weights.sum_to requires 100"
    ]


def test_decimal_weights_are_summed_exactly() -> None:
    # 33.3 + 33.3 + 33.4 is exactly 100 in decimal arithmetic (it is not in binary floating point)
    text = edit(
        "{fpy: 60, line_a_good: 40}", "{fpy: 33.3, line_a_good: 33.3, inspected: 33.4}"
    ).replace(
        "  inspected: {evidence: inspection, agg: sum, expr: inspected}",
        "  inspected: {evidence: inspection, agg: sum, expr: inspected, target: 100}",
    )
    plan = loads(text, "base.yaml")
    assert sum(plan.weights.values(), Decimal(0)) == Decimal(100)


def test_an_unknown_field_in_a_source_mapping_lists_the_evidence_fields() -> None:
    # line 17: "      inspectd: qty_in" - the key starts at column 7
    text = edit("      inspected: qty_in", "      inspectd: qty_in")
    assert messages(text) == [
        "base.yaml:17:7: sources.mes.fields.inspectd: unknown field 'inspectd' of evidence type "
        "'inspection'; did you mean 'inspected'? valid: good, inspected, line"
    ]


def test_a_yaml_syntax_error_is_located_where_the_parser_failed() -> None:
    # line 24 opens a flow mapping and never closes it; the parser fails at the ':' of
    # "  fpy:" on line 25, column 6
    text = edit(
        "  good: {evidence: inspection, agg: sum, expr: good}\n",
        "  good: {evidence: inspection, agg: sum, expr: good\n",
    )
    assert messages(text) == [
        "base.yaml:25:6: YAML syntax error: expected ',' or '}', but got ':' "
        "(while parsing a flow mapping)"
    ]


def test_a_yaml_error_that_a_wrong_indentation_causes_says_so() -> None:
    # line 25 ("  fpy:") indented one space too far: the parser fails at its start
    text = edit("  fpy:\n", "   fpy:\n")
    assert messages(text) == [
        "base.yaml:25:4: YAML syntax error: expected <block end>, but found "
        "'<block mapping start>' (while parsing a block mapping); check the indentation of "
        "this line and the lines above it"
    ]
    # a value with ': ' in it: the parser sees a nested mapping where none may start
    text = edit("name: ", "name: plan: ")
    [message] = messages(text)
    assert message.endswith(
        "YAML syntax error: mapping values are not allowed here; check the indentation of "
        "this line and the lines above it, or quote a value that contains ': '"
    )


def test_an_unknown_section_suggests_the_right_one() -> None:
    text = BASE + "objectves: {}\n"  # line 41
    [message] = messages(text)
    assert message.startswith(
        "base.yaml:41:1: objectves: unknown field 'objectves'; did you mean 'objectives'? valid: "
    )


def test_a_number_given_as_text_is_refused_with_its_position() -> None:
    # line 29: "    target: high" - the value starts at column 13
    text = edit("    target: 0.95", "    target: high")
    assert messages(text) == [
        "base.yaml:29:13: indicators.fpy.target: expected a number, got 'high'"
    ]


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = (
        BASE.replace("      inspected: qty_in", "      inspectd: qty_in")
        .replace("    expr: good\n    filter", "    expr: good + line\n    filter")
        .replace("{fpy: 60, line_a_good: 40}", "{fpy: 60, line_a_god: 40}")
    )
    assert [m.split(": ")[0] for m in messages(text)] == [
        "base.yaml:17:7",
        "base.yaml:33:11",
        "base.yaml:39:27",
    ]


def test_load_names_the_file_it_was_given(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(edit("    target: 0.95", "    target: high"), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load(path)
    assert info.value.messages == [
        f"{path}:29:13: indicators.fpy.target: expected a number, got 'high'"
    ]


def test_a_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        load(tmp_path / "nope.yaml")
    assert "cannot read the plan" in info.value.messages[0]
