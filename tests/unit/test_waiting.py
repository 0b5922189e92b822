from __future__ import annotations

import asyncio

import pytest

from tests.waiting import WaitFailed, at_most, wait_until, within


async def test_a_wait_that_never_comes_true_fails_saying_what_it_waited_for() -> None:
    with pytest.raises(WaitFailed, match=r"after 0.05s waiting for the answer; saw instead: \['hello'\]"):
        await wait_until(
            lambda: False, timeout=0.05, what="the answer", interval=0.01, seen=lambda: ["hello"]
        )


async def test_a_wait_returns_the_value_once_its_wake_says_something_changed() -> None:
    items: list[str] = []
    changed = asyncio.Event()

    async def produce() -> None:
        await asyncio.sleep(0)
        items.append("ready")
        changed.set()

    task = asyncio.create_task(produce())
    assert await wait_until(lambda: list(items), timeout=5, what="an item", wake=changed.wait) == ["ready"]
    await task


async def test_an_awaited_thing_that_never_finishes_fails_saying_what_it_was() -> None:
    with pytest.raises(WaitFailed, match="waiting for the process to exit"):
        await within(asyncio.Event().wait(), timeout=0.01, what="the process to exit")


def test_a_loop_that_never_ends_fails_after_its_rounds() -> None:
    rounds = 0
    with pytest.raises(WaitFailed, match="after 3 rounds waiting for the last page"):
        for _ in at_most(3, "the last page"):
            rounds += 1
    assert rounds == 3
    for _ in at_most(3, "the last page"):
        break  # ended by itself: no failure
