"""End to end: the queue-triggered post-call job through the host adapter, Azurite, Cosmos DB, the
scripted LLM and the ACS emulator (SMS)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core.models import Action, Call, CallStatus, Message, Persona, PostCallStatus, Reminder, utcnow
from tests.conftest import make_call
from tests.post_call.harness import POST_CALL_QUEUE, AppStack, app_stack

pytestmark = pytest.mark.usefixtures("local_stack")

GOOD_INSIGHTS = {
    "synthesis_short": "Water damage in the kitchen; claim opened.",
    "synthesis_long": "The caller reported water damage in the kitchen on Monday. Policy and contact "
    "details were collected and a callback was promised.",
    "satisfaction": "high",
    "improvement_suggestions": ["Ask for the policy number earlier."],
    "next_action": {"action": "call_back", "justification": "A callback was promised for Friday."},
}


def ended_call(marker: str, phone_number: str = "+14155550123") -> Call:
    call = make_call(phone_number, task=f"Help with the claim. [{marker}]")
    call.status = CallStatus.ENDED
    call.ended_at = utcnow()
    call.messages = [
        Message(persona=Persona.ASSISTANT, action=Action.CALL, content="Hello, this is Amélie."),
        Message(persona=Persona.HUMAN, content="My kitchen is flooded."),
        Message(persona=Persona.ASSISTANT, content="I am sorry. When did it happen?"),
    ]
    call.reminders = [Reminder(title="Call back", due_at=utcnow() + timedelta(days=2))]
    call.post_call.status = PostCallStatus.ENQUEUED
    call.post_call.enqueued_at = utcnow()
    return call


def insight_requests(stack: AppStack, marker: str) -> list[object]:
    return [r for r in stack.llm.requests if r.response_format and marker in r.last_user]


async def test_insights_once_and_sms_summary_once_despite_duplicate_delivery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = uuid.uuid4().hex
    async with app_stack(monkeypatch, sms_summary=True) as stack:
        stack.llm.add_rule(name="insights", user=marker, json=GOOD_INSIGHTS)
        call = await stack.container.calls.create(ended_call(marker))

        # The same job delivered twice (two messages), then once more after it finished.
        await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
        await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
        stack.host.nudge(POST_CALL_QUEUE)
        first = await stack.wait_outcomes(lambda seen: len(seen) >= 2)
        assert [o.outcome for o in first] == ["succeeded", "succeeded"]

        await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
        stack.host.nudge(POST_CALL_QUEUE)
        again = await stack.wait_outcomes(lambda seen: len(seen) >= 1)
        assert again[0].outcome == "succeeded"

        stored = await stack.container.calls.get(call.call_id)
        assert stored is not None
        assert stored.post_call.status is PostCallStatus.DONE
        assert stored.post_call.error is None
        assert stored.insights is not None
        assert stored.insights.synthesis_short == GOOD_INSIGHTS["synthesis_short"]
        assert stored.insights.satisfaction.value == "high"
        assert stored.insights.next_action.action == "call_back"
        assert stored.insights.improvement_suggestions == ["Ask for the policy number earlier."]
        assert len(insight_requests(stack, marker)) == 1, "insights computed more than once"

        # The summary: one SMS accepted by ACS, recorded once on the call.
        sms = stack.sms_to(call.phone_number)
        assert len(sms) == 1
        assert GOOD_INSIGHTS["synthesis_short"] in sms[0]["message"]
        assert stored.post_call.sms_summary_sent_at is not None
        assert [m.content for m in stored.messages if m.action is Action.SMS] == [sms[0]["message"]]
        assert stored.post_call.lease_owner is None


async def test_invalid_answer_is_asked_again_then_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = uuid.uuid4().hex
    async with app_stack(monkeypatch) as stack:
        # The re-ask is the last user message, so the valid answer is keyed on its wording.
        stack.llm.add_rule(name="valid", user="That answer is not valid", json=GOOD_INSIGHTS)
        invalid = {**GOOD_INSIGHTS, "next_action": {"action": "buy_a_boat", "justification": "why not"}}
        stack.llm.add_rule(name="invalid-once", user=marker, json=invalid, times=1)
        call = await stack.container.calls.create(ended_call(marker))

        await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
        stack.host.nudge(POST_CALL_QUEUE)
        outcomes = await stack.wait_outcomes(lambda seen: len(seen) >= 1)
        assert outcomes[0].outcome == "succeeded"

        requests = [r for r in stack.llm.requests if r.response_format]
        assert [r.rule for r in requests] == ["invalid-once", "valid"]
        # The second request tells the model what was wrong, against the schema's allowed actions.
        assert "not valid" in requests[1].last_user
        assert requests[0].response_format is not None
        schema = requests[0].response_format["json_schema"]["schema"]
        allowed = schema["$defs"]["InsightsNextAction"]["properties"]["action"]["enum"]
        assert allowed == stack.container.settings.conversation.next_actions.split(",")

        stored = await stack.container.calls.get(call.call_id)
        assert stored is not None and stored.insights is not None
        assert stored.insights.next_action.action == "call_back"
        assert stored.post_call.status is PostCallStatus.DONE
        assert stack.sms_to(call.phone_number) == []  # summary disabled


async def test_failing_job_ends_in_poison_queue_and_call_marked_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = uuid.uuid4().hex
    async with app_stack(monkeypatch, sms_summary=True) as stack:
        # The model never produces a valid answer.
        stack.llm.add_rule(name="always-invalid", user=marker, json={"synthesis_short": ""})
        stack.llm.add_rule(name="still-invalid", user="That answer is not valid", json="not json")
        call = await stack.container.calls.create(ended_call(marker))
        max_count = stack.host.config.queues.max_dequeue_count

        await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
        stack.host.nudge(POST_CALL_QUEUE)
        outcomes = await stack.wait_outcomes(lambda seen: any(o.outcome == "poisoned" for o in seen))
        assert [o.outcome for o in outcomes] == ["released"] * (max_count - 1) + ["poisoned"]
        assert [o.dequeue_count for o in outcomes] == list(range(1, max_count + 1))

        stored = await stack.container.calls.get(call.call_id)
        assert stored is not None
        assert stored.post_call.status is PostCallStatus.FAILED
        assert stored.post_call.error and "ModelUnavailable" in stored.post_call.error
        assert stored.post_call.attempts == max_count
        assert stored.insights is None
        assert stack.sms_to(call.phone_number) == []

        from azure.storage.queue.aio import QueueClient

        async with QueueClient.from_connection_string(
            stack.container.settings.storage.connection_string, POST_CALL_QUEUE + "-poison"
        ) as poison:
            bodies = [m.content async for m in poison.receive_messages(messages_per_page=32)]
        import base64
        import json

        assert {"call_id": call.call_id} in [json.loads(base64.b64decode(b)) for b in bodies]
