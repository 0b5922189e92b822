"""A bad day in production, over the whole local stack: store outages, ACS refusing media operations,
redelivered and concurrent callbacks, a caller hanging up mid-answer. Nothing the caller said is
lost, nothing is said or sent twice, and the call never falls silent."""

from __future__ import annotations

from typing import Any

from core.models import CallStatus
from tests.e2e.fault_harness import (
    POLICY,
    SMS,
    bot_lines,
    fault_rules,
    fault_stack,
    heard_twice,
    longest_silence_s,
)
from tests.e2e.harness import CallStack, random_number


async def _run(stack: CallStack, script: list[dict[str, Any]], timeout: float = 40) -> str:
    emulated = stack.acs.start_incoming_call(random_number(), script)
    await stack.acs.wait_for_call_end(emulated.call_id, timeout=timeout)
    await stack.acs.drain_callbacks(timeout=timeout)
    return emulated.call_id


async def _stored(stack: CallStack, emulated_call_id: str) -> Any:
    return await stack.call_by_number(stack.acs.call(emulated_call_id).person_number)


async def test_a_six_second_cosmos_outage_loses_nothing(local_stack: None) -> None:
    async with fault_stack() as faults:
        stack = faults.stack
        stack.set_rules(fault_rules(POLICY))
        outage = {"refused": False}

        # The outage starts as the caller gives the value: the event's read of the call fails.
        def on_record(record: Any) -> None:
            if record.label.endswith("RecognizeCompleted") and not outage["refused"]:
                outage["refused"] = True

        emulated = stack.acs.start_incoming_call(
            random_number(), [{"say": "My policy number is B-12345."}, {"say": "Goodbye."}]
        )
        await stack.acs.wait_for_state(emulated.call_id, "connected", timeout=10)
        await _wait_for_listening(stack, emulated.call_id)
        faults.cosmos.refuse(6.0)
        await stack.acs.wait_for_call_end(emulated.call_id, timeout=40)
        await stack.acs.drain_callbacks(timeout=40)
        assert faults.cosmos.faulted > 0, "the outage hit nothing"
        said = bot_lines(stack, emulated.call_id)
        assert "Thank you, I noted your policy number." in said
        assert said[-1] == "Goodbye then!" and stack.acs.call(emulated.call_id).ended_by == "bot"
        assert not heard_twice(stack, emulated.call_id)
        call = await _stored(stack, emulated.call_id)
        assert call.claim.get("policy_number") == "B-12345"
        assert any(m.content == "My policy number is B-12345." for m in call.messages)


async def _wait_for_listening(stack: CallStack, emulated_call_id: str) -> None:
    from tests.waiting import wait_until

    await wait_until(
        lambda: any(
            e["kind"] == "media_started" and e.get("op") == "recognize"
            for e in stack.transcript(emulated_call_id)
        ),
        timeout=10,
        what="the greeting's recognition to start",
    )


async def test_a_refused_first_play_is_said_with_the_next_prompt(local_stack: None) -> None:
    async with fault_stack() as faults:
        stack = faults.stack
        stack.set_rules(fault_rules(SMS))
        # A refusal the SDK does not retry (it retries 5xx and 429 itself, absorbing a single one).
        stack.acs.inject("play", status=400)
        emulated = await _run(stack, [{"say": "Please text me."}, {"say": "Goodbye."}])
        said = bot_lines(stack, emulated)
        assert "I am sending you a text now." in said and "Done, the text is on its way." in said
        assert said[-1] == "Goodbye then!" and stack.acs.call(emulated).ended_by == "bot"
        assert not heard_twice(stack, emulated)
        assert longest_silence_s(stack, emulated) < 10


