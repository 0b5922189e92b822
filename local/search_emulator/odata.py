"""The OData ``$filter`` subset the product uses, parsed into a predicate on a document.

Supported: ``field eq|ne|gt|ge|lt|le literal`` (strings in single quotes with '' as an escaped quote,
numbers, true/false/null), ``search.in(field, 'a,b,c'[, 'delimiters'])``, ``and``, ``or``, ``not`` and
parentheses. Anything else is refused the way the service refuses a bad filter: HTTP 400 naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Document = dict[str, Any]
Predicate = Callable[[Document], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>\(|\)|,)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_./]*))"
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}


class FilterError(ValueError):
    """The filter is outside the supported subset or malformed."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"Invalid expression: syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda d: a(d) or b(d)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda d: a(d) and b(d)


class _Parser:
    def __init__(self, text: str, fields: set[str]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.fields = fields
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError(f"Invalid expression: unexpected end of '{self.text}'.")
        self.at += 1
        return token

    def expect(self, value: str) -> None:
        _kind, got = self.take()
        if got != value:
            raise FilterError(f"Invalid expression: expected '{value}', found '{got}' in '{self.text}'.")

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise FilterError(f"Invalid expression: unexpected '{self.peek()[1]}' in '{self.text}'.")  # type: ignore[index]
        return predicate

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while self.peek() == ("word", "or"):
            self.take()
            left = _either(left, self.and_expr())
        return left

    def and_expr(self) -> Predicate:
        left = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            left = _both(left, self.unary())
        return left

    def unary(self) -> Predicate:
        token = self.peek()
        if token == ("word", "not"):
            self.take()
            inner = self.unary()
            return lambda d: not inner(d)
        if token == ("op", "("):
            self.take()
            inner = self.or_expr()
            self.expect(")")
            return inner
        if token == ("word", "search.in"):
            return self.search_in()
        return self.comparison()

    def field(self) -> str:
        kind, name = self.take()
        if kind != "word" or name not in self.fields:
            raise FilterError(
                f"Invalid expression: Could not find a property named '{name}' on type 'search.document'."
            )
        return name

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "word" and value in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[value]
        raise FilterError(f"Invalid expression: '{value}' is not a literal in '{self.text}'.")

    def comparison(self) -> Predicate:
        name = self.field()
        _kind, op = self.take()
        if op not in _COMPARISONS:
            raise FilterError(f"Invalid expression: '{op}' is not a supported operator in '{self.text}'.")
        value = self.literal()

        def compare(document: Document) -> bool:
            current = document.get(name)
            if op == "eq":
                return bool(current == value)
            if op == "ne":
                return bool(current != value)
            if current is None or value is None:
                return False
            return bool(
                {
                    "gt": current > value,
                    "ge": current >= value,
                    "lt": current < value,
                    "le": current <= value,
                }[op]
            )

        return compare

    def search_in(self) -> Predicate:
        self.take()
        self.expect("(")
        name = self.field()
        self.expect(",")
        values = self.literal()
        delimiters = " ,"
        if self.peek() == ("op", ","):
            self.take()
            delimiters = self.literal()
        self.expect(")")
        if not isinstance(values, str) or not isinstance(delimiters, str):
            raise FilterError("Invalid expression: search.in takes string arguments.")
        allowed = {v for v in re.split("[" + re.escape(delimiters) + "]", values) if v}
        return lambda d: d.get(name) in allowed


def parse_filter(text: str, fields: set[str]) -> Predicate:
    """A predicate for ``text`` over documents with these filterable fields, or FilterError."""
    return _Parser(text, fields).parse()
