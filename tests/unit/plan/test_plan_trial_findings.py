"""Plan problems from a fresh user's trial (findings 6, 7, 8, 11): caught when the plan loads,
each as ``file:line:column: field.path: message`` with the valid range or a "did you mean",
and always naming the plan's own field path, never a domain-internal one.

Positions are found in the test's own text (``at(line_no, token)``: 1-based column of the
token's first character on that line), independently of the loader's marks.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from perfcore.plan import PlanError, load, loads

BASE = """perfcore: 1
name: trial
evidence:
  inspection:
    fields: {inspected: number, good: number, line: text}
sources:
  mes:
    evidence: inspection
    subject: {field: leader}
    occurred_at: {field: day, format: "%Y-%m-%d"}
    id: [day, leader]
    fields: {inspected: inspected, good: good, line: line}
indicators:
  good: {evidence: inspection, agg: sum, expr: good}
  inspected: {evidence: inspection, agg: sum, expr: inspected}
  fpy: {type: ratio, numerator: good, denominator: inspected, target: 0.95}
objectives:
  quality: {weight: 1, indicators: {fpy: 1}}
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def at(text: str, line_no: int, token: str) -> str:
    """``line:column`` of ``token`` on 1-based line ``line_no`` of ``text``."""
    line = text.splitlines()[line_no - 1]
    assert token in line, (token, line)
    return f"{line_no}:{line.index(token) + 1}"


def messages(text: str, name: str = "p.yaml") -> list[str]:
    with pytest.raises(PlanError) as info:
        loads(text, name)
    return info.value.messages


def test_the_trial_base_plan_loads() -> None:
    assert loads(BASE, "p.yaml").scorecard == ("fpy",)


# --- finding 7: weights that can never score -------------------------------------------


def test_a_plan_whose_only_weight_is_zero_is_refused_at_load_with_the_valid_range() -> None:
    text = edit("indicators: {fpy: 1}}", "indicators: {fpy: 0}}")
    assert messages(text) == [
        f"p.yaml:{at(text, 18, '0}}')}: objectives.quality.indicators.fpy: every indicator "
        "weight of objective 'quality' is 0, so it can never be scored; valid: at least one "
        "weight > 0"
    ]


def test_all_zero_weights_are_refused_with_sum_to_too() -> None:
    text = edit("{weight: 1, indicators: {fpy: 1}}", "{weight: 0, indicators: {fpy: 0}}")
    text += "weights: {sum_to: 0}\n"
    assert messages(text) == [
        f"p.yaml:{at(text, 18, '0, indicators')}: objectives.quality.weight: every objective "
        "weight is 0, so no total can be scored; valid: at least one weight > 0",
        f"p.yaml:{at(text, 18, '0}}')}: objectives.quality.indicators.fpy: every indicator "
        "weight of objective 'quality' is 0, so it can never be scored; valid: at least one "
        "weight > 0",
    ]


def test_a_zero_weight_beside_a_positive_one_is_allowed() -> None:
    text = edit("indicators: {fpy: 1}}", "indicators: {fpy: 1, good: 0}}")
    text = edit(
        "  good: {evidence: inspection, agg: sum, expr: good}",
        "  good: {evidence: inspection, agg: sum, expr: good, target: 10}",
        text,
    )
    plan = loads(text, "p.yaml")
    assert plan.weights == {"fpy": Decimal(1), "good": Decimal(0)}


def test_a_loaded_plan_never_hits_the_scorecard_runtime_weight_checks() -> None:
    # check_weights raises for negative weights or all weights 0; both are load problems now
    from perfcore.domain.scorecard import check_weights

    plan = loads(
        edit(
            "indicators: {fpy: 1}}",
            "indicators: {fpy: 1, good: 0}}",
            edit("expr: good}", "expr: good, target: 10}"),
        ),
        "p.yaml",
    )
    assert check_weights(plan.weights) == {"fpy": Decimal(1), "good": Decimal(0)}
    assert check_weights(plan.objective_weights) == {"quality": Decimal(1)}


# --- finding 8: evidence constraints and reward amounts ----------------------------------


def test_constraints_must_name_a_declared_number_field() -> None:
    text = edit(
        "    fields: {inspected: number, good: number, line: text}\n",
        "    fields: {inspected: number, good: number, line: text}\n"
        "    constraints: {inspected: {min: 0, integer: true}, line: {min: 0}, godo: {min: 0}}\n",
    )
    assert messages(text) == [
        f"p.yaml:{at(text, 6, '{min: 0}, godo')}: evidence.inspection.constraints.line: only "
        "number fields take min, max or integer; 'line' is text; valid: inspected, good",
        f"p.yaml:{at(text, 6, 'godo')}: evidence.inspection.constraints.godo: unknown field "
        "'godo' of evidence type 'inspection'; did you mean 'good'? valid: good, inspected, line",
    ]


