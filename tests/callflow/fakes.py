"""In-memory stand-ins for the call flow's dependencies."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.bootstrap import Services
from core.callflow import CallFlow
from core.engine.outcome import EndCall, Speech, TransferToAgent, TurnAction, TurnOutcome
from core.errors import CallGone, NotFoundError, TelephonyRefused, UnauthorizedError
from core.models import Call, CallStatus, Message, Persona
from core.ports import CallPage, Choice, Mutation, SpokenText
from core.settings import Settings


class MemoryStore:
    """Documents with ETags, conditional writes like Cosmos DB's, and a count of reads and writes."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[str, str]] = {}  # call id -> (json, etag)
        self.reads = 0
        self.writes = 0

    async def create(self, call: Call) -> Call:
        etag = uuid.uuid4().hex
        self.docs[call.call_id] = (call.model_dump_json(), etag)
        return call.model_copy(deep=True).with_etag(etag)

    async def get(self, call_id: str) -> Call | None:
        self.reads += 1
        return self._load(call_id)

    def _load(self, call_id: str) -> Call | None:
        found = self.docs.get(call_id)
        return Call.model_validate_json(found[0]).with_etag(found[1]) if found else None

    async def update(self, call_id: str, mutation: Mutation, *, current: Call | None = None) -> Call:
        for attempt in range(100):
            if attempt == 0 and current is not None and current.etag:
                call = current.model_copy(deep=True)
            else:
                found = await self.get(call_id)
                if found is None:
                    raise NotFoundError(call_id)
                call = found
            if mutation(call) is False:
                return call
            stored = self.docs.get(call_id)
            if stored is None:
                raise NotFoundError(call_id)
            if stored[1] != call.etag:
                continue  # someone else wrote first: re-read and re-apply
            etag = uuid.uuid4().hex
            self.docs[call_id] = (call.model_dump_json(), etag)
            self.writes += 1
            return call.with_etag(etag)
        raise AssertionError(f"call {call_id} kept conflicting")

    def peek(self, call_id: str) -> Call | None:
        """The stored call, without counting a read (for assertions)."""
        return self._load(call_id)

    async def latest_for_phone_number(self, phone_number: str, since: datetime) -> Call | None:
        found = [c for c in (self._load(i) for i in self.docs) if c and c.phone_number == phone_number]
        found = [c for c in found if c.created_at >= since]
        found = [c for c in found if c.status not in (CallStatus.RINGING, CallStatus.MISSED)]
        return max(found, key=lambda c: c.created_at) if found else None

    async def find_by_server_call_id(self, server_call_id: str) -> Call | None:
        found = [c for c in (self._load(i) for i in self.docs) if c and server_call_id in c.server_call_ids]
        return max(found, key=lambda c: c.created_at) if found else None

    async def due_callbacks(self, now: datetime, limit: int) -> list[Call]:
        from core.models.reminder import utc_key

        due = [c for c in (self._load(i) for i in self.docs) if c and c.callback_due]
        due = [c for c in due if (c.callback_due or "") <= utc_key(now)]
        return sorted(due, key=lambda c: c.callback_due or "")[:limit]

    async def list(self, **_: Any) -> CallPage:
        return CallPage(calls=[])

    async def ready(self) -> None:
        return None


class MemoryInbox:
    def __init__(self) -> None:
        self.claimed: set[tuple[str, str]] = set()

    async def claim(self, call_id: str, event_id: str) -> bool:
        if (call_id, event_id) in self.claimed:
            return False
        self.claimed.add((call_id, event_id))
        return True

    async def release(self, call_id: str, event_id: str) -> None:
        self.claimed.discard((call_id, event_id))

    async def ready(self) -> None:
        return None


class MemoryQueues:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, queue: str, payload: dict[str, Any], *, delay_s: float = 0) -> None:
        self.sent.append((queue, payload))

    async def ready(self) -> None:
        return None


@dataclass
class Op:
    kind: str
    connection_id: str
    context: str = ""
    text: str = ""
    prompt: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    number: str = ""
    silence: float | None = None
    interrupt: bool = False
    speech: SpokenText | None = None  # what a play said, with its voice settings
    phrases: list[list[str]] = field(default_factory=list)  # what a choice may be said as
    prompts: list[SpokenText] = field(default_factory=list)  # a listen's prompts, with their voice settings


