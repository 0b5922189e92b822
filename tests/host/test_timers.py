"""Timer triggers in the host adapter: NCRONTAB schedules, the schedule loop, the admin API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import azure.functions as func
import pytest

from local.functions_host import FunctionsHost
from local.functions_host.timers import Schedule, ScheduleError
from tests.waiting import wait_until


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 */5 * * * *", "2026-03-01T10:02:30", "2026-03-01T10:05:00"),
        ("0 0 9 * * mon-fri", "2026-03-06T09:00:00", "2026-03-09T09:00:00"),  # Friday 9:00 -> Monday
        ("30 15 22 31 dec *", "2026-06-01T00:00:00", "2026-12-31T22:15:30"),
        ("*/10 * * * * *", "2026-03-01T10:00:05", "2026-03-01T10:00:10"),
        ("0 0 0 29 feb *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("00:00:30", "2026-03-01T10:00:05", "2026-03-01T10:00:35"),  # TimeSpan: an interval
    ],
)
def test_next_occurrence(expression: str, after: str, expected: str) -> None:
    assert Schedule.parse(expression).next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    "expression", ["* * * * *", "61 * * * * *", "0 0 25 * * *", "0 */0 * * * *", "x * * * * *"]
)
def test_invalid_schedules_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        Schedule.parse(expression)


def timer_app(runs: list[func.TimerRequest], schedule: str = "*/1 * * * * *") -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.timer_trigger(arg_name="timer", schedule=schedule, run_on_startup=False, use_monitor=False)
    async def tick(timer: func.TimerRequest) -> None:
        runs.append(timer)

    return app


async def test_a_timer_runs_on_its_schedule() -> None:
    runs: list[func.TimerRequest] = []
    async with FunctionsHost(timer_app(runs), function_key="k") as host:
        await wait_until(lambda: len(runs) >= 2, timeout=5, what="two runs of an every-second timer")
        assert "tick: timerTrigger */1 * * * * *" in host.describe()
    assert all(isinstance(r, func.TimerRequest) and not r.past_due for r in runs)
    assert runs[0].schedule_status["Next"] > runs[0].schedule_status["LastUpdated"]


async def test_the_admin_api_runs_a_timer_now_and_needs_the_master_key() -> None:
    runs: list[func.TimerRequest] = []
    host = FunctionsHost(timer_app(runs, "0 0 0 1 1 *"), function_key="k", master_key="master")
    await host.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            url = f"{host.base_url}/admin/functions/tick"
            async with session.post(url, json={"input": ""}, headers={"x-functions-key": "k"}) as denied:
                assert denied.status == 401  # the function key is not the master key
            async with session.post(f"{url}x", json={}, headers={"x-functions-key": "master"}) as unknown:
                assert unknown.status == 404
            async with session.post(
                url, json={"input": ""}, headers={"x-functions-key": "master"}
            ) as accepted:
                assert accepted.status == 202
        await wait_until(lambda: len(runs) == 1, timeout=5, what="the run the admin API started")
        await host.run_timer("tick", past_due=True)
        assert [r.past_due for r in runs] == [False, True]
        # Runs of one timer on one host never overlap (the host's singleton lock).
        await asyncio.gather(host.run_timer("tick"), host.run_timer("tick"))
        assert len(runs) == 4
    finally:
        await host.stop()


async def test_an_invalid_schedule_fails_start_up() -> None:
    host = FunctionsHost(timer_app([], "every minute"), function_key="k")
    with pytest.raises(ValueError, match="invalid schedule"):
        await host.start("127.0.0.1", 0)
    assert timedelta(0) < Schedule.parse("0 */1 * * * *").next_after(datetime.now(UTC)) - datetime.now(UTC)
