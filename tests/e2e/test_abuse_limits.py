"""Limits that hold whatever the model does, over the real stack (scripted LLM over HTTP, Cosmos DB
stand-in, ACS emulator's SMS): issue 11, items 7 (SMS guard and cap), 8 (documents stay bounded; the
stand-in refuses items over 2 MB like the service) and 9 (caps hold under concurrent turns)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from core.callflow.outbound import default_initiate
from core.engine import limits
from core.engine.outcome import TransferToAgent
from core.engine.tools import MAX_REMINDERS
from core.messaging.sms_summary import send_summary_once
from core.models import Action, Call, CallDirection, Message, Persona, Reminder, utcnow
from tests.e2e.harness import CallStack, random_number

JAMAICA_MOBILE = "+18765551234"


async def stored(stack: CallStack, number: str | None = None, **changes: Any) -> Call:
    initiate = default_initiate(number or random_number(), stack.container.settings.conversation)
    call = Call(direction=CallDirection.INBOUND, initiate=initiate)
    for name, value in changes.items():
        setattr(call, name, value)
    return await stack.container.calls.create(call)


async def run_turn(stack: CallStack, call: Call, text: str) -> tuple[Call, Any]:
    """One turn on the call as stored now; its change written back. (stored call, outcome)"""
    fresh = await stack.container.calls.get(call.call_id)
    assert fresh is not None
    turn = stack.container.engine.run(fresh, text, turn_id=str(uuid.uuid4()))
    async for _ in turn:
        pass
    written = await stack.container.calls.update(call.call_id, turn.outcome.mutation, current=fresh)
    return written, turn.outcome


def reminder(title: str) -> Reminder:
    return Reminder(title=title, due_at=utcnow() + timedelta(days=2))


# -- item 9: caps hold under concurrency ---------------------------------------------------------------


async def test_concurrent_turns_never_store_more_than_the_reminder_cap(stack: CallStack) -> None:
    stack.set_rules(
        [
            {
                "user": "(?i)reminder (?P<n>\\d+)",
                "tool_calls": [
                    {
                        "name": "new_or_updated_reminder",
                        "arguments": {"title": "Task {n}", "due_date_time": "{days_from_now:2}"},
                    }
                ],
            },
            {"tool_name": "new_or_updated_reminder", "say": "Done."},
        ]
    )
    call = await stored(stack, reminders=[reminder(f"Old {i}") for i in range(MAX_REMINDERS - 1)])
    # Three turns that each read the call with one free slot, then write concurrently.
    turns = [stack.container.engine.run(call, f"reminder {n}", turn_id=str(uuid.uuid4())) for n in range(3)]

    async def drive(turn: Any) -> None:
        async for _ in turn:
            pass
        await stack.container.calls.update(call.call_id, turn.outcome.mutation, current=call)

    await asyncio.gather(*(drive(turn) for turn in turns))
    fresh = await stack.container.calls.get(call.call_id)
    assert fresh is not None
    assert len(fresh.reminders) == MAX_REMINDERS


# -- item 7: SMS guard and cap ---------------------------------------------------------------------------


SMS_RULES = [
    {
        "user": "(?i)text me twice",
        "tool_calls": [
            {"name": "send_sms", "arguments": {"message": "First."}},
            {"name": "send_sms", "arguments": {"message": "Second."}},
        ],
    },
    {
        "user": "(?i)text me",
        "tool_calls": [{"name": "send_sms", "arguments": {"message": "Your reference."}}],
    },
    {"tool_name": "send_sms", "say": "Done."},
]


async def test_the_bot_never_texts_a_number_the_policy_refuses(stack: CallStack) -> None:
    stack.set_rules(SMS_RULES)
    call = await stored(stack, JAMAICA_MOBILE)  # an inbound caller may be anywhere
    written, _ = await run_turn(stack, call, "Please text me")
    assert not [s for s in stack.acs.sms.as_json() if JAMAICA_MOBILE in json.dumps(s)]
    results = [t.result for m in written.messages for t in m.tool_calls]
    assert results and "cannot be sent" in str(results[0])
    # Nor the post-call summary.
    services = stack.container
    policy = services.settings.conversation.phone_policy
    assert not await send_summary_once(services.calls, services.inbox, services.sms, written, policy)
    assert not [s for s in stack.acs.sms.as_json() if JAMAICA_MOBILE in json.dumps(s)]


async def test_sms_per_call_are_capped(stack: CallStack) -> None:
    stack.set_rules(SMS_RULES)
    number = random_number()
    call = await stored(stack, number)
    for _ in range(5):
        call, _ = await run_turn(stack, call, "Text me twice")
    sent = [s for s in stack.acs.sms.as_json() if number in json.dumps(s)]
    cap = stack.container.settings.conversation.max_sms_per_call
    assert len(sent) == cap
    assert len([m for m in call.messages if m.action is Action.SMS]) == cap


async def test_a_transfer_to_a_refused_agent_is_not_started(stack: CallStack) -> None:
    stack.set_rules(
        [
            {"user": "(?i)human", "tool_calls": [{"name": "talk_to_human", "arguments": {}}]},
            {"tool_name": "talk_to_human", "say": "I cannot transfer you, sorry."},
        ]
    )
    call = await stored(stack)
    # A document written before the policy existed (or by hand) with a premium-rate agent.
    initiate = call.initiate.model_copy(update={"agent_phone_number": "+19005551234"})
    call = await stack.container.calls.update(call.call_id, lambda c: setattr(c, "initiate", initiate))
    _, outcome = await run_turn(stack, call, "I want a human")
    assert not [a for a in outcome.actions if isinstance(a, TransferToAgent)]


# -- item 8: bounded documents ---------------------------------------------------------------------------


async def test_one_answer_stores_a_bounded_amount(stack: CallStack) -> None:
    flood = [{"name": "update_claim", "arguments": {"caller_name": f"Name {i}"}} for i in range(20)]
    huge = {"name": "update_claim", "raw_arguments": json.dumps({"caller_name": "x" * 50_000})}
    stack.set_rules(
        [
            {"user": "(?i)talk", "say": " ".join(f"Sentence number {i}." for i in range(100))},
            {"user": "(?i)tools", "tool_calls": flood},
            {"user": "(?i)huge", "tool_calls": [huge] * 2 + flood[:10]},
            {"tool_name": "update_claim", "say": "Saved."},
        ]
    )
    call = await stored(stack)
    _, outcome = await run_turn(stack, call, "talk")
    assert len(outcome.spoken) == limits.MAX_SENTENCES_PER_TURN
    call, _ = await run_turn(stack, call, "tools")
    call, _ = await run_turn(stack, call, "huge")
    tool_calls = [t for m in call.messages for t in m.tool_calls]
    assert len(tool_calls) == 2 * limits.MAX_TOOL_CALLS_PER_ROUND
    assert all(len(t.arguments) <= limits.MAX_ARGUMENT_CHARS for t in tool_calls)
    assert "x" * 1000 not in str(call.claim)
    assert limits.document_bytes(call) < 200_000


async def test_a_call_that_grew_too_large_is_compacted_before_it_is_written(stack: CallStack) -> None:
    stack.set_rules([{"say": "Noted."}])
    old = [Message(persona=Persona.HUMAN, content=f"{i} " + "y" * 5000) for i in range(300)]
    call = await stored(stack, messages=old)  # about 1.5 MB: stored, but the next turns would not fit
    call, _ = await run_turn(stack, call, "One more thing")
    assert limits.document_bytes(call) <= limits.CALL_BUDGET_BYTES
    assert call.messages[-1].content == "Noted."
    assert call.messages[-2].content == "One more thing"


async def test_the_cosmos_stand_in_refuses_items_over_2_mb(stack: CallStack) -> None:
    big = [Message(persona=Persona.HUMAN, content="z" * 1_100_000) for _ in range(2)]
    with pytest.raises(HttpResponseError) as info:
        await stored(stack, messages=big)
    assert info.value.status_code == 413
    assert "Request size is too large" in str(info.value)
