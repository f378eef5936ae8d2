"""The one error type of the formula language.

Every problem with a formula — too long, does not parse, names an unknown field, mixes types, or
(at evaluation time) receives a row value of the wrong kind — is a :class:`FormulaError` carrying
a stable machine code, a plain-words message, the 1-based column span it is about, the formula
text and a hint. ``str(err)`` renders all of it with a caret line under the span::

    unknown_name: unknown field `good_qtty`
      good_qtty / inspected_qty
      ^^^^^^^^^
    hint: did you mean `good_qty`?
"""

from __future__ import annotations

import unicodedata

__all__ = ["ERROR_CODES", "FormulaError"]

#: Every code a FormulaError can carry, with what it means (docs/formula.md lists them too).
ERROR_CODES: dict[str, str] = {
    "too_long": "the formula text is longer than the limit",
    "too_deep": "brackets or operators are nested deeper than the limit",
    "too_many_nodes": "the formula has more parts than the limit",
    "unexpected_character": "a character that is not part of the language",
    "unterminated_string": "a text in quotes is not closed",
    "bad_number": "a number (or duration / percentage) is written wrongly",
    "bad_date": "a date or datetime literal after @ is not a valid ISO date",
    "syntax_error": "the formula does not follow the grammar",
    "unexpected_end": "the formula stops where more was expected",
    "unclosed_bracket": "an opening bracket is never closed",
    "attribute_access": "`x.y` attribute access is not allowed",
    "subscript": "`x[...]` indexing is not allowed",
    "power": "`**` / `^` exponentiation is not allowed",
    "modulo": "`%` as a remainder operator is not allowed",
    "assignment": "`=` assignment is not allowed",
    "regex": "regular expressions are not allowed",
    "forbidden_keyword": "a programming keyword such as lambda, for, import",
    "lambda": "lambdas are not allowed",
    "comprehension": "list comprehensions and loops are not allowed",
    "string_repetition": "multiplying text by a number is not allowed",
    "list_outside_in": "a [list] may only follow `in`",
    "empty_list": "`in []` with nothing in the list",
    "not_literal": "a list after `in` may only hold fixed values",
    "unknown_name": "a field name that is not in the schema",
    "unknown_function": "a function outside the allowed set",
    "not_callable": "something that is not a function is followed by `(`",
    "wrong_arguments": "a function got the wrong number of arguments",
    "bad_argument": "a function argument is not acceptable (e.g. round places)",
    "type_mismatch": "an operator or function got values of the wrong types",
    "not_boolean": "a condition is not a true/false value",
    "bad_schema": "the schema names a type that does not exist",
    "bad_value": "a row value at evaluation time has the wrong kind for its field",
    "ir_invalid": "an IR document is malformed",
    "unsupported_backend": "a back end cannot express this construct",
}


def _width(ch: str) -> int:
    """Display width of one character in a terminal (East Asian wide/full-width = 2)."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _flat(text: str) -> str:
    return "".join(" " if ch in "\t\r\n\v\f" else ch for ch in text)


class FormulaError(Exception):
    """A formula could not be compiled (or a row could not be evaluated).

    Attributes:
        code: stable machine code, one of :data:`ERROR_CODES`.
        message: what is wrong, in plain words (field names in backticks).
        span: ``(start, end)`` 1-based *character* columns, both inclusive, or ``None`` when the
            error is not about a place in the text (e.g. a bad schema or row value). An error at
            the end of the text points one column past the last character.
        formula: the formula text (``""`` when there is none).
        hint: a suggestion such as ``did you mean `good_qty`?`` or ``""``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        span: tuple[int, int] | None = None,
        formula: str = "",
        hint: str = "",
    ) -> None:
        self.code = code
        self.message = message
        self.span = span
        self.formula = formula
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """The multi-line rendering used by ``str()``: message, formula, caret line, hint.

        The caret line accounts for wide (CJK) characters so that the carets sit under the span
        in a terminal; tabs and newlines in the formula are shown as spaces.
        """
        lines = [f"{self.code}: {self.message}"]
        if self.formula and self.span is not None:
            text = _flat(self.formula)
            start, end = self.span
            pad = sum(_width(ch) for ch in text[: start - 1])
            marked = text[start - 1 : end]
            width = max(1, sum(_width(ch) for ch in marked))
            lines.append("  " + text)
            lines.append("  " + " " * pad + "^" * width)
        elif self.formula:
            lines.append("  " + _flat(self.formula))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"FormulaError(code={self.code!r}, message={self.message!r}, span={self.span!r})"
