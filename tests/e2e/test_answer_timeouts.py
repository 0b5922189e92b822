"""The answer timeouts of a turn, over the whole call path with a slow scripted model: the soft
timeout says something and keeps waiting; the hard timeout apologizes and the call goes on, whatever
the number of model retries. Small timeouts keep the tests fast (the defaults are 2 s and 60 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.phrasebook import PHRASES
from tests.e2e.harness import CallStack, call_stack, random_number

# Soft 0.3 s, hard 2.5 s: short, with room for a cold first request on a loaded machine.
FAST = {"LLM__FILLER_AFTER_S": "0.3", "LLM__ANSWER_HARD_TIMEOUT_S": "2.5"}
FILLERS = set(PHRASES["filler"]["en-US"])
APOLOGIES = set(PHRASES["error"]["en-US"])


@pytest.fixture
async def stack(local_stack: None) -> AsyncIterator[CallStack]:
    async with call_stack({**FAST, "LLM__MAX_RETRIES": "5"}) as built:
        yield built
        assert not built.failed_callbacks()


async def test_a_slow_answer_is_preceded_by_a_filler_then_heard(local_stack: None) -> None:
    async with call_stack({**FAST, "LLM__ANSWER_HARD_TIMEOUT_S": "10"}) as stack:
        await _slow_answer(stack)


async def _slow_answer(stack: CallStack) -> None:
    stack.set_rules([{"user": "slow", "say": "Here is your answer.", "delay_s": 1}, {"say": "Okay."}])
    emulated = await stack.run_inbound(
        random_number(), [{"say": "English"}, {"say": "A slow question."}, {"say": "Thanks."}]
    )
    said = [e["text"] for e in stack.bot_said(emulated)]
    answer = said.index("Here is your answer.")
    assert said[answer - 1] in FILLERS, said
    assert not APOLOGIES & set(said)


async def test_past_the_hard_timeout_the_bot_apologizes_and_the_call_goes_on(stack: CallStack) -> None:
    number = random_number()
    stack.set_rules(
        [
            {"user": "slow", "say": "Too late to be heard.", "delay_s": 10},
            {"user": "again", "say": "Yes, I am here now."},
            {"say": "Okay."},
        ]
    )
    script = [
        {"say": "English"},
        {"say": "A very slow question."},
        {"say": "Are you there again?"},
        {"say": "Thanks."},
    ]
    emulated = await stack.run_inbound(number, script)
    said = [e["text"] for e in stack.bot_said(emulated)]
    apology = next(i for i, s in enumerate(said) if s in APOLOGIES)
    assert said[apology - 1] in FILLERS  # the soft timeout came first
    assert "Too late to be heard." not in said
    assert said[apology + 1 :].count("Yes, I am here now.") == 1  # the caller repeated; the bot answered
    assert stack.acs.call(emulated).ended_by == "caller"
    call = await stack.call_by_number(number)
    contents = [m.content for m in call.messages]
    assert "A very slow question." in contents and said[apology] in contents


async def test_the_hard_timeout_holds_whatever_the_number_of_retries(stack: CallStack) -> None:
    # Each attempt fails after 0.8 s and 5 retries are allowed: 4.8 s of attempts, cut at 2.5 s.
    stack.set_rules([{"user": "retry", "say": "Never heard."}, {"say": "Okay."}])
    stack.llm.inject_fault("500", times=6, delay_s=0.8)
    emulated = await stack.run_inbound(
        random_number(), [{"say": "English"}, {"say": "Please retry this."}, {"say": "Thanks."}]
    )
    said = [e["text"] for e in stack.bot_said(emulated)]
    assert APOLOGIES & set(said)
    attempts = [r for r in stack.llm.requests if "retry this" in r.last_user]
    assert 2 <= len(attempts) < 6, [r.fault for r in attempts]