def test_a_max_below_the_min_is_refused() -> None:
    text = edit(
        "    fields: {inspected: number, good: number, line: text}\n",
        "    fields: {inspected: number, good: number, line: text}\n"
        "    constraints: {good: {min: 5, max: 1}}\n",
    )
    assert messages(text) == [
        f"p.yaml:{at(text, 6, '1}}')}: evidence.inspection.constraints.good.max: max 1 is "
        "below min 5 (valid: a number >= 5)"
    ]


def test_declared_constraints_reach_the_evidence_type() -> None:
    text = edit(
        "    fields: {inspected: number, good: number, line: text}\n",
        "    fields: {inspected: number, good: number, line: text}\n"
        "    constraints: {inspected: {min: 0, integer: true}, good: {min: 0, max: 1e6}}\n",
    )
    etype = loads(text, "p.yaml").evidence_types["inspection"]
    inspected, good = etype.spec("inspected"), etype.spec("good")
    assert inspected is not None
    assert inspected.bounds is not None
    assert (inspected.bounds.minimum, inspected.bounds.integer) == (Decimal(0), True)
    assert good is not None
    assert good.bounds is not None
    assert good.bounds.maximum == Decimal(1000000)
    assert good.bounds.valid == "a number from 0 to 1000000"


def test_a_negative_reward_amount_is_refused_at_load() -> None:
    text = BASE + ("incentives:\n  bonus: {when: fpy > 0.9, reward: {kind: points, amount: -50}}\n")
    assert messages(text) == [
        f"p.yaml:{at(text, 20, '-50')}: incentives.bonus.reward.amount: reward amount -50 is "
        "negative; valid: >= 0 (a rule awards; clawbacks are ledger reversals of an award, "
        "not rules)"
    ]


# --- finding 11: the plan's own field paths ------------------------------------------------


def test_a_negative_sla_is_reported_at_reviews_sla_hours() -> None:
    text = BASE + "reviews: {sla_hours: -5}\n"
    assert messages(text) == [
        f"p.yaml:{at(text, 19, '-5')}: reviews.sla_hours: sla_hours -5 is not positive; valid: >= 1"
    ]


def test_review_hours_and_levels_are_reported_at_their_plan_keys() -> None:
    text = BASE + (
        "reviews: {sla_hours: 48, reminders_before_hours: [60], escalation_interval_hours: 0,"
        " escalation_levels: 0}\n"
    )
    assert messages(text) == [
        f"p.yaml:{at(text, 19, '60')}: reviews.reminders_before_hours[0]: a reminder 60 hours "
        "before the deadline is outside the response window; valid: 1 to 47 (less than "
        "sla_hours 48)",
        f"p.yaml:{at(text, 19, '0,')}: reviews.escalation_interval_hours: "
        "escalation_interval_hours 0 is not positive; valid: >= 1",
        f"p.yaml:{at(text, 19, '0}')}: reviews.escalation_levels: escalation_levels 0 is below "
        "1; valid: >= 1",
    ]


def test_review_component_and_scale_errors_name_plan_keys_not_domain_ones() -> None:
    text = BASE + "reviews: {components: {self: -1, manager: 1}}\n"
    assert messages(text) == [
        f"p.yaml:{at(text, 19, '-1')}: reviews.components.self: weight -1 is negative (valid: >= 0)"
    ]
    text = BASE + "reviews: {components: {manager: 1}, scale_min: 5, scale_max: 1}\n"
    assert messages(text) == [
        f"p.yaml:{at(text, 19, '5,')}: reviews.scale_min: minimum 5 is not below maximum 1 "
        "(valid: minimum < maximum, e.g. 1..5)"
    ]


def test_a_band_table_point_error_names_the_list_position_not_x() -> None:
    text = edit(
        "target: 0.95}",
        "target: 0.95, scoring: {method: band_table, points: [[1, 0], [0.5, 1]]}}",
    )
    assert messages(text) == [
        f"p.yaml:{at(text, 16, '0.5, 1]')}: indicators.fpy.scoring.points[1][0]: point x 0.5 "
        "does not come after the previous point's x 1 (points overlap or are out of order) "
        "(valid: x strictly greater than 1)"
    ]


def test_an_unknown_calibration_operator_is_a_problem_not_a_traceback() -> None:
    text = BASE + (
        "calibration:\n"
        "  buckets: {low: [1, 2], high: [3, 4, 5]}\n"
        "  targets: {low: 0.5, high: 0.5}\n"
        "  rules: [{bucket: low, op: '<<', value: 0.6}]\n"
    )
    assert messages(text) == [
        f"p.yaml:{at(text, 22, chr(39) + '<<')}: calibration.rules[0].op: unknown operator "
        "'<<'; did you mean '<'? valid: <, <=, =, >, >=, between"
    ]


