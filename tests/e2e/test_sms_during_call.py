"""An SMS from the caller during a live call is answered on the phone (real stack, real SDKs)."""

from __future__ import annotations

import uuid

from core.messaging.sms_inbound import handle_sms_received
from core.models import Action
from local.acs_emulator.control import EmulatorControl
from tests.e2e.harness import call_stack, random_number
from tests.waiting import wait_until

ONE_LANGUAGE = {"CONVERSATION__LANGUAGES": "en-US:English:en-US-AvaMultilingualNeural"}


async def wait_for_bot_line(ctl: EmulatorControl, call_id: str, needle: str) -> list[str]:
    """Long-polls the emulator's transcript until the bot has said a line containing ``needle``."""
    seen = 0
    said: list[str] = []

    async def poll() -> None:
        nonlocal seen
        entries = await ctl.transcript(call_id, since=seen, wait=5)
        seen += len(entries)
        said.extend(e["text"] for e in entries if e["kind"] == "bot_said")

    await wait_until(
        lambda: any(needle in line for line in said),
        timeout=20,
        what=f"the bot to say a line containing {needle!r}",
        wake=poll,
        seen=lambda: said,
    )
    return said


async def test_an_sms_during_a_call_is_answered_on_the_phone(local_stack: None) -> None:
    async with call_stack(env_overrides=ONE_LANGUAGE) as stack:
        stack.set_rules([{"user": "(?i)new address", "say": "I got your text about your new address."}])
        number = random_number()
        emulated = stack.acs.start_incoming_call(number, interactive=True)
        async with EmulatorControl(stack.acs.base_url) as ctl:
            await wait_for_bot_line(ctl, emulated.call_id, "Contoso")  # greeted, now listening

            call = await stack.call_by_number(number)
            data = {"from": number, "to": "+15550100000", "message": "My new address is 1 Main St"}
            event_id = str(uuid.uuid4())
            await handle_sms_received(stack.container, event_id, "Microsoft.Communication.SMSReceived", data)
            # Event Grid may deliver the same event again: it is handled once.
            await handle_sms_received(stack.container, event_id, "Microsoft.Communication.SMSReceived", data)

            said = await wait_for_bot_line(ctl, emulated.call_id, "I got your text")
            assert said.count("I got your text about your new address.") == 1
            await ctl.hangup(emulated.call_id)
            await ctl.wait(emulated.call_id, "disconnected", timeout=10)

        assert not stack.failed_callbacks()
        stored = await stack.container.calls.get(call.call_id)
        assert stored is not None
        assert [m.content for m in stored.messages if m.action is Action.SMS] == [
            "My new address is 1 Main St"
        ]
