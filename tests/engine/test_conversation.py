"""A complete claim conversation through the real openai SDK against the scripted LLM (demo rules)."""

from __future__ import annotations

import json

from core.engine import EndCall, Speech, TurnEngine
from core.models import Persona, Style
from local.scripted_llm import ScriptedLlm

from .conftest import make_call, say, speak


async def test_demo_claim_conversation(engine: TurnEngine, llm_server: ScriptedLlm) -> None:
    call = make_call()
    call, _, spoken = await say(engine, call, "Hello, I need to report a car accident.", "t1")
    assert any("full name" in s for s in spoken)

    call, _, spoken = await say(engine, call, "My name is Jane Doe.", "t2")
    assert call.claim["caller_name"] == "Jane Doe"
    assert spoken == ["Thank you. What is your policy number?"]

    call, _, _ = await say(engine, call, "My policy number is B-12345.", "t3")
    assert call.claim["policy_number"] == "B-12345"

    call, _, _ = await say(
        engine,
        call,
        "A truck hit my parked car on Main Street in Lyon on November 24 at 5 pm. Nobody was hurt.",
        "t4",
    )
    # Typed values: boolean and ISO date-time coerced by the claim schema.
    assert call.claim["injuries"] is False
    assert call.claim["incident_datetime"] == "2026-11-24T17:00:00+01:00"
    assert call.claim["incident_location"] == "Main Street in Lyon"

    requests_before = len(llm_server.requests)
    call, turn, spoken = await say(engine, call, "The repair will cost about two thousand euros.", "t5")
    # The bad value went back to the model as an error, and the model corrected it.
    tool_results = [m["content"] for m in llm_server.requests[-1].messages if m["role"] == "tool"]
    assert any("estimated_damage" in r and "not a number" in r for r in tool_results)
    assert call.claim["estimated_damage"] == 2000
    # One turn, several tool rounds: update (error) -> update (fixed) -> reminder -> answer.
    assert len(llm_server.requests) - requests_before == 4
    assert len(call.reminders) == 1 and call.reminders[0].owner == "agent"
    assert spoken[0] == "I've noted an estimated damage of two thousand euros."
    assert turn.outcome.spoken[0].style is Style.CALM
    assert any("within two days" in s for s in spoken)

    call, turn, spoken = await say(engine, call, "No, that's all. Thank you, goodbye.", "t6")
    assert turn.outcome.actions == [EndCall()]
    assert "Goodbye" in spoken[-1]
    assert call.counters.llm_prompt_tokens > 0 and call.counters.llm_completion_tokens > 0
    assert [m.source_id for m in call.messages if m.persona is Persona.HUMAN] == [
        f"t{i}" for i in range(1, 7)
    ]


async def test_several_tools_in_one_answer_and_idempotent_mutation(
    engine: TurnEngine, llm_server: ScriptedLlm
) -> None:
    # Matched on the last tool result of the answer.
    llm_server.add_rule(tool_name="speech_speed", say="Done. Anything else?")
    llm_server.add_rule(
        user="email",
        say="Let me save that.",
        tool_calls=[
            {
                "name": "update_claim",
                "arguments": {"updates": [{"field": "caller_email", "value": "JANE@x.org"}]},
            },
            {
                "name": "new_or_updated_reminder",
                "arguments": {
                    "title": "Send forms",
                    "due_date_time": "2026-11-27T10:00:00",
                    "owner": "assistant",
                },
            },
            {"name": "speech_speed", "arguments": {"speed": 3}},
        ],
    )
    call = make_call()
    turn = engine.run(call, "My email is JANE@x.org", turn_id="turn-1")
    spoken = await speak(turn)
    assert spoken == [Speech("Let me save that.", Style.NONE), Speech("Done. Anything else?", Style.NONE)]
    fresh = call.model_copy(deep=True)
    assert turn.outcome.mutation(fresh) is True
    assert fresh.claim == {"caller_email": "jane@x.org"}
    assert fresh.reminders[0].title == "Send forms"
    assert fresh.reminders[0].due_at.utcoffset() is not None  # naive date-time put in the call's zone
    assert fresh.speech_speed == 1.5  # bounded
    snapshot = fresh.model_dump_json()
    # Re-applying (ETag retry on an already-updated document) changes nothing.
    assert turn.outcome.mutation(fresh) is False
    assert fresh.model_dump_json() == snapshot
    assistant = [m for m in fresh.messages if m.persona is Persona.ASSISTANT]
    assert [t.name for t in assistant[0].tool_calls] == [
        "update_claim",
        "new_or_updated_reminder",
        "speech_speed",
    ]
    assert all(t.result for t in assistant[0].tool_calls)


async def test_continue_after_event_and_language_change(engine: TurnEngine, llm_server: ScriptedLlm) -> None:
    from core.models import Action, Message

    llm_server.add_rule(tool_name="change_language", say="Bien sûr, continuons en français.")
    llm_server.add_rule(
        user=r"\[SMS from the caller\].*français",
        tool_calls=[{"name": "change_language", "arguments": {"language": "fr"}}],
    )
    call = make_call()
    sms = Message(
        persona=Persona.HUMAN, action=Action.SMS, content="Je préfère parler français", source_id="sms-1"
    )
    turn = engine.run(call, None, turn_id="turn-2", extra_messages=[sms])
    spoken = await speak(turn)
    assert spoken[0].text == "Bien sûr, continuons en français." and spoken[0].language == "fr-FR"
    fresh = call.model_copy(deep=True)
    turn.outcome.mutation(fresh)
    assert fresh.language == "fr-FR"
    assert [m.source_id for m in fresh.messages][:1] == ["sms-1"]
    assert json.dumps(llm_server.requests[0].messages).count("[SMS from the caller]") == 1