async def test_a_refused_greeting_is_greeted_again_on_redelivery(local_stack: None) -> None:
    async with fault_stack() as faults:
        stack = faults.stack
        stack.set_rules(fault_rules())
        stack.acs.inject("recognize", status=400)
        emulated = await _run(stack, [{"say": "Goodbye."}])
        said = bot_lines(stack, emulated)
        assert len(said) == 2 and "Contoso" in said[0] and said[1] == "Goodbye then!", said
        assert stack.acs.call(emulated).ended_by == "bot"
        call = await _stored(stack, emulated)
        assert sum(1 for m in call.messages if m.action.value == "call") == 1


async def test_a_redelivered_turn_resumes_without_repeating_or_resending(local_stack: None) -> None:
    async with fault_stack() as faults:
        stack = faults.stack
        stack.set_rules(fault_rules(SMS))
        # The greeting's recognition works; the one after the answer (with its last sentence) fails.
        stack.acs.inject("recognize", status=400, skip=1)
        emulated = await _run(stack, [{"say": "Please text me."}, {"say": "Goodbye."}])
        said = bot_lines(stack, emulated)
        assert said.count("I am sending you a text now.") == 1, said
        assert said.count("Done, the text is on its way.") == 1, said
        assert said[-1] == "Goodbye then!" and stack.acs.call(emulated).ended_by == "bot"
        number = stack.acs.call(emulated).person_number
        assert [m["message"] for m in stack.acs.sent_sms if number in m["to"]] == ["Your reference is 42."]


async def test_a_store_outage_after_the_first_sentence_sends_the_sms_once(local_stack: None) -> None:
    async with fault_stack() as faults:
        stack = faults.stack
        stack.set_rules(fault_rules(SMS))
        stack.llm.tokens_per_s = 50  # the answer streams long enough for the outage to start in it
        emulated = stack.acs.start_incoming_call(
            random_number(), [{"say": "Please text me."}, {"say": "Goodbye."}]
        )
        number = emulated.person_number
        await _wait_for_first(stack, emulated.call_id, "I am sending you a text now.")
        faults.cosmos.refuse(3.0)
        await stack.acs.wait_for_call_end(emulated.call_id, timeout=40)
        await stack.acs.drain_callbacks(timeout=40)
        said = bot_lines(stack, emulated.call_id)
        assert said.count("I am sending you a text now.") == 1, said
        assert said[-1] == "Goodbye then!"
        assert [m["message"] for m in stack.acs.sent_sms if number in m["to"]] == ["Your reference is 42."]


async def _wait_for_first(stack: CallStack, emulated_call_id: str, line: str) -> None:
    from tests.waiting import wait_until

    await wait_until(
        lambda: line in bot_lines(stack, emulated_call_id), timeout=20, what=f"the bot to say {line!r}"
    )


async def test_what_the_caller_says_before_hanging_up_is_stored(local_stack: None) -> None:
    async with fault_stack() as faults:
        stack = faults.stack
        stack.set_rules(fault_rules(POLICY))
        stack.llm.ttft_s = 0.3  # the caller is gone before the answer's first sentence
        emulated = await _run(stack, [{"say": "My policy number is C-777."}, {"hangup": True}])
        assert stack.acs.call(emulated).ended_by == "caller"
        call = await _stored(stack, emulated)
        assert call.status is CallStatus.ENDED
        assert call.claim.get("policy_number") == "C-777"


async def test_concurrent_delivery_never_loses_the_hang_up(local_stack: None) -> None:
    async with fault_stack(concurrent_callbacks=True) as faults:
        stack = faults.stack
        stack.set_rules(fault_rules())
        # Throttled writes: the goodbye's end is handled before the turn is even stored as begun.
        faults.cosmos.slow(0.3, b"PUT ")
        for _ in range(4):
            emulated = await _run(stack, [{"say": "Goodbye."}], timeout=20)
            said = bot_lines(stack, emulated)
            assert said[-1] == "Goodbye then!", said
            assert stack.acs.call(emulated).ended_by == "bot"
            assert (await _stored(stack, emulated)).status is CallStatus.ENDED
