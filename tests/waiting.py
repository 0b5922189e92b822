"""Bounded waits for tests and benchmarks: a regression fails with what was awaited, it never hangs.

Wait on something that changes when the awaited thing may have happened (an event, a queue, a line of
output, a long poll) and re-check; poll on a short interval only when nothing can be waited on.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar, cast

T = TypeVar("T")


class WaitFailed(AssertionError):
    """What a test waited for did not happen in time (an AssertionError: pytest reports a failure)."""


async def wait_until(
    predicate: Callable[[], T | Awaitable[T]],
    *,
    timeout: float,
    what: str,
    wake: Callable[[], Awaitable[object]] | None = None,
    interval: float = 0.05,
    seen: Callable[[], object] | None = None,
) -> T:
    """The first truthy value of ``predicate()`` (sync or async), checked now and after each ``wake()``
    (or every ``interval`` seconds without one); after ``timeout`` seconds in all, fails with
    ``what`` (and ``seen()``, what was there instead). ``wake`` must return once something changed:
    it is called right after a failed check, so an event it waits on cannot be missed in between."""
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            while True:
                checked = predicate()
                value = cast(T, await checked if inspect.isawaitable(checked) else checked)
                if value:
                    return value
                if wake is None:
                    await asyncio.sleep(interval)
                else:
                    await wake()
    except TimeoutError:
        if not deadline.expired():
            raise  # a TimeoutError of the predicate or wake itself, not our deadline
        detail = f"; saw instead: {seen()!r}" if seen is not None else ""
        raise WaitFailed(f"gave up after {timeout:g}s waiting for {what}{detail}") from None


async def within(awaitable: Awaitable[T], *, timeout: float, what: str) -> T:
    """Await one thing (a process exit, a line of output), failing with ``what`` after ``timeout``."""
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        if not deadline.expired():
            raise
        raise WaitFailed(f"gave up after {timeout:g}s waiting for {what}") from None


def at_most(rounds: int, what: str) -> Iterator[int]:
    """``for _ in at_most(10, "the last page"): ... break``: a loop that must end by itself (paging,
    draining) fails after ``rounds`` rounds instead of running forever."""
    yield from range(rounds)
    raise WaitFailed(f"gave up after {rounds} rounds waiting for {what}")