class FakeTelephony:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.dead: set[str] = set()
        self.fail_transfer = False

    def _check(self, connection_id: str) -> None:
        if connection_id in self.dead:
            raise CallGone("call not found")

    async def answer(self, incoming_call_context: str, callback_url: str) -> str:
        connection = f"conn-{uuid.uuid4().hex[:8]}"
        self.ops.append(Op("answer", connection, text=callback_url))
        return connection

    async def reject(self, incoming_call_context: str, reason: str) -> None:
        self.ops.append(Op("reject", incoming_call_context, text=reason))

    async def call(self, phone_number: str, callback_url: str) -> str:
        connection = f"conn-{uuid.uuid4().hex[:8]}"
        self.ops.append(Op("call", connection, number=phone_number, text=callback_url))
        return connection

    async def play(self, connection_id: str, speech: SpokenText, *, context: str) -> None:
        self._check(connection_id)
        self.ops.append(Op("play", connection_id, context, speech.text, speech=speech))

    async def listen(
        self,
        connection_id: str,
        phone_number: str,
        *,
        language: str,
        context: str,
        prompt: Sequence[SpokenText] = (),
        choices: list[Choice] | None = None,
        initial_silence_s: float = 6.0,
        end_silence_s: float = 0.5,
        interrupt_media: bool = False,
    ) -> None:
        self._check(connection_id)
        self.ops.append(
            Op(
                "listen",
                connection_id,
                context,
                prompt=[p.audio_url or p.text for p in prompt],
                prompts=list(prompt),
                choices=[c.label for c in choices or []],
                silence=initial_silence_s,
                interrupt=interrupt_media,
                phrases=[c.phrases for c in choices or []],
            )
        )

    async def cancel_media(self, connection_id: str) -> None:
        self.ops.append(Op("cancel", connection_id))

    async def transfer(self, connection_id: str, phone_number: str, *, context: str) -> None:
        self.ops.append(Op("transfer", connection_id, context, number=phone_number))
        if self.fail_transfer:
            raise TelephonyRefused("transfer refused")

    async def hang_up(self, connection_id: str) -> None:
        self._check(connection_id)
        self.ops.append(Op("hangup", connection_id))

    async def start_recording(self, connection_id: str, *, container_url: str = "") -> None:
        self.ops.append(Op("record", connection_id, text=container_url))

    def of(self, kind: str) -> list[Op]:
        return [op for op in self.ops if op.kind == kind]

    def sentences(self) -> list[Op]:
        """The sentences of answers: recognizes with one sentence as prompt and no silence after it."""
        return [op for op in self.ops if op.kind == "listen" and op.silence == 0 and op.prompt]

    def said(self) -> list[str]:
        """The texts of the answers' sentences, in order."""
        return [text for op in self.sentences() for text in op.prompt]

    def spoken(self) -> list[str]:
        said: list[str] = []
        for op in self.ops:
            if op.kind == "play":
                said.append(op.text)
            elif op.kind == "listen":
                said.extend(op.prompt)
        return said


class AcceptAll:
    def __init__(self) -> None:
        self.reject = False

    async def verify(self, authorization: str | None) -> Any:
        if self.reject or authorization != "Bearer ok":
            raise UnauthorizedError("bad token")
        return {}


@dataclass
class ScriptedAnswer:
    sentences: list[str]
    actions: list[TurnAction] = field(default_factory=list)
    delay_s: float = 0.0
    gate: asyncio.Event | None = None  # wait for this before the second sentence


