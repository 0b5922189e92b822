"""Campaigns end to end: POST /campaign over real HTTP, the campaign queue served by two hosts at once
(as two instances would), calls placed at the ACS emulator, whose record of every call shows how many
were live at once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.cosmos.aio import CosmosClient

from core.models.campaign import CallingHours
from functions.campaigns import bp as campaigns_bp
from local.functions_host import FunctionsHost, HostConfig
from tests.e2e.harness import FUNCTION_KEY, REPO_ROOT, CallStack, build_app, call_stack, random_number
from tests.waiting import wait_until

# Each call rings this long (simulated; the emulator runs at SPEED), so calls overlap.
RING_SECONDS = 8.0
SPEED = 0.1
FAR_ZONE = "Etc/GMT-12"  # UTC+12: 12 hours away from UTC, outside a 4-hour window around now


@pytest.fixture
async def stack(local_stack: None) -> AsyncIterator[CallStack]:
    async with call_stack(blueprints=(campaigns_bp,), speed_factor=SPEED) as built:
        # A second instance consuming the same campaign queue: slots are claimed by both at once.
        second = FunctionsHost(
            build_app(campaigns_bp),
            config=HostConfig.load(REPO_ROOT / "host.json"),
            function_key=FUNCTION_KEY,
        )
        await second.start("127.0.0.1", 0)
        try:
            yield built
        finally:
            await second.stop()
        failed = built.failed_callbacks()
        assert not failed, f"callbacks the app refused or failed: {failed[:3]}"


def _window_around_now() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "start": f"{(now - timedelta(hours=2)):%H:%M}",
        "end": f"{(now + timedelta(hours=2)):%H:%M}",
        "time_zone": "UTC",
    }


async def _post(stack: CallStack, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with stack.session.post(
        stack.url("/campaign"), headers=stack.headers, json=body, **kwargs
    ) as response:
        return response.status, await response.json()


async def _campaign(stack: CallStack, campaign_id: str) -> dict[str, Any]:
    async with stack.session.get(stack.url(f"/campaign/{campaign_id}"), headers=stack.headers) as response:
        assert response.status == 200, await response.text()
        view: dict[str, Any] = await response.json()
        return view


def _emulated_calls(stack: CallStack, numbers: set[str]) -> list[Any]:
    return [c for c in stack.acs.engine.calls.values() if c.person_number in numbers]


def _most_at_once(stack: CallStack, numbers: set[str]) -> int:
    """The most calls to these numbers that were live at the same time, from the emulator's record
    (from the create request to the end of the call)."""
    moments: list[tuple[str, int]] = []
    for call in _emulated_calls(stack, numbers):
        entries = call.transcript.entries
        moments.append((entries[0]["at"], 1))
        ended = [e["at"] for e in entries if e["kind"] == "call_ended"]
        if ended:
            moments.append((ended[0], -1))
    live = most = 0
    for _, step in sorted(moments, key=lambda m: (m[0], m[1])):  # an end before a start at the same time
        live += step
        most = max(most, live)
    return most


def _ring(stack: CallStack, numbers: list[str]) -> None:
    for number in numbers:
        stack.acs.set_script(number, {"ring_seconds": RING_SECONDS, "steps": []})


async def test_thirty_numbers_never_exceed_the_cap_and_wait_for_their_calling_hours(stack: CallStack) -> None:
    numbers = [random_number() for _ in range(30)]
    _ring(stack, numbers)
    within, outside = numbers[:24], numbers[24:]
    rows: list[Any] = [*within, *({"phone_number": n, "time_zone": FAR_ZONE} for n in outside)]
    hours = _window_around_now()
    status, view = await _post(
        stack, {"name": "Renewals", "numbers": rows, "max_concurrent_calls": 3, "calling_hours": hours}
    )
    assert status == 201, view
    campaign_id = view["campaign_id"]
    assert view["total"] == 30 and view["max_concurrent_calls"] == 3

    async def within_done() -> bool:
        nonlocal view
        view = await _campaign(stack, campaign_id)
        counts = view["counts"]
        return counts["done"] + counts["failed"] == 24 and counts["waiting"] == 6 and view["live_calls"] == 0

    await wait_until(
        within_done,
        timeout=120,
        what="the 24 numbers within their hours to be called",
        seen=lambda: view["counts"],
        interval=0.5,
    )

    assert _most_at_once(stack, set(numbers)) == 3  # the cap, reached and never exceeded
    called = {c.person_number for c in _emulated_calls(stack, set(numbers))}
    assert called == set(within), "every number within its hours called once, none outside"
    assert len(_emulated_calls(stack, set(numbers))) == 24
    assert view["counts"]["done"] == 24 and view["counts"]["waiting"] == 6
    assert view["status"] == "running"
    opens = CallingHours.model_validate(hours).next_open(datetime.now(UTC), FAR_ZONE)
    for number in view["numbers"]:
        if number["phone_number"] in outside:
            assert number["state"] == "waiting" and number["call_id"] is None
            assert datetime.fromisoformat(number["not_before"]) == opens
        else:
            assert number["state"] == "done" and number["result"]["connected"] is True
            call = await stack.container.calls.get(number["call_id"])
            assert call is not None and call.initiate.phone_number == number["phone_number"]
            assert call.initiate.campaign_id == campaign_id

    async with stack.session.get(
        stack.url(f"/report/campaign/{campaign_id}"), params={"code": FUNCTION_KEY}
    ) as response:
        assert response.status == 200
        page = await response.text()
    assert "Renewals" in page and page.count("/report/") >= 24 and "waiting" in page

    # Cancelled, the waiting numbers are never called.
    async with stack.session.post(
        stack.url(f"/campaign/{campaign_id}/cancel"), headers=stack.headers
    ) as response:
        assert response.status == 200
        cancelled = await response.json()
    assert cancelled["status"] == "cancelled" and cancelled["counts"]["cancelled"] == 6


async def test_cancel_stops_new_calls_and_lets_live_ones_finish(stack: CallStack) -> None:
    numbers = [random_number() for _ in range(8)]
    for number in numbers:  # long rings: the first two are still live when the campaign is cancelled
        stack.acs.set_script(number, {"ring_seconds": 300, "steps": []})
    status, view = await _post(
        stack, {"numbers": numbers, "max_concurrent_calls": 2, "calling_hours": _window_around_now()}
    )
    assert status == 201, view
    campaign_id = view["campaign_id"]

    async def two_live() -> bool:
        return len(_emulated_calls(stack, set(numbers))) == 2

    await wait_until(two_live, timeout=30, what="the first two calls to ring")
    async with stack.session.post(
        stack.url(f"/campaign/{campaign_id}/cancel"), headers=stack.headers
    ) as response:
        assert response.status == 200
        assert (await response.json())["status"] == "cancelled"
    for call in _emulated_calls(stack, set(numbers)):  # the people hang up: the calls in flight end
        assert not call.ended.is_set(), "a call in flight was cut by the cancel"
        stack.acs.engine.remote_hangup(call)

    async def settled() -> bool:
        nonlocal view
        view = await _campaign(stack, campaign_id)
        return view["live_calls"] == 0 and view["counts"]["calling"] == 0

    await wait_until(
        settled, timeout=60, what="the two calls in flight to end", seen=lambda: view["counts"], interval=0.5
    )
    assert len(_emulated_calls(stack, set(numbers))) == 2, "no call placed after the cancel"
    assert view["counts"]["cancelled"] == 6
    assert view["counts"]["done"] + view["counts"]["failed"] == 2


async def _stored_documents() -> int:
    from core.bootstrap import get_services

    settings = get_services().settings
    async with CosmosClient(
        settings.cosmos.endpoint, credential=settings.cosmos.key, enable_endpoint_discovery=False
    ) as client:
        database = await client.create_database_if_not_exists(settings.cosmos.database)
        container = database.get_container_client(settings.campaigns.container)
        try:
            query = container.query_items("SELECT c.id FROM c", enable_cross_partition_query=True)
            items = [i async for i in query]
        except Exception:
            return 0
        return len(items)


async def test_bad_input_is_refused_with_each_bad_row_and_creates_nothing(stack: CallStack) -> None:
    before = await _stored_documents()
    good = random_number()
    status, body = await _post(
        stack,
        {
            "numbers": [
                good,
                "12345",
                {"phone_number": good},
                {"phone_number": random_number(), "time_zone": "Mars/Olympus"},
            ],
            "calling_hours": {"start": "25:00", "end": "10:00"},
            "max_concurrent_calls": 0,
        },
    )
    assert status == 400, body
    problems = body["error"]["problems"]
    assert any(p.startswith("row 2 (numbers[1]): '12345' is not in E.164") for p in problems), problems
    assert any(p.startswith("row 3 (numbers[2])") and "already row 1" in p for p in problems), problems
    assert any(p.startswith("row 4 (numbers[3]): time_zone") for p in problems), problems
    assert any(p.startswith("max_concurrent_calls") for p in problems), problems

    csv_body = f"phone_number,name\n{good},Jane\n+1,Bob\n{random_number()}\n"
    async with stack.session.post(
        stack.url("/campaign"),
        headers={**stack.headers, "Content-Type": "text/csv"},
        params={"task": "Remind of the renewal.", "colour": "red"},
        data=csv_body.encode(),
    ) as response:
        assert response.status == 400
        problems = (await response.json())["error"]["problems"]
    assert any(p.startswith("row 2 (line 3): '+1'") for p in problems), problems
    assert any(p.startswith("row 3 (line 4): 1 columns") for p in problems), problems
    assert any(p.startswith("colour: unknown query parameter") for p in problems), problems

    status, body = await _post(stack, {"numbers": [], "task": ""})
    assert status == 400 and body["error"]["problems"], body
    async with stack.session.get(stack.url(f"/campaign/{uuid.uuid4()}"), headers=stack.headers) as response:
        assert response.status == 404
    async with stack.session.get(stack.url("/campaign/nope"), headers=stack.headers) as response:
        assert response.status == 400
    assert await _stored_documents() == before, "a refused request stored something"
    assert not _emulated_calls(stack, {good})


async def test_csv_campaign_calls_each_row_with_its_fields(stack: CallStack) -> None:
    numbers = [random_number() for _ in range(3)]
    csv_body = "phone_number,name,time_zone\n" + "".join(
        f"{n},Person {i},UTC\n" for i, n in enumerate(numbers)
    )
    hours = _window_around_now()
    async with stack.session.post(
        stack.url("/campaign"),
        headers={**stack.headers, "Content-Type": "text/csv"},
        params={"task": "Remind of the renewal.", "max_concurrent_calls": "2", **hours},
        data=csv_body.encode(),
    ) as response:
        assert response.status == 201, await response.text()
        view = await response.json()

    async def completed() -> bool:
        nonlocal view
        view = await _campaign(stack, view["campaign_id"])
        return bool(view["status"] == "completed")

    await wait_until(
        completed, timeout=60, what="the CSV campaign to complete", seen=lambda: view["counts"], interval=0.5
    )
    assert view["counts"]["done"] == 3
    first = view["numbers"][0]
    assert first["fields"] == {"name": "Person 0"}
    call = await stack.container.calls.get(first["call_id"])
    assert call is not None
    assert call.initiate.task.startswith("Remind of the renewal.") and "name: Person 0" in call.initiate.task


async def test_numbers_waiting_for_their_window_are_called_when_it_opens(stack: CallStack) -> None:
    # The campaign's clock runs with real time, 3 s before a window opens at 09:00 UTC: the numbers
    # wait, and the message made invisible until then wakes the campaign when it opens.
    opens = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    offset = opens - timedelta(seconds=3) - datetime.now(UTC)
    stack.container.campaigns.clock = lambda: datetime.now(UTC) + offset
    numbers = [random_number() for _ in range(2)]
    _ring(stack, numbers)
    status, view = await _post(
        stack, {"numbers": numbers, "calling_hours": {"start": "09:00", "end": "10:00", "time_zone": "UTC"}}
    )
    assert status == 201, view
    campaign_id = view["campaign_id"]

    async def waiting() -> bool:
        nonlocal view
        view = await _campaign(stack, campaign_id)
        return bool(view["counts"]["waiting"] == 2)

    await wait_until(waiting, timeout=10, what="both numbers to wait for 09:00", seen=lambda: view["counts"])
    assert {n["not_before"] for n in view["numbers"]} == {"2026-01-05T09:00:00Z"}
    assert not _emulated_calls(stack, set(numbers)), "called before the window opened"

    async def completed() -> bool:
        nonlocal view
        view = await _campaign(stack, campaign_id)
        return bool(view["status"] == "completed")

    await wait_until(
        completed,
        timeout=60,
        what="the numbers to be called once 09:00 came",
        seen=lambda: view["counts"],
        interval=0.5,
    )
    assert view["counts"]["done"] == 2
    for call in _emulated_calls(stack, set(numbers)):
        started = datetime.fromisoformat(call.transcript.entries[0]["at"]) + offset
        assert started >= opens, f"called at {started:%H:%M:%S} by the campaign's clock"
