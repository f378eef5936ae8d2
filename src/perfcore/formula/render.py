"""Canonical text for an IR tree (the inverse of the parser, up to spacing and brackets).

``parse(render(node))`` gives back ``node`` for every canonical IR, which is how
:func:`perfcore.formula.from_ir` reuses the text checks and how an editor shows an IR to people.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from perfcore.formula.errors import FormulaError
from perfcore.formula.ir import Node, number_text

__all__ = ["render"]

_SYMBOL = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "and": "and",
    "or": "or",
}
_PREC = {
    "or": 2,
    "and": 3,
    "eq": 5,
    "ne": 5,
    "lt": 5,
    "le": 5,
    "gt": 5,
    "ge": 5,
    "add": 6,
    "sub": 6,
    "mul": 7,
    "div": 7,
}
_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("min", 60))


def _duration(value: _dt.timedelta) -> str:
    micro = value // _dt.timedelta(microseconds=1)
    sign = "-" if micro < 0 else ""
    micro = abs(micro)
    if micro % 1_000_000 == 0:
        seconds = micro // 1_000_000
        for unit, size in _UNITS:
            if seconds and seconds % size == 0:
                return f"{sign}{seconds // size}{unit}"
        return f"{sign}{seconds}s"
    return sign + number_text(Decimal(micro).scaleb(-6)) + "s"


def _text(value: str) -> str:
    if "\r" in value or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise FormulaError("ir_invalid", "a text literal holds a control character")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _literal(node: Node) -> tuple[str, int]:
    value = node.value
    if isinstance(value, bool):
        return ("true" if value else "false"), 9
    if isinstance(value, Decimal):
        text = number_text(value)
        return text, (8 if text.startswith("-") else 9)
    if isinstance(value, str):
        return _text(value), 9
    if isinstance(value, _dt.timedelta):
        text = _duration(value)
        return text, (8 if text.startswith("-") else 9)
    if isinstance(value, _dt.datetime | _dt.date):
        return "@" + value.isoformat(), 9
    raise FormulaError("ir_invalid", f"cannot write literal {value!r}")


def _wrap(pair: tuple[str, int], need: int) -> str:
    text, prec = pair
    return text if prec >= need else f"({text})"


def _render(node: Node) -> tuple[str, int]:
    op = node.op
    if op == "lit":
        return _literal(node)
    if op == "field":
        return str(node.value), 9
    if op == "neg":
        return "-" + _wrap(_render(node.args[0]), 8), 8
    if op == "not":
        return "not " + _wrap(_render(node.args[0]), 4), 4
    if op in _PREC:
        prec = _PREC[op]
        left, right = node.args
        if prec == 5:
            text = f"{_wrap(_render(left), 6)} {_SYMBOL[op]} {_wrap(_render(right), 6)}"
        else:
            text = f"{_wrap(_render(left), prec)} {_SYMBOL[op]} {_wrap(_render(right), prec + 1)}"
        return text, prec
    if op == "if":
        cond, then, other = node.args
        return (
            f"{_wrap(_render(then), 2)} if {_wrap(_render(cond), 2)} else "
            f"{_wrap(_render(other), 1)}"
        ), 1
    if op == "in":
        subject, *items = node.args
        listed = ", ".join(_wrap(_render(i), 1) for i in items)
        return f"{_wrap(_render(subject), 6)} in [{listed}]", 5
    if op == "call":
        args = ", ".join(_wrap(_render(a), 1) for a in node.args)
        return f"{node.value}({args})", 9
    raise FormulaError("ir_invalid", f"unknown op {op!r}")


def render(node: Node) -> str:
    """Canonical formula text for ``node`` (minimal brackets, single spaces)."""
    return _render(node)[0]
