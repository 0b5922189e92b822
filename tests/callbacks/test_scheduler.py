"""The scheduler's decisions on in-memory stores: takeover of a lost lease, refusals, retries, limits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.callbacks.placing import callback_call_id
from core.callbacks.scheduler import run_due
from core.errors import TelephonyRefused
from core.models import Call, CallStatus, Reminder
from core.models.reminder import CallbackOutcome, CallbackStatus, ReminderCallback
from core.settings import Settings
from core.settings_callbacks import CallbacksSettings
from tests.callflow.fakes import FakeTelephony, MemoryStore
from tests.conftest import make_call

NOW = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)  # a Tuesday, 10:00 to 13:00 across the US zones
NUMBER = "+14155550100"


class MemoryOptOuts:
    def __init__(self) -> None:
        self.numbers: set[str] = set()

    async def add(self, phone_number: str, source: str) -> None:
        self.numbers.add(phone_number)

    async def remove(self, phone_number: str) -> bool:
        found = phone_number in self.numbers
        self.numbers.discard(phone_number)
        return found

    async def contains(self, phone_number: str) -> bool:
        return phone_number in self.numbers


class RefusingTelephony(FakeTelephony):
    async def call(self, phone_number: str, callback_url: str) -> str:
        raise TelephonyRefused("ACS refused")


@dataclass
class World:
    settings: Settings = field(
        default_factory=lambda: Settings(callbacks=CallbacksSettings(retry_delay_minutes=10))
    )
    calls: MemoryStore = field(default_factory=MemoryStore)
    optouts: MemoryOptOuts = field(default_factory=MemoryOptOuts)
    telephony: FakeTelephony = field(default_factory=FakeTelephony)

    def placed(self) -> int:
        return sum(1 for op in self.telephony.ops if op.kind == "call")


async def original(world: World, **callback: object) -> Call:
    call = make_call(NUMBER)
    call.status = CallStatus.ENDED
    reminder = Reminder(title="Call back", due_at=NOW - timedelta(minutes=5), owner="assistant")
    if callback:
        reminder.callback = ReminderCallback.model_validate(callback)
    call.reminders = [reminder]
    return await world.calls.create(call)


async def state(world: World, call_id: str) -> ReminderCallback:
    stored = world.calls.peek(call_id)
    assert stored is not None and stored.reminders[0].callback is not None
    return stored.reminders[0].callback


async def end(world: World, call_id: str, *, spoke: bool) -> None:
    from core.models import Message, Persona

    def hang_up(c: Call) -> None:
        if spoke:
            c.messages.append(Message(persona=Persona.HUMAN, content="Hello?"))
        c.end()

    await world.calls.update(call_id, hang_up)


async def test_concurrent_runs_place_one_call() -> None:
    world = World()
    case = await original(world)
    reports = await asyncio.gather(*(run_due(world, now=NOW) for _ in range(5)))
    assert world.placed() == 1
    assert sum(len(r.placed) for r in reports) == 1
    assert (await state(world, case.call_id)).status is CallbackStatus.PLACED


async def test_a_lost_lease_is_taken_over_without_placing_the_attempt_twice() -> None:
    world = World()
    case = await original(world)
    await run_due(world, now=NOW)
    assert world.placed() == 1
    # The run that placed it died before recording it: the reminder still says "placing", lease lost.
    stored = world.calls.peek(case.call_id)
    assert stored is not None and stored.reminders[0].callback is not None
    attempt = stored.reminders[0].callback
    attempt.status, attempt.calls, attempt.lease_until = CallbackStatus.PLACING, [], NOW
    await world.calls.update(case.call_id, lambda c: setattr(c, "reminders", stored.reminders))
    later = NOW + timedelta(minutes=10)
    report = await run_due(world, now=later)
    assert world.placed() == 1 and report.placed == []  # found the attempt's call, did not place it again
    recorded = await state(world, case.call_id)
    assert recorded.status is CallbackStatus.PLACED and recorded.attempts == 1
    assert recorded.calls[0].call_id == callback_call_id(case.call_id, stored.reminders[0], 1)


async def test_no_answer_retries_after_the_delay_then_gives_up() -> None:
    world = World(settings=Settings(callbacks=CallbacksSettings(retry_delay_minutes=10, max_attempts=2)))
    case = await original(world)
    moment = NOW
    for attempt in (1, 2):
        await run_due(world, now=moment)
        assert world.placed() == attempt
        current = (await state(world, case.call_id)).calls[-1]
        await end(world, current.call_id, spoke=False)
        moment += timedelta(minutes=1)
        await run_due(world, now=moment)  # reads the outcome
        recorded = await state(world, case.call_id)
        assert recorded.calls[-1].outcome is CallbackOutcome.NO_ANSWER
        if attempt == 1:
            assert recorded.status is CallbackStatus.PENDING and recorded.not_before is not None
            await run_due(world, now=moment)  # not yet: the retry waits for its delay
            assert world.placed() == 1
            moment = recorded.not_before + timedelta(seconds=1)
    recorded = await state(world, case.call_id)
    assert recorded.status is CallbackStatus.GAVE_UP and len(recorded.calls) == 2
    await run_due(world, now=moment + timedelta(days=1))
    assert world.placed() == 2


async def test_a_refused_call_is_retried_and_an_answered_one_is_done() -> None:
    world = World(telephony=RefusingTelephony())
    case = await original(world)
    await run_due(world, now=NOW)
    await run_due(world, now=NOW + timedelta(seconds=1))
    recorded = await state(world, case.call_id)
    assert (
        recorded.calls[0].outcome is CallbackOutcome.NOT_PLACED and recorded.status is CallbackStatus.PENDING
    )
    world.telephony = FakeTelephony()
    retry_at = (recorded.not_before or NOW) + timedelta(seconds=1)
    await run_due(world, now=retry_at)
    assert world.placed() == 1
    recorded = await state(world, case.call_id)
    await end(world, recorded.calls[-1].call_id, spoke=True)
    await run_due(world, now=retry_at + timedelta(minutes=1))
    recorded = await state(world, case.call_id)
    assert recorded.status is CallbackStatus.DONE and recorded.calls[-1].outcome is CallbackOutcome.ANSWERED


async def test_an_opt_out_stops_pending_retries() -> None:
    world = World()
    case = await original(world, attempts=1, not_before=NOW - timedelta(minutes=1))
    world.optouts.numbers.add(NUMBER)
    report = await run_due(world, now=NOW)
    assert report.opted_out == 1 and world.placed() == 0
    assert (await state(world, case.call_id)).status is CallbackStatus.OPTED_OUT


class FlakyOptOuts(MemoryOptOuts):
    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    async def contains(self, phone_number: str) -> bool:
        if phone_number == self.failing:
            from core.errors import StoreUnavailable

            raise StoreUnavailable("the opt-out table is unreachable")
        return False


async def test_one_failing_call_does_not_hold_up_the_others() -> None:
    world = World(optouts=FlakyOptOuts(NUMBER))
    await original(world)
    other = make_call("+14155550111")
    other.status = CallStatus.ENDED
    other.reminders = [Reminder(title="Call back", due_at=NOW - timedelta(minutes=5), owner="assistant")]
    await world.calls.create(other)
    report = await run_due(world, now=NOW)
    assert report.failed == 1 and len(report.placed) == 1
    assert [op.number for op in world.telephony.ops if op.kind == "call"] == ["+14155550111"]