# --- finding 6, plan side: formats and column names ----------------------------------------


def test_a_bad_strptime_directive_is_refused() -> None:
    text = edit('format: "%Y-%m-%d"', 'format: "%Q"')
    assert messages(text) == [
        f"p.yaml:{at(text, 10, chr(34) + '%Q')}: sources.mes.occurred_at.format: '%Q' is not a "
        "valid strptime format ('Q' is a bad directive in format '%Q')"
    ]


def test_a_format_without_a_full_date_is_refused() -> None:
    text = edit('format: "%Y-%m-%d"', 'format: "%d %H:%M"')
    assert messages(text) == [
        f"p.yaml:{at(text, 10, chr(34) + '%d')}: sources.mes.occurred_at.format: '%d %H:%M' "
        "does not read back a full date: 2024-11-28 13:45 is written '28 13:45' and read as "
        "1900-01-28 13:45; a format needs the year, month and day (e.g. %Y-%m-%d %H:%M)"
    ]


def test_common_export_formats_pass() -> None:
    for fmt in ("%m/%d/%Y", "%d.%m.%y %H:%M", "%Y%m%d", "%Y-%m-%dT%H:%M:%S%z", "%b %d %Y"):
        loads(edit('format: "%Y-%m-%d"', f'format: "{fmt}"'), "p.yaml")


def test_mapped_columns_are_checked_against_declared_columns() -> None:
    text = edit("    id: [day, leader]\n", "    id: [day, leadr]\n")
    text = edit("    subject: {field: leader}\n", "    subject: {field: leadr}\n", text)
    text = edit(
        "    fields: {inspected: inspected, good: good, line: line}\n",
        "    fields: {inspected: inspected, good: good, line: line}\n"
        "    columns: [day, leader, inspected, good, line]\n",
        text,
    )
    hint = "did you mean 'leader'? valid: day, good, inspected, leader, line"
    assert messages(text) == [
        f"p.yaml:{at(text, 9, 'leadr')}: sources.mes.subject.field: column 'leadr' is not in "
        f"the source's declared columns; {hint}",
        f"p.yaml:{at(text, 11, 'leadr')}: sources.mes.id[1]: column 'leadr' is not in the "
        f"source's declared columns; {hint}",
    ]


def test_mapped_columns_are_checked_against_a_readable_csv_header(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mes.csv").write_text(
        "day,leader,inspected,good,line\n2025-03-01,E1,10,9,A\n", encoding="utf-8"
    )
    text = edit("    id: [day, leader]\n", "    id: [day, leadr]\n")
    text = edit("inspected: inspected,", "inspected: inspectd,", text)
    text = edit("  mes:\n", "  mes:\n    kind: csv\n    config: {path: data/mes.csv}\n", text)
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load(plan)
    valid = "valid: day, good, inspected, leader, line"
    assert info.value.messages == [
        f"{plan}:{at(text, 13, 'leadr')}: sources.mes.id[1]: column 'leadr' is not in the "
        f"header of data/mes.csv; did you mean 'leader'? {valid}",
        f"{plan}:{at(text, 14, 'inspectd')}: sources.mes.fields.inspected: column 'inspectd' is "
        f"not in the header of data/mes.csv; did you mean 'inspected'? {valid}",
    ]


def test_template_columns_are_checked_and_an_unreadable_file_is_not() -> None:
    text = edit("    subject: {field: leader}\n", '    subject: {template: "{line}-{leadr}"}\n')
    text = edit("  mes:\n", "  mes:\n    kind: csv\n    config: {path: /nonexistent/x.csv}\n", text)
    loads(text, "p.yaml")  # not readable at load time: nothing to check against
    text = edit(
        "    fields: {inspected: inspected, good: good, line: line}\n",
        "    fields: {inspected: inspected, good: good, line: line}\n"
        "    columns: [day, leader, inspected, good, line]\n",
        text,
    )
    assert messages(text) == [
        f"p.yaml:{at(text, 11, chr(34))}: sources.mes.subject.template: column 'leadr' is not "
        "in the source's declared columns; did you mean 'leader'? valid: day, good, inspected, "
        "leader, line"
    ]


# --- lists are lists ------------------------------------------------------------------------


def test_text_where_a_list_is_expected_is_refused_not_split_into_characters() -> None:
    text = edit("    id: [day, leader]\n", "    id: day\n")
    assert messages(text) == [
        f"p.yaml:{at(text, 11, 'day')}: sources.mes.id: expected a list, got 'day'"
    ]


def test_a_bad_list_item_is_still_located_at_its_index() -> None:
    text = BASE + "reviews: {reminders_before_hours: [24, soon]}\n"
    assert messages(text) == [
        f"p.yaml:{at(text, 19, 'soon')}: reviews.reminders_before_hours[1]: expected an "
        "integer, got 'soon'"
    ]
