"""Cost per call end to end: the canned call's stored cost matches a computation by hand, at unit
prices set in the environment, from what the call used."""

from __future__ import annotations

import aiohttp
import pytest

from core.engine.tokens import estimate_prompt_tokens
from core.models import Action, Persona
from tests.webhooks.harness import FUNCTION_KEY, webhook_stack
from tests.webhooks.test_webhooks_e2e import run_canned_call

pytestmark = pytest.mark.usefixtures("local_stack")

PRICES = {
    "PRICES__MODELS": "scripted:1.0:2.0,scripted-slow:3.0:6.0",
    "PRICES__TTS_PER_MILLION_CHARACTERS": "16",
    "PRICES__RECOGNITION_PER_HOUR": "1.2",
    "PRICES__INBOUND_PER_MINUTE": "0.01",
    "PRICES__SMS_EACH": "0.008",
}


async def test_the_canned_call_costs_what_a_hand_computation_says(monkeypatch: pytest.MonkeyPatch) -> None:
    async with webhook_stack(monkeypatch, PRICES, slow_model="scripted-slow") as stack:
        call = await run_canned_call(stack)
        assert call.cost is not None
        counters = call.counters

        # Tokens: the conversation's as the model reported them (the scripted model reports its
        # estimate of each request's messages), the insights' under the slow model.
        chat = [r for r in stack.llm.requests if r.model == "scripted" and not r.response_format]
        insights = [r for r in stack.llm.requests if r.model == "scripted-slow" and r.response_format]
        assert counters.llm_prompt_tokens == sum(estimate_prompt_tokens(r.messages) for r in chat)
        assert len(insights) == 1
        assert counters.insights_prompt_tokens == estimate_prompt_tokens(insights[0].messages)
        assert counters.llm_completion_tokens > 0 and counters.insights_completion_tokens > 0

        # Text to speech: what the transcript says the bot said, every word of it heard on the phone.
        spoken = [
            m.content
            for m in call.messages
            if m.persona is Persona.ASSISTANT and m.action in (Action.CALL, Action.TALK) and m.content
        ]
        heard = " ".join(
            e["text"] for e in stack.acs.transcript(call.connection_id or "") if e["kind"] == "bot_said"
        )
        characters = sum(len(text) for text in spoken)

        # Call and recognition time: from the greeting to the hang-up.
        greeting = next(m for m in call.messages if m.action is Action.CALL)
        hangup = next(m for m in call.messages if m.action is Action.HANGUP)
        seconds = (hangup.created_at - greeting.created_at).total_seconds()
        assert 0 < seconds < 60

        expected = (
            counters.llm_prompt_tokens * 1.0 / 1_000_000
            + counters.llm_completion_tokens * 2.0 / 1_000_000
            + counters.insights_prompt_tokens * 3.0 / 1_000_000
            + counters.insights_completion_tokens * 6.0 / 1_000_000
            + characters * 16 / 1_000_000
            + seconds / 3600 * 1.2
            + seconds / 60 * 0.01
            + 0 * 0.008  # the canned call sends no SMS
        )
        assert call.cost.total == pytest.approx(expected, rel=1e-9)
        assert call.cost.currency == "USD"
        usage = call.cost.usage
        assert set(usage.tokens) == {"scripted", "scripted-slow"}
        assert usage.tts_characters == characters and usage.sms_count == 0
        assert usage.call_seconds == pytest.approx(seconds)

        # Shown in the report page and summed in the list (API and report).
        headers = {"x-functions-key": FUNCTION_KEY}
        async with aiohttp.ClientSession(stack.host.base_url, headers=headers) as session:
            async with session.get("/call", params={"phone_number": call.phone_number}) as response:
                page = await response.json()
            async with session.get(f"/report/{call.call_id}") as response:
                report = await response.text()
            async with session.get("/report", params={"phone_number": call.phone_number}) as response:
                listing = await response.text()
        assert page["cost_total"]["USD"] == pytest.approx(call.cost.total)
        assert page["calls"][0]["cost"]["total"] == pytest.approx(call.cost.total)
        shown = f"{call.cost.total:.4f} USD"
        assert shown in report and "tokens scripted-slow prompt" in report
        assert shown in listing and "Total of this page" in listing
        assert spoken and all(text in heard for text in spoken)
