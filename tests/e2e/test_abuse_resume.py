"""Caller ID cannot take over a live case (issue 11, item 6): a second call from the same number while
the first is still connected is a new case; the first caller keeps their line, the newcomer hears a
plain greeting and the model gets none of the first caller's data."""

from __future__ import annotations

import json

from core.models import Call, CallStatus
from local.acs_emulator.control import EmulatorControl
from tests.e2e.harness import CallStack, call_stack, random_number
from tests.e2e.test_calls import DEMO_LINES
from tests.e2e.test_sms_during_call import ONE_LANGUAGE, wait_for_bot_line


async def test_a_second_call_from_the_number_of_a_live_call_is_a_new_case(local_stack: None) -> None:
    async with call_stack(env_overrides=ONE_LANGUAGE) as stack:
        stack.set_rules([{"say": "Tell me more."}])
        number = random_number()
        first = stack.acs.start_incoming_call(number, interactive=True)
        async with EmulatorControl(stack.acs.base_url) as ctl:
            await wait_for_bot_line(ctl, first.call_id, "Contoso")
            first_case = await stack.call_by_number(number)

            spoofed = stack.acs.start_incoming_call(number, interactive=True)
            said = await wait_for_bot_line(ctl, spoofed.call_id, "Contoso")
            assert not any("again" in line or "left off" in line for line in said), said

            # The first caller still has their line and their case.
            assert stack.acs.call(first.call_id).state == "connected"
            cases = await _cases(stack, number)
            assert len(cases) == 2
            kept = await stack.container.calls.get(first_case.call_id)
            assert kept is not None and kept.status is CallStatus.CONNECTED and kept.resumed_count == 0
            for emulated in (first, spoofed):
                await ctl.hangup(emulated.call_id)
                await ctl.wait(emulated.call_id, "disconnected", timeout=10)
        assert not stack.failed_callbacks()


async def _cases(stack: CallStack, number: str) -> list[dict[str, object]]:
    async with stack.session.get(
        stack.url("/call"), params={"phone_number": number}, headers=stack.headers
    ) as response:
        assert response.status == 200
        page = await response.json()
    return list(page["calls"])


DEMO_FIRST = [{"say": "English"}, {"say": DEMO_LINES[0]}, {"say": DEMO_LINES[1]}, {"say": DEMO_LINES[2]}]


async def _earlier_case(stack: CallStack, number: str) -> Call:
    """A finished case of the number: the demo claim so far (name, policy number)."""
    await stack.run_inbound(number, DEMO_FIRST)
    case = await stack.call_by_number(number)
    assert case.status is CallStatus.ENDED and case.claim["policy_number"] == "B-12345"
    return case


async def test_a_finished_case_resumes_only_after_the_caller_proves_it(local_stack: None) -> None:
    async with call_stack(env_overrides={"CONVERSATION__RESUME_VERIFICATION": "policy_number"}) as stack:
        stack.use_demo_rules()
        number = random_number()
        case = await _earlier_case(stack, number)

        again = await stack.run_inbound(number, [{"say": "Sure, it is B 12345."}, {"say": DEMO_LINES[5]}])
        said = [e["text"] for e in stack.bot_said(again)]
        assert "policy number" in said[0] and "Jane" not in said[0], said
        assert "I found your case" in said[1], said
        cases = await _cases(stack, number)
        assert len(cases) == 2
        resumed = await stack.container.calls.get(str(cases[0]["call_id"]))
        assert resumed is not None and resumed.connection.held_case is None and resumed.resumed_count == 1
        assert resumed.claim["caller_name"] == "Jane Doe" and resumed.claim["policy_number"] == "B-12345"
        assert [m.content for m in case.messages] == [
            m.content for m in resumed.messages[: len(case.messages)]
        ]
        assert not stack.failed_callbacks()


async def test_a_wrong_answer_makes_a_new_case_that_never_sees_the_earlier_one(local_stack: None) -> None:
    async with call_stack(env_overrides={"CONVERSATION__RESUME_VERIFICATION": "policy_number"}) as stack:
        stack.use_demo_rules()
        number = random_number()
        case = await _earlier_case(stack, number)
        prompts_before = len(stack.llm.requests)

        again = await stack.run_inbound(number, [{"say": "It is Z-99999."}, {"say": DEMO_LINES[5]}])
        said = [e["text"] for e in stack.bot_said(again)]
        assert "could not confirm" in said[1], said
        cases = await _cases(stack, number)
        newcomer = await stack.container.calls.get(str(cases[0]["call_id"]))
        assert newcomer is not None and newcomer.call_id != case.call_id
        assert newcomer.connection.held_case is None and newcomer.resumed_count == 0
        assert "policy_number" not in newcomer.claim and "caller_name" not in newcomer.claim
        assert not any("Jane" in m.content or "B-12345" in m.content for m in newcomer.messages)
        # Nothing of the earlier case ever reached the model during this call.
        sent = json.dumps([r.messages for r in stack.llm.requests[prompts_before:]])
        assert "Jane" not in sent and "B-12345" not in sent
        kept = await stack.container.calls.get(case.call_id)
        assert kept is not None and kept.claim == case.claim
