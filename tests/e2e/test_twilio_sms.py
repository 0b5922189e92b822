"""Twilio as the SMS provider, over the whole call path against the local stand-in of Twilio: the
bot's texts go out through Twilio's REST API, and a text the caller sends reaches the live call through
Twilio's webhook only when Twilio signed it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from core.models import Action
from local.acs_emulator.control import EmulatorControl
from local.twilio_emulator import TwilioEmulator
from tests.e2e.harness import call_stack, random_number
from tests.e2e.test_sms_during_call import wait_for_bot_line

ONE_LANGUAGE = "en-US:English:en-US-AvaMultilingualNeural"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioEmulator]:
    emulator = await TwilioEmulator().start()
    yield emulator
    await emulator.stop()


def twilio_env(twilio: TwilioEmulator) -> dict[str, str]:
    return {
        "CONVERSATION__LANGUAGES": ONE_LANGUAGE,
        "SMS__PROVIDER": "twilio",
        "SMS__TWILIO__ACCOUNT_SID": twilio.account_sid,
        "SMS__TWILIO__AUTH_TOKEN": twilio.auth_token,
        "SMS__TWILIO__API_BASE_URL": twilio.base_url,
    }


async def test_the_bots_text_goes_out_through_twilio(local_stack: None, twilio: TwilioEmulator) -> None:
    async with call_stack(env_overrides=twilio_env(twilio)) as stack:
        stack.set_rules(
            [
                {
                    "user": "(?i)text me",
                    "say": "I am sending you a text now.",
                    "tool_calls": [{"name": "send_sms", "arguments": {"message": "Your reference is 42."}}],
                },
                {"tool_name": "send_sms", "say": "Done, the text is on its way."},
                {"say": "Okay."},
            ]
        )
        number = random_number()
        await stack.run_inbound(number, [{"say": "Please text me the reference."}, {"say": "Thanks."}])
        assert not stack.failed_callbacks()
        assert [(m["to"], m["from"], m["body"]) for m in twilio.messages] == [
            (number, "+15550100000", "Your reference is 42.")
        ]
        assert number not in json.dumps(stack.acs.sms.as_json())  # nothing went through ACS SMS


async def test_a_signed_text_reaches_the_call_and_a_forged_one_changes_nothing(
    local_stack: None, twilio: TwilioEmulator
) -> None:
    async with call_stack(env_overrides=twilio_env(twilio)) as stack:
        stack.set_rules([{"user": "(?i)new address", "say": "I got your text about your new address."}])
        number = random_number()
        emulated = stack.acs.start_incoming_call(number, interactive=True)
        webhook = stack.url("/sms/twilio")
        async with EmulatorControl(stack.acs.base_url) as ctl:
            await wait_for_bot_line(ctl, emulated.call_id, "Contoso")  # greeted, now listening
            call = await stack.call_by_number(number)

            status, text, _ = await twilio.deliver(
                webhook, number, "Forged: my new address", sign_with="guess"
            )
            assert status == 403, text
            status, text, _ = await twilio.deliver(webhook, number, "My new address is 1 Main St")
            assert status == 200 and "<Response>" in text, text

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