class FakeTurn:
    def __init__(
        self,
        answer: ScriptedAnswer,
        turn_id: str,
        stop: asyncio.Event | None,
        extra: list[Message],
    ) -> None:
        self.answer = answer
        self.turn_id = turn_id
        self.stop = stop
        self.extra = extra
        self._outcome: TurnOutcome | None = None

    @property
    def outcome(self) -> TurnOutcome:
        assert self._outcome is not None
        return self._outcome

    def __aiter__(self) -> AsyncIterator[Speech]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[Speech]:
        outcome = TurnOutcome(actions=list(self.answer.actions))
        messages = [m.model_copy() for m in self.extra]
        said: list[str] = []
        try:
            if self.answer.delay_s:
                await asyncio.sleep(self.answer.delay_s)
            for index, sentence in enumerate(self.answer.sentences):
                if index == 1 and self.answer.gate is not None:
                    await self.answer.gate.wait()
                if outcome.spoken and self.stop is not None and self.stop.is_set():
                    outcome.superseded = True
                    break
                if outcome.llm_first_sentence_ms is None:
                    outcome.llm_first_sentence_ms = 1.0
                said.append(sentence)
                outcome.spoken.append(Speech(sentence))
                yield Speech(sentence)
        finally:
            if said:
                messages.append(
                    Message(persona=Persona.ASSISTANT, content=" ".join(said), source_id=self.turn_id)
                )
            frozen = messages
            turn_id = self.turn_id

            def apply(call: Call) -> bool:
                if call.has_message(turn_id):
                    return False
                for m in frozen:
                    if m.source_id != turn_id and call.has_message(m.source_id or ""):
                        continue
                    call.messages.append(m.model_copy())
                return True

            outcome.mutation = apply
            self._outcome = outcome


class FakeEngine:
    def __init__(self) -> None:
        self.answers: list[ScriptedAnswer] = []
        self.default = ScriptedAnswer(["Sure, I understand.", "Tell me more."])
        self.turns: list[FakeTurn] = []

    def run(
        self,
        call: Call,
        caller_text: str | None,
        *,
        turn_id: str,
        stop: asyncio.Event | None = None,
        extra_messages: list[Message] | None = None,
    ) -> FakeTurn:
        answer = self.answers.pop(0) if self.answers else self.default
        turn = FakeTurn(answer, turn_id, stop, list(extra_messages or []))
        self.turns.append(turn)
        return turn


@dataclass
class Rig:
    flow: CallFlow
    store: MemoryStore
    inbox: MemoryInbox
    queues: MemoryQueues
    tel: FakeTelephony
    auth: AcceptAll
    engine: FakeEngine
    settings: Settings

    async def send(self, call: Call, *events: dict[str, Any], secret: str | None = None) -> int:
        body = json.dumps(list(events)).encode()
        return await self.flow.handle_callback(
            call.call_id, secret if secret is not None else call.callback_secret, "Bearer ok", body
        )

    async def call(self, call_id: str) -> Call:
        found = self.store.peek(call_id)
        assert found is not None
        return found


async def until(predicate: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    """Wait, yielding to the flow's tasks, until the predicate holds; fail saying what was awaited."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.001)


def event(kind: str, connection_id: str, event_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": f"Microsoft.Communication.{kind}",
        "source": f"calling/callConnections/{connection_id}",
        "specversion": "1.0",
        "data": {"callConnectionId": connection_id, **data},
    }


def speech(
    connection_id: str, text: str, event_id: str | None = None, context: str = "listen:x"
) -> dict[str, Any]:
    return event(
        "RecognizeCompleted",
        connection_id,
        event_id,
        operationContext=context,
        recognitionType="speech",
        speechResult={"speech": text},
        resultInformation={"code": 200, "subCode": 8545},
    )


def make_rig(settings: Settings, **ports: Any) -> Rig:
    store, inbox, queues, tel, auth, engine = (
        MemoryStore(),
        MemoryInbox(),
        MemoryQueues(),
        FakeTelephony(),
        AcceptAll(),
        FakeEngine(),
    )
    services = Services(
        settings,
        calls=store,
        inbox=inbox,
        queues=queues,
        telephony=tel,
        verifier=auth,
        engine=engine,
        **ports,
    )
    flow = CallFlow(services)
    return Rig(flow, store, inbox, queues, tel, auth, engine, settings)


__all__ = ["EndCall", "ScriptedAnswer", "TransferToAgent", "event", "make_rig", "speech", "until"]


def sentence_ended(connection_id: str, context: str) -> dict[str, Any]:
    """ACS gave up listening after a sentence of an answer (its initial silence is 0)."""
    return event(
        "RecognizeFailed",
        connection_id,
        operationContext=context,
        resultInformation={
            "code": 400,
            "subCode": 8510,
            "message": "Action failed, initial silence timeout reached.",
        },
    )
