"""The call flow against in-memory fakes: event by event, idempotency, supersede, auth."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.errors import InvalidInputError, UnauthorizedError
from core.models import Call, CallStatus, PostCallStatus
from core.settings import ConversationSettings, Settings
from tests.callflow.fakes import (
    EndCall,
    Rig,
    ScriptedAnswer,
    TransferToAgent,
    event,
    make_rig,
    sentence_ended,
    speech,
    until,
)

ONE_LANGUAGE = "en-US:English:en-US-AvaMultilingualNeural"


@pytest.fixture
def rig() -> Rig:
    return make_rig(Settings(conversation=ConversationSettings(languages=ONE_LANGUAGE)))


async def incoming(rig: Rig, number: str = "+14155550100", event_id: str = "eg-1") -> tuple[Call, str]:
    call_id = await rig.flow.handle_incoming_call(
        event_id,
        {
            "to": {"kind": "phoneNumber", "phoneNumber": {"value": rig.flow.ctx.settings.acs.phone_number}},
            "from": {"kind": "phoneNumber", "phoneNumber": {"value": number}},
            "incomingCallContext": "ctx",
        },
    )
    assert call_id is not None
    call = await rig.call(call_id)
    assert call.connection_id
    return call, call.connection_id


async def connected(rig: Rig) -> tuple[Call, str]:
    call, conn = await incoming(rig)
    await rig.send(call, event("CallConnected", conn, serverCallId="srv"))
    return await rig.call(call.call_id), conn


async def test_connected_greets_once_and_listens(rig: Rig) -> None:
    call, conn = await incoming(rig)
    connected_event = event("CallConnected", conn, "ev-connected")
    assert await rig.send(call, connected_event) == 1
    assert await rig.send(call, connected_event) == 0  # duplicate: skipped
    listens = rig.tel.of("listen")
    assert len(listens) == 1 and "Contoso" in listens[0].prompt[0]
    stored = await rig.call(call.call_id)
    assert stored.status is CallStatus.CONNECTED


async def test_several_languages_ask_for_a_choice() -> None:
    rig = make_rig(Settings())
    call, conn = await incoming(rig)
    await rig.send(call, event("CallConnected", conn))
    # The greeting and the menu are the prompts of the choice: the caller may answer during either.
    assert not rig.tel.of("play")
    choice = rig.tel.of("listen")[0]
    assert choice.choices == ["en-US", "fr-FR", "es-ES"]
    assert len(choice.prompt) == 2 and "Contoso" in choice.prompt[0]
    await rig.send(
        call,
        event(
            "RecognizeCompleted",
            conn,
            operationContext=choice.context,
            recognitionType="choices",
            choiceResult={"label": "fr-FR"},
        ),
    )
    stored = await rig.call(call.call_id)
    assert stored.language == "fr-FR" and stored.language_chosen
    assert "Bonjour" in rig.tel.of("listen")[-1].prompt[0]


async def test_turn_says_every_sentence_interruptibly_then_listens(rig: Rig) -> None:
    call, conn = await connected(rig)
    rig.engine.answers.append(ScriptedAnswer(["First.", "Second.", "Third."]))
    start = len(rig.tel.ops)
    await rig.send(call, speech(conn, "My car was hit", "rec-1"))
    ops = rig.tel.ops[start:]
    # While the model thinks, a recognition listens; the first sentence replaces it (cancel), each
    # sentence is its own recognize (barge-in, no wait after it), then the bot listens for the reply.
    assert not [op for op in ops if op.kind == "play"]
    think = next(op for op in ops if op.kind == "listen")
    assert think.context == "turn:rec-1:think" and not think.prompt and (think.silence or 0) > 0
    assert [op.prompt for op in rig.tel.sentences()] == [["First."], ["Second."], ["Third."]]
    assert [op.context for op in rig.tel.sentences()] == [f"turn:rec-1:{n}" for n in range(3)]
    # The first sentence interrupts the listening; the others queue after it.
    assert [op.interrupt for op in rig.tel.sentences()] == [True, False, False]
    listen = ops[-1]
    assert listen.context == "listen:rec-1" and not listen.prompt and (listen.silence or 0) > 0
    stored = await rig.call(call.call_id)
    contents = [m.content for m in stored.messages]
    assert "My car was hit" in contents and "First. Second. Third." in contents
    assert len(stored.timing.answer_latency_ms) == 1 and stored.counters.turns == 1
    # The turn is over: a new utterance is a new turn, not an interruption of this one.
    assert stored.current_turn_id == "rec-1" and not stored.connection.open_turn


async def test_silence_retries_then_goodbye_and_one_hang_up(rig: Rig) -> None:
    call, conn = await connected(rig)
    for index in range(rig.settings.conversation.silence_retries):
        await rig.send(call, event("RecognizeFailed", conn, resultInformation={"subCode": 8510}))
        assert rig.tel.of("listen")[-1].prompt, f"retry {index} has a prompt"
    await rig.send(call, event("RecognizeFailed", conn, resultInformation={"subCode": 8510}))
    goodbye = rig.tel.of("listen")[-1]
    assert goodbye.context.startswith("goodbye:") and goodbye.silence == 0  # interruptible, like a sentence
    await rig.send(call, sentence_ended(conn, goodbye.context))
    await rig.send(call, sentence_ended(conn, goodbye.context))  # another copy
    assert len(rig.tel.of("hangup")) == 1


async def test_a_caller_who_speaks_during_the_goodbye_is_answered(rig: Rig) -> None:
    call, conn = await connected(rig)
    for index in range(rig.settings.conversation.silence_retries + 1):
        await rig.send(
            call, event("RecognizeFailed", conn, f"silent-{index}", resultInformation={"subCode": 8510})
        )
    goodbye = rig.tel.of("listen")[-1]
    assert goodbye.context.startswith("goodbye:")
    rig.engine.answers.append(ScriptedAnswer(["Welcome back."]))
    await rig.send(call, speech(conn, "I'm still here!", "rec-back", context=goodbye.context))
    assert rig.tel.said()[-1] == "Welcome back." and rig.tel.of("cancel")
    await rig.send(call, sentence_ended(conn, goodbye.context))  # late: the hang-up gave way
    assert not rig.tel.of("hangup")
    assert (await rig.call(call.call_id)).live


async def test_end_call_plays_goodbye_then_hangs_up(rig: Rig) -> None:
    call, conn = await connected(rig)
    rig.engine.answers.append(ScriptedAnswer(["Thanks.", "Goodbye!"], actions=[EndCall()]))
    await rig.send(call, speech(conn, "that's all"))
    sentences = rig.tel.sentences()
    assert [p.prompt[0] for p in sentences[-2:]] == ["Thanks.", "Goodbye!"]
    assert not rig.tel.of("hangup")
    # The first sentence's end changes nothing; the last one's (ACS gives up listening) hangs up.
    await rig.send(call, sentence_ended(conn, sentences[-2].context))
    assert not rig.tel.of("hangup")
    await rig.send(call, sentence_ended(conn, sentences[-1].context))
    await rig.send(call, sentence_ended(conn, sentences[-1].context))  # another copy
    assert len(rig.tel.of("hangup")) == 1
    # Speech after the end is ignored.
    await rig.send(call, speech(conn, "wait"))
    assert len(rig.engine.turns) == 1


async def test_transfer_accepted_and_declined(rig: Rig) -> None:
    call, conn = await connected(rig)
    rig.engine.answers.append(
        ScriptedAnswer(["Transferring you."], actions=[TransferToAgent("+15550109999")])
    )
    await rig.send(call, speech(conn, "agent please"))
    await rig.send(call, sentence_ended(conn, rig.tel.sentences()[-1].context))
    transfer = rig.tel.of("transfer")
    assert len(transfer) == 1 and transfer[0].number == call.initiate.agent_phone_number
    await rig.send(call, event("CallTransferFailed", conn, operationContext=transfer[0].context))
    # The caller hears that nobody is available, and the bot listens again.
    apology = rig.tel.of("listen")[-1].prompt
    assert len(apology) == 1 and ("nobody" in apology[0] or "colleagues" in apology[0])
    assert not rig.tel.of("hangup")
    # A second request for a transfer works again, and is accepted this time.
    rig.engine.answers.append(
        ScriptedAnswer(["Transferring you."], actions=[TransferToAgent("+15550109999")])
    )
    await rig.send(call, speech(conn, "agent please, again"))
    await rig.send(call, sentence_ended(conn, rig.tel.sentences()[-1].context))
    await rig.send(call, event("CallTransferAccepted", conn))
    stored = await rig.call(call.call_id)
    assert any(m.content.startswith("Transferred to") for m in stored.messages)
    assert len(rig.tel.of("transfer")) == 2


async def test_disconnect_finalizes_and_enqueues_once(rig: Rig) -> None:
    call, conn = await connected(rig)
    await rig.send(call, event("CallDisconnected", conn))
    await rig.send(call, event("CallDisconnected", conn))
    stored = await rig.call(call.call_id)
    assert stored.status is CallStatus.ENDED and stored.post_call.status is PostCallStatus.ENQUEUED
    assert rig.queues.sent == [(rig.settings.storage.post_call_queue, {"call_id": call.call_id})]


async def test_caller_hangs_up_mid_turn(rig: Rig) -> None:
    call, conn = await connected(rig)
    rig.tel.dead.add(conn)
    await rig.send(call, speech(conn, "hello"))
    await rig.send(call, event("CallDisconnected", conn))
    stored = await rig.call(call.call_id)
    assert stored.status is CallStatus.ENDED
    assert any(m.content == "hello" for m in stored.messages)


async def test_new_speech_supersedes_a_running_turn(rig: Rig) -> None:
    call, conn = await connected(rig)
    gate = asyncio.Event()
    rig.engine.answers.append(ScriptedAnswer(["Old one.", "Old two.", "Old three."], gate=gate))
    rig.engine.answers.append(ScriptedAnswer(["New one.", "New two."]))
    first = asyncio.create_task(rig.send(call, speech(conn, "first words", "rec-a")))
    await until(lambda: rig.tel.said()[-1:] == ["Old one."], "Old one.")
    await rig.send(call, speech(conn, "actually, something else", "rec-b"))
    gate.set()
    await first
    said = rig.tel.spoken()
    assert "Old two." not in said and "Old three." not in said
    assert "New one." in said and rig.tel.of("cancel")
    assert len(said) == len(set(said))


async def test_bad_secret_or_token_changes_nothing(rig: Rig) -> None:
    call, conn = await incoming(rig)
    before = rig.store.docs[call.call_id]
    with pytest.raises(UnauthorizedError):
        await rig.send(call, event("CallConnected", conn), secret="wrong")
    rig.auth.reject = True
    with pytest.raises(UnauthorizedError):
        await rig.send(call, event("CallConnected", conn))
    assert rig.store.docs[call.call_id] == before and not rig.tel.of("listen")
    assert all(key[0] == "incoming-call" for key in rig.inbox.claimed)


async def test_caller_calling_back_resumes_the_case(rig: Rig) -> None:
    call, conn = await connected(rig)
    await rig.send(call, event("CallDisconnected", conn))
    again, conn2 = await incoming(rig, event_id="eg-2")
    assert again.call_id == call.call_id and conn2 != conn
    await rig.send(again, event("CallConnected", conn2))
    assert (
        "again" in rig.tel.of("listen")[-1].prompt[0].lower() or "back" in rig.tel.of("listen")[-1].prompt[0]
    )
    # A late event of the first connection changes nothing.
    await rig.send(again, event("CallDisconnected", conn))
    assert (await rig.call(call.call_id)).status is CallStatus.CONNECTED
    await rig.send(again, event("CallDisconnected", conn2))
    assert len(rig.queues.sent) == 2


async def test_create_call_validates_every_field(rig: Rig) -> None:
    body = {
        "phone_number": "+8613800138000",
        "agent_phone_number": "12",
        "task": "x" * 5000,
        "claim_schema": [{"name": "Bad Name"}, {"name": "n", "type": "enum"}],
        "languages": ["xx-XX"],
        "surprise": 1,
    }
    with pytest.raises(InvalidInputError) as error:
        await rig.flow.create_call(json.dumps(body).encode())
    problems = " | ".join(error.value.problems)
    for needle in ("region CN", "agent_phone_number", "task", "Bad Name", "enum", "xx-XX", "surprise"):
        assert needle in problems, needle
    call = await rig.flow.create_call(
        json.dumps({"phone_number": "+14155550123", "task": "Sell a cake", "claim_schema": []}).encode()
    )
    assert call.connection_id and rig.tel.of("call")[0].number == "+14155550123"
    assert call.initiate.task == "Sell a cake"


async def test_create_call_maps_a_telephony_refusal(rig: Rig) -> None:
    from core.errors import TelephonyRefused

    async def refuse(phone_number: str, callback_url: str) -> str:
        raise TelephonyRefused("no")

    rig.tel.call = refuse  # type: ignore[method-assign]
    with pytest.raises(TelephonyRefused):
        await rig.flow.create_call(json.dumps({"phone_number": "+14155550123"}).encode())
    [stored] = [rig.store.peek(call_id) for call_id in rig.store.docs]
    assert stored is not None
    assert stored.status is CallStatus.ENDED and stored.end_reason and "could not place" in stored.end_reason


async def test_callback_url_carries_call_id_and_secret(rig: Rig) -> None:
    call, _ = await incoming(rig)
    answer = rig.tel.of("answer")[0]
    assert (
        answer.text == f"{rig.settings.acs.callback_base_url}/callbacks/{call.call_id}/{call.callback_secret}"
    )


async def test_telemetry_spans_per_event_and_turn_and_latency_metric(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib
    from collections.abc import Iterator

    from core.callflow import ingress, turns

    spans: list[str] = []
    recorded: dict[str, list[float]] = {"latency": [], "llm": [], "overhead": []}

    class FakeSpan:
        def set_attribute(self, key: str, value: Any) -> None:
            pass

    class FakeTracer:
        @contextlib.contextmanager
        def start_as_current_span(self, name: str) -> Iterator[FakeSpan]:
            spans.append(name)
            yield FakeSpan()

    class Histogram:
        def __init__(self, name: str) -> None:
            self.name = name

        def record(self, value: float, attributes: dict[str, Any] | None = None) -> None:
            recorded[self.name].append(value)

    monkeypatch.setattr(ingress, "tracer", FakeTracer)
    monkeypatch.setattr(turns, "tracer", FakeTracer)
    import functools

    from core import telemetry

    short = {
        telemetry.ANSWER_LATENCY: "latency",
        telemetry.LLM_FIRST_SENTENCE: "llm",
        telemetry.ANSWER_OVERHEAD: "overhead",
    }

    class FakeMeter:
        def create_histogram(self, name: str, **kwargs: Any) -> Histogram:
            return Histogram(short.get(name, name))

        def create_counter(self, name: str, **kwargs: Any) -> Any:
            return type("Counter", (), {"add": lambda self, value, attributes=None: None})()

    recorded.update({"gen_ai.client.token.usage": [], "gen_ai.client.operation.duration": []})
    monkeypatch.setattr(telemetry, "meter", FakeMeter)
    telemetry.instruments.cache_clear()
    monkeypatch.setattr(telemetry, "instruments", functools.cache(telemetry.instruments.__wrapped__))
    call, conn = await connected(rig)
    await rig.send(call, speech(conn, "hello"))
    assert {"callflow.CallConnected", "callflow.RecognizeCompleted", "callflow.turn"} <= set(spans)
    assert len(recorded["latency"]) == 1 and recorded["llm"] == [1.0]
    assert recorded["overhead"][0] == pytest.approx(max(0.0, recorded["latency"][0] - 1.0))
    stored = await rig.call(call.call_id)
    assert stored.timing.answer_latency_ms == [round(recorded["latency"][0], 2)]


async def test_two_workers_same_event_at_once_one_turn(rig: Rig) -> None:
    from core.callflow import CallFlow

    other = CallFlow(rig.flow.services)  # a second instance of the function app
    call, conn = await connected(rig)
    same = speech(conn, "hello", "rec-twice")
    body = json.dumps([same]).encode()
    results = await asyncio.gather(
        rig.flow.handle_callback(call.call_id, call.callback_secret, "Bearer ok", body),
        other.handle_callback(call.call_id, call.callback_secret, "Bearer ok", body),
    )
    assert sorted(results) == [0, 1] and len(rig.engine.turns) == 1
    said = rig.tel.spoken()
    assert len(said) == len(set(said))


async def test_a_turn_superseded_on_another_worker_stays_silent(rig: Rig) -> None:
    from core.callflow import CallFlow

    other = CallFlow(rig.flow.services)
    call, conn = await connected(rig)
    gate = asyncio.Event()
    rig.engine.answers.append(ScriptedAnswer(["Old one.", "Old two."], gate=gate, actions=[EndCall()]))
    rig.engine.answers.append(ScriptedAnswer(["New one.", "New two."]))
    first = asyncio.create_task(rig.send(call, speech(conn, "first", "rec-1")))
    await until(lambda: rig.tel.said()[-1:] == ["Old one."], "Old one.")
    body = json.dumps([speech(conn, "second", "rec-2")]).encode()
    await other.handle_callback(call.call_id, call.callback_secret, "Bearer ok", body)
    gate.set()
    await first
    said = rig.tel.spoken()
    assert "Old two." not in said and "New two." in said
    assert not rig.tel.of("hangup")
    stored = await rig.call(call.call_id)
    assert stored.current_turn_id == "rec-2"
    # The newer turn is the one that counts: the caller can still talk (nothing ends the call).
    await rig.send(call, speech(conn, "third", "rec-3"))
    assert rig.tel.of("listen")[-1].context == "listen:rec-3" and not rig.tel.of("hangup")


async def test_one_turn_reads_the_call_once(rig: Rig) -> None:
    """The unit of work: the event's read is the turn's only full read but the look at the store
    before each later sentence (a newer turn on another worker silences it); both writes are
    conditional on the ETag of the state before them."""
    call, conn = await connected(rig)
    rig.engine.answers.append(ScriptedAnswer(["First.", "Second."]))
    reads, writes = rig.store.reads, rig.store.writes
    await rig.send(call, speech(conn, "My car was hit", "rec-count"))
    assert rig.store.reads - reads <= 2
    assert rig.store.writes - writes == 2  # the caller's words, then the answer
    stored = await rig.call(call.call_id)
    assert [m.content for m in stored.messages[-2:]] == ["My car was hit", "First. Second."]


async def test_an_sms_during_the_call_is_answered_on_the_phone(rig: Rig) -> None:
    from core.models import Action

    call, _conn = await connected(rig)
    rig.engine.answers.append(ScriptedAnswer(["I got your text.", "Your new address is noted."]))
    cancels_before = len(rig.tel.of("cancel"))
    await rig.flow.handle_sms_during_call(call, "My new address is 1 Main St", "sms-event-1")

    # The bot stops listening, speaks its answer on the phone, then listens again.
    assert len(rig.tel.of("cancel")) == cancels_before + 1
    assert rig.tel.said()[-2:] == ["I got your text.", "Your new address is noted."]
    assert rig.tel.of("listen")[-1].context.startswith("listen:") and not rig.tel.of("listen")[-1].prompt
    stored = await rig.call(call.call_id)
    sms = [m for m in stored.messages if m.action is Action.SMS]
    assert [m.content for m in sms] == ["My new address is 1 Main St"]


async def test_a_turn_that_ends_before_the_callers_words_are_stored_still_stores_them(rig: Rig) -> None:
    """The answer can be complete before the write of the caller's words returns (a slow store):
    the turn waits for that write and never cancels it."""
    call, conn = await connected(rig)
    original = rig.store.update
    slow = asyncio.Event()

    async def slow_update(call_id: str, mutation: Any, *, current: Call | None = None) -> Call:
        if not slow.is_set():
            slow.set()
            await asyncio.sleep(0.05)  # the first write of the turn is slower than the whole answer
        return await original(call_id, mutation, current=current)

    rig.store.update = slow_update  # type: ignore[method-assign]
    rig.engine.answers.append(ScriptedAnswer(["Quick answer."]))
    assert await rig.send(call, speech(conn, "my words", "rec-slow")) == 1
    stored = await rig.call(call.call_id)
    assert [m.content for m in stored.messages[-2:]] == ["my words", "Quick answer."]
