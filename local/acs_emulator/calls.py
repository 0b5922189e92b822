"""Calls and what happens to them: ringing, answer, connect, transfer, hang-up, recording, events."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.acs_emulator import recording_files
from local.acs_emulator.callbacks import Dispatcher, cloud_event, iso_now
from local.acs_emulator.caller import Caller, InteractiveCaller, ScriptedCaller
from local.acs_emulator.clock import Clock
from local.acs_emulator.config import EmulatorConfig
from local.acs_emulator.identifiers import BOT_USER_ID, acs_user, identifier, normalize, phone, raw_id
from local.acs_emulator.media import MediaQueue
from local.acs_emulator.results import (
    CONNECTED_RESULT,
    ENDED_BY_APP,
    ENDED_RESULT,
    NOT_ANSWERED,
    PARTICIPANTS_RESULT,
    TRANSFER_DECLINED,
    TRANSFER_OK,
)
from local.acs_emulator.script import Script
from local.acs_emulator.transcript import Transcript

AGENT_RING_S = 2.0


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


# How a test makes ACS refuse the bot's answer, the ways it does in the field.
ANSWER_REFUSALS = ("caller_hung_up", "expired", "already_answered")


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
        engine: CallEngine,
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


class CallEngine:
    def __init__(self, config: EmulatorConfig, dispatcher: Dispatcher) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.clock = Clock(lambda: self.config.speed_factor)
        self.calls: dict[str, Call] = {}
        self.by_context: dict[str, Call] = {}
        self.scripts: dict[str, Script] = {}  # person number -> script followed when the bot calls it
        self.agents: dict[str, bool] = {}  # agent number -> accepts transfers
        self.recordings: dict[str, Recording] = {}
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- bookkeeping --------------------------------------------------------------------------
    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for call in list(self.calls.values()):
            if call.media is not None:
                await call.media.close()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def find(self, call_id: str) -> Call | None:
        call = self.calls.get(call_id)
        return call if call is not None and call.visible else None

    def find_by_server_call_id(self, server_call_id: str) -> Call | None:
        for call in self.calls.values():
            if call.server_call_id == server_call_id and call.visible:
                return call
        return None

    def _make_caller(self, call: Call, script: Script | None, interactive: bool) -> Caller:
        if interactive:
            return InteractiveCaller(call.transcript, self.clock, lambda: self.remote_hangup(call))
        return ScriptedCaller(
            script or Script(),
            call.transcript,
            self.clock,
            lambda: self.remote_hangup(call),
            self.config.exhausted_script_hangup_s,
        )

    def _register(self, call: Call) -> None:
        self.calls[call.call_id] = call
        call.media = MediaQueue(call)
        call.transcript.add(
            "call_started", direction=call.direction, person=call.person_number, bot=call.bot_number
        )
        self.notify()

    # -- events -------------------------------------------------------------------------------
    def emit(
        self,
        call: Call,
        event_name: str,
        data: dict[str, Any],
        operation_context: str | None = None,
        result: dict[str, Any] | None = None,
        uri: str | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "callConnectionId": call.call_id,
            "serverCallId": call.server_call_id,
            "correlationId": call.correlation_id,
        }
        if operation_context is not None:
            body["operationContext"] = operation_context
        if result is not None:
            body["resultInformation"] = dict(result)
        body.update(data)
        event = cloud_event(event_name, call.call_id, body, source)
        target = uri or call.callback_uri
        call.transcript.add("event", type=event_name, event_id=event["id"], data=body, uri=target)
        if target and call.deliver_callbacks:
            self.dispatcher.send_callback(call.call_id, target, event, call.transcript)
        return event

    # -- inbound --------------------------------------------------------------------------------
    def incoming_call(
        self,
        from_number: str,
        to_number: str | None,
        script: Script | None,
        interactive: bool,
        *,
        call_connection_id: str | None = None,
        server_call_id: str | None = None,
        incoming_call_context: str | None = None,
        caller_display_name: str | None = None,
        caller: dict[str, Any] | None = None,
        answer_refusal: str | None = None,
        deliver_callbacks: bool = True,
    ) -> Call:
        """``caller``: the caller's identifier model when it is not a phone number (an ACS user:
        ``acs_user(id)``; a Teams user: ``{"kind": "microsoftTeamsUser", "rawId": "8:orgid:..."}``);
        ``from_number`` may also be such a raw id (``8:acs:...``, ``8:orgid:...``)."""
        if answer_refusal is not None and answer_refusal not in ANSWER_REFUSALS:
            raise ValueError(f"answer_refusal must be one of {', '.join(ANSWER_REFUSALS)}")
        caller_id = normalize(caller) if caller else identifier(from_number)
        call = Call(
            self,
            "inbound",
            caller_id,
            to_number or self.config.bot_phone_number,
            call_connection_id,
            server_call_id,
        )
        call.caller = self._make_caller(call, script, interactive)
        call.answer_refusal = answer_refusal
        call.deliver_callbacks = deliver_callbacks
        issued = None
        if answer_refusal == "expired":
            issued = datetime.now(UTC).timestamp() - self.config.incoming_context_ttl_s - 1
        call.incoming_call_context = incoming_call_context or new_incoming_call_context(call.call_id, issued)
        self.by_context[call.incoming_call_context] = call
        self._register(call)
        callee_id = phone(call.bot_number)
        event = {
            "id": str(uuid.uuid4()),
            "topic": (
                "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
                f"Microsoft.Communication/communicationServices/{self.config.resource_name}"
            ),
            "subject": f"/caller/{caller_id['rawId']}/recipient/{callee_id['rawId']}",
            "data": {
                "to": callee_id,
                "from": caller_id,
                "serverCallId": call.server_call_id,
                "callerDisplayName": caller_display_name or "",
                "incomingCallContext": call.incoming_call_context,
                "correlationId": call.correlation_id,
            },
            "eventType": "Microsoft.Communication.IncomingCall",
            "dataVersion": "1.0",
            "metadataVersion": "1",
            "eventTime": iso_now(),
        }
        call.incoming_event = event
        call.transcript.add(
            "eventgrid", type="IncomingCall", event_id=event["id"], uri=self.config.eventgrid_endpoint
        )
        if self.config.eventgrid_endpoint:
            self.dispatcher.send_eventgrid(
                call.call_id, self.config.eventgrid_endpoint, event, call.transcript
            )
        return call

    def answer(
        self,
        call: Call,
        callback_uri: str,
        operation_context: str | None,
        cognitive_services_endpoint: str | None = None,
    ) -> None:
        call.answered = True
        call.cognitive_services_endpoint = cognitive_services_endpoint
        call.callback_uri = callback_uri
        call.operation_context = operation_context
        call.set_state("connecting")
        self.spawn(self._connect(call))

    async def _connect(self, call: Call) -> None:
        await self.clock.sleep(0)
        if call.ended.is_set():
            return
        self._connected(call)

    def _connected(self, call: Call) -> None:
        """The call is up: CallConnected, then the participants (the recorded callbacks carry both, at
        the same time)."""
        call.set_state("connected")
        self.emit(call, "CallConnected", {}, call.operation_context, CONNECTED_RESULT)
        self.participants_updated(call, [call.person, phone(call.bot_number)])
        call.caller.on_connected()

    def participants_updated(self, call: Call, identifiers: list[dict[str, Any]]) -> None:
        call.participants_sequence += 1
        participants = [
            {"identifier": normalize(i), "isMuted": False, "isOnHold": False} for i in identifiers
        ]
        self.emit(
            call,
            "ParticipantsUpdated",
            {"participants": participants, "sequenceNumber": call.participants_sequence},
            None,
            PARTICIPANTS_RESULT,
        )

    def reject(self, call: Call, reason: str | None) -> None:
        call.rejected = True
        call.transcript.add("note", text=f"bot rejected the call ({reason or 'none'})")
        call.transcript.add("rejected", reason=reason or "none")
        self._end(call, "bot_rejected", send_event=False)

    def redirect(self, call: Call, target: dict[str, Any]) -> None:
        call.transfer_target = raw_id(target)
        call.transcript.add("note", text=f"bot redirected the call to {call.transfer_target}")
        self._end(call, "bot_redirected", send_event=False)

    # -- outbound ---------------------------------------------------------------------------------
    def create_call(
        self,
        target: dict[str, Any],
        callback_uri: str,
        operation_context: str | None,
        source_number: str,
        cognitive_services_endpoint: str | None = None,
    ) -> Call:
        call = Call(self, "outbound", target, source_number)
        call.cognitive_services_endpoint = cognitive_services_endpoint
        script = self.scripts.get(call.person_number) or Script()
        call.caller = self._make_caller(call, script, False)
        call.callback_uri = callback_uri
        call.operation_context = operation_context
        self._register(call)
        call.set_state("connecting")
        self.spawn(self._ring_outbound(call, script))
        return call

    async def _ring_outbound(self, call: Call, script: Script) -> None:
        await self.clock.sleep(script.ring_seconds)
        if call.ended.is_set():
            return
        if not script.answer:
            call.transcript.add("note", text="the person did not answer")
            self.emit(call, "CreateCallFailed", {}, call.operation_context, NOT_ANSWERED)
            self._end(call, "not_answered", send_event=False)
            return
        self._connected(call)

    # -- transfer ---------------------------------------------------------------------------------
    def transfer(
        self, call: Call, target: dict[str, Any], operation_context: str | None, uri: str | None
    ) -> None:
        call.set_state("transferring")
        target_raw = raw_id(target) or ""
        call.transcript.add("transfer", target=target_raw, operation_context=operation_context)
        self.spawn(self._ring_agent(call, target, operation_context, uri))

    async def _ring_agent(
        self, call: Call, target: dict[str, Any], operation_context: str | None, uri: str | None
    ) -> None:
        await self.clock.sleep(AGENT_RING_S)
        if call.ended.is_set():
            return
        number = (raw_id(target) or "").removeprefix("4:")
        accepts = self.agents.get(number, True)
        transferee = call.person
        if not accepts:
            call.transcript.add("transfer", target=number, outcome="declined", who="agent")
            call.set_state("connected")
            self.emit(call, "CallTransferFailed", {}, operation_context, TRANSFER_DECLINED, uri)
            return
        call.transcript.add("transfer", target=number, outcome="accepted", who="agent")
        call.transfer_target = number
        call.set_state("transferAccepted")
        self.emit(
            call,
            "CallTransferAccepted",
            {"transferTarget": normalize(target), "transferee": transferee},
            operation_context,
            TRANSFER_OK,
            uri,
        )
        self._end(call, "transferred")

    # -- hang up ------------------------------------------------------------------------------------
    def bot_hangup(self, call: Call) -> None:
        call.transcript.add("note", text="bot hung up")
        self._end(call, "bot")

    def remote_hangup(self, call: Call) -> None:
        if call.ended.is_set():
            return
        if call.state == "ringing":
            self._end(call, "caller_before_answer", send_event=False)
            return
        if call.state in ("connected", "transferring"):
            # The person leaves first: the participants update (only the bot left), then the end.
            self.participants_updated(call, [phone(call.bot_number)])
        self._end(call, "caller")

    def _end(self, call: Call, ended_by: str, send_event: bool = True) -> None:
        if call.ended.is_set():
            return
        call.ended_by = ended_by
        was_visible = call.visible
        call.set_state("disconnecting" if was_visible else call.state)
        call.caller.on_call_end()
        if call.media is not None:
            self.spawn(call.media.close())
        for recording in self.recordings.values():
            if recording.call is call and recording.state == "active":
                self.set_recording_state(recording, "inactive")
            if recording.call is call:
                self.finish_recording(recording)
        if send_event and was_visible:
            result = ENDED_BY_APP if ended_by == "bot" else ENDED_RESULT
            self.emit(call, "CallDisconnected", {}, None, result)
        call.set_state("disconnected")
        call.transcript.add("call_ended", ended_by=ended_by)
        call.ended.set()
        self.notify()

    # -- recording ------------------------------------------------------------------------------------
    def start_recording(
        self, call: Call, callback_uri: str | None, paused: bool, options: dict[str, Any] | None = None
    ) -> Recording:
        recording = Recording(
            new_recording_id(call.call_id), call, "inactive", callback_uri, **(options or {})
        )
        self.recordings[recording.recording_id] = recording
        call.transcript.add("recording", recording_id=recording.recording_id, action="start", paused=paused)
        if not paused:
            self.set_recording_state(recording, "active")
        return recording

    def set_recording_state(self, recording: Recording, state: str) -> None:
        recording.state = state
        recording.call.transcript.add("recording", recording_id=recording.recording_id, state=state)
        # Recording events come from the recording, not the call connection (recorded callbacks).
        source = f"calling/recordings/{recording.call.server_call_id}/{recording.recording_id}/RecordingStateChanged"
        self.emit(
            recording.call,
            "RecordingStateChanged",
            {
                "eventSource": source,
                "recordingId": recording.recording_id,
                "state": state,
                "startDateTime": recording.started_at,
                "recordingKind": "azureCommunicationServices",
            },
            None,
            PARTICIPANTS_RESULT,
            recording.callback_uri,
            source,
        )

    def finish_recording(self, recording: Recording) -> None:
        """The recording session is over (stopped, or the call ended): its file goes out once."""
        if recording.finished:
            return
        recording.finished = True
        if recording.container_url:
            self.spawn(self._store_recording_file(recording))

    async def _store_recording_file(self, recording: Recording) -> None:
        await self.clock.sleep(self.config.recording_file_delay_s)
        call = recording.call
        duration_ms = max(1000, int((time.monotonic() - recording.started_monotonic) * 1000))
        format_name, media_type = recording_files.FORMATS[recording.format]
        data = recording_files.wav_file(duration_ms) if recording.format == "wav" else b"\x00" * 64
        document_id = str(uuid.uuid4())
        name = recording_files.blob_name(
            call.server_call_id, recording.recording_id, document_id, recording.format
        )
        assert recording.container_url is not None
        try:
            url = await recording_files.write_blob(recording.container_url, name, data, media_type)
            metadata_url = await recording_files.write_blob(
                recording.container_url,
                name.rsplit(".", 1)[0] + ".json",
                recording_files.metadata(
                    recording.recording_id,
                    call.server_call_id,
                    recording.started_at,
                    duration_ms,
                    format_name,
                ),
                "application/json",
            )
        except Exception as exc:  # ACS cannot write there: no file, no event
            call.transcript.add("note", text=f"recording file not written: {type(exc).__name__}: {exc}")
            return
        chunk = {
            "documentId": document_id,
            "index": 0,
            "endReason": "SessionEnded",
            "contentLocation": url,
            "metadataLocation": metadata_url,
            "deleteLocation": url,
        }
        event = recording_files.file_status_event(
            topic=self._topic(),
            correlation_id=call.correlation_id,
            server_call_id=call.server_call_id,
            chunk=chunk,
            started_at=recording.started_at,
            duration_ms=duration_ms,
            content=recording.content[0].upper() + recording.content[1:],
            channel=recording.channel.capitalize(),
            format_type=format_name,
        )
        call.transcript.add("recording", recording_id=recording.recording_id, file=url, event_id=event["id"])
        endpoint = self.config.recording_eventgrid_endpoint
        if endpoint:
            self.dispatcher.send_eventgrid(f"recording-{call.call_id}", endpoint, event, call.transcript)

    def _topic(self) -> str:
        return (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
            f"Microsoft.Communication/communicationServices/{self.config.resource_name}"
        )

    # -- waiting ----------------------------------------------------------------------------------
    async def wait_for_calls(self, count: int, timeout: float = 10.0) -> list[Call]:  # noqa: ASYNC109 (documented helper signature)
        async with asyncio.timeout(timeout):
            while len(self.calls) < count:
                await self._changed.wait()
        return list(self.calls.values())

    async def wait_for_state(self, call: Call, state: str, timeout: float = 10.0) -> Call:  # noqa: ASYNC109 (documented helper signature)
        async with asyncio.timeout(timeout):
            while call.state != state and not (state == "disconnected" and call.ended.is_set()):
                if call.ended.is_set() and state != call.state:
                    raise LookupError(f"call ended in state {call.state}, never reached {state}")
                await call.state_changed.wait()
        return call
