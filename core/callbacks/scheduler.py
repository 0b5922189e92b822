"""What the call-back timer does on each run, safe on any number of instances and redeliveries.

For each call whose ``callback_due`` has come (one indexed query), for each reminder the assistant
owns whose turn has come:

- placed earlier: read the placed call; once it has ended, record its outcome on the reminder (the
  original case lists its call-backs) and, after no answer or an answering machine, schedule the next
  attempt CALLBACKS__RETRY_DELAY_MINUTES later, up to CALLBACKS__MAX_ATTEMPTS calls;
- the number opted out: never called (opted_out, final);
- outside calling hours in the person's time zone(s): it waits, ``not_before`` the next window;
- otherwise: claimed by a conditional write on the call document (status placing, a lease with this
  run's token; a concurrent run re-reads, sees the lease and leaves it), then placed once: the call id
  is derived from (call, reminder, attempt), so a run taking over an expired lease finds the call
  instead of placing it again.

Nothing here depends on the timer firing once: two runs at the same time, or a run after a missed
one (``past_due``), place each attempt exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from core.callbacks.hours import next_window, zones_for
from core.callbacks.placing import place
from core.errors import TelephonyError
from core.models import Action, Call, CallStatus, Persona, Reminder, utcnow
from core.models.reminder import CallbackAttempt, CallbackOutcome, CallbackStatus, ReminderCallback
from core.observability import logger

if TYPE_CHECKING:
    from core.ports import CallStore, OptOutStore, Telephony
    from core.settings import Settings

# Calls handled at once by one run (each is a few store round trips and one CreateCall).
CONCURRENCY = 8
# No calling window at all (hours too narrow for every zone of the region): look again a day later.
NO_WINDOW_RETRY = timedelta(days=1)


class CallbackServices(Protocol):
    """The part of core.bootstrap.Services the scheduler uses."""

    settings: Settings

    @property
    def calls(self) -> CallStore: ...
    @property
    def optouts(self) -> OptOutStore: ...
    @property
    def telephony(self) -> Telephony: ...


@dataclass
class RunReport:
    """What one run did, for the log line and the tests."""

    placed: list[str] = field(default_factory=list)  # call ids placed by this run
    waiting: int = 0  # outside calling hours
    opted_out: int = 0
    settled: int = 0  # outcomes recorded
    gave_up: int = 0
    skipped: int = 0  # claimed by another run, or not yet due
    failed: int = 0  # calls whose call-backs failed this run (a store or ACS outage): the next run retries

    def summary(self) -> str:
        return (
            f"placed={len(self.placed)} waiting={self.waiting} opted_out={self.opted_out} "
            f"settled={self.settled} gave_up={self.gave_up} skipped={self.skipped} failed={self.failed}"
        )


def _find(call: Call, key: str) -> Reminder | None:
    return next((r for r in call.reminders if r.key == key), None)


def _state(reminder: Reminder) -> ReminderCallback:
    if reminder.callback is None:
        reminder.callback = ReminderCallback()
    return reminder.callback


def outcome_of(placed: Call) -> CallbackOutcome:
    """How a call-back call went, once it has ended."""
    if placed.callback_of is not None and placed.callback_of.answering_machine:
        return CallbackOutcome.VOICEMAIL
    spoke = any(m.persona is Persona.HUMAN and m.action in (Action.TALK, Action.SMS) for m in placed.messages)
    if spoke:
        return CallbackOutcome.ANSWERED
    if not placed.connection_id:
        return CallbackOutcome.NOT_PLACED
    return CallbackOutcome.NO_ANSWER  # never connected, or nobody said a word


class Scheduler:
    def __init__(self, services: CallbackServices, *, now: datetime | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.options = services.settings.callbacks
        self.now = now or utcnow()
        self.token = uuid.uuid4().hex
        self.report = RunReport()

    async def run(self) -> RunReport:
        due = await self.services.calls.due_callbacks(self.now, self.options.batch_size)
        # Calls side by side (bounded), each call's reminders one after the other.
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one_call(call: Call) -> None:
            async with gate:
                keys = [
                    r.key
                    for r in call.reminders
                    if r.owned_by_assistant(call.initiate.bot_name)
                    and (when := r.callback_due_at()) is not None
                    and when <= self.now
                ]
                try:
                    for key in keys:
                        fresh = await self.services.calls.get(call.call_id) if key != keys[0] else call
                        if fresh is not None:
                            await self._one(fresh, key)
                except (
                    Exception
                ) as exc:  # one call's trouble must not hold up the others; the next run retries
                    self.report.failed += 1
                    logger().warning(
                        "call-backs of call %s failed: %s: %s", call.call_id, type(exc).__name__, exc
                    )

        await asyncio.gather(*(one_call(call) for call in due))
        return self.report

    async def _one(self, call: Call, key: str) -> None:
        reminder = _find(call, key)
        if reminder is None:
            return
        state = reminder.callback or ReminderCallback()
        if state.status is CallbackStatus.PLACED:
            await self._settle(call, key, state)
            return
        if state.status is CallbackStatus.PLACING and state.lease_until and state.lease_until > self.now:
            self.report.skipped += 1
            return
        if await self.services.optouts.contains(call.phone_number):
            await self._finish(call, key, CallbackStatus.OPTED_OUT, "the number opted out of calls")
            self.report.opted_out += 1
            return
        if state.status is CallbackStatus.PENDING and state.attempts >= self.options.max_attempts:
            await self._finish(call, key, CallbackStatus.GAVE_UP, "no more attempts")
            self.report.gave_up += 1
            return
        zones = zones_for(call.phone_number, self.options, self.settings.conversation.timezone)
        opening = next_window(self.now, zones, self.options)
        if opening != self.now:
            await self._wait(call, key, opening)
            return
        await self._claim_and_place(call, key)

    async def _wait(self, call: Call, key: str, opening: datetime | None) -> None:
        until = opening or self.now + NO_WINDOW_RETRY
        note = "outside calling hours" if opening else "no calling window in the number's time zones"

        def wait(c: Call) -> bool:
            reminder = _find(c, key)
            if reminder is None:
                return False
            state = _state(reminder)
            if state.status is not CallbackStatus.PENDING or (state.not_before and state.not_before >= until):
                return False
            state.not_before, state.note = until, note
            return True

        await self.services.calls.update(call.call_id, wait, current=call)
        self.report.waiting += 1

    async def _finish(self, call: Call, key: str, status: CallbackStatus, note: str) -> None:
        def finish(c: Call) -> bool:
            reminder = _find(c, key)
            if reminder is None:
                return False
            state = _state(reminder)
            if state.status not in (CallbackStatus.PENDING, CallbackStatus.PLACING):
                return False
            if state.status is CallbackStatus.PLACING and state.lease_until and state.lease_until > self.now:
                return False  # another run is placing it right now
            state.status, state.note, state.lease_owner, state.lease_until = status, note, None, None
            return True

        await self.services.calls.update(call.call_id, finish, current=call)

    async def _claim_and_place(self, call: Call, key: str) -> None:
        lease_until = self.now + timedelta(seconds=self.options.lease_s)

        def claim(c: Call) -> bool:
            reminder = _find(c, key)
            if reminder is None or c.status is not CallStatus.ENDED:
                return False
            state = _state(reminder)
            if state.status is CallbackStatus.PLACING:
                if state.lease_until and state.lease_until > self.now:
                    return False  # held by another run
            elif state.status is CallbackStatus.PENDING:
                when = reminder.callback_due_at()
                if when is None or when > self.now or state.attempts >= self.options.max_attempts:
                    return False
                state.attempts += 1  # a new attempt; a lost lease is the same attempt, taken over
            else:
                return False
            state.status, state.lease_owner, state.lease_until = (
                CallbackStatus.PLACING,
                self.token,
                lease_until,
            )
            state.note = ""
            return True

        claimed = await self.services.calls.update(call.call_id, claim, current=call)
        reminder = _find(claimed, key)
        state = reminder.callback if reminder is not None else None
        if reminder is None or state is None or state.lease_owner != self.token:
            self.report.skipped += 1
            return
        attempt = state.attempts
        try:
            placed, by_us = await place(
                self.settings, self.services.calls, self.services.telephony, claimed, reminder, attempt
            )
        except TelephonyError as exc:
            logger().warning("call-back %d of call %s could not be placed: %s", attempt, call.call_id, exc)
            await self._placed(claimed, key, attempt, callback_call_id_of(claimed, reminder, attempt))
            return
        await self._placed(claimed, key, attempt, placed.call_id)
        if by_us:
            self.report.placed.append(placed.call_id)

    async def _placed(self, call: Call, key: str, attempt: int, placed_id: str) -> None:
        def placed(c: Call) -> bool:
            reminder = _find(c, key)
            if reminder is None:
                return False
            state = _state(reminder)
            if state.status is not CallbackStatus.PLACING or state.lease_owner != self.token:
                return False
            state.status, state.lease_owner, state.lease_until = CallbackStatus.PLACED, None, None
            if not any(a.call_id == placed_id for a in state.calls):
                state.calls.append(CallbackAttempt(call_id=placed_id, attempt=attempt, placed_at=self.now))
            return True

        await self.services.calls.update(call.call_id, placed, current=call)

    async def _settle(self, call: Call, key: str, state: ReminderCallback) -> None:
        current = state.current
        if current is None:
            return
        placed = await self.services.calls.get(current.call_id)
        if placed is not None and placed.status is not CallStatus.ENDED:
            self.report.skipped += 1  # still ringing or talking
            return
        outcome = outcome_of(placed) if placed is not None else CallbackOutcome.NOT_PLACED
        settled: list[CallbackStatus] = []

        def settle(c: Call) -> bool:
            settled.clear()
            reminder = _find(c, key)
            if reminder is None or reminder.callback is None:
                return False
            fresh = reminder.callback
            last = fresh.current
            if fresh.status is not CallbackStatus.PLACED or last is None or last.call_id != current.call_id:
                return False
            last.outcome = outcome
            if outcome is CallbackOutcome.ANSWERED:
                fresh.status, fresh.note = CallbackStatus.DONE, ""
            elif fresh.attempts >= self.options.max_attempts:
                fresh.status, fresh.note = (
                    CallbackStatus.GAVE_UP,
                    f"{fresh.attempts} attempts, last: {outcome}",
                )
            else:
                fresh.status = CallbackStatus.PENDING
                # From when the outcome is read (at most a timer period after the call ended).
                fresh.not_before = self.now + timedelta(minutes=self.options.retry_delay_minutes)
                fresh.note = f"retry after {outcome}"
            settled.append(fresh.status)
            return True

        await self.services.calls.update(call.call_id, settle, current=call)
        if settled:
            self.report.settled += 1
            if settled[0] is CallbackStatus.GAVE_UP:
                self.report.gave_up += 1


def callback_call_id_of(call: Call, reminder: Reminder, attempt: int) -> str:
    from core.callbacks.placing import callback_call_id

    return callback_call_id(call.call_id, reminder, attempt)


async def run_due(services: CallbackServices, *, now: datetime | None = None) -> RunReport:
    """One run of the call-back timer (functions/callbacks.py)."""
    report = await Scheduler(services, now=now).run()
    logger().info("call-backs: %s", report.summary())
    return report
