"""Campaign pacing, pure: calling hours, slots under the cap, deferral, wake-ups, cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from pydantic import ValidationError

from core.models.campaign import (
    MAX_DEFER,
    CallingHours,
    Campaign,
    CampaignNumber,
    CampaignStatus,
    NumberState,
)
from tests.conftest import make_call

MONDAY_NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday
WATCH = timedelta(minutes=5)


def hours(
    start: str = "09:00", end: str = "20:00", zone: str = "UTC", days: list[int] | None = None
) -> CallingHours:
    given: dict[str, object] = {"start": start, "end": end, "time_zone": zone}
    if days is not None:
        given["days"] = days
    return CallingHours.model_validate(given)


def campaign(
    total: int, cap: int, calling: CallingHours | None = None, zones: dict[str, str] | None = None
) -> Campaign:
    return Campaign(
        template=make_call().initiate,
        hours=calling or hours(),
        max_concurrent_calls=cap,
        total=total,
        zones=zones or {},
    )


def ids() -> Callable[[], str]:
    numbers = count(1)
    return lambda: f"call-{next(numbers)}"


def test_calling_hours_in_the_zone_and_across_midnight() -> None:
    assert hours().is_open(MONDAY_NOON)
    assert not hours().is_open(MONDAY_NOON, "Asia/Tokyo")  # 21:00 there
    assert hours().next_open(MONDAY_NOON, "Asia/Tokyo") == datetime(2026, 1, 6, 0, 0, tzinfo=UTC)  # 09:00 JST
    night = hours("22:00", "02:00")
    assert night.is_open(datetime(2026, 1, 5, 23, 30, tzinfo=UTC))
    assert night.is_open(datetime(2026, 1, 6, 1, 59, tzinfo=UTC))
    assert night.next_open(MONDAY_NOON) == datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
    assert not hours().is_open(datetime(2026, 1, 5, 20, 0, tzinfo=UTC))  # the end is excluded


def test_calling_hours_skip_the_days_not_listed() -> None:
    weekdays = hours(days=[1, 2, 3, 4, 5])
    saturday = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert not weekdays.is_open(saturday)
    assert weekdays.next_open(saturday) == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "given",
    [
        {"start": "09:00", "end": "09:00", "time_zone": "UTC"},
        {"start": "09:00", "end": "20:00", "time_zone": "Mars/Olympus"},
        {"start": "09:00", "end": "20:00", "time_zone": "UTC", "days": [0]},
        {"start": "25:00", "end": "20:00", "time_zone": "UTC"},
    ],
)
def test_bad_calling_hours_are_refused(given: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CallingHours.model_validate(given)


def test_slots_never_exceed_the_cap_and_free_ones_go_to_the_next_rows() -> None:
    c = campaign(total=5, cap=2)
    new_id = ids()
    first = c.fill(MONDAY_NOON, new_id)
    assert [x.row for x in first] == [1, 2] and len(c.live) == 2
    assert c.fill(MONDAY_NOON, new_id) == []
    assert c.release(1, first[0].call_id, MONDAY_NOON)
    assert not c.release(1, first[0].call_id, MONDAY_NOON)  # a redelivered end frees nothing more
    assert not c.release(2, "another call", MONDAY_NOON)
    assert [x.row for x in c.fill(MONDAY_NOON, new_id)] == [3]
    assert len(c.live) == 2 and c.finished == 1


def test_rows_outside_their_hours_wait_and_are_called_when_their_window_opens() -> None:
    c = campaign(total=3, cap=3, zones={"2": "Asia/Tokyo"})
    claimed = c.fill(MONDAY_NOON)
    assert [x.row for x in claimed] == [1, 3]
    opens = datetime(2026, 1, 6, 0, 0, tzinfo=UTC)
    assert c.deferred == {"2": opens}
    assert c.wake_up(MONDAY_NOON, WATCH) == MONDAY_NOON + WATCH  # live calls are watched first
    assert c.wake_up(MONDAY_NOON, WATCH) is None  # already sent
    for x in claimed:
        c.release(x.row, x.call_id, MONDAY_NOON)
    assert c.fill(MONDAY_NOON) == [] and c.status is CampaignStatus.RUNNING
    later = MONDAY_NOON + WATCH
    assert c.wake_up(later, WATCH) == opens  # no call live: the window is next
    assert [x.row for x in c.fill(opens)] == [2] and not c.deferred


def test_a_long_wait_is_taken_in_steps_within_what_a_queue_allows() -> None:
    mondays = hours(days=[1])
    c = campaign(total=1, cap=1, calling=mondays)
    evening = MONDAY_NOON + timedelta(hours=9)  # the window has closed: next Monday, 6.5 days away
    assert c.fill(evening) == []
    assert mondays.next_open(evening) == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    assert c.wake_up(evening, WATCH) == evening + MAX_DEFER


def test_completed_when_every_row_was_reached_and_every_call_ended() -> None:
    c = campaign(total=2, cap=5)
    claimed = c.fill(MONDAY_NOON)
    c.release(claimed[0].row, claimed[0].call_id, MONDAY_NOON)
    assert c.status is CampaignStatus.RUNNING
    c.release(claimed[1].row, claimed[1].call_id, MONDAY_NOON)
    assert c.status is CampaignStatus.COMPLETED and c.completed_at == MONDAY_NOON
    assert c.wake_up(MONDAY_NOON, WATCH) is None


def test_cancel_stops_new_calls_and_keeps_the_live_ones() -> None:
    c = campaign(total=4, cap=2, zones={"4": "Asia/Tokyo"})
    claimed = c.fill(MONDAY_NOON)
    assert c.cancel(MONDAY_NOON) and not c.cancel(MONDAY_NOON)
    assert c.release(claimed[0].row, claimed[0].call_id, MONDAY_NOON)
    assert c.fill(MONDAY_NOON) == [] and len(c.live) == 1
    assert c.wake_up(MONDAY_NOON, WATCH) == MONDAY_NOON + WATCH  # the live call is still watched
    pending = CampaignNumber(campaign_id=c.campaign_id, row=3, phone_number="+14155550103")
    assert c.state_of(pending) is NumberState.CANCELLED
    live = CampaignNumber(campaign_id=c.campaign_id, row=claimed[1].row, phone_number="+14155550102")
    assert c.state_of(live) is NumberState.CALLING


def test_a_rows_fields_are_told_to_the_bot_after_the_task() -> None:
    template = make_call().initiate
    number = CampaignNumber(campaign_id="c", row=1, phone_number="+14155550123", fields={"name": "Jane"})
    initiate = number.initiate(template, "c")
    assert initiate.phone_number == "+14155550123" and initiate.campaign_id == "c"
    assert initiate.task.startswith(template.task) and initiate.task.endswith("name: Jane")
