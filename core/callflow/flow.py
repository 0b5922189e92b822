"""The call flow, event by event.

Every ACS event of a call comes here after authentication. Each event is claimed in the inbox first
(a duplicate is skipped); a failure releases the claim so the retry can run. Changes to the call go
through ``CallStore.update`` with mutations of the fresh state; telephony actions that must happen once
(hang-up, transfer, post-call job) are claimed in the call document before they run.

Speaking: the first sentence of an answer is played as soon as the engine releases it; the sentences
after it become the prompt of the next recognition, which the caller may interrupt (barge-in). A new
recognized utterance supersedes a running turn: the old turn stops before its next play.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from core.callflow.auth import secret_matches
from core.callflow.events import CallEvent, parse_callback_body
from core.callflow.outbound import default_initiate, parse_initiate
from core.errors import DomainError, NotFoundError, UnauthorizedError
from core.models import (
    Action,
    Call,
    CallDirection,
    CallStatus,
    Message,
    Persona,
    PostCallStatus,
    Style,
    normalize_e164,
    utcnow,
)
from core.observability import logger, meter, redact, tracer
from core.ports import CallStore, Choice, EventInbox, QueueSender, SpokenText, Telephony

if TYPE_CHECKING:
    from core.settings import Settings

# Flags of the call document that belong to one connection (reset when a caller calls back).
_CONNECTION_FLAGS = (
    "greeted",
    "ending",
    "pending_action",
    "open_turn",
    "played",
    "choice_attempts",
    "transferred",
    "server_call_id",
    "recording",
)
_PLAYED_MEMORY = 8
# A running turn reads the store at most this often to learn it was superseded on another instance
# (the same instance knows at once); the end of the turn checks the fresh state anyway.
SUPERSEDE_CHECK_S = 1.0
# Events the flow has nothing to do for (once the request is authenticated).
_IGNORED_EVENTS = {
    "PlayStarted",
    "RecognizeCanceled",
    "ParticipantsUpdated",
    "CancelAddParticipantSucceeded",
    "ContinuousDtmfRecognitionToneReceived",
}
# Events whose handling is idempotent by itself (no inbox claim needed).
_IDEMPOTENT_EVENTS = {"PlayCompleted", "PlayFailed", "PlayCanceled", "RecordingStateChanged"}


class TelephonyError(DomainError):
    """The telephony provider refused an action (e.g. placing the call)."""


class Authenticator(Protocol):
    async def verify(self, authorization: str | None) -> Any: ...


class TurnLike(Protocol):
    def __aiter__(self) -> Any: ...

    @property
    def outcome(self) -> Any: ...


class TurnRunner(Protocol):
    def run(
        self,
        call: Call,
        caller_text: str | None,
        *,
        turn_id: str,
        should_stop: Callable[[], Awaitable[bool]] | None = None,
        extra_messages: list[Message] | None = None,
    ) -> TurnLike: ...


@dataclass
class FlowDeps:
    settings: Settings
    calls: CallStore
    inbox: EventInbox
    queues: QueueSender
    telephony: Telephony
    authenticator: Authenticator
    # Builds (or returns the per-worker) engine; may raise LlmNotConfiguredError.
    engine: Callable[[], TurnRunner]


@functools.cache
def _instruments() -> dict[str, Any]:
    m = meter()
    return {
        "latency": m.create_histogram(
            "call.answer.latency",
            unit="ms",
            description="RecognizeCompleted received to first play request sent",
        ),
        "llm": m.create_histogram(
            "call.llm.first_sentence", unit="ms", description="LLM time to first complete sentence"
        ),
        "overhead": m.create_histogram(
            "call.answer.overhead", unit="ms", description="Answer latency minus the LLM's share"
        ),
    }


def _phrase(name: str, call: Call, language: str | None = None, **fmt: Any) -> str:
    from core.engine.phrases import phrase

    return phrase(name, language or call.language, call=call, **fmt)


class CallFlow:
    def __init__(self, deps: FlowDeps) -> None:
        self.deps = deps
        self.settings = deps.settings
        self.calls = deps.calls
        self.tel = deps.telephony
        # Turn allowed to speak, per call, in this worker (the store holds the cross-worker truth).
        self._running: dict[str, str] = {}
        # Callback secrets never change: once a call's document has been read, its secret is kept.
        self._secrets: dict[str, str] = {}
        # Turns this worker ran to the end without a hang-up or transfer: their plays need no follow-up.
        self._quiet_turns: set[str] = set()
        self._log = logger()

    # -- entry points ------------------------------------------------------------------------------

    def callback_url(self, call: Call) -> str:
        base = self.settings.acs.callback_base_url.rstrip("/")
        return f"{base}/callbacks/{call.call_id}/{call.callback_secret}"

    async def create_call(self, body: bytes) -> Call:
        """POST /call: validate, store and place an outbound call."""
        initiate = parse_initiate(body, self.settings.conversation)
        call = Call(direction=CallDirection.OUTBOUND, initiate=initiate)
        await self.calls.create(call)
        with tracer().start_as_current_span("callflow.create_call") as span:
            span.set_attribute("call.id", call.call_id)
            try:
                connection_id = await self.tel.call(initiate.phone_number, self.callback_url(call))
            except Exception as exc:
                self._log.warning("placing call %s failed: %s", call.call_id, exc)
                reason = f"could not place the call: {type(exc).__name__}"

                def failed(c: Call) -> None:
                    c.status = CallStatus.ENDED
                    c.ended_at = utcnow()
                    c.flags["error"] = reason

                await self.calls.update(call.call_id, failed)
                raise TelephonyError("the telephony service refused to place the call") from exc

        def connected(c: Call) -> bool:
            if c.connection_id:
                return False
            c.connection_id = connection_id
            return True

        return await self.calls.update(call.call_id, connected)

    async def handle_incoming_call(self, event_id: str, data: dict[str, Any]) -> str | None:
        """Event Grid IncomingCall: answer it, for a new call or the caller's recent one (resume)."""
        context = str(data.get("incomingCallContext") or "")
        caller = data.get("from") or {}
        raw_number = str((caller.get("phoneNumber") or {}).get("value") or "")
        if not context or not raw_number:
            self._log.warning("IncomingCall %s without context or caller phone number: ignored", event_id)
            return None
        try:
            number = normalize_e164(raw_number)
        except ValueError:
            self._log.warning("IncomingCall %s from an invalid number: ignored", event_id)
            return None
        inbox_partition = "incoming-call"
        if not await self.deps.inbox.claim(inbox_partition, event_id):
            return None
        try:
            with tracer().start_as_current_span("callflow.IncomingCall") as span:
                call = await self._call_for_incoming(number)
                span.set_attribute("call.id", call.call_id)
                connection_id = await self.tel.answer(context, self.callback_url(call))

                def answered(c: Call) -> bool:
                    if c.connection_id == connection_id:
                        return False
                    if c.connection_id and c.connection_id != connection_id:
                        c.flags.setdefault("old_connections", []).append(c.connection_id)
                    c.connection_id = connection_id
                    return True

                await self.calls.update(call.call_id, answered)
                return call.call_id
        except BaseException:
            with contextlib.suppress(Exception):
                await self.deps.inbox.release(inbox_partition, event_id)
            raise

    async def _call_for_incoming(self, number: str) -> Call:
        conversation = self.settings.conversation
        since = utcnow() - timedelta(hours=conversation.callback_window_hours)
        previous = (
            await self.calls.latest_for_phone_number(number, since)
            if conversation.callback_window_hours > 0
            else None
        )
        if previous is None:
            call = Call(direction=CallDirection.INBOUND, initiate=default_initiate(number, conversation))
            return await self.calls.create(call)

        def resume(c: Call) -> None:
            if c.connection_id:
                old = c.flags.setdefault("old_connections", [])
                if c.connection_id not in old:
                    old.append(c.connection_id)
            c.connection_id = None
            c.status = CallStatus.CREATED  # until the new connection's CallConnected
            c.ended_at = None
            for name in _CONNECTION_FLAGS:
                c.flags.pop(name, None)
            c.flags["resumed"] = True
            c.flags["resumed_count"] = int(c.flags.get("resumed_count", 0)) + 1
            c.current_turn_id = None
            c.counters.silence_retries = 0
            c.post_call.status = PostCallStatus.NOT_STARTED

        return await self.calls.update(previous.call_id, resume)

    async def handle_callback(
        self,
        raw_call_id: str,
        secret: str,
        authorization: str | None,
        body: bytes,
        *,
        received_at: float | None = None,
    ) -> int:
        """An ACS callback POST. Raises UnauthorizedError (nothing changed) on a bad token or secret.
        Returns how many events were handled (duplicates excluded)."""
        received_at = received_at if received_at is not None else time.perf_counter()
        await self.deps.authenticator.verify(authorization)
        try:
            call_id = str(uuid.UUID(raw_call_id))
        except ValueError:
            raise UnauthorizedError("unknown call") from None
        known_secret = self._secrets.get(call_id)
        if known_secret is not None and not secret_matches(known_secret, secret):
            raise UnauthorizedError("unknown call or wrong callback secret")
        events = parse_callback_body(body)
        handled = 0
        for event in events:
            if known_secret is not None and (event.type in _IGNORED_EVENTS or self._needs_nothing(event)):
                continue  # authenticated; nothing to do and nothing to remember
            needs_claim = event.type not in _IDEMPOTENT_EVENTS and event.type not in _IGNORED_EVENTS
            if known_secret is None:
                # First callback of this call in this worker: the secret check needs the document.
                call = await self.calls.get(call_id)
                if call is None or not secret_matches(call.callback_secret, secret):
                    raise UnauthorizedError("unknown call or wrong callback secret")
                self._remember_secret(call)
                known_secret = call.callback_secret
                claimed = await self.deps.inbox.claim(call_id, event.id) if needs_claim else True
            elif needs_claim:
                # Authenticated: load the call and claim the event at the same time.
                found, claimed = await asyncio.gather(
                    self.calls.get(call_id), self.deps.inbox.claim(call_id, event.id)
                )
                if found is None:
                    raise NotFoundError(f"call {call_id} not found")
                call = found
            else:
                found = await self.calls.get(call_id)
                if found is None:
                    raise NotFoundError(f"call {call_id} not found")
                call, claimed = found, True
            if not claimed:
                continue  # a duplicate
            if event.type in _IGNORED_EVENTS:
                continue
            if await self._handle_event(call, event, received_at, release=needs_claim):
                handled += 1
        return handled

    def _needs_nothing(self, event: CallEvent) -> bool:
        """A play's end that cannot be the announcement of a pending hang-up or transfer."""
        if event.type not in ("PlayCompleted", "PlayFailed", "PlayCanceled"):
            return False
        parts = event.context.split(":")
        return parts[0] == "greeting" or (
            parts[0] == "turn" and len(parts) > 2 and parts[1] in self._quiet_turns
        )

    def _remember_secret(self, call: Call) -> None:
        if len(self._secrets) > 10_000:
            self._secrets.clear()
        self._secrets[call.call_id] = call.callback_secret

    async def _handle_event(self, call: Call, event: CallEvent, received_at: float, *, release: bool) -> bool:
        try:
            with tracer().start_as_current_span(f"callflow.{event.type}") as span:
                span.set_attribute("call.id", call.call_id)
                span.set_attribute("event.id", event.id)
                await self._dispatch(call, event, received_at)
        except BaseException:
            if release:
                with contextlib.suppress(Exception):
                    await self.deps.inbox.release(call.call_id, event.id)
            raise
        return True

    async def _dispatch(self, call: Call, event: CallEvent, received_at: float) -> None:
        if event.connection_id and event.connection_id in call.flags.get("old_connections", []):
            return  # a late event of an earlier connection of a resumed call
        kind = event.type
        if kind == "CallConnected":
            await self._on_connected(call, event)
        elif kind == "CallDisconnected":
            await self._on_disconnected(call, event)
        elif kind == "RecognizeCompleted":
            if event.recognition_type == "choices" or event.context.startswith("choice:"):
                await self._on_choice(call, event)
            elif event.speech:
                await self._on_speech(call, event, event.speech, received_at)
            else:
                await self._on_silence(call, event)
        elif kind == "RecognizeFailed":
            if event.context.startswith("choice:"):
                await self._on_choice_failed(call, event)
            else:
                await self._on_silence(call, event)
        elif kind in ("PlayCompleted", "PlayFailed", "PlayCanceled"):
            await self._on_play_done(call, event)
        elif kind == "CallTransferAccepted":
            await self._on_transfer_accepted(call, event)
        elif kind == "CallTransferFailed":
            await self._on_transfer_failed(call, event)
        elif kind == "RecordingStateChanged":
            state = str(event.data.get("state") or "")

            def recording(c: Call) -> bool:
                if c.flags.get("recording") == state:
                    return False
                c.flags["recording"] = state
                return True

            await self.calls.update(call.call_id, recording)
        elif kind in ("CreateCallFailed", "AnswerFailed", "ConnectFailed"):
            await self._on_connect_failed(call, event)
        # Other events (PlayStarted, RecognizeCanceled, ParticipantsUpdated, ...) need nothing.

    # -- helpers ---------------------------------------------------------------------------------

    def _spoken(
        self, call: Call, text: str, style: Style | str = Style.NONE, language: str = ""
    ) -> SpokenText:
        option = call.initiate.language(language or call.language)
        return SpokenText(
            text=text,
            voice=option.voice,
            language=option.code,
            style=str(style.value if isinstance(style, Style) else style),
            rate=call.speech_speed,
        )

    def _connection(self, call: Call, event: CallEvent) -> str:
        return event.connection_id or call.connection_id or ""

    async def _listen(
        self, call: Call, connection_id: str, context: str, prompt: Sequence[SpokenText] = ()
    ) -> None:
        acs = self.settings.acs
        await self._unless_gone(
            self.tel.listen(
                connection_id,
                call.phone_number,
                language=call.initiate.language(call.language).code,
                context=context,
                prompt=prompt,
                initial_silence_s=acs.initial_silence_timeout_s,
                end_silence_s=acs.end_silence_timeout_s,
            )
        )

    async def _unless_gone(self, action: Awaitable[None]) -> None:
        """Run a telephony action; a call that no longer exists (the caller hung up) is not an error:
        its CallDisconnected finalizes it."""
        try:
            await action
        except Exception as exc:
            if not _is_gone(exc):
                raise
            self._log.info("telephony action on a call that is gone: %s", exc)

    async def _listen_choice(self, call: Call, connection_id: str, context: str) -> None:
        options = call.initiate.languages
        listing = ", ".join(f"{o.name} ({index + 1})" for index, o in enumerate(options))
        prompt = self._spoken(call, _phrase("language_choice", call, languages=listing))
        choices = [
            Choice(label=o.code, phrases=[o.name], tone=str(index + 1) if index < 9 else None)
            for index, o in enumerate(options)
        ]
        await self._unless_gone(
            self.tel.listen(
                connection_id,
                call.phone_number,
                language=call.initiate.language(call.language).code,
                context=context,
                prompt=[prompt],
                choices=choices,
                initial_silence_s=self.settings.acs.initial_silence_timeout_s,
            )
        )

    async def _say_goodbye(self, call: Call, event: CallEvent) -> None:
        """Goodbye, then hang up when it has been played (claimed first, so it happens once)."""
        context = f"goodbye:{event.id}"
        text = _phrase("goodbye", call)

        def ending(c: Call) -> bool:
            if c.flags.get("ending") or c.status is CallStatus.ENDED:
                return False
            c.flags["ending"] = True
            c.flags["pending_action"] = {"kind": "hangup", "context": context}
            c.messages.append(Message(persona=Persona.ASSISTANT, content=text, source_id=context))
            return True

        before = call.flags.get("ending")
        call = await self.calls.update(call.call_id, ending)
        if before or call.flags.get("pending_action", {}).get("context") != context:
            return
        await self._unless_gone(
            self.tel.play(self._connection(call, event), self._spoken(call, text), context=context)
        )

    # -- events ----------------------------------------------------------------------------------

    async def _on_connected(self, call: Call, event: CallEvent) -> None:
        connection_id = event.connection_id
        result: dict[str, Any] = {}

        def connected(c: Call) -> bool:
            result.clear()
            if c.flags.get("greeted") == connection_id or c.status is CallStatus.ENDED:
                return False
            c.status = CallStatus.CONNECTED
            c.connection_id = connection_id or c.connection_id
            c.flags["greeted"] = connection_id
            if event.server_call_id:
                c.flags["server_call_id"] = event.server_call_id
            name = "welcome_back" if c.flags.get("resumed") else "greeting"
            text = _phrase(name, c)
            c.messages.append(
                Message(persona=Persona.ASSISTANT, action=Action.CALL, content=text, source_id=event.id)
            )
            choose = len(c.initiate.languages) > 1 and not c.flags.get("language_chosen")
            result.update(text=text, choose=choose)
            return True

        call = await self.calls.update(call.call_id, connected)
        if not result:
            return
        # Recording starts with the connection (so the greeting is on it), alongside the greeting.
        recording = (
            asyncio.create_task(self._start_recording(call.call_id, connection_id))
            if self.settings.acs.recording_enabled
            else None
        )
        greeting = self._spoken(call, result["text"])
        if result["choose"]:
            await self._unless_gone(self.tel.play(connection_id, greeting, context=f"greeting:{event.id}"))
            await self._listen_choice(call, connection_id, f"choice:{event.id}")
        else:
            await self._listen(call, connection_id, f"listen:{event.id}", [greeting])
        if recording is not None:
            await recording

    async def _start_recording(self, call_id: str, connection_id: str) -> None:
        try:
            await self.tel.start_recording(connection_id)
        except Exception as exc:  # recording is best effort: the conversation goes on
            self._log.warning("starting the recording of call %s failed: %s", call_id, exc)

    async def _on_choice(self, call: Call, event: CallEvent) -> None:
        if call.status is CallStatus.ENDED or call.flags.get("ending"):
            return
        codes = {o.code for o in call.initiate.languages}
        code = event.choice
        if code not in codes:
            await self._on_choice_failed(call, event)
            return
        previous = call.language

        def chosen(c: Call) -> None:
            c.language = code
            c.flags["language_chosen"] = True
            c.flags.pop("choice_attempts", None)
            c.counters.silence_retries = 0

        call = await self.calls.update(call.call_id, chosen)
        prompt = [] if code == previous else [self._spoken(call, _phrase("greeting", call))]
        await self._listen(call, self._connection(call, event), f"listen:{event.id}", prompt)

    async def _on_choice_failed(self, call: Call, event: CallEvent) -> None:
        if call.status is CallStatus.ENDED or call.flags.get("ending"):
            return

        def attempt(c: Call) -> None:
            c.flags["choice_attempts"] = int(c.flags.get("choice_attempts", 0)) + 1
            if c.flags["choice_attempts"] > self.settings.conversation.silence_retries:
                c.flags["language_chosen"] = True  # keep the default language and go on

        call = await self.calls.update(call.call_id, attempt)
        connection_id = self._connection(call, event)
        if call.flags.get("language_chosen"):
            await self._listen(call, connection_id, f"listen:{event.id}")
        else:
            await self._listen_choice(call, connection_id, f"choice:{event.id}")

    async def _on_silence(self, call: Call, event: CallEvent) -> None:
        if call.status is CallStatus.ENDED or call.flags.get("ending"):
            return

        def silent(c: Call) -> None:
            c.counters.silence_retries += 1

        call = await self.calls.update(call.call_id, silent)
        if call.counters.silence_retries > self.settings.conversation.silence_retries:
            await self._say_goodbye(call, event)
            return
        prompt = self._spoken(call, _phrase("silence", call))
        await self._listen(call, self._connection(call, event), f"listen:{event.id}", [prompt])

    async def _on_play_done(self, call: Call, event: CallEvent) -> None:
        context = event.context
        if not context or call.status is CallStatus.ENDED:
            return
        pending = call.flags.get("pending_action") or {}
        waiting = pending.get("context") == context and not pending.get("started")
        # A play of a turn still running may be the announcement of a hang-up or transfer that turn
        # is about to request: remember it was played (the turn side then runs the action).
        parts = context.split(":")
        running = parts[0] == "turn" and len(parts) > 2 and call.flags.get("open_turn") == parts[1]
        if waiting or running:
            await self._maybe_perform(call.call_id, context, from_play=True)

    async def _maybe_perform(self, call_id: str, context: str, *, from_play: bool) -> None:
        """Run the pending action (hang-up, transfer) once its announcement has been played.

        Both sides record what they know in the call document: the play side that `context` was played,
        the turn side the pending action. Whichever writes second runs the action, exactly once."""
        result: dict[str, Any] = {}

        def check(c: Call) -> bool:
            result.clear()
            changed = False
            if from_play:
                played = [p for p in c.flags.get("played", []) if p != context][-(_PLAYED_MEMORY - 1) :]
                c.flags["played"] = [*played, context]
                changed = True
            pending = c.flags.get("pending_action")
            if (
                pending
                and not pending.get("started")
                and pending.get("context") in c.flags.get("played", [])
                and c.status is not CallStatus.ENDED
            ):
                pending["started"] = True
                result.update(pending)
                result["connection_id"] = c.connection_id
                result["agent"] = c.initiate.agent_phone_number
                changed = True
            return changed

        await self.calls.update(call_id, check)
        if not result:
            return
        try:
            if result["kind"] == "hangup":
                await self.tel.hang_up(result["connection_id"])
            elif result["kind"] == "transfer":
                await self.tel.transfer(
                    result["connection_id"], result["agent"], context=f"transfer:{result['context']}"
                )
        except Exception as exc:
            if result["kind"] == "hangup" and _is_gone(exc):
                return  # the caller hung up first
            if result["kind"] == "transfer":
                self._log.warning("transfer of call %s failed: %s", call_id, exc)
                fresh = await self.calls.get(call_id)
                if fresh is not None:
                    await self._transfer_failed(fresh, fresh.connection_id or "", f"xfer-error:{context}")
                return

            def undo(c: Call) -> None:
                pending = c.flags.get("pending_action")
                if pending and pending.get("context") == result["context"]:
                    pending["started"] = False

            await self.calls.update(call_id, undo)
            raise

    async def _on_transfer_accepted(self, call: Call, event: CallEvent) -> None:
        def transferred(c: Call) -> bool:
            if c.flags.get("transferred"):
                return False
            c.flags["transferred"] = True
            c.flags.pop("pending_action", None)
            c.messages.append(
                Message(
                    persona=Persona.ASSISTANT,
                    action=Action.TRANSFER,
                    content=f"Transferred to {c.initiate.agent_phone_number}",
                    source_id=event.id,
                )
            )
            return True

        await self.calls.update(call.call_id, transferred)

    async def _on_transfer_failed(self, call: Call, event: CallEvent) -> None:
        await self._transfer_failed(call, self._connection(call, event), event.id)

    async def _transfer_failed(self, call: Call, connection_id: str, source_id: str) -> None:
        if call.status is CallStatus.ENDED:
            return
        text = _phrase("transfer_failed", call)

        def failed(c: Call) -> bool:
            if c.has_message(source_id):
                return False
            c.flags.pop("ending", None)
            c.flags.pop("pending_action", None)
            c.messages.append(Message(persona=Persona.ASSISTANT, content=text, source_id=source_id))
            return True

        call = await self.calls.update(call.call_id, failed)
        await self._listen(call, connection_id, f"listen:{source_id}", [self._spoken(call, text)])

    async def _on_disconnected(self, call: Call, event: CallEvent) -> None:
        connection_id = event.connection_id or call.connection_id or "-"
        result: dict[str, bool] = {}

        def finalize(c: Call) -> bool:
            result.clear()
            changed = False
            if c.status is not CallStatus.ENDED:
                c.status = CallStatus.ENDED
                c.ended_at = utcnow()
                c.flags.pop("open_turn", None)
                c.messages.append(
                    Message(persona=Persona.HUMAN, action=Action.HANGUP, content="", source_id=event.id)
                )
                changed = True
            if c.flags.get("post_call_for") != connection_id:
                c.flags["post_call_for"] = connection_id
                c.post_call.status = PostCallStatus.ENQUEUED
                c.post_call.enqueued_at = utcnow()
                c.post_call.attempts = 0
                result["enqueue"] = True
                changed = True
            return changed

        await self.calls.update(call.call_id, finalize)
        self._running.pop(call.call_id, None)
        if not result.get("enqueue"):
            return
        try:
            await self.deps.queues.send(self.settings.storage.post_call_queue, {"call_id": call.call_id})
        except Exception:

            def undo(c: Call) -> None:
                if c.flags.get("post_call_for") == connection_id:
                    c.flags.pop("post_call_for")
                    c.post_call.status = PostCallStatus.NOT_STARTED

            await self.calls.update(call.call_id, undo)
            raise

    async def _on_connect_failed(self, call: Call, event: CallEvent) -> None:
        def failed(c: Call) -> bool:
            if c.status is CallStatus.ENDED:
                return False
            c.status = CallStatus.ENDED
            c.ended_at = utcnow()
            c.flags["error"] = f"{event.type} ({event.sub_code})"
            return True

        await self.calls.update(call.call_id, failed)

    # -- the turn --------------------------------------------------------------------------------

    async def handle_sms_during_call(self, call: Call, text: str, source_id: str) -> None:
        """An SMS from the caller during a live call: the bot takes it into the conversation and answers
        on the phone, as if the caller had said it (the message is stored as an SMS)."""
        event = CallEvent(id=source_id, type="SmsReceived", connection_id=call.connection_id or "")
        await self._on_speech(call, event, text, time.perf_counter(), action=Action.SMS)

    async def _on_speech(
        self, call: Call, event: CallEvent, text: str, received_at: float, *, action: Action = Action.TALK
    ) -> None:
        if call.status is CallStatus.ENDED or call.flags.get("ending"):
            return
        from core.engine.safety import clean_caller_text

        call_id, turn_id = call.call_id, event.id
        connection_id = self._connection(call, event)
        caller_text = clean_caller_text(text)
        if call.counters.turns >= self.settings.conversation.max_turns:
            await self._say_goodbye(call, event)
            return

        # Supersede an older turn: locally at once, in the store concurrently (off the latency path).
        older_local = self._running.get(call_id)
        self._running[call_id] = turn_id
        older_stored = call.flags.get("open_turn")
        cancel: asyncio.Task[None] | None = None
        # An SMS arrives while the caller may be listening or being listened to: clear the media queue
        # so the answer is heard and recognition starts afresh after it.
        interrupting = action is Action.SMS
        if (
            interrupting
            or (older_local and older_local != turn_id)
            or (older_stored and older_stored != turn_id)
        ):
            cancel = asyncio.create_task(self._cancel_media(connection_id))

        human = Message(
            persona=Persona.HUMAN, action=action, content=caller_text, source_id=f"{turn_id}:caller"
        )

        def begin(c: Call) -> None:
            c.current_turn_id = turn_id
            c.flags["open_turn"] = turn_id
            c.counters.silence_retries = 0
            if not c.has_message(human.source_id or ""):
                c.messages.append(human.model_copy(deep=True))
                c.counters.turns += 1

        persist = asyncio.create_task(self.calls.update(call_id, begin))
        last_check = [time.perf_counter()]

        async def should_stop() -> bool:
            if self._running.get(call_id) != turn_id:
                return True
            now = time.perf_counter()
            if not persist.done() or now - last_check[0] < SUPERSEDE_CHECK_S:
                return False
            last_check[0] = now
            fresh = await self.calls.get(call_id)
            return fresh is None or fresh.status is CallStatus.ENDED or fresh.current_turn_id != turn_id

        with tracer().start_as_current_span("callflow.turn") as span:
            span.set_attribute("call.id", call_id)
            span.set_attribute("turn.id", turn_id)
            try:
                spoken = await self._speak_turn(
                    call, connection_id, turn_id, human, should_stop, cancel, received_at
                )
            finally:
                if cancel is not None and not cancel.done():
                    await asyncio.gather(cancel, return_exceptions=True)
                begun = await persist
            await self._finish_turn(begun, connection_id, turn_id, spoken)
            if spoken.answer_latency_ms is not None:
                span.set_attribute("call.answer.latency_ms", spoken.answer_latency_ms)

    async def _cancel_media(self, connection_id: str) -> None:
        try:
            await self.tel.cancel_media(connection_id)
        except Exception as exc:
            self._log.info("cancel media on %s: %s", connection_id, exc)

    async def _speak_turn(
        self,
        call: Call,
        connection_id: str,
        turn_id: str,
        human: Message,
        should_stop: Callable[[], Awaitable[bool]],
        cancel: asyncio.Task[None] | None,
        received_at: float,
    ) -> _SpokenTurn:
        result = _SpokenTurn(turn_id=turn_id)
        try:
            engine = self.deps.engine()
        except Exception as exc:  # no model configured: say so to the caller, keep listening
            self._log.error("no conversation engine for call %s: %s", call.call_id, exc)
            text = _phrase("error", call)
            result.error = str(exc)
            result.extra_messages.append(Message(persona=Persona.ASSISTANT, content=text, source_id=turn_id))
            await self._play_first(call, connection_id, self._spoken(call, text), result, cancel, received_at)
            return result
        turn = engine.run(call, None, turn_id=turn_id, should_stop=should_stop, extra_messages=[human])
        result.turn = turn
        stream = turn.__aiter__()
        pending_first: asyncio.Future[Any] = asyncio.ensure_future(stream.__anext__())
        try:
            done, _ = await asyncio.wait({pending_first}, timeout=self.settings.llm.filler_after_s)
            if not done:
                filler = self._spoken(call, _phrase("filler", call))
                with contextlib.suppress(Exception):
                    await self.tel.play(connection_id, filler, context=f"turn:{turn_id}:filler")
            try:
                speech = await pending_first
            except StopAsyncIteration:
                return result
            while True:
                spoken = self._spoken(call, speech.text, speech.style, speech.language)
                if result.first_at is None:
                    if not await self._play_first(call, connection_id, spoken, result, cancel, received_at):
                        break
                elif self._running.get(call.call_id) == turn_id:
                    result.rest.append(spoken)
                try:
                    speech = await stream.__anext__()
                except StopAsyncIteration:
                    break
        finally:
            if not pending_first.done():
                pending_first.cancel()
                await asyncio.gather(pending_first, return_exceptions=True)
            await stream.aclose()
        return result

    async def _play_first(
        self,
        call: Call,
        connection_id: str,
        spoken: SpokenText,
        result: _SpokenTurn,
        cancel: asyncio.Task[None] | None,
        received_at: float,
    ) -> bool:
        if cancel is not None:
            await asyncio.gather(cancel, return_exceptions=True)
        context = f"turn:{result.turn_id}:0"
        try:
            await self.tel.play(connection_id, spoken, context=context)
        except Exception as exc:
            self._log.info("call %s: play failed (%s); the line is gone", call.call_id, exc)
            result.line_dead = True
            return False
        result.first_at = time.perf_counter()
        result.first_context = context
        result.answer_latency_ms = (result.first_at - received_at) * 1000
        return True

    async def _finish_turn(self, begun: Call, connection_id: str, turn_id: str, spoken: _SpokenTurn) -> None:
        from core.engine.outcome import EndCall, TransferToAgent

        call_id = begun.call_id
        outcome = spoken.turn.outcome if spoken.turn is not None else None
        actions = list(outcome.actions) if outcome is not None else []
        superseded = bool(outcome is not None and outcome.superseded) or self._running.get(call_id) != turn_id
        terminal = next((a for a in actions if isinstance(a, TransferToAgent | EndCall)), None)
        llm_ms = outcome.llm_first_sentence_ms if outcome is not None else None
        mutation = outcome.mutation if outcome is not None else None
        extra = list(spoken.extra_messages)
        latency = spoken.answer_latency_ms
        # The context of the turn's last play: a hang-up or transfer waits for it to be played.
        last_context = (
            f"turn:{turn_id}:{len(spoken.rest)}"
            if spoken.rest
            else spoken.first_context or f"turn:{turn_id}:none"
        )
        decided: dict[str, Any] = {}

        # Persist first (a few ms; the caller is still hearing the first sentence), then act on the
        # fresh state: a turn superseded on another instance, or a call ended meanwhile, stays silent.
        def finish(c: Call) -> bool:
            decided.clear()
            applied = mutation(c) is not False if mutation is not None else False
            for message in extra:
                if not c.has_message(message.source_id or ""):
                    c.messages.append(message.model_copy(deep=True))
                    applied = True
            if applied and latency is not None and llm_ms is not None:
                c.timing.answer_latency_ms.append(round(latency, 2))
                c.timing.llm_first_sentence_ms.append(round(llm_ms, 2))
            if c.flags.get("open_turn") == turn_id:
                c.flags.pop("open_turn")
                applied = True
            live = (
                not spoken.line_dead
                and not superseded
                and c.current_turn_id == turn_id
                and c.status is not CallStatus.ENDED
                and not c.flags.get("ending")
            )
            if live and terminal is not None:
                kind = "transfer" if isinstance(terminal, TransferToAgent) else "hangup"
                c.flags["ending"] = True
                c.flags["pending_action"] = {"kind": kind, "context": last_context}
                if last_context.endswith(":none"):
                    c.flags.setdefault("played", []).append(last_context)
                applied = True
            decided["live"] = live
            return applied

        state = await self.calls.update(call_id, finish)
        if decided.get("live"):
            if terminal is not None:
                for index, item in enumerate(spoken.rest, start=1):
                    await self._guarded_play(connection_id, item, f"turn:{turn_id}:{index}")
                if not spoken.rest:
                    await self._maybe_perform(call_id, last_context, from_play=False)
            else:
                if len(self._quiet_turns) > 10_000:
                    self._quiet_turns.clear()
                self._quiet_turns.add(turn_id)
                await self._listen(state, connection_id, f"listen:{turn_id}", spoken.rest)
        if self._running.get(call_id) == turn_id:
            self._running.pop(call_id, None)
        if latency is not None and llm_ms is not None:
            instruments = _instruments()
            attributes = {"superseded": superseded}
            instruments["latency"].record(latency, attributes)
            instruments["llm"].record(llm_ms, attributes)
            instruments["overhead"].record(max(0.0, latency - llm_ms), attributes)
        self._log.debug(
            "turn %s of call %s: latency=%s llm=%s said=%s",
            turn_id,
            call_id,
            latency,
            llm_ms,
            redact(" ".join(s.text for s in spoken.rest)),
        )

    async def _guarded_play(self, connection_id: str, spoken: SpokenText, context: str) -> None:
        try:
            await self.tel.play(connection_id, spoken, context=context)
        except Exception as exc:
            self._log.info("play on %s failed: %s", connection_id, exc)


@dataclass
class _SpokenTurn:
    turn_id: str
    turn: Any = None
    first_at: float | None = None
    first_context: str | None = None
    answer_latency_ms: float | None = None
    line_dead: bool = False
    error: str | None = None

    def __post_init__(self) -> None:
        self.rest: list[SpokenText] = []
        self.extra_messages: list[Message] = []


def _is_gone(exc: BaseException) -> bool:
    status = getattr(exc, "status_code", None)
    return status in (404, 410)
