"""A campaign: many outbound calls with one task, paced under a concurrency cap within calling hours.

Pure: no I/O. One campaign document holds what pacing needs, so that one conditional write (ETag)
decides atomically which numbers get a slot: the cursor over the rows, the slots held by live calls,
and the rows deferred to their next calling window. One document per number holds its result.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from core.models.call import InitiateRequest, utcnow

# Azure Storage keeps a message invisible for at most 7 days: a longer wait is taken in steps.
MAX_DEFER = timedelta(days=6)
WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: Monday is 1


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, or ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{name[:60]}' is not an IANA time zone (e.g. Europe/Paris, America/New_York)"
        ) from None


class CallingHours(BaseModel):
    """When people may be called, in local time: from ``start`` to ``end`` (end excluded; an end
    before the start spans midnight) on ``days`` (ISO weekdays, of the day the window opens)."""

    start: time = Field(description="Local time the window opens, HH:MM.", examples=["09:00"])
    end: time = Field(description="Local time the window closes (excluded), HH:MM.", examples=["20:00"])
    time_zone: str = Field(description="IANA time zone of the window, unless a row names its own.")
    days: list[int] = Field(
        default_factory=lambda: list(WEEKDAYS),
        min_length=1,
        max_length=7,
        description="ISO weekdays the window opens on (1 = Monday ... 7 = Sunday). Default: every day.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(day not in WEEKDAYS for day in value):
            raise ValueError("days are ISO weekdays, 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _not_empty(self) -> CallingHours:
        if self.start == self.end:
            raise ValueError("the calling window is empty: start and end are the same time")
        return self

    def _windows(self, local: datetime) -> list[tuple[datetime, datetime]]:
        """The windows that may contain or follow ``local`` (yesterday's, then the next 8 days)."""
        found: list[tuple[datetime, datetime]] = []
        for offset in range(-1, 9):
            day = (local + timedelta(days=offset)).date()
            if day.isoweekday() not in self.days:
                continue
            opens = datetime.combine(day, self.start, tzinfo=local.tzinfo)
            closes = datetime.combine(day, self.end, tzinfo=local.tzinfo)
            if closes <= opens:
                closes += timedelta(days=1)
            found.append((opens, closes))
        return found

    def next_open(self, now: datetime, time_zone: str | None = None) -> datetime | None:
        """``now`` when it is within the window in ``time_zone`` (default: the hours' own), else when
        the next window opens (UTC-aware, as ``now``)."""
        local = now.astimezone(zone(time_zone or self.time_zone))
        for opens, closes in self._windows(local):
            if opens <= local < closes:
                return now
            if opens > local:
                return opens.astimezone(now.tzinfo)
        return None  # cannot happen with at least one day

    def is_open(self, now: datetime, time_zone: str | None = None) -> bool:
        return self.next_open(now, time_zone) == now


class CampaignStatus(StrEnum):
    RUNNING = "running"
    CANCELLED = "cancelled"  # no new call; calls in flight finish
    COMPLETED = "completed"  # every number was called (or failed)


class NumberState(StrEnum):
    PENDING = "pending"  # not reached yet
    WAITING = "waiting"  # outside its calling hours: deferred to not_before
    CALLING = "calling"  # holds a slot: being placed or live
    DONE = "done"  # the call ended (its result says how)
    FAILED = "failed"  # the call could not be placed
    CANCELLED = "cancelled"  # the campaign was cancelled before it was called


class NumberResult(BaseModel):
    call_status: str
    end_reason: str | None = None
    connected: bool = False
    claim: dict[str, Any] = Field(default_factory=dict)
    ended_at: datetime | None = None


class CampaignNumber(BaseModel):
    """One row of the campaign: the number, its own fields, and what became of it."""

    campaign_id: str
    row: int = Field(ge=1, description="The row of the request (1 is the first number).")
    phone_number: str
    time_zone: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    state: NumberState = NumberState.PENDING
    call_id: str | None = None
    not_before: datetime | None = None
    result: NumberResult | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    _etag: str | None = PrivateAttr(default=None)

    @property
    def etag(self) -> str | None:
        return self._etag

    def with_etag(self, etag: str | None) -> CampaignNumber:
        self._etag = etag
        return self

    def initiate(self, template: InitiateRequest, campaign_id: str) -> InitiateRequest:
        """The call's initiate request: the campaign's, to this number, with the row's fields."""
        task = template.task
        if self.fields:
            known = "; ".join(f"{name}: {value}" for name, value in self.fields.items())
            task = f"{task}\n\nWhat we know about the person called: {known}"
        return template.model_copy(
            update={"phone_number": self.phone_number, "task": task, "campaign_id": campaign_id}
        )


class Slot(BaseModel):
    """A slot of the cap, held by one row's call from the claim until the call has ended."""

    call_id: str
    claimed_at: datetime = Field(default_factory=utcnow)


class Claimed(BaseModel):
    row: int
    call_id: str


class Campaign(BaseModel):
    campaign_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    name: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    status: CampaignStatus = CampaignStatus.RUNNING
    template: InitiateRequest
    hours: CallingHours
    max_concurrent_calls: int = Field(ge=1)
    total: int = Field(ge=1)
    # Time zones of the rows that name their own (row -> zone); the others use the hours' zone.
    zones: dict[str, str] = Field(default_factory=dict)
    # Next row never considered yet (1-based); past ``total`` when every row was reached.
    next_row: int = 1
    live: dict[str, Slot] = Field(default_factory=dict)  # row -> slot
    deferred: dict[str, datetime] = Field(default_factory=dict)  # row -> when its window opens
    finished: int = 0  # rows done or failed
    # The delayed wake-up already sent (a deferred row's window, or the watch on live calls).
    wake_at: datetime | None = None
    cancelled_at: datetime | None = None
    completed_at: datetime | None = None
    _etag: str | None = PrivateAttr(default=None)

    @property
    def etag(self) -> str | None:
        return self._etag

    def with_etag(self, etag: str | None) -> Campaign:
        self._etag = etag
        return self

    @property
    def running(self) -> bool:
        return self.status is CampaignStatus.RUNNING

    def fill(
        self, now: datetime, new_call_id: Callable[[], str] = lambda: str(uuid.uuid4())
    ) -> list[Claimed]:
        """Give free slots to the next rows within their calling hours: deferred rows whose window has
        opened first, then new rows; a new row outside its hours is deferred. What was claimed."""
        claimed: list[Claimed] = []
        if not self.running:
            return claimed
        due = sorted((when, int(row)) for row, when in self.deferred.items() if when <= now)
        for _, row in due:
            if len(self.live) >= self.max_concurrent_calls:
                return claimed
            del self.deferred[str(row)]
            claimed += self._claim_or_defer(row, now, new_call_id)
        while len(self.live) < self.max_concurrent_calls and self.next_row <= self.total:
            row = self.next_row
            self.next_row += 1
            claimed += self._claim_or_defer(row, now, new_call_id)
        self._complete_if_done(now)
        return claimed

    def _claim_or_defer(self, row: int, now: datetime, new_call_id: Callable[[], str]) -> list[Claimed]:
        opens = self.hours.next_open(now, self.zones.get(str(row)))
        if opens is not None and opens > now:
            self.deferred[str(row)] = opens
            return []
        call_id = new_call_id()
        self.live[str(row)] = Slot(call_id=call_id, claimed_at=now)
        return [Claimed(row=row, call_id=call_id)]

    def release(self, row: int, call_id: str, now: datetime) -> bool:
        """Free the row's slot once its call has ended (or could not be placed); False when it was
        already freed."""
        slot = self.live.get(str(row))
        if slot is None or slot.call_id != call_id:
            return False
        del self.live[str(row)]
        self.finished += 1
        self._complete_if_done(now)
        return True

    def cancel(self, now: datetime) -> bool:
        if not self.running:
            return False
        self.status = CampaignStatus.CANCELLED
        self.cancelled_at = now
        return True

    def _complete_if_done(self, now: datetime) -> None:
        if self.running and self.next_row > self.total and not self.live and not self.deferred:
            self.status = CampaignStatus.COMPLETED
            self.completed_at = now

    def wake_up(self, now: datetime, watch: timedelta) -> datetime | None:
        """When the next delayed wake-up must come, if one must be sent now (and remember it): at the
        earliest deferred window, or after ``watch`` while calls are live (a lost end is noticed)."""
        targets = list(self.deferred.values()) if self.running else []
        if self.live:
            targets.append(now + watch)
        if not targets:
            return None
        target = min(min(targets), now + MAX_DEFER)
        if self.wake_at is not None and now < self.wake_at <= target:
            return None  # the one already sent comes first
        self.wake_at = target
        return target

    def state_of(self, number: CampaignNumber) -> NumberState:
        """The row's state as the campaign sees it (a row not yet called is cancelled with it)."""
        state = number.state
        if str(number.row) in self.live:
            return NumberState.CALLING
        if str(number.row) in self.deferred:
            state = NumberState.WAITING
        if state in (NumberState.PENDING, NumberState.WAITING) and self.status is CampaignStatus.CANCELLED:
            return NumberState.CANCELLED
        return state
