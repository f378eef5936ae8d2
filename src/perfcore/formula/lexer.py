"""Tokeniser: text -> a flat list of tokens with character offsets.

A single forward scan, no regular expressions, no recursion. Spans are 0-based half-open
``(start, end)`` internally; :func:`perfcore.formula.errors.FormulaError` spans are converted to
1-based inclusive columns by :func:`err`.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Context, Decimal

from attrs import frozen

from perfcore.formula.errors import FormulaError
from perfcore.formula.limits import MAX_TOKENS

__all__ = ["DURATION_UNITS", "EXACT", "KEYWORDS", "Token", "err", "tokenize"]

#: Context for literal arithmetic (percent, duration units): wide enough to stay exact.
EXACT = Context(prec=60)

#: Duration suffixes and their length in seconds.
DURATION_UNITS: dict[str, int] = {"w": 604800, "d": 86400, "h": 3600, "min": 60, "s": 1}

KEYWORDS = frozenset({"and", "or", "not", "if", "else", "in", "true", "false", "True", "False"})

#: Words from programming languages that are refused with a specific code and hint.
FORBIDDEN_WORDS: dict[str, tuple[str, str]] = {
    "lambda": ("lambda", "functions cannot be defined inside a formula"),
    "for": ("comprehension", "loops and list comprehensions are not part of the language"),
    "while": ("comprehension", "loops are not part of the language"),
    "import": ("forbidden_keyword", "formulas cannot import anything"),
    "from": ("forbidden_keyword", "formulas cannot import anything"),
    "def": ("forbidden_keyword", "functions cannot be defined inside a formula"),
    "class": ("forbidden_keyword", "classes are not part of the language"),
    "return": ("forbidden_keyword", "a formula is one expression; it has no return"),
    "yield": ("forbidden_keyword", "a formula is one expression"),
    "await": ("forbidden_keyword", "a formula is one expression"),
    "async": ("forbidden_keyword", "a formula is one expression"),
    "with": ("forbidden_keyword", "a formula is one expression"),
    "del": ("forbidden_keyword", "a formula is one expression"),
    "global": ("forbidden_keyword", "a formula is one expression"),
    "nonlocal": ("forbidden_keyword", "a formula is one expression"),
    "is": ("forbidden_keyword", "compare with == or != instead of `is`"),
    "None": ("forbidden_keyword", "there is no null literal; use coalesce(x, default)"),
    "null": ("forbidden_keyword", "there is no null literal; use coalesce(x, default)"),
    "NULL": ("forbidden_keyword", "there is no null literal; use coalesce(x, default)"),
}


@frozen
class Token:
    """One token: ``kind`` is ``num``, ``pct``, ``dur``, ``str``, ``date``, ``name``, ``kw``,
    ``op`` or ``end``; ``value`` is the parsed literal (Decimal, str, date, datetime, Decimal
    seconds) or the operator/name text."""

    kind: str
    value: object
    start: int
    end: int


def err(code: str, message: str, text: str, start: int, end: int, hint: str = "") -> FormulaError:
    """A FormulaError for the 0-based half-open range ``[start, end)`` of ``text``."""
    end = max(end, start + 1)
    return FormulaError(code, message, span=(start + 1, end), formula=text, hint=hint)


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _name_start(ch: str) -> bool:
    return ch == "_" or ch.isidentifier()


def _name_part(ch: str) -> bool:
    return ("a" + ch).isidentifier()


_TWO_CHAR = {"==", "!=", "<=", ">="}
_ONE_CHAR = set("+-*/()[],<>")
_REFUSED: dict[str, tuple[str, str, str]] = {
    "**": ("power", "`**` (power) is not allowed", "multiply explicitly, e.g. `x * x`"),
    "^": ("power", "`^` (power) is not allowed", "multiply explicitly, e.g. `x * x`"),
    "=~": ("regex", "regular expressions are not allowed", "compare with == or use `in [...]`"),
    "//": ("syntax_error", "`//` is not an operator here", "division `/` is always exact"),
    "=": ("assignment", "`=` (assignment) is not allowed", "to compare, write `==`"),
    ".": ("attribute_access", "`.` (attribute access) is not allowed", ""),
    "<>": ("syntax_error", "`<>` is not an operator here", "write `!=` for 'not equal'"),
    "!": ("syntax_error", "`!` is not an operator here", "write `not x` or `!=`"),
    "&": ("syntax_error", "`&` is not an operator here", "write `and`"),
    "&&": ("syntax_error", "`&&` is not an operator here", "write `and`"),
    "|": ("syntax_error", "`|` is not an operator here", "write `or`"),
    "||": ("syntax_error", "`||` is not an operator here", "write `or`"),
    ":": ("lambda", "`:` is not allowed (no lambdas, slices or dicts)", ""),
    "{": ("syntax_error", "`{` is not allowed (no sets or dicts)", "lists use [ ]"),
    "}": ("syntax_error", "`}` is not allowed", ""),
    ";": ("syntax_error", "`;` is not allowed: a formula is one expression", ""),
}


def _scan_number(text: str, i: int) -> tuple[Token, int]:
    n = len(text)
    start = i
    while i < n and _is_digit(text[i]):
        i += 1
    if i < n and text[i] == "." and i + 1 < n and _is_digit(text[i + 1]):
        i += 1
        while i < n and _is_digit(text[i]):
            i += 1
    elif i < n and text[i] == "." and not (i + 1 < n and _name_start(text[i + 1])):
        raise err(
            "bad_number",
            "a number cannot end with `.`",
            text,
            start,
            i + 1,
            "write digits after the point, e.g. `2.0`",
        )
    digits = text[start:i]
    if len(digits.replace(".", "").lstrip("0")) > 30:
        raise err("bad_number", f"the number `{digits}` has more than 30 digits", text, start, i)
    value = Decimal(digits)
    if i < n and text[i] == "%":
        return Token("pct", value, start, i + 1), i + 1
    if i < n and _name_part(text[i]):
        j = i
        while j < n and _name_part(text[j]):
            j += 1
        unit = text[i:j]
        if unit in DURATION_UNITS:
            return Token("dur", EXACT.multiply(value, DURATION_UNITS[unit]), start, j), j
        raise err(
            "bad_number",
            f"`{text[start:j]}` is not a number or a duration",
            text,
            start,
            j,
            "durations use the units w, d, h, min, s (e.g. `48h`); exponents like 1e5 are "
            "not supported; put a space between a number and a name",
        )
    return Token("num", value, start, i), i


def _scan_string(text: str, i: int) -> tuple[Token, int]:
    quote = text[i]
    start = i
    i += 1
    out: list[str] = []
    n = len(text)
    escapes = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
    while i < n:
        ch = text[i]
        if ch == quote:
            return Token("str", "".join(out), start, i + 1), i + 1
        if ch == "\\":
            if i + 1 < n and text[i + 1] in escapes:
                out.append(escapes[text[i + 1]])
                i += 2
                continue
            raise err(
                "unterminated_string",
                "unknown escape in text",
                text,
                i,
                i + 2,
                "only \\\\ \\' \\\" \\n \\t are allowed",
            )
        if ch in "\r\n":
            break
        out.append(ch)
        i += 1
    raise err(
        "unterminated_string",
        "text in quotes is not closed",
        text,
        start,
        i,
        f"close it with {quote}",
    )


def _scan_date(text: str, i: int) -> tuple[Token, int]:
    start = i
    i += 1
    n = len(text)
    while i < n and (text[i] in "-:+.TZ" or _is_digit(text[i])):
        i += 1
    raw = text[start + 1 : i]
    hint = "write @YYYY-MM-DD, or @YYYY-MM-DDTHH:MM[:SS]+HH:MM for a datetime (Z for UTC)"
    if len(raw) == 10:
        try:
            return Token("date", _dt.date.fromisoformat(raw), start, i), i
        except ValueError:
            raise err("bad_date", f"`@{raw}` is not a valid date", text, start, i, hint) from None
    try:
        value = _dt.datetime.fromisoformat(raw)
    except ValueError:
        raise err("bad_date", f"`@{raw}` is not a valid date", text, start, i, hint) from None
    if "T" not in raw:
        raise err("bad_date", f"`@{raw}` is not a valid date", text, start, i, hint)
    if value.tzinfo is None:
        raise err(
            "bad_date",
            f"the datetime `@{raw}` has no UTC offset",
            text,
            start,
            i,
            "add Z (UTC) or an offset such as +08:00",
        )
    return Token("date", value, start, i), i


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token.

    Raises:
        FormulaError: lexical errors (``unexpected_character``, ``bad_number``, ``bad_date``,
            ``unterminated_string``, the refused operators) and ``too_many_nodes`` when there
            are more than :data:`~perfcore.formula.limits.MAX_TOKENS` tokens.
    """
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if len(tokens) >= MAX_TOKENS:
            raise err(
                "too_many_nodes", f"the formula has more than {MAX_TOKENS} tokens", text, i, n
            )
        if _is_digit(ch) or (ch == "." and i + 1 < n and _is_digit(text[i + 1])):
            tok, i = _scan_number(text, i)  # ".5" reads as 0.5
            tokens.append(tok)
            continue
        if ch in "\"'":
            tok, i = _scan_string(text, i)
            tokens.append(tok)
            continue
        if ch == "@":
            tok, i = _scan_date(text, i)
            tokens.append(tok)
            continue
        if _name_start(ch):
            j = i + 1
            while j < n and _name_part(text[j]):
                j += 1
            word = text[i:j]
            if word in FORBIDDEN_WORDS:
                code, hint = FORBIDDEN_WORDS[word]
                raise err(code, f"`{word}` is not allowed in a formula", text, i, j, hint)
            tokens.append(Token("kw" if word in KEYWORDS else "name", word, i, j))
            i = j
            continue
        two = text[i : i + 2]
        if two in _REFUSED:
            code, message, hint = _REFUSED[two]
            raise err(code, message, text, i, i + 2, hint)
        if two in _TWO_CHAR and text[i + 2 : i + 3] == "=":  # `>==`, `===`: one `=` too many
            raise err(
                "syntax_error",
                f"`{two}=` is not an operator here",
                text,
                i,
                i + 3,
                f"write `{two}`",
            )
        if two in _TWO_CHAR:
            tokens.append(Token("op", two, i, i + 2))
            i += 2
            continue
        if ch == "%":
            raise err(
                "modulo",
                "`%` (remainder) is not allowed",
                text,
                i,
                i + 1,
                "a percentage is written right after a number, e.g. `85%`",
            )
        if ch in _REFUSED:
            code, message, hint = _REFUSED[ch]
            raise err(code, message, text, i, i + 1, hint)
        if ch in _ONE_CHAR:
            tokens.append(Token("op", ch, i, i + 1))
            i += 1
            continue
        shown = ch if ch.isprintable() else repr(ch)
        raise err(
            "unexpected_character",
            f"the character `{shown}` is not part of the language",
            text,
            i,
            i + 1,
        )
    tokens.append(Token("end", None, n, n))
    return tokens
