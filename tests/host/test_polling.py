"""The queue listener's polling schedule: exponential back-off when idle, fast again on messages or nudge."""

from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace
from typing import Any

from local.functions_host.host_config import QueueOptions
from local.functions_host.invocation import Invoker, index_app
from local.functions_host.queues import MIN_POLLING_INTERVAL_S, Outcome, QueueListener

from . import sample_app


class ScriptedListener(QueueListener):
    """A listener whose polls return scripted message counts and whose waits return at once."""

    def __init__(self, polls: list[int], wakes: dict[int, bool], max_interval_s: float) -> None:
        function = next(f for f in index_app(sample_app.app) if f.name == "queue_ok")
        super().__init__(
            function,
            queue_name="scripted",
            connection_string="UseDevelopmentStorage=true",
            options=QueueOptions(max_polling_interval_s=max_interval_s),
            invoker=Invoker(),
            observers=[],
        )
        self.polls = polls
        self.wakes = wakes
        self.delays: list[float] = []
        self.finished = asyncio.Event()

    async def _receive(self) -> list[Any]:
        if not self.polls:
            self.finished.set()
            await asyncio.Event().wait()
        return [SimpleNamespace(id=f"m{i}", dequeue_count=1) for i in range(self.polls.pop(0))]

    async def _handle(self, message: Any) -> Outcome:
        return "succeeded"

    async def _sleep(self, delay: float) -> bool:
        self.delays.append(delay)
        return self.wakes.get(len(self.delays), False)


async def _run(listener: ScriptedListener) -> list[float]:
    task = asyncio.create_task(listener._run())
    try:
        async with asyncio.timeout(5):
            await listener.finished.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return listener.delays


async def test_idle_polling_backs_off_exponentially_up_to_the_maximum() -> None:
    delays = await _run(ScriptedListener([0] * 8, {}, max_interval_s=1.0))
    assert delays[0] == MIN_POLLING_INTERVAL_S
    for before, after in itertools.pairwise(delays):
        assert after == 1.0 or 1.6 <= after / before <= 2.4
    assert delays[-1] == delays[-2] == 1.0


async def test_messages_reset_to_fast_polling() -> None:
    # five idle polls, a batch of messages, then idle again
    delays = await _run(ScriptedListener([0, 0, 0, 0, 0, 3, 0, 0], {}, max_interval_s=1.0))
    assert delays[4] > MIN_POLLING_INTERVAL_S * 8
    assert delays[5] == MIN_POLLING_INTERVAL_S  # no wait between the batch and the next poll
    assert len(delays) == 7


async def test_nudge_resets_to_fast_polling() -> None:
    delays = await _run(ScriptedListener([0] * 7, {4: True}, max_interval_s=1.0))
    assert delays[3] > MIN_POLLING_INTERVAL_S * 4
    assert delays[4] == MIN_POLLING_INTERVAL_S
