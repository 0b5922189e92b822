"""ACS callback events (CloudEvents), parsed into one typed class per event kind. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.errors import InvalidInputError
from core.models import OperationContext, Purpose

PREFIX = "Microsoft.Communication."
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class CallEvent:
    id: str
    type: str  # without the "Microsoft.Communication." prefix, e.g. "RecognizeCompleted"
    connection_id: str
    data: dict[str, Any] = field(default_factory=dict)

    # Whether the event is claimed in the inbox before it is handled (False: idempotent by itself).
    claimed: ClassVar[bool] = True
    # Events the flow has nothing to do for, once the request is authenticated.
    ignored: ClassVar[bool] = False

    @property
    def raw_context(self) -> str:
        return str(self.data.get("operationContext") or "")

    @property
    def context(self) -> OperationContext | None:
        return OperationContext.parse(self.raw_context)

    @property
    def sub_code(self) -> int:
        info = self.data.get("resultInformation") or {}
        try:
            return int(info.get("subCode") or 0)
        except (TypeError, ValueError):
            return 0


class CallConnected(CallEvent):
    @property
    def server_call_id(self) -> str:
        return str(self.data.get("serverCallId") or "")


class CallDisconnected(CallEvent):
    pass


class ConnectionFailed(CallEvent):
    """The call never connected (CreateCallFailed, AnswerFailed, ConnectFailed)."""


class CreateCallFailed(ConnectionFailed):
    pass


class AnswerFailed(ConnectionFailed):
    pass


class ConnectFailed(ConnectionFailed):
    pass


class RecognizeCompleted(CallEvent):
    @property
    def is_choice(self) -> bool:
        context = self.context
        chose = context is not None and context.purpose is Purpose.CHOICE
        return str(self.data.get("recognitionType") or "") == "choices" or chose

    @property
    def speech(self) -> str:
        result = self.data.get("speechResult") or {}
        return str(result.get("speech") or "").strip()

    @property
    def choice(self) -> str:
        result = self.data.get("choiceResult") or {}
        return str(result.get("label") or "")


class RecognizeFailed(CallEvent):
    @property
    def is_choice(self) -> bool:
        context = self.context
        return context is not None and context.purpose is Purpose.CHOICE


class PlayEnded(CallEvent):
    """PlayCompleted, PlayFailed or PlayCanceled: each only records that the play is over."""

    claimed = False


class PlayCompleted(PlayEnded):
    pass


class PlayFailed(PlayEnded):
    pass


class PlayCanceled(PlayEnded):
    pass


class CallTransferAccepted(CallEvent):
    pass


class CallTransferFailed(CallEvent):
    pass


class RecordingStateChanged(CallEvent):
    claimed = False

    @property
    def state(self) -> str:
        return str(self.data.get("state") or "")


class Unhandled(CallEvent):
    """PlayStarted, RecognizeCanceled, ParticipantsUpdated, ... and kinds this product does not know."""

    claimed = False
    ignored = True


KINDS: dict[str, type[CallEvent]] = {
    kind.__name__: kind
    for kind in (
        CallConnected,
        CallDisconnected,
        CreateCallFailed,
        AnswerFailed,
        ConnectFailed,
        RecognizeCompleted,
        RecognizeFailed,
        PlayCompleted,
        PlayFailed,
        PlayCanceled,
        CallTransferAccepted,
        CallTransferFailed,
        RecordingStateChanged,
    )
}


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
        kind = KINDS.get(event_type, Unhandled)
        events.append(
            kind(
                id=str(item["id"]),
                type=event_type,
                connection_id=str(data.get("callConnectionId") or ""),
                data=data,
            )
        )
    return events
