"""ACS callback events (CloudEvents) parsed into one small typed shape. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInputError

PREFIX = "Microsoft.Communication."
MAX_BODY_BYTES = 256 * 1024
# ACS result sub-codes for "the caller said nothing" (initial silence) and "no choice matched".
SILENCE_SUBCODES = {8510, 8532}


@dataclass(frozen=True)
class CallEvent:
    id: str
    type: str  # without the "Microsoft.Communication." prefix, e.g. "RecognizeCompleted"
    connection_id: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def context(self) -> str:
        return str(self.data.get("operationContext") or "")

    @property
    def server_call_id(self) -> str:
        return str(self.data.get("serverCallId") or "")

    @property
    def sub_code(self) -> int:
        info = self.data.get("resultInformation") or {}
        try:
            return int(info.get("subCode") or 0)
        except (TypeError, ValueError):
            return 0

    @property
    def recognition_type(self) -> str:
        return str(self.data.get("recognitionType") or "")

    @property
    def speech(self) -> str:
        result = self.data.get("speechResult") or {}
        return str(result.get("speech") or "").strip()

    @property
    def choice(self) -> str:
        result = self.data.get("choiceResult") or {}
        return str(result.get("label") or "")

    @property
    def tones(self) -> list[str]:
        result = self.data.get("dtmfResult") or {}
        return [str(t) for t in result.get("tones") or []]


def parse_callback_body(body: bytes) -> list[CallEvent]:
    """A callback POST body: a JSON array of CloudEvents (a single object is accepted too)."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInputError("callback body too large")
    try:
        raw = json.loads(body or b"null")
    except ValueError:
        raise InvalidInputError("callback body is not JSON") from None
    items = raw if isinstance(raw, list) else [raw]
    events: list[CallEvent] = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id") or not item.get("type"):
            raise InvalidInputError("callback body must be an array of CloudEvents with id and type")
        raw_data = item.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        event_type = str(item["type"]).removeprefix(PREFIX)
        events.append(
            CallEvent(
                id=str(item["id"]),
                type=event_type,
                connection_id=str(data.get("callConnectionId") or ""),
                data=data,
            )
        )
    return events
