"""Recursive-descent parser: tokens -> untyped IR nodes with source spans.

Grammar (lowest precedence first)::

    formula     := ternary END
    ternary     := or_expr [ "if" or_expr "else" ternary ]
    or_expr     := and_expr { "or" and_expr }
    and_expr    := not_expr { "and" not_expr }
    not_expr    := "not" not_expr | comparison
    comparison  := additive { cmp_op additive }          (chains: a < b < c = a < b and b < c)
                 | additive ["not"] "in" "[" literal { "," literal } [","] "]"
    additive    := term { ("+" | "-") term }
    term        := unary { ("*" | "/") unary }
    unary       := ("-" | "+") unary | primary
    primary     := NUMBER | PERCENT | DURATION | STRING | DATE | "true" | "false"
                 | NAME | NAME "(" [ args ] ")" | "if" "(" c "," x "," y ")" | "(" ternary ")"

The parser never recurses more than :data:`~perfcore.formula.limits.MAX_DEPTH` levels and never
builds a tree deeper than that or with more than :data:`~perfcore.formula.limits.MAX_NODES`
nodes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from perfcore.formula.errors import FormulaError
from perfcore.formula.ir import Node
from perfcore.formula.lexer import EXACT, Token, err, tokenize
from perfcore.formula.limits import MAX_DEPTH, MAX_NODES
from perfcore.formula.types import FieldType

__all__ = ["parse"]

_CMP = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def parse(text: str) -> Node:
    """Parse ``text`` (already length-checked) into an untyped node tree.

    Raises:
        FormulaError: syntax errors and the structural refusals (see ``ERROR_CODES``).
    """
    return _Parser(text, tokenize(text)).formula()


def _negate(value: object) -> object:
    """Exact negation of a number or duration literal (no context rounding)."""
    if isinstance(value, Decimal):
        return value.copy_negate()
    assert isinstance(value, timedelta)
    return -value


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.toks = tokens
        self.pos = 0
        self.level = 0
        self.nodes = 0

    # -- helpers -------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.toks[self.pos]

    def next(self) -> Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def at(self, kind: str, value: object = None) -> bool:
        tok = self.toks[self.pos]
        return tok.kind == kind and (value is None or tok.value == value)

    def fail(self, code: str, message: str, start: int, end: int, hint: str = "") -> FormulaError:
        return err(code, message, self.text, start, end, hint)

    def node(
        self,
        op: str,
        args: tuple[Node, ...],
        start: int,
        end: int,
        value: object = None,
        kind: FieldType | None = None,
    ) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                "too_many_nodes",
                f"the formula has more than {MAX_NODES} parts",
                start,
                end,
                "split it into named indicators and combine those",
            )
        return Node(op, args, value, kind, (start, end))

    def enter(self, tok: Token) -> None:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise self.fail(
                "too_deep",
                f"the formula is nested more than {MAX_DEPTH} levels deep",
                tok.start,
                tok.end,
                "simplify it or split it into named indicators",
            )

    def unexpected(self, tok: Token, expected: str) -> FormulaError:
        if tok.kind == "end":
            return self.fail(
                "unexpected_end",
                f"the formula ends where {expected} was expected",
                tok.start,
                tok.start + 1,
            )
        shown = self.text[tok.start : tok.end]
        return self.fail(
            "syntax_error", f"unexpected `{shown}`; expected {expected}", tok.start, tok.end
        )

    def expect_op(self, op: str, opener: Token | None = None) -> Token:
        tok = self.peek()
        if tok.kind == "op" and tok.value == op:
            return self.next()
        if opener is not None and tok.kind == "end":
            raise self.fail(
                "unclosed_bracket",
                f"`{opener.value}` is never closed",
                opener.start,
                opener.end,
                f"add `{op}`",
            )
        raise self.unexpected(tok, f"`{op}`")

    # -- grammar -------------------------------------------------------------------------
    def formula(self) -> Node:
        if self.at("end"):
            raise self.fail(
                "unexpected_end",
                "the formula is empty",
                0,
                1,
                "write an expression such as `good_qty / inspected_qty`",
            )
        result = self.ternary()
        tok = self.peek()
        if tok.kind != "end":
            if tok.kind == "op" and tok.value in (")", "]"):
                raise self.fail(
                    "syntax_error",
                    f"`{tok.value}` has no matching opening bracket",
                    tok.start,
                    tok.end,
                )
            raise self.unexpected(tok, "an operator or the end of the formula")
        return result

    def ternary(self) -> Node:
        self.enter(self.peek())
        try:
            then = self.or_expr()
            if not self.at("kw", "if"):
                return then
            self.next()
            cond = self.or_expr()
            if not self.at("kw", "else"):
                raise self.unexpected(self.peek(), "`else` (write `x if condition else y`)")
            self.next()
            other = self.ternary()
            assert then.span is not None
            assert other.span is not None
            return self.node("if", (cond, then, other), then.span[0], other.span[1])
        finally:
            self.level -= 1

    def _binary_chain(self, word: str, sub: str) -> Node:
        left = self.and_expr() if sub == "and" else self.not_expr()
        while self.at("kw", word):
            self.next()
            right = self.and_expr() if sub == "and" else self.not_expr()
            assert left.span is not None
            assert right.span is not None
            left = self.node(word, (left, right), left.span[0], right.span[1])
        return left

    def or_expr(self) -> Node:
        return self._binary_chain("or", "and")

    def and_expr(self) -> Node:
        return self._binary_chain("and", "not")

    def not_expr(self) -> Node:
        if self.at("kw", "not"):
            tok = self.next()
            self.enter(tok)
            try:
                inner = self.not_expr()
            finally:
                self.level -= 1
            assert inner.span is not None
            return self.node("not", (inner,), tok.start, inner.span[1])
        return self.comparison()

    def comparison(self) -> Node:
        first = self.additive()
        tok = self.peek()
        if tok.kind == "kw" and tok.value in ("in", "not"):
            return self.membership(first)
        pairs: list[Node] = []
        left = first
        while self.peek().kind == "op" and self.peek().value in _CMP:
            op = _CMP[str(self.next().value)]
            right = self.additive()
            assert left.span is not None
            assert right.span is not None
            pairs.append(self.node(op, (left, right), left.span[0], right.span[1]))
            left = right
        if not pairs:
            return first
        result = pairs[0]
        for pair in pairs[1:]:
            assert result.span is not None
            assert pair.span is not None
            result = self.node("and", (result, pair), result.span[0], pair.span[1])
        nxt = self.peek()
        if nxt.kind == "kw" and nxt.value in ("in", "not"):
            raise self.unexpected(nxt, "an operator or the end (do not mix `in` with comparisons)")
        return result

    def membership(self, subject: Node) -> Node:
        negate = False
        if self.at("kw", "not"):
            tok = self.next()
            if not self.at("kw", "in"):
                raise self.fail(
                    "syntax_error",
                    "`not` here must be followed by `in`",
                    tok.start,
                    tok.end,
                    "write `x not in [...]` or `not (x == y)`",
                )
            negate = True
        self.next()  # "in"
        opener = self.peek()
        if not (opener.kind == "op" and opener.value == "["):
            raise self.unexpected(opener, '`[` (a list of values, e.g. `in ["A", "B"]`)')
        self.next()
        items: list[Node] = []
        while True:
            if self.at("op", "]"):
                break
            items.append(self.list_item())
            if self.at("op", ","):
                self.next()
                continue
            break
        close = self.expect_op("]", opener)
        if not items:
            raise self.fail(
                "empty_list",
                "the list after `in` is empty",
                opener.start,
                close.end,
                "put at least one value in the list",
            )
        assert subject.span is not None
        result = self.node("in", (subject, *items), subject.span[0], close.end)
        if negate:
            result = self.node("not", (result,), subject.span[0], close.end)
        return result

    def list_item(self) -> Node:
        item = self.unary()
        if item.op != "lit":
            assert item.span is not None
            raise self.fail(
                "not_literal",
                "a list after `in` may only hold fixed values",
                item.span[0],
                item.span[1],
                "use numbers, texts, dates or true/false",
            )
        return item

    def additive(self) -> Node:
        left = self.term()
        while self.peek().kind == "op" and self.peek().value in ("+", "-"):
            op = "add" if self.next().value == "+" else "sub"
            right = self.term()
            assert left.span is not None
            assert right.span is not None
            left = self.node(op, (left, right), left.span[0], right.span[1])
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().value in ("*", "/"):
            op = "mul" if self.next().value == "*" else "div"
            right = self.unary()
            assert left.span is not None
            assert right.span is not None
            left = self.node(op, (left, right), left.span[0], right.span[1])
        return left

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.value in ("-", "+"):
            self.next()
            self.enter(tok)
            try:
                inner = self.unary()
            finally:
                self.level -= 1
            assert inner.span is not None
            if tok.value == "+":
                return inner
            if inner.op == "lit" and inner.type in (FieldType.NUMBER, FieldType.DURATION):
                # fold "-5" into one literal so lists and the canonical IR stay simple
                return self.node(
                    "lit", (), tok.start, inner.span[1], _negate(inner.value), inner.type
                )
            return self.node("neg", (inner,), tok.start, inner.span[1])
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.value == "[":
            raise self.fail(
                "subscript",
                "indexing with `[...]` is not allowed",
                tok.start,
                tok.end,
                "a list may only follow `in`",
            )
        if tok.kind == "op" and tok.value == "(" and node.op != "call":
            assert node.span is not None
            raise self.fail(
                "not_callable", "only functions can be called with `(...)`", node.span[0], tok.end
            )
        return node

    def primary(self) -> Node:
        tok = self.next()
        kind = tok.kind
        if kind == "num":
            return self.node("lit", (), tok.start, tok.end, tok.value, FieldType.NUMBER)
        if kind == "pct":
            assert isinstance(tok.value, Decimal)
            return self.node(
                "lit", (), tok.start, tok.end, tok.value.scaleb(-2, EXACT), FieldType.NUMBER
            )
        if kind == "dur":
            assert isinstance(tok.value, Decimal)
            micro = int(tok.value.scaleb(6))
            if micro > timedelta.max // timedelta(microseconds=1):
                raise self.fail(
                    "bad_number",
                    "the duration is too long",
                    tok.start,
                    tok.end,
                    "durations are limited to 999,999,999 days",
                )
            return self.node(
                "lit", (), tok.start, tok.end, timedelta(microseconds=micro), FieldType.DURATION
            )
        if kind == "str":
            return self.node("lit", (), tok.start, tok.end, tok.value, FieldType.TEXT)
        if kind == "date":
            kt = FieldType.DATETIME if isinstance(tok.value, datetime) else FieldType.DATE
            return self.node("lit", (), tok.start, tok.end, tok.value, kt)
        if kind == "kw" and tok.value in ("true", "false", "True", "False"):
            return self.node(
                "lit", (), tok.start, tok.end, tok.value in ("true", "True"), FieldType.BOOLEAN
            )
        if kind == "kw" and tok.value == "if" and self.at("op", "("):
            return self.call(tok, "if")
        if kind == "name":
            if self.at("op", "("):
                return self.call(tok, str(tok.value))
            return self.node("field", (), tok.start, tok.end, tok.value)
        if kind == "op" and tok.value == "(":
            self.enter(tok)
            try:
                inner = self.ternary()
            finally:
                self.level -= 1
            close = self.expect_op(")", tok)
            assert inner.span is not None
            return Node(inner.op, inner.args, inner.value, inner.type, (tok.start, close.end))
        if kind == "op" and tok.value == "[":
            raise self.fail(
                "list_outside_in",
                "a list `[...]` may only follow `in`",
                tok.start,
                tok.end,
                "write `x in [1, 2, 3]`",
            )
        self.pos -= 1
        raise self.unexpected(tok, "a value, a field name or `(`")

    def call(self, name_tok: Token, name: str) -> Node:
        opener = self.next()
        self.enter(opener)
        try:
            args: list[Node] = []
            if not self.at("op", ")"):
                while True:
                    args.append(self.ternary())
                    if self.at("op", ","):
                        self.next()
                        if self.at("op", ")"):
                            break
                        continue
                    break
            close = self.expect_op(")", opener)
        finally:
            self.level -= 1
        if name == "if":
            if len(args) != 3:
                raise self.fail(
                    "wrong_arguments",
                    f"if(condition, then, else) takes 3 arguments, got {len(args)}",
                    name_tok.start,
                    close.end,
                )
            return self.node("if", tuple(args), name_tok.start, close.end)
        return self.node("call", tuple(args), name_tok.start, close.end, name)
