"""Key-values as App Configuration keeps them: (key, label) pairs with an ETag that changes on every
write, a last-modified time, tags, a read-only lock, the revisions of each write, and the filters of
the data-plane API (``key``, ``label``: exact, ``prefix*``, ``a,b``; ``\\`` escapes ``*``, ``,``, ``\\``;
``label=%00`` is the null label)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

MAX_FILTER_VALUES = 5
# The service's limit on one key-value (key, label, value, content type and tags together).
MAX_KEY_VALUE_BYTES = 10 * 1024


class InvalidArgument(ValueError):
    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail


@dataclass(frozen=True)
class KeyValue:
    key: str
    label: str | None
    value: str | None
    content_type: str | None
    tags: dict[str, str]
    etag: str
    last_modified: datetime
    locked: bool = False

    def to_json(self, select: list[str] | None = None) -> dict[str, Any]:
        full = {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "content_type": self.content_type,
            "tags": dict(self.tags),
            "locked": self.locked,
            "last_modified": self.last_modified.isoformat(),
            "etag": self.etag,
        }
        return {k: v for k, v in full.items() if not select or k in select}

    def size(self) -> int:
        parts = [self.key, self.label or "", self.value or "", self.content_type or ""]
        parts += [f"{k}{v}" for k, v in self.tags.items()]
        return sum(len(p.encode()) for p in parts)


def _split(raw: str) -> list[tuple[str, bool]]:
    """A filter's alternatives as (literal text, is a prefix), or InvalidArgument."""
    items: list[tuple[str, bool]] = []
    current: list[str] = []
    prefix = False
    chars = iter(raw)
    for char in chars:
        if prefix:
            raise InvalidArgument("filter", "'*' is only allowed at the end of a filter value")
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise InvalidArgument("filter", "a filter cannot end with an escape character")
            current.append(escaped)
        elif char == "*":
            prefix = True
        elif char == ",":
            items.append(("".join(current), False))
            current, prefix = [], False
        else:
            current.append(char)
    items.append(("".join(current), prefix))
    return items


class Filter:
    def __init__(self, name: str, raw: str | None, *, null_when_absent: bool = False) -> None:
        self.any = (raw is None and not null_when_absent) or raw == "*"
        self.null_only = raw is None and null_when_absent
        try:
            self.items = [] if self.any or self.null_only else _split(raw or "")
        except InvalidArgument as exc:
            raise InvalidArgument(name, f"Invalid {name} filter '{raw}': {exc.detail}") from None
        if len(self.items) > MAX_FILTER_VALUES:
            raise InvalidArgument(name, f"A {name} filter has at most {MAX_FILTER_VALUES} values")

    def matches(self, value: str | None) -> bool:
        if self.any:
            return True
        if self.null_only:
            return value is None
        for text, prefix in self.items:
            if text == "\0":
                if value is None:
                    return True
            elif value is not None and (value.startswith(text) if prefix else value == text):
                return True
        return False


def check_key(key: str) -> None:
    if not key or key in (".", "..") or "%" in key:
        raise InvalidArgument("key", f"Invalid key '{key}': a key cannot be empty, '.', '..' or contain '%'")


class KeyValueStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str | None], KeyValue] = {}
        self.revisions: list[KeyValue] = []
        self.sequence = 0

    def sync_token(self) -> str:
        # id=value;sn=sequence: the SDK's SyncTokenPolicy keeps the highest sequence per id.
        value = base64.b64encode(f"0:{self.sequence}".encode()).decode()
        return f"emulator0={value};sn={self.sequence}"

    def get(self, key: str, label: str | None) -> KeyValue | None:
        return self.items.get((key, label))

    def query(self, key: str | None, label: str | None) -> list[KeyValue]:
        keys, labels = Filter("key", key), Filter("label", label)
        found = [kv for kv in self.items.values() if keys.matches(kv.key) and labels.matches(kv.label)]
        return sorted(found, key=lambda kv: (kv.key, kv.label or ""))

    def put(self, key: str, label: str | None, body: dict[str, Any]) -> KeyValue:
        check_key(key)
        tags = body.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise InvalidArgument("tags", "tags must be an object of strings")
        value, content_type = body.get("value"), body.get("content_type")
        for name, item in (("value", value), ("content_type", content_type)):
            if item is not None and not isinstance(item, str):
                raise InvalidArgument(name, f"{name} must be a string")
        previous = self.items.get((key, label))
        stored = KeyValue(
            key,
            label,
            value,
            content_type,
            dict(tags),
            uuid.uuid4().hex,
            datetime.now(UTC).replace(microsecond=0),
        )
        if previous is not None:
            stored = replace(stored, locked=previous.locked)
        if stored.size() > MAX_KEY_VALUE_BYTES:
            raise InvalidArgument("value", f"A key-value is limited to {MAX_KEY_VALUE_BYTES} bytes")
        return self._write(stored)

    def delete(self, key: str, label: str | None) -> KeyValue | None:
        found = self.items.pop((key, label), None)
        if found is not None:
            self.sequence += 1
            self.revisions.append(replace(found, value=None, etag=uuid.uuid4().hex))
        return found

    def lock(self, key: str, label: str | None, locked: bool) -> KeyValue | None:
        found = self.items.get((key, label))
        if found is None:
            return None
        return self._write(replace(found, locked=locked, etag=uuid.uuid4().hex))

    def _write(self, item: KeyValue) -> KeyValue:
        self.items[(item.key, item.label)] = item
        self.revisions.append(item)
        self.sequence += 1
        return item

    def labels(self, name: str | None) -> list[str | None]:
        names = Filter("name", name)
        return sorted(
            {kv.label for kv in self.items.values() if names.matches(kv.label)}, key=lambda x: x or ""
        )

    def keys(self, name: str | None) -> list[str]:
        names = Filter("name", name)
        return sorted({kv.key for kv in self.items.values() if names.matches(kv.key)})
