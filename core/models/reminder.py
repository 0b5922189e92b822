"""Reminders, and the call-backs the assistant places for the ones it owns. Pure: no I/O.

A reminder whose owner is the assistant (``assistant`` or the bot's name) is a promise to call the
person back at ``due_at``. Its ``callback`` records where that promise stands: pending (with the
earliest time of the next attempt), being placed (a lease, so one instance places it), placed (the
call id), and how it ended (answered, gave up, opted out). The call placed for it carries a
``CallbackOrigin`` naming the original call and the reminder: the link goes both ways.

``callback_due`` is stored on the call document as a fixed-width UTC string, so the timer finds the
calls with a call-back due with one indexed query instead of reading every call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

# Owners that mean "the assistant calls back" (besides the bot's own name), compared case-blind.
ASSISTANT_OWNERS = frozenset({"assistant", "bot"})


def utc_key(value: datetime) -> str:
    """Fixed-width UTC text: string order is time order (what a Cosmos DB range query compares)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CallbackStatus(StrEnum):
    PENDING = "pending"  # waits for its time (due_at, then not_before)
    PLACING = "placing"  # an instance holds the lease and is placing the call
    PLACED = "placed"  # the call was placed; its outcome is read when it has ended
    DONE = "done"  # somebody answered and the conversation took place
    GAVE_UP = "gave_up"  # no answer (or only voicemail) after the maximum attempts
    OPTED_OUT = "opted_out"  # the number opted out of calls: never called


class CallbackOutcome(StrEnum):
    ANSWERED = "answered"
    VOICEMAIL = "voicemail"  # an answering machine took the call: a message was left
    NO_ANSWER = "no_answer"  # not connected (no answer, busy, refused)
    NOT_PLACED = "not_placed"  # the telephony service refused to place it


class CallbackAttempt(BaseModel):
    call_id: str
    attempt: int
    placed_at: datetime
    outcome: CallbackOutcome | None = None


class ReminderCallback(BaseModel):
    status: CallbackStatus = CallbackStatus.PENDING
    attempts: int = 0
    # The next attempt is not made before this (retry delay, or the next calling-hours window).
    not_before: datetime | None = None
    # Why it waits, or why it stopped (outside calling hours, opted out, ...): for the report.
    note: str = ""
    lease_owner: str | None = None
    lease_until: datetime | None = None
    calls: list[CallbackAttempt] = Field(default_factory=list)

    @property
    def current(self) -> CallbackAttempt | None:
        return self.calls[-1] if self.calls else None


class Reminder(BaseModel):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    due_at: datetime
    owner: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # Only for reminders the assistant owns, once the timer has looked at them.
    callback: ReminderCallback | None = None

    @property
    def key(self) -> str:
        """The reminder's identity within its call (the tool updates reminders by title)."""
        return self.title.strip().casefold()

    def owned_by_assistant(self, bot_name: str) -> bool:
        owner = self.owner.strip().casefold()
        return owner in ASSISTANT_OWNERS or (bool(owner) and owner == bot_name.strip().casefold())

    def callback_due_at(self) -> datetime | None:
        """When the timer must look at this reminder's call-back next; None when it never will."""
        state = self.callback
        if state is None:
            return self.due_at
        if state.status is CallbackStatus.PENDING:
            return max(self.due_at, state.not_before) if state.not_before else self.due_at
        if state.status is CallbackStatus.PLACING:
            return state.lease_until or self.due_at  # a lost lease is taken over when it expires
        if state.status is CallbackStatus.PLACED:
            return state.calls[-1].placed_at if state.calls else self.due_at  # read its outcome
        return None


class CallbackOrigin(BaseModel):
    """On a call placed for a reminder: which call and reminder it calls back for."""

    call_id: str
    reminder: str  # the reminder's title
    attempt: int = 1
    # Set when the first utterance was an answering machine's greeting (core.callbacks.voicemail).
    answering_machine: bool = False


def callback_due(reminders: list[Reminder], bot_name: str) -> str | None:
    """The earliest time the timer must look at one of an ended call's reminders, as ``utc_key``
    text (the call document stores it); None when none will be (the call sets None while it is live:
    nobody is called back during their own call)."""
    times = [
        when
        for reminder in reminders
        if reminder.owned_by_assistant(bot_name) and (when := reminder.callback_due_at()) is not None
    ]
    return utc_key(min(times)) if times else None
