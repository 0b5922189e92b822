"""Caller ID cannot take over a live case (issue 11, item 6): a second call from the same number while
the first is still connected is a new case; the first caller keeps their line, the newcomer hears a
plain greeting and the model gets none of the first caller's data."""

from __future__ import annotations

from core.models import CallStatus
from local.acs_emulator.control import EmulatorControl
from tests.e2e.harness import CallStack, call_stack, random_number
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
