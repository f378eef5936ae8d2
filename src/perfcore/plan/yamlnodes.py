"""YAML with positions: compose (not load) the document so every value keeps its line/column.

:func:`compose` returns plain Python data (dicts, lists, strings, ints, Decimals, bools, None)
plus a :class:`Marks` index from field paths (tuples of keys and list indexes) to 1-based
``(line, column)`` of the value, and of the key for mapping entries. Numbers are read as
:class:`~decimal.Decimal` (never float) so that ``weight: 0.1`` stays exact. Duplicate keys and
YAML syntax errors become :class:`~perfcore.plan.problems.Problem` s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import yaml
from attrs import define, field

from perfcore.plan.problems import PlanError, Problem

__all__ = ["Marks", "Path", "compose", "render_path"]

Path = tuple[str | int, ...]

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def render_path(path: Path) -> str:
    """``("objectives", "q", "indicators", 0)`` → ``objectives.q.indicators[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@define
class Marks:
    """Positions of values and keys by path, for one file."""

    file: str
    values: dict[Path, tuple[int, int]] = field(factory=dict)
    keys: dict[Path, tuple[int, int]] = field(factory=dict)
    quoted: dict[Path, bool] = field(factory=dict)

    def at(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """The position of the value (or key) at ``path``, or of its nearest known ancestor."""
        probe = path
        while True:
            table = self.keys if key else self.values
            if probe in table:
                return table[probe]
            if not key and probe in self.keys:
                return self.keys[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]
            key = False

    def problem(self, path: Path, message: str, *, key: bool = False) -> Problem:
        """A :class:`Problem` located at ``path``."""
        line, column = self.at(path, key=key)
        return Problem(self.file, line, column, render_path(path), message)


def _scalar(node: yaml.ScalarNode) -> object:
    value = node.value
    if node.style in ("'", '"', "|", ">"):
        return value
    tag = node.tag
    if tag.endswith(":null") or value in ("", "~", "null", "Null", "NULL"):
        return None
    if tag.endswith(":bool"):
        return value.lower() in ("true", "yes", "on")
    if tag.endswith(":int") and _INT.match(value):
        return int(value)
    if (tag.endswith(":float") or tag.endswith(":int")) and _FLOAT.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - guarded by the regex
            return value
    return value


def _walk(node: yaml.Node, path: Path, marks: Marks, problems: list[Problem]) -> object:
    marks.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        marks.quoted[path] = node.style in ("'", '"')
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_walk(child, (*path, i), marks, problems) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                problems.append(Problem(marks.file, line, col, render_path(child), "duplicate key"))
                continue
            marks.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _walk(value_node, child, marks, problems)
        return out
    return None  # pragma: no cover - aliases are resolved by compose


_INDENT = "; check the indentation of this line and the lines above it"
_YAML_HINTS = (
    (
        "mapping values are not allowed",
        f"{_INDENT}, or quote a value that contains ': '",
    ),
    ("expected <block end>", _INDENT),
    ("did not find expected key", _INDENT),
    ("did not find expected '-' indicator", _INDENT),
)
"""PyYAML problems that a wrong indentation usually causes, with the hint appended."""


def compose(text: str, file: str) -> tuple[Mapping[str, object], Marks]:
    """Parse ``text`` (named ``file`` in messages) into data and marks.

    Raises :class:`PlanError` for YAML syntax errors (at the position PyYAML reports), duplicate
    keys, and a document that is not a mapping."""
    marks = Marks(file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        hint = next((h for start, h in _YAML_HINTS if what.startswith(start)), "")
        raise PlanError(
            [Problem(file, line, col, "", f"YAML syntax error: {what}{context}{hint}")]
        ) from None
    except yaml.YAMLError as exc:
        raise PlanError([Problem(file, 1, 1, "", f"YAML error: {exc}")]) from None
    if node is None:
        raise PlanError([Problem(file, 1, 1, "", "the plan is empty")])
    problems: list[Problem] = []
    data = _walk(node, (), marks, problems)
    if problems:
        raise PlanError(problems)
    if not isinstance(data, dict):
        raise PlanError([marks.problem((), "the plan must be a mapping of sections")])
    return data, marks
