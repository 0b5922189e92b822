"""JSON from outside (HTTP bodies, callbacks, continuation tokens), parsed so that bad input is a clear
InvalidInputError and never a 500: nesting deeper than any real payload (which would end in a
RecursionError in the parser, in pydantic or when the value is written back) and lone UTF-16
surrogates (valid JSON escapes that no UTF-8 encoder accepts, so echoing or storing them fails). Pure."""

from __future__ import annotations

import json
from typing import Any

from core.errors import InvalidInputError

# Far above what any request, ACS or Event Grid payload nests (claim schemas: 4 levels, CloudEvents: 6).
MAX_DEPTH = 32


def _surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_value(value: Any, what: str = "body", max_depth: int = MAX_DEPTH) -> None:
    """Raise InvalidInputError if value nests deeper than max_depth or holds a lone surrogate."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # iterative: the check itself must not recurse
        item, depth = stack.pop()
        if isinstance(item, str):
            if _surrogate(item):
                raise InvalidInputError(f"{what} holds a lone UTF-16 surrogate (not valid Unicode text)")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise InvalidInputError(f"{what} is nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)


def loads(raw: bytes | str, what: str = "body", max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from outside, or raise InvalidInputError saying what is wrong with it."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise InvalidInputError(f"{what} is nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError of bytes that are not UTF-8
        reason = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
        raise InvalidInputError(f"{what} is not valid JSON: {reason}") from None
    check_value(value, what, max_depth)
    return value
