"""What the model reads on a long call: a bounded prompt whose stable part comes first."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from core.engine import TurnEngine
from core.engine.history import Compaction, compact
from core.engine.tokens import estimate_prompt_tokens
from core.engine.tools import Toolbox
from core.models import Call, Message, Persona, ToolCall
from core.settings import Settings

from .conftest import NOW, make_call


def engine_at(clock: list[Any]) -> TurnEngine:
    return TurnEngine(Settings(), llm=None, clock=lambda: clock[0])  # type: ignore[arg-type]


def exchange(call: Call, n: int) -> None:
    call.messages.append(Message(persona=Persona.HUMAN, content=f"Caller line number {n}, with some detail."))
    call.messages.append(
        Message(
            persona=Persona.ASSISTANT,
            tool_calls=[
                ToolCall(
                    id=f"c{n}",
                    name="update_claim",
                    arguments=json.dumps({"updates": [{"field": "caller_name", "value": f"Name {n}"}]}),
                    result=f'Saved: caller_name="Name {n}". Still missing: caller_email',
                )
            ],
        )
    )
    call.messages.append(Message(persona=Persona.ASSISTANT, content=f"Answer number {n}. Anything else?"))
    call.claim["caller_name"] = f"Name {n}"


def test_the_prompt_stops_growing_and_the_state_stays_current() -> None:
    clock = [NOW]
    engine, call = engine_at(clock), make_call()
    sizes = []
    for n in range(60):
        exchange(call, n)
        clock[0] = NOW + timedelta(minutes=n)
        sizes.append(estimate_prompt_tokens(engine.prompt(call), Toolbox.definitions()))
    assert max(sizes[30:]) <= max(sizes[:20])  # bounded: turn 60 costs no more than turn 20
    prompt = engine.prompt(call)
    sent = json.dumps(prompt)
    assert "Caller line number 59" in sent and "Caller line number 0," not in sent
    # What the old exchanges gave is still there, in the state; the time is the last message.
    assert any("caller_name=Name 59" in m["content"] for m in prompt if m["role"] == "system")
    assert prompt[-1]["role"] == "system" and "11:59 (Europe/Paris)" in prompt[-1]["content"]


def test_older_exchanges_become_a_short_digest() -> None:
    call, compaction = make_call(), Compaction(keep=2, block=4, digest_max=8)
    for n in range(6):
        exchange(call, n)
    assert compact(call.messages, compaction).digest == []  # 5 past exchanges: nothing folded yet
    exchange(call, 6)  # 6 past: the oldest 4 fold at once, 2 stay verbatim
    history = compact(call.messages, compaction)
    assert history.digest[0] == (
        "Caller: Caller line number 0, with some detail. | You: Answer number 0. | tools: update_claim(caller_name)"
    )
    assert len(history.digest) == 4 and history.left_out == 0
    assert next(m.content for m in history.recent if m.persona is Persona.HUMAN).startswith(
        "Caller line number 4"
    )
    for n in range(8, 40):
        exchange(call, n)
    history = compact(call.messages, compaction)
    assert len(history.digest) == 8 and history.left_out > 0


def test_each_request_starts_with_the_previous_one() -> None:
    clock = [NOW]
    engine, call = engine_at(clock), make_call()
    exchange(call, 0)
    before = engine.prompt(call)
    clock[0] = NOW + timedelta(minutes=5)
    exchange(call, 1)  # the claim changes too
    after = engine.prompt(call)
    # Neither the time nor the claim is in the system prompt: it is the same, word for word.
    assert after[0] == before[0] and "Name" not in after[0]["content"]
    # The recent exchanges only grow: what followed the state is still there, in order.
    assert after[2 : len(before) - 1] == before[2:-1]


def test_tool_definitions_are_short_and_still_enforce_the_types() -> None:
    update = next(d for d in Toolbox.definitions() if d["function"]["name"] == "update_claim")
    value = update["function"]["parameters"]["properties"]["updates"]["items"]["properties"]["value"]
    assert value["type"] == ["string", "number", "boolean", "null"]
    assert len(json.dumps(list(Toolbox.definitions()))) < 3600


async def test_a_value_of_another_shape_is_still_refused() -> None:
    box = Toolbox(call=make_call())
    result = await box.execute("update_claim", '{"updates": [{"field": "caller_name", "value": {"a": 1}}]}')
    assert not result.ok and box.call.claim == {}
