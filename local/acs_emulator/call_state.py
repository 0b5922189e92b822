"""A call as the emulator keeps it (state, identities, its transcript and media), the ids ACS
makes, and a recording session. The engine that drives calls (calls.py) is the call's host."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from local.acs_emulator.callbacks import iso_now
from local.acs_emulator.caller import Caller, ScriptedCaller
from local.acs_emulator.clock import Clock
from local.acs_emulator.config import EmulatorConfig
from local.acs_emulator.identifiers import BOT_USER_ID, acs_user, normalize, phone, raw_id
from local.acs_emulator.media import MediaQueue
from local.acs_emulator.script import Script
from local.acs_emulator.transcript import Transcript


class CallHost(Protocol):
    """What a call needs of the engine that drives it."""

    config: EmulatorConfig
    clock: Clock

    def notify(self) -> None: ...

    def remote_hangup(self, call: Call) -> None: ...

    def emit(
        self,
        call: Call,
        event_name: str,
        data: dict[str, Any],
        operation_context: str | None = None,
        result: dict[str, Any] | None = None,
        uri: str | None = None,
        source: str | None = None,
    ) -> dict[str, Any]: ...


def new_server_call_id() -> str:
    url = f"https://acs-emulator.local/conv/{uuid.uuid4()}?i=10&e={secrets.randbelow(10**12)}"
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def new_recording_id(call_connection_id: str) -> str:
    """As ACS makes them: unpadded base64url of the platform endpoint (the call connection) and a
    resource-specific id (the recorded RecordingStateChanged in tests/fixtures/acs/)."""
    token = {"PlatformEndpointId": call_connection_id, "ResourceSpecificId": str(uuid.uuid4())}
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")


def new_incoming_call_context(call_id: str, issued_at: float | None = None) -> str:
    iat = int(issued_at if issued_at is not None else datetime.now(UTC).timestamp())
    token = {"cc": call_id, "n": secrets.token_hex(16), "iat": iat}
    return base64.b64encode(json.dumps(token).encode()).decode()


def context_issued_at(context: str) -> float | None:
    """When an incomingCallContext of ours was issued (None for one given by a test)."""
    try:
        return float(json.loads(base64.b64decode(context))["iat"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class Recording:
    recording_id: str
    call: Call
    state: str  # active | inactive
    callback_uri: str | None
    started_at: str = field(default_factory=iso_now)
    # Bring-your-own-storage container (externalStorage.recordingDestinationContainerUrl), if given.
    container_url: str | None = None
    content: str = "audioVideo"
    channel: str = "mixed"
    format: str = "mp4"
    started_monotonic: float = field(default_factory=time.monotonic)
    finished: bool = False

    def body(self) -> dict[str, Any]:
        return {
            "recordingId": self.recording_id,
            "recordingState": self.state,
            "recordingKind": "azureCommunicationServices",
        }


class Call:
    """One call between the bot and a person. ``call_id`` is the ACS callConnectionId."""

    def __init__(
        self,
        engine: CallHost,
        direction: str,
        person: dict[str, Any],
        bot_number: str,
        call_connection_id: str | None = None,
        server_call_id: str | None = None,
    ) -> None:
        self.call_id = call_connection_id or str(uuid.uuid4())
        self.server_call_id = server_call_id or new_server_call_id()
        self.correlation_id = str(uuid.uuid4())
        self.direction = direction  # inbound | outbound
        self.person = normalize(person)
        # The person's phone number (or raw id when the person is not on the phone network).
        self.person_number = (raw_id(self.person) or "").removeprefix("4:")
        self.bot_number = bot_number
        self.state = "ringing"  # ringing (not yet visible to the REST API) then the ACS states
        self.callback_uri: str | None = None
        self.operation_context: str | None = None
        self.incoming_call_context: str | None = None
        self.answered = False
        self.rejected = False
        self.ended_by: str | None = None
        self.transfer_target: str | None = None
        # callIntelligenceOptions.cognitiveServicesEndpoint given on answer or create: without it ACS
        # refuses text-to-speech and speech recognition on the call.
        self.cognitive_services_endpoint: str | None = None
        self.participants_sequence = 0
        self.deliver_callbacks = True
        self.transcript = Transcript()
        self.caller: Caller = ScriptedCaller(Script(), self.transcript, engine.clock, self.hang_up, 0)
        self.media: MediaQueue | None = None
        self.ended = asyncio.Event()
        self.state_changed = asyncio.Event()
        self.created_at = iso_now()
        self.incoming_event: dict[str, Any] | None = None
        # One of ANSWER_REFUSALS: what happens just before the bot's answer arrives.
        self.answer_refusal: str | None = None
        self._engine = engine

    def hang_up(self) -> None:
        """The person hung up."""
        self._engine.remote_hangup(self)

    @property
    def clock(self) -> Clock:
        return self._engine.clock

    def emit(
        self,
        event_name: str,
        data: dict[str, Any],
        operation_context: str | None = None,
        result: dict[str, Any] | None = None,
        uri: str | None = None,
    ) -> dict[str, Any]:
        """Send one callback event of this call (to ``uri``, else the call's callback URI)."""
        return self._engine.emit(self, event_name, data, operation_context, result, uri)

    @property
    def speech_unauthorized(self) -> bool:
        return (
            bool(self.cognitive_services_endpoint) and not self._engine.config.cognitive_services_authorized
        )

    @property
    def caller_raw_id(self) -> str:
        return raw_id(self.person) or ""

    @property
    def visible(self) -> bool:
        """Known to the REST API (created, or answered)."""
        return self.state != "ringing"

    def set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        self.transcript.add("call_state", state=state)
        self.state_changed.set()
        self.state_changed = asyncio.Event()
        self._engine.notify()

    def properties(self) -> dict[str, Any]:
        """CallConnectionProperties."""
        person = self.person
        bot = phone(self.bot_number)
        body: dict[str, Any] = {
            "callConnectionId": self.call_id,
            "serverCallId": self.server_call_id,
            "targets": [person] if self.direction == "outbound" else [bot],
            "callConnectionState": self.state if self.state != "ringing" else "connecting",
            "source": person if self.direction == "inbound" else acs_user(BOT_USER_ID),
            "correlationId": self.correlation_id,
        }
        if self.callback_uri:
            body["callbackUri"] = self.callback_uri
        if self.direction == "outbound":
            body["sourceCallerIdNumber"] = {"value": self.bot_number}
        else:
            body["answeredFor"] = {"value": self.bot_number}
        return body

    def summary(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "call_connection_id": self.call_id,
            "server_call_id": self.server_call_id,
            "correlation_id": self.correlation_id,
            "direction": self.direction,
            "person_number": self.person_number,
            "bot_number": self.bot_number,
            "state": self.state,
            "ended": self.ended.is_set(),
            "ended_by": self.ended_by,
            "interactive": self.caller.interactive,
            "created_at": self.created_at,
            "callback_uri": self.callback_uri,
            "transfer_target": self.transfer_target,
            "expectations_failed": len(self.transcript.of_kind("expectation_failed")),
        }
