"""What the live ACS service requires and how it behaves, end to end over the local stack (issue 10):
speech needs an AI Services endpoint on every call, and the defects real payloads expose."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from core.insights.service import PostCallJob, run_post_call
from core.models import Call
from local.acs_emulator.callbacks import cloud_event
from tests.e2e.harness import CallStack, call_stack, random_number
from tests.e2e.test_calls import DEMO_LINES

INSIGHTS = {
    "synthesis_short": "Car accident reported.",
    "synthesis_long": "The caller reported a car accident and gave their name.",
    "satisfaction": "high",
    "improvement_suggestions": [],
    "next_action": {"action": "case_closed", "justification": "All details collected."},
}


def callback_url(stack: CallStack, call: Call) -> str:
    return stack.url(f"/callbacks/{call.call_id}/{call.callback_secret}")


async def post_events(stack: CallStack, call: Call, events: list[dict[str, Any]]) -> int:
    """POST callback events to the product as ACS does (JWT-signed), through the host."""
    headers = {"Authorization": f"Bearer {stack.acs.signer.token()}"}
    async with stack.session.post(callback_url(stack, call), json=events, headers=headers) as response:
        await response.read()
        return response.status


async def test_calls_are_answered_and_placed_with_the_ai_services_endpoint(stack: CallStack) -> None:
    """ACS refuses text-to-speech and speech recognition on a call set up without one: the bot speaks
    and listens only because the product passes it on answer and on create."""
    stack.use_demo_rules()
    endpoint = stack.container.settings.acs.cognitive_services_endpoint
    inbound = await stack.run_inbound(random_number(), [{"say": "English"}, {"hangup": True}])
    assert stack.acs.call(inbound).cognitive_services_endpoint == endpoint
    assert stack.bot_said(inbound), "the bot said nothing on the inbound call"

    number = random_number()
    stack.acs.set_script(number, [{"say": "Hello?"}, {"hangup": True}])
    async with stack.session.post(
        stack.url("/call"), json={"phone_number": number}, headers=stack.headers
    ) as response:
        assert response.status == 201, await response.text()
    (outbound,) = [c for c in stack.acs.engine.calls.values() if c.person_number == number]
    await stack.acs.wait_for_call_end(outbound.call_id, timeout=30)
    await stack.acs.drain_callbacks()
    assert outbound.cognitive_services_endpoint == endpoint
    assert stack.bot_said(outbound.call_id), "the bot said nothing on the outbound call"


async def test_a_failed_prompt_is_logged_with_its_code(
    local_stack: None, caplog: pytest.LogCaptureFixture
) -> None:
    # The ACS identity may not use the AI Services account (no role): every play fails, as ACS says.
    async with call_stack(cognitive_services_authorized=False) as stack:
        stack.use_demo_rules()
        with caplog.at_level(logging.WARNING):
            emulated = await stack.run_inbound(random_number(), [{"silence": 1}] * 6)
        assert not stack.failed_callbacks()
    # Every prompt the bot says is a recognize's (core/callflow/speaker.py): those fail, as ACS says.
    failed = [
        e for e in stack.transcript(emulated) if e["kind"] == "event" and e["type"] == "RecognizeFailed"
    ]
    assert failed, "the emulator never failed a recognize"
    logged = [r.getMessage() for r in caplog.records if "RecognizeFailed" in r.getMessage()]
    assert logged and "code 401, subCode 8565" in logged[0], logged


async def test_language_menu_that_gets_no_answer_goes_on_with_a_prompt(stack: CallStack) -> None:
    stack.use_demo_rules()
    retries = stack.container.settings.conversation.silence_retries
    emulated = await stack.run_inbound(
        # Longer than the initial silence timeout: each is one failed recognition of the menu.
        random_number(),
        [{"silence": 60}] * (retries + 1) + [{"say": DEMO_LINES[0]}, {"hangup": True}],
    )
    listening = [e for e in stack.transcript(emulated) if e["kind"] in ("listening", "bot_said")]
    menu = [i for i, e in enumerate(listening) if "Which language" in str(e.get("text"))]
    assert len(menu) == retries + 1
    after = listening[menu[-1] + 1 :]
    # Right after the last menu: a prompt saying how the call goes on, then listening in English.
    assert after[1]["kind"] == "bot_said" and "English" in after[1]["text"], after[:3]
    assert after[2]["kind"] == "listening" and after[2]["speech_language"] == "en-US"


async def test_event_types_the_flow_does_not_know_are_acknowledged_without_a_claim(
    stack: CallStack,
) -> None:
    stack.use_demo_rules()
    number = random_number()
    await stack.run_inbound(number, [{"say": "English"}, {"hangup": True}])
    call = await stack.call_by_number(number)
    connection = call.connection_id or ""
    events = [
        cloud_event("SomethingNewFromAcs", connection, {"callConnectionId": connection}),
        cloud_event("ParticipantsUpdated", connection, {"callConnectionId": connection, "participants": []}),
    ]
    assert await post_events(stack, call, events) == 200
    for event in events:  # never claimed: the claim is still free
        assert await stack.container.inbox.claim(call.call_id, event["id"])


async def test_transfer_accepted_with_no_transfer_pending_is_ignored(stack: CallStack) -> None:
    stack.use_demo_rules()
    number = random_number()
    await stack.run_inbound(number, [{"say": "English"}, {"say": DEMO_LINES[0]}, {"hangup": True}])
    call = await stack.call_by_number(number)
    connection = call.connection_id or ""
    stray = cloud_event(
        "CallTransferAccepted",
        connection,
        {"callConnectionId": connection, "resultInformation": {"code": 200, "subCode": 7015, "message": ""}},
    )
    assert await post_events(stack, call, [stray]) == 200
    after = await stack.container.calls.get(call.call_id)
    assert after is not None
    assert not after.connection.transferred
    assert not any(m.action == "transfer" for m in after.messages)
    assert len(after.messages) == len(call.messages)


async def test_post_call_insights_are_computed_again_for_a_resumed_call(stack: CallStack) -> None:
    stack.use_demo_rules()
    stack.llm.add_rule(name="insights", json=INSIGHTS)
    number = random_number()

    async def call_and_post_call(script: list[dict[str, Any]]) -> Call:
        await stack.run_inbound(number, script)
        call = await stack.call_by_number(number)
        for message in await stack.take_post_call_messages():
            if message["call_id"] == call.call_id:
                job = PostCallJob(call.call_id, uuid.uuid4().hex, 1, 5)
                assert (await run_post_call(stack.container, job)).value == "done"
        done = await stack.container.calls.get(call.call_id)
        assert done is not None and done.insights is not None
        return done

    first = await call_and_post_call([{"say": "English"}, {"say": DEMO_LINES[0]}, {"hangup": True}])
    second = await call_and_post_call([{"say": DEMO_LINES[1]}, {"hangup": True}])
    assert second.resumed_count == 1
    assert first.insights is not None and second.insights is not None
    assert second.insights.created_at > first.insights.created_at, "the resumed call kept old insights"
    asked = [r for r in stack.llm.requests if r.response_format]
    assert len(asked) == 2
    assert DEMO_LINES[1] in str(asked[-1].messages), "the second insights did not see the second call"


@pytest.mark.parametrize("end_silence", ["0.5", "0.3", "1.25"])
async def test_end_silence_timeout_reaches_acs_with_its_precision(
    local_stack: None, end_silence: str
) -> None:
    async with call_stack({"ACS__END_SILENCE_TIMEOUT_S": end_silence}) as stack:
        stack.use_demo_rules()
        script = [{"say": "English"}, {"say": DEMO_LINES[0]}, {"hangup": True}]
        emulated = await stack.run_inbound(random_number(), script)
        speech = [
            e for e in stack.transcript(emulated) if e["kind"] == "listening" and e["input_type"] == "speech"
        ]
        assert speech and {e["end_silence_s"] for e in speech} == {float(end_silence)}
        assert not stack.failed_callbacks()
