"""Answering incoming calls without leaving a mess, end to end: ACS refuses the answer the ways it does
in the field (the caller hung up while it rang, the context expired, someone answered first), calls
to another number, and callers without a phone number."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import CallStatus, PostCallStatus
from local.acs_emulator.identifiers import acs_user
from tests.e2e.harness import CallStack, random_number


def deliveries_of(stack: CallStack, emulated_call_id: str) -> list[dict[str, Any]]:
    return [e for e in stack.transcript(emulated_call_id) if e["kind"] == "eventgrid_delivery"]


def acknowledged(deliveries: list[dict[str, Any]]) -> list[str]:
    """Each delivery attempt as '2xx' (acknowledged) or its status."""
    return ["2xx" if d["status"] and 200 <= d["status"] < 300 else str(d["status"]) for d in deliveries]


async def public_calls(stack: CallStack, number: str) -> list[dict[str, Any]]:
    """GET /call?phone_number=: the number's calls, newest first ([] for none: a 404)."""
    async with stack.session.get(
        stack.url("/call"), params={"phone_number": number}, headers=stack.headers
    ) as response:
        if response.status == 404:
            return []
        assert response.status == 200, await response.text()
        calls: list[dict[str, Any]] = (await response.json())["calls"]
        return calls


async def ring(stack: CallStack, number: str, **options: Any) -> str:
    """Ring the bot and wait until the IncomingCall has been delivered (answered or not)."""
    emulated = stack.acs.start_incoming_call(number, [{"hangup": True}], **options)
    await stack.acs.drain_callbacks(timeout=30)
    return emulated.call_id


async def test_abandoned_ring_is_missed_and_the_next_call_is_a_new_case(stack: CallStack) -> None:
    stack.use_demo_rules()
    number = random_number()
    abandoned = await ring(stack, number, answer_refusal="caller_hung_up")

    # Acknowledged at once: Event Grid does not retry a ring that can never be answered.
    deliveries = deliveries_of(stack, abandoned)
    assert acknowledged(deliveries) == ["2xx"] and deliveries[0]["attempt"] == 1, deliveries
    [missed] = await public_calls(stack, number)
    assert missed["status"] == CallStatus.MISSED.value
    assert "404" in missed["end_reason"] and "8522" in missed["end_reason"]
    assert missed["messages"] == []

    # The caller's next real call is a new case, greeted as one (not "welcome back").
    emulated = await stack.run_inbound(number, [{"say": "English"}, {"hangup": True}])
    said = [e["text"] for e in stack.bot_said(emulated)]
    assert said and "Welcome back" not in said[0] and "Contoso" in said[0]
    calls = await public_calls(stack, number)
    assert [c["status"] for c in calls] == [CallStatus.ENDED.value, CallStatus.MISSED.value]


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [
        ("caller_hung_up", "404", "8522"),
        ("expired", "400", "BadRequest"),
        ("already_answered", "400", "8523"),
    ],
)
async def test_refused_answer_leaves_the_previous_case_untouched(
    stack: CallStack, refusal: str, status: str, code: str
) -> None:
    number = random_number()
    first = await stack.run_inbound(number, [{"hangup": True}])
    assert stack.acs.call(first).ended_by == "caller"
    before = await stack.call_by_number(number)
    assert before.status is CallStatus.ENDED and before.post_call.status is PostCallStatus.ENQUEUED

    refused = await ring(stack, number, answer_refusal=refusal)

    assert acknowledged(deliveries_of(stack, refused)) == ["2xx"]
    after = await stack.container.calls.get(before.call_id)
    assert after is not None
    assert after.status is CallStatus.ENDED
    assert after.post_call.status is PostCallStatus.ENQUEUED
    assert after.resumed_count == 0 and after.connection_id == before.connection_id
    calls = await public_calls(stack, number)
    assert [c["status"] for c in calls] == [CallStatus.MISSED.value, CallStatus.ENDED.value]
    assert status in calls[0]["end_reason"] and code in calls[0]["end_reason"]
    # Nobody answered it for the bot: the emulated call never connected.
    assert stack.acs.call(refused).state != "connected"


async def test_redelivered_ring_is_never_a_resume(stack: CallStack) -> None:
    """The same IncomingCall delivered again (Event Grid retries, duplicates) answers nothing more."""
    stack.acs.config.duplicate_callbacks = True
    number = random_number()
    refused = await ring(stack, number, answer_refusal="expired")
    assert acknowledged(deliveries_of(stack, refused)) == ["2xx", "2xx"]
    calls = await public_calls(stack, number)
    assert [c["status"] for c in calls] == [CallStatus.MISSED.value]


async def test_call_to_another_number_is_left_to_its_owner(stack: CallStack) -> None:
    number = random_number()
    other = await ring(stack, number, to="+15550100777")
    assert acknowledged(deliveries_of(stack, other)) == ["2xx"]
    assert await public_calls(stack, number) == []
    emulated = stack.acs.call(other)
    assert not emulated.answered and not emulated.rejected


async def test_caller_without_phone_number_is_rejected_with_a_reason(stack: CallStack) -> None:
    user = "8:acs:00000000-0000-0000-0000-000000000acs_00000000-0000-0000-0000-0000000c0de5"
    emulated = await ring(stack, "", caller=acs_user(user))
    assert acknowledged(deliveries_of(stack, emulated)) == ["2xx"]
    call = stack.acs.call(emulated)
    assert call.rejected and call.ended.is_set()
    assert [e["reason"] for e in stack.transcript(emulated) if e["kind"] == "rejected"] == ["forbidden"]
