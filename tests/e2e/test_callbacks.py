"""Call-backs end to end: a due reminder the assistant owns becomes a call, over the local stack.

The timer runs through the host adapter (``host.run_timer``, what the schedule runs), on two hosts and
a third worker of its own at once; the person called back is the ACS emulator's simulated caller, or
its answering machine.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest

from core.bootstrap import Services
from core.callbacks.scheduler import run_due
from core.models import Call, CallStatus, Reminder
from core.models.reminder import CallbackOutcome, CallbackStatus
from core.settings import Settings
from local.functions_host import FunctionsHost, HostConfig
from tests.conftest import make_call
from tests.e2e.harness import FUNCTION_KEY, REPO_ROOT, CallStack, build_app, call_stack, random_number

TIMER = "callbacks_timer"
TITLE = "Call back about the repair quote"
# Every zone of a +1 number counted as UTC, so that tests can place "now" inside or outside the hours.
ALWAYS = {
    "CALLBACKS__CALLING_HOURS": "00:00-24:00",
    "CALLBACKS__CALLING_DAYS": "mon,tue,wed,thu,fri,sat,sun",
    "CALLBACKS__REGION_TIMEZONES": "US:UTC",
    "CALLBACKS__RETRY_DELAY_MINUTES": "30",
}
ANSWERING_RULES: list[dict[str, Any]] = [
    {"user": "(?i)bye", "say": "Goodbye!", "tool_calls": [{"name": "end_call", "arguments": {}}]},
    {"tool_name": "end_call", "say": ""},
    {"say": "I am calling you back about your repair quote: it is ready. Anything else?"},
]


def callbacks_app() -> func.FunctionApp:
    from functions.callbacks import bp as callbacks_bp
    from functions.optouts import bp as optouts_bp

    app = build_app()
    app.register_functions(callbacks_bp)
    app.register_functions(optouts_bp)
    return app


@pytest.fixture
async def stack(local_stack: None) -> AsyncIterator[CallStack]:
    async with call_stack(ALWAYS, app=callbacks_app()) as built:
        yield built


async def original_case(stack: CallStack, number: str, *, due_in: timedelta = timedelta(minutes=-1)) -> Call:
    """An earlier call that has ended, with a reminder the assistant owns, due ``due_in`` from now."""
    call = make_call(number, task="Help the caller with their car insurance claim.")
    call.status, call.ended_at = CallStatus.ENDED, datetime.now(UTC)
    call.claim = {"caller_name": "Jane Doe"}
    now = datetime.now(UTC)
    call.reminders = [
        Reminder(
            title=TITLE, description="Tell her the quote is ready.", due_at=now + due_in, owner="assistant"
        ),
        Reminder(title="Send the documents", due_at=now + due_in, owner="customer"),  # not ours to call
    ]
    return await stack.container.calls.create(call)


def outbound_to(stack: CallStack, number: str) -> list[Any]:
    return [
        c for c in stack.acs.engine.calls.values() if c.direction == "outbound" and c.person_number == number
    ]


async def reminder_state(stack: CallStack, call_id: str) -> Reminder:
    stored = await stack.container.calls.get(call_id)
    assert stored is not None
    return next(r for r in stored.reminders if r.title == TITLE)


async def ended(stack: CallStack, number: str) -> Any:
    (emulated,) = outbound_to(stack, number)
    await stack.acs.wait_for_call_end(emulated.call_id, timeout=60)
    await stack.acs.drain_callbacks(timeout=30)
    return emulated


async def test_a_due_reminder_becomes_exactly_one_call(stack: CallStack) -> None:
    stack.set_rules(ANSWERING_RULES)
    number = random_number()
    stack.acs.set_script(number, [{"say": "Hello?"}, {"say": "No, that's all, bye."}])
    original = await original_case(stack, number)
    second = FunctionsHost(
        callbacks_app(),
        config=HostConfig.load(REPO_ROOT / "host.json"),
        function_key=FUNCTION_KEY,
        timer_schedules=False,
    )
    await second.start("127.0.0.1", 0)
    third = Services(Settings())  # a worker of its own: its own clients, on the same stores
    try:
        assert isinstance(stack.host, FunctionsHost)
        # Two hosts and a third worker at once, and the first host's timer again as a past-due run.
        await asyncio.gather(
            stack.host.run_timer(TIMER),
            second.run_timer(TIMER),
            run_due(third),
            stack.host.run_timer(TIMER, past_due=True),
        )
        await stack.host.run_timer(TIMER)  # redelivered, after the call was placed
    finally:
        await second.stop()
        await third.close()
    assert len(outbound_to(stack, number)) == 1
    emulated = await ended(stack, number)

    reminder = await reminder_state(stack, original.call_id)
    assert reminder.callback is not None
    (attempt,) = reminder.callback.calls
    placed = await stack.container.calls.get(attempt.call_id)
    assert placed is not None and placed.connection_id == emulated.call_id
    # Linked both ways, the reminder as the new call's task, the case's language and claim carried over.
    assert placed.callback_of is not None and placed.callback_of.call_id == original.call_id
    assert TITLE in placed.initiate.task and "Jane Doe" in placed.initiate.task
    assert placed.claim == {"caller_name": "Jane Doe"}
    assert any(TITLE in str(m.get("content")) for m in stack.llm.requests[0].messages)
    said = [e["text"] for e in stack.bot_said(emulated.call_id)]
    assert any("repair quote" in s for s in said)

    await stack.host.run_timer(TIMER)  # reads the outcome of the call it placed
    reminder = await reminder_state(stack, original.call_id)
    assert reminder.callback is not None and reminder.callback.status is CallbackStatus.DONE
    assert reminder.callback.calls[0].outcome is CallbackOutcome.ANSWERED
    await stack.host.run_timer(TIMER)
    assert len(outbound_to(stack, number)) == 1
    # The customer's reminder was never the assistant's to call back.
    stored = await stack.container.calls.get(original.call_id)
    assert stored is not None and [r.callback for r in stored.reminders][1] is None
    async with stack.session.get(stack.url(f"/call/{placed.call_id}"), headers=stack.headers) as response:
        assert (await response.json())["callback_of"]["call_id"] == original.call_id
    async with stack.session.get(stack.url(f"/call/{original.call_id}"), headers=stack.headers) as response:
        listed = (await response.json())["reminders"][0]["callback"]["calls"]
        assert [(c["call_id"], c["outcome"]) for c in listed] == [(placed.call_id, "answered")]
    # The reports link them too.
    async with stack.session.get(stack.url(f"/report/{original.call_id}"), headers=stack.headers) as response:
        page = await response.text()
        assert 'call-back: <span class="text">done</span>' in page and f"/report/{placed.call_id}" in page
    async with stack.session.get(stack.url(f"/report/{placed.call_id}"), headers=stack.headers) as response:
        page = await response.text()
        assert "Call-back of" in page and f"/report/{original.call_id}" in page


async def test_outside_calling_hours_the_reminder_waits(local_stack: None) -> None:
    hour = datetime.now(UTC).hour
    start = (hour + 2) % 24
    hours = f"{start:02d}:00-{start + 1:02d}:00" if start < 23 else "23:00-24:00"
    async with call_stack({**ALWAYS, "CALLBACKS__CALLING_HOURS": hours}, app=callbacks_app()) as stack:
        number = random_number()
        original = await original_case(stack, number)
        assert isinstance(stack.host, FunctionsHost)
        await stack.host.run_timer(TIMER)
        await stack.host.run_timer(TIMER)
        assert outbound_to(stack, number) == []
        reminder = await reminder_state(stack, original.call_id)
        state = reminder.callback
        assert state is not None and state.status is CallbackStatus.PENDING and state.attempts == 0
        assert state.not_before is not None and state.not_before.hour == start
        assert timedelta(hours=1) <= state.not_before - datetime.now(UTC) <= timedelta(hours=2, minutes=1)
        assert state.note == "outside calling hours"


async def test_an_opted_out_number_is_never_called(stack: CallStack) -> None:
    number = random_number()
    body = {"phone_number": number, "source": "asked during the call"}
    async with stack.session.post(stack.url("/optout"), json=body, headers=stack.headers) as response:
        assert response.status == 200, await response.text()
        assert await response.json() == {"phone_number": number, "opted_out": True}
    original = await original_case(stack, number)
    assert isinstance(stack.host, FunctionsHost)
    await stack.host.run_timer(TIMER)
    await stack.host.run_timer(TIMER)
    assert outbound_to(stack, number) == []
    reminder = await reminder_state(stack, original.call_id)
    assert reminder.callback is not None and reminder.callback.status is CallbackStatus.OPTED_OUT
    params = {"phone_number": number}
    async with stack.session.get(stack.url("/optout"), params=params, headers=stack.headers) as response:
        assert await response.json() == {"phone_number": number, "opted_out": True}
    async with stack.session.post(
        stack.url("/optout"), json={"phone_number": "12"}, headers=stack.headers
    ) as bad:
        assert bad.status == 400


async def test_an_answering_machine_gets_the_message_and_a_retry_is_scheduled(stack: CallStack) -> None:
    stack.set_rules([{"say": "This must not be said to a machine."}])
    number = random_number()
    stack.acs.set_script(number, {"answering_machine": {"language": "en-US", "record_seconds": 30}})
    original = await original_case(stack, number)
    assert isinstance(stack.host, FunctionsHost)
    await stack.host.run_timer(TIMER)
    emulated = await ended(stack, number)

    said = [e["text"] for e in stack.bot_said(emulated.call_id)]
    assert any("calling you back about" in s and TITLE in s for s in said), said
    assert not any("must not be said" in s for s in said)
    assert stack.acs.call(emulated.call_id).ended_by == "bot"
    assert stack.llm.requests == []  # the machine's greeting never became a turn

    await stack.host.run_timer(TIMER)
    reminder = await reminder_state(stack, original.call_id)
    state = reminder.callback
    assert state is not None and state.status is CallbackStatus.PENDING and state.attempts == 1
    assert state.calls[0].outcome is CallbackOutcome.VOICEMAIL
    placed = await stack.container.calls.get(state.calls[0].call_id)
    assert placed is not None and placed.callback_of is not None and placed.callback_of.answering_machine
    delay = timedelta(minutes=30)
    assert placed.ended_at is not None and state.not_before is not None
    assert placed.ended_at + delay <= state.not_before <= datetime.now(UTC) + delay
    await stack.host.run_timer(TIMER)  # the retry is not due yet
    assert len(outbound_to(stack, number)) == 1
    assert str(uuid.UUID(state.calls[0].call_id)) == state.calls[0].call_id
