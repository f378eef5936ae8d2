"""Hard limits, checked before any parser sees the text.

The checks here are linear scans over the characters (no recursion, no regular expressions), so
they cannot themselves be made slow or deep. The parser additionally stops at the same depth, and
the IR reader applies the same limits to IR documents.
"""

from __future__ import annotations

from perfcore.formula.errors import FormulaError

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_TOKENS",
    "MAX_TREE_DEPTH",
    "check_text",
]

#: Longest accepted formula, in characters.
MAX_LENGTH = 2000
#: Deepest nesting of brackets, function calls, ``not``/``-`` chains and ``if/else`` chains.
MAX_DEPTH = 40
#: Deepest syntax tree (a flat sum of 60 terms is 60 deep); keeps every back end's recursion safe.
MAX_TREE_DEPTH = 100
#: Most syntax-tree nodes (fields, literals, operators, calls).
MAX_NODES = 400
#: Most tokens the lexer may produce (a cheap upper bound on nodes, checked before parsing).
MAX_TOKENS = 1000

_OPEN = "([{"
_CLOSE = ")]}"


def check_text(text: object) -> str:
    """Check the raw text against the length and bracket-depth limits and return it.

    Raises:
        FormulaError: ``syntax_error`` when ``text`` is not a string, ``too_long`` or
            ``too_deep`` (span on the first offending character).
    """
    if not isinstance(text, str):
        raise FormulaError("syntax_error", f"a formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            "too_long",
            f"the formula has {len(text)} characters; the limit is {MAX_LENGTH}",
            span=(MAX_LENGTH + 1, len(text)),
            formula=text[: MAX_LENGTH + 40] + "…",
            hint="split it into named indicators and combine those",
        )
    depth = 0
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise FormulaError(
                    "too_deep",
                    f"brackets are nested more than {MAX_DEPTH} levels deep",
                    span=(i + 1, i + 1),
                    formula=text,
                    hint="simplify the formula or split it into named indicators",
                )
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return text
