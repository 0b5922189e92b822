"""Calls and what happens to them: ringing, answer, connect, transfer, hang-up, events. The call
itself is in call_state.py, recording in recording_desk.py."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

from local.acs_emulator.call_state import (
    Call,
    Recording,
    context_issued_at,
    new_incoming_call_context,
)
from local.acs_emulator.callbacks import Dispatcher, cloud_event, iso_now
from local.acs_emulator.caller import Caller, InteractiveCaller, ScriptedCaller
from local.acs_emulator.clock import Clock
from local.acs_emulator.config import EmulatorConfig
from local.acs_emulator.identifiers import identifier, normalize, phone, raw_id
from local.acs_emulator.media import MediaQueue
from local.acs_emulator.recording_desk import RecordingDesk
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

AGENT_RING_S = 2.0


# How a test makes ACS refuse the bot's answer, the ways it does in the field.
ANSWER_REFUSALS = ("caller_hung_up", "expired", "already_answered")


class CallEngine(RecordingDesk):
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


__all__ = ["ANSWER_REFUSALS", "Call", "CallEngine", "Recording", "context_issued_at"]
