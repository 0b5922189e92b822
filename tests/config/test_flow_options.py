"""The call flow reads the run-time options once per event (against in-memory fakes): the answer
timeouts, recognition retries, the inbound defaults and phrase overrides all follow the snapshot."""

from __future__ import annotations

import asyncio

from core.models import Call
from core.phrasebook import PHRASES
from core.runtime import RuntimeSnapshot, from_settings
from core.settings import ConversationSettings, LlmSettings, Settings
from tests.callflow.fakes import Rig, ScriptedAnswer, event, make_rig, speech

ONE_LANGUAGE = "en-US:English:en-US-AvaMultilingualNeural"
APOLOGIES = set(PHRASES["error"]["en-US"])
FILLERS = set(PHRASES["filler"]["en-US"])


class SwitchableConfig:
    """core.ports.RuntimeConfig whose snapshot a test replaces (as a refresh would)."""

    def __init__(self, snapshot: RuntimeSnapshot) -> None:
        self.value = snapshot
        self.reads = 0

    def current(self) -> RuntimeSnapshot:
        return self.value

    async def snapshot(self) -> RuntimeSnapshot:
        self.reads += 1
        return self.value

    async def close(self) -> None:
        return None


def _rig(**llm: float) -> tuple[Rig, SwitchableConfig]:
    settings = Settings(conversation=ConversationSettings(languages=ONE_LANGUAGE), llm=LlmSettings(**llm))
    rig = make_rig(settings)
    config = SwitchableConfig(from_settings(settings))
    rig.flow.services.runtime_config = config  # type: ignore[misc]  # a test's port
    return rig, config


async def _connected(rig: Rig) -> tuple[Call, str]:
    call_id = await rig.flow.handle_incoming_call(
        "eg-1",
        {
            "to": {"kind": "phoneNumber", "phoneNumber": {"value": rig.flow.ctx.settings.acs.phone_number}},
            "from": {"kind": "phoneNumber", "phoneNumber": {"value": "+14155550100"}},
            "incomingCallContext": "ctx",
        },
    )
    assert call_id is not None
    call = await rig.call(call_id)
    assert call.connection_id
    await rig.send(call, event("CallConnected", call.connection_id, serverCallId="srv"))
    return await rig.call(call_id), call.connection_id


async def test_a_stalled_answer_keeps_its_first_sentence_then_apologizes_and_listens() -> None:
    rig, _ = _rig(filler_after_s=0.05, answer_hard_timeout_s=0.3)
    call, conn = await _connected(rig)
    rig.engine.answers.append(ScriptedAnswer(["First part.", "Never said."], gate=asyncio.Event()))
    await rig.send(call, speech(conn, "Tell me", "rec-1"))
    said = rig.tel.said()
    assert len(said) == 2 and said[0] == "First part." and said[1] in APOLOGIES
    assert rig.tel.of("listen")[-1].context == "listen:rec-1"  # then the bot listens again
    stored = await rig.call(call.call_id)
    assert said[1] in [m.content for m in stored.messages]
    assert stored.live and not stored.connection.open_turn


async def test_a_late_first_sentence_gets_one_filler() -> None:
    rig, _ = _rig(filler_after_s=0.05, answer_hard_timeout_s=5)
    call, conn = await _connected(rig)
    rig.engine.answers.append(ScriptedAnswer(["Here it is."], delay_s=0.2))
    await rig.send(call, speech(conn, "Tell me", "rec-1"))
    said = rig.tel.said()
    assert len(said) == 2 and said[0] in FILLERS and said[1] == "Here it is."
    # Both interruptible; the filler replaced the listening while the model thought.
    filler = rig.tel.sentences()[0]
    assert filler.context == "turn:rec-1:filler" and filler.interrupt


async def test_options_change_between_events_not_within_one() -> None:
    rig, config = _rig()
    call, conn = await _connected(rig)
    silence = event("RecognizeFailed", conn, operationContext="listen:x", resultInformation={"subCode": 8510})
    reads = config.reads
    overrides = {"silence": {"*": ["Hello? Still with me?"]}}
    config.value = config.value.model_copy(update={"prompt_overrides": overrides})
    await rig.send(call, silence)
    assert config.reads == reads + 1  # one read for the event
    assert rig.tel.of("listen")[-1].prompt == ["Hello? Still with me?"]
    # Fewer retries from the next event on: this second silence is one too many.
    config.value = config.value.model_copy(update={"recognition_retries": 0})
    await rig.send(await rig.call(call.call_id), {**silence, "id": "silence-2"})
    assert "Goodbye" in rig.tel.spoken()[-1] or "goodbye" in rig.tel.spoken()[-1]


async def test_inbound_calls_take_the_default_task_and_schema_of_the_snapshot() -> None:
    from core.models.claim import ClaimSchema

    rig, config = _rig()
    schema = ClaimSchema.model_validate({"fields": [{"name": "flavor", "type": "text"}]})
    config.value = config.value.model_copy(
        update={"default_task": "Take cake orders.", "default_claim_schema": schema}
    )
    call, _ = await _connected(rig)
    assert call.initiate.task == "Take cake orders."
    assert [f.name for f in call.initiate.claim_schema.fields] == ["flavor"]
