"""The canonical IR: JSON-able, round-trips through from_ir, and is checked like text."""

from __future__ import annotations

import json

import pytest

from perfcore.formula import FormulaError, compile, from_ir

SCHEMA = {
    "good_qty": "number",
    "inspected_qty": "number",
    "grade": "text",
    "ok": "boolean",
    "d": "date",
    "t": "datetime",
    "du": "duration",
}

FORMULAS = [
    "good_qty / inspected_qty",
    "good_qty / inspected_qty if inspected_qty > 0 else 0",
    "0 <= good_qty <= 100",
    'grade not in ["A", "B\\"q"]',
    "not ok or good_qty != -3.25",
    "round(safe_div(good_qty, inspected_qty, 1) * 100, 2)",
    "85% * good_qty - (inspected_qty - 1)",
    "good_qty - (inspected_qty - 1)",
    "d + 7d > @2025-03-01",
    "t - 90min < @2025-03-01T08:00:00.5+08:00",
    "du * -2 == -1.5s",
    "coalesce(du, 0s) >= 1w",
    "clamp(good_qty, -1, 1) in [0, 1]",
    "-(good_qty + 1)",
    "(1 if ok else 2) if good_qty > 0 else 3",
]


def test_the_ir_of_first_pass_yield() -> None:
    assert compile("good_qty / inspected_qty", SCHEMA).ir == {
        "version": 1,
        "expr": {
            "op": "div",
            "type": "number",
            "args": [
                {"op": "field", "name": "good_qty", "type": "number"},
                {"op": "field", "name": "inspected_qty", "type": "number"},
            ],
        },
    }


def test_percentages_and_durations_are_canonical_literals() -> None:
    ir = compile("85% * good_qty", SCHEMA).ir
    assert ir["expr"]["args"][0] == {"op": "lit", "value": "0.85", "type": "number"}
    ir = compile("du > 48h", SCHEMA).ir
    assert ir["expr"]["args"][1] == {"op": "lit", "value": "172800", "type": "duration"}


@pytest.mark.parametrize("text", FORMULAS)
def test_ir_round_trips_through_json_and_from_ir(text: str) -> None:
    first = compile(text, SCHEMA)
    document = json.loads(json.dumps(first.ir))
    second = from_ir(document, SCHEMA)
    assert second.ir == first.ir
    assert second.canonical == first.canonical
    assert compile(first.canonical, SCHEMA).ir == first.ir


def test_an_editor_may_send_an_ir_without_types() -> None:
    doc = {
        "op": "mul",
        "args": [{"op": "field", "name": "good_qty"}, {"op": "lit", "type": "number", "value": 2}],
    }
    f = from_ir(doc, SCHEMA)
    assert f.canonical == "good_qty * 2"
    assert f.evaluate({"good_qty": 4}) == 8


def test_from_ir_reports_name_errors_against_the_canonical_text() -> None:
    doc = {
        "op": "add",
        "args": [
            {"op": "field", "name": "good_qtty"},
            {"op": "lit", "type": "number", "value": "1"},
        ],
    }
    with pytest.raises(FormulaError) as info:
        from_ir(doc, SCHEMA)
    assert (info.value.code, info.value.span, info.value.formula) == (
        "unknown_name",
        (1, 9),
        "good_qtty + 1",
    )
    assert info.value.hint == "did you mean `good_qty`?"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"op": "pow", "args": []}, "unknown op 'pow' at expr"),
        (
            {"op": "add", "args": [{"op": "field", "name": "ok"}]},
            "`add` takes 2 argument(s), got 1 at expr",
        ),
        ({"op": "lit", "value": "1"}, "a literal needs a `type` at expr"),
        (
            {"op": "lit", "type": "number", "value": "1e999999"},
            "literal '1e999999' is not a valid number at expr",
        ),
        (
            {"op": "field", "name": "__class__.__bases__"},
            "a field needs a valid `name` and no args at expr",
        ),
        (
            {"op": "neg", "args": [{"op": "call", "fn": "os.system"}]},
            "a call needs a function name `fn` at expr.args[0]",
        ),
        (
            {"op": "in", "args": [{"op": "field", "name": "ok"}, {"op": "field", "name": "ok"}]},
            "`in` needs a value and at least one literal at expr",
        ),
        ({"version": 2, "expr": {}}, "unsupported IR version 2 at version"),
        ("good_qty", "expected an object at expr"),
    ],
)
def test_malformed_ir_is_ir_invalid(doc: object, message: str) -> None:
    with pytest.raises(FormulaError) as info:
        from_ir(doc, SCHEMA)  # type: ignore[arg-type]
    assert (info.value.code, info.value.message) == ("ir_invalid", message)


def test_wrong_type_annotation_in_ir_is_refused() -> None:
    doc = {"op": "field", "name": "grade", "type": "number"}
    with pytest.raises(FormulaError) as info:
        from_ir(doc, SCHEMA)
    assert info.value.message == "the IR says expr is number but it is text"


def test_unknown_function_in_ir_is_refused_like_text() -> None:
    with pytest.raises(FormulaError) as info:
        from_ir({"op": "call", "fn": "exec", "args": []}, SCHEMA)
    assert info.value.code == "unknown_function"


def test_deep_ir_is_too_deep() -> None:
    node: dict[str, object] = {"op": "field", "name": "ok"}
    for _ in range(200):
        node = {"op": "not", "args": [node]}
    with pytest.raises(FormulaError) as info:
        from_ir(node, SCHEMA)
    assert info.value.code == "too_deep"
