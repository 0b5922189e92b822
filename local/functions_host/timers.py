"""Timer triggers: NCRONTAB schedules, run like the Timers extension runs them, and run on demand.

- ``schedule``: an NCRONTAB expression with six fields, seconds first (``{second} {minute} {hour}
  {day} {month} {day-of-week}``): ``*``, numbers, ranges ``a-b``, lists ``a,b``, steps ``*/n`` and
  ``a-b/n``, day and month names (``mon``, ``jan``); or a TimeSpan ``hh:mm:ss`` (an interval, as on
  App Service plans). ``%NAME%`` app-setting expressions are resolved first. Times are UTC (the
  host's default without ``WEBSITE_TIME_ZONE``).
- One listener per timer function sleeps until the next occurrence and invokes the function with a
  ``func.TimerRequest``; ``runOnStartup`` runs it once at start. The host runs one invocation of a
  timer function at a time per host (like the singleton lock; here per process, not across hosts).
- ``run_now``: the admin API's ``POST /admin/functions/{name}`` (master key, body ``{"input": ...}``)
  starts an invocation and answers 202 at once, as the host does; tests await ``run_now`` itself to
  know when the invocation ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from .invocation import FunctionInfo, InvocationError, Invoker

logger = logging.getLogger("local.functions_host")

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {4: {m: i + 1 for i, m in enumerate(_MONTHS)}, 5: {d: i for i, d in enumerate(_WEEKDAYS)}}
_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


class ScheduleError(ValueError):
    """The schedule is not a valid NCRONTAB expression nor a TimeSpan."""


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in text.lower().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleError(f"step must be positive in {text!r}")
        if base == "*":
            start, end = low, high
        else:
            first, _, last = base.partition("-")
            start = _value(first, index)
            end = _value(last, index) if last else (high if step_text else start)
        if not low <= start <= high or not low <= end <= high or start > end:
            raise ScheduleError(f"{text!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    if index == 5 and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


def _value(text: str, index: int) -> int:
    names = _NAMES.get(index, {})
    if text[:3] in names:
        return names[text[:3]]
    if not text.isdigit():
        raise ScheduleError(f"{text!r} is not a number")
    value = int(text)
    return 0 if index == 5 and value == 7 else value


@dataclass(frozen=True)
class Schedule:
    """When a timer fires: an NCRONTAB expression or a fixed interval."""

    expression: str
    fields: tuple[frozenset[int], ...] = ()
    interval: timedelta | None = None

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        text = expression.strip()
        span = _TIMESPAN.match(text)
        if span:
            days, hours, minutes, seconds = (int(g or 0) for g in span.groups())
            interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
            if interval <= timedelta(0):
                raise ScheduleError(f"the interval {expression!r} must be positive")
            return cls(text, interval=interval)
        parts = text.split()
        if len(parts) != 6:
            raise ScheduleError(
                f"{expression!r}: NCRONTAB needs 6 fields ({{second}} {{minute}} {{hour}} {{day}} {{month}} "
                "{day-of-week}), or a TimeSpan hh:mm:ss"
            )
        return cls(text, fields=tuple(_field(p, i) for i, p in enumerate(parts)))

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (UTC)."""
        if self.interval is not None:
            return moment + self.interval
        second, minute, hour, day, month, weekday = self.fields
        candidate = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        limit = candidate + timedelta(days=366 * 5)
        while candidate < limit:
            # Cron semantics: day-of-month and day-of-week both restrict when neither is "*".
            if candidate.month not in month:
                candidate = (
                    candidate.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)
                ).replace(day=1)
                continue
            if candidate.day not in day or (candidate.isoweekday() % 7) not in weekday:
                candidate = candidate.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if candidate.hour not in hour:
                candidate = candidate.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if candidate.minute not in minute:
                candidate = candidate.replace(second=0) + timedelta(minutes=1)
                continue
            if candidate.second not in second:
                candidate += timedelta(seconds=1)
                continue
            return candidate
        raise ScheduleError(f"{self.expression!r} never occurs")


class TimerListener:
    def __init__(
        self,
        function: FunctionInfo,
        *,
        schedule: Schedule,
        invoker: Invoker,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.function = function
        self.schedule = schedule
        self._invoker = invoker
        self._clock = clock or (lambda: datetime.now(UTC))
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.last_run: datetime | None = None
        self.runs = 0

    async def start(self) -> None:
        run_on_startup = bool(self.function.trigger.get("runOnStartup"))
        self._task = asyncio.get_running_loop().create_task(self._loop(run_on_startup))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self, run_on_startup: bool) -> None:
        if run_on_startup:
            await self._run_logged("Timer fired at start-up", past_due=False)
        while True:
            now = self._clock()
            due = self.schedule.next_after(now)
            await asyncio.sleep(max(0.0, (due - self._clock()).total_seconds()))
            # Late by more than the schedule's own period (the process was suspended): past due.
            late = self._clock() - due
            past_due = late > max(timedelta(seconds=1), self.schedule.next_after(due) - due)
            await self._run_logged("Timer", past_due=past_due)

    async def _run_logged(self, reason: str, *, past_due: bool) -> None:
        with contextlib.suppress(InvocationError):  # logged by the invoker; the schedule goes on
            await self.run_now(reason=reason, past_due=past_due)

    async def run_now(self, *, reason: str = "Manual", past_due: bool = False) -> None:
        """One invocation, after the one running (if any) ends. InvocationError when it failed."""
        async with self._lock:
            now = self._clock()
            status = {
                "Last": (self.last_run or now).isoformat(),
                "Next": self.schedule.next_after(now).isoformat(),
                "LastUpdated": now.isoformat(),
            }
            timer = TimerRequest(
                past_due=past_due,
                schedule_status=status,
                schedule={"AdjustForDST": True},
            )
            self.last_run = now
            self.runs += 1
            await self._invoker.invoke(self.function, timer, reason=reason)
