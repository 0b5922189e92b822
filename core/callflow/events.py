"""ACS callback events (CloudEvents), parsed into one typed class per event kind. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from core import json_input
from core.errors import InvalidInputError
from core.models import OperationContext, Purpose

PREFIX = "Microsoft.Communication."
MAX_BODY_BYTES = 256 * 1024
# ACS event ids are GUIDs; anything much longer is not from ACS (and would not fit a Table key).
MAX_EVENT_ID = 512


def _text(value: Any) -> str:
    """A string field of an event; anything else (a forged or broken event) reads as absent."""
    return value if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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
    # ACS puts data.callConnectionId in every Call Automation event, and the handlers act on that
    # connection (play, recognize, hang up): without it an event is refused before it changes anything.
    needs_connection: ClassVar[bool] = True

    @property
    def raw_context(self) -> str:
        return _text(self.data.get("operationContext"))

    @property
    def context(self) -> OperationContext | None:
        return OperationContext.parse(self.raw_context)

    @property
    def sub_code(self) -> int:
        code = _object(self.data.get("resultInformation")).get("subCode")
        if isinstance(code, bool) or not isinstance(code, int | str):
            return 0
        try:
            return int(code or 0)
        except ValueError:
            return 0


class CallConnected(CallEvent):
    @property
    def server_call_id(self) -> str:
        return _text(self.data.get("serverCallId"))


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
        return _text(self.data.get("recognitionType")) == "choices" or chose

    @property
    def speech(self) -> str:
        return _text(_object(self.data.get("speechResult")).get("speech")).strip()

    @property
    def choice(self) -> str:
        return _text(_object(self.data.get("choiceResult")).get("label"))


class RecognizeFailed(CallEvent):
    @property
    def is_choice(self) -> bool:
        context = self.context
        return context is not None and context.purpose is Purpose.CHOICE

    @property
    def of_turn(self) -> bool:
        """The end of a sentence the bot said (of an answer, or the goodbye), or of the listening
        while the model thought: not the caller's silence (core.callflow.speaker)."""
        context = self.context
        return context is not None and context.purpose in (Purpose.TURN, Purpose.GOODBYE)


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
        return _text(self.data.get("state"))


class Unhandled(CallEvent):
    """PlayStarted, RecognizeCanceled, ParticipantsUpdated, ... and kinds this product does not know."""

    claimed = False
    ignored = True
    needs_connection = False


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
    raw = json_input.loads(body or b"null", "callback body")
    items = raw if isinstance(raw, list) else [raw]
    events: list[CallEvent] = []
    for item in items:
        if not isinstance(item, dict) or not _text(item.get("id")) or not _text(item.get("type")):
            raise InvalidInputError("callback body must be an array of CloudEvents with id and type")
        if len(item["id"]) > MAX_EVENT_ID:
            raise InvalidInputError(f"callback event id is longer than {MAX_EVENT_ID} characters")
        raw_data = item.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        event_type = item["type"].removeprefix(PREFIX)
        kind = KINDS.get(event_type, Unhandled)
        connection_id = _text(data.get("callConnectionId"))
        if kind.needs_connection and not connection_id:
            raise InvalidInputError(f"{event_type} event without data.callConnectionId")
        events.append(kind(id=item["id"], type=event_type, connection_id=connection_id, data=data))
    return events
