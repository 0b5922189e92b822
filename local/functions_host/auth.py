"""HTTP authorization levels, checked the way the host checks keys.

The key is read from the ``x-functions-key`` header, else from the ``code`` query parameter.
``function`` accepts the function key or the master key, ``admin`` only the master key, ``system``
(extension webhooks such as Event Grid) the system key or the master key. This adapter has one function
key (which also stands for the Event Grid system key) and a master key that defaults to the same value.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

KEY_HEADER = "x-functions-key"
KEY_QUERY = "code"
DEFAULT_FUNCTION_KEY = "local-function-key"
FUNCTION_KEY_ENV = "HTTP__FUNCTION_KEY"
MASTER_KEY_ENV = "HTTP__MASTER_KEY"


class Level(StrEnum):
    ANONYMOUS = "anonymous"
    FUNCTION = "function"
    ADMIN = "admin"
    SYSTEM = "system"

    @classmethod
    def parse(cls, value: object) -> Level:
        text = str(getattr(value, "value", value) or "function").lower()
        return cls(text)


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request carries (header first, then ``?code=``)."""
    for name, value in headers.items():
        if name.lower() == KEY_HEADER and value:
            return value
    return query.get(KEY_QUERY) or None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class KeyChecker:
    function_key: str
    master_key: str

    def authorized(self, level: Level, key: str | None) -> bool:
        if level is Level.ANONYMOUS:
            return True
        if not key:
            return False
        is_master = _same(key, self.master_key)
        if level is Level.ADMIN:
            return is_master
        return is_master or _same(key, self.function_key)
