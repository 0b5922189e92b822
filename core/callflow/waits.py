"""How long a caller waits for the bot's answer: the soft and hard timeouts of one turn.

Both count from the moment the caller's words arrived, whatever happens meanwhile (model retries,
the fallback model, tool rounds): once the soft timeout has passed without a first sentence the bot
says something short and keeps waiting; once the hard timeout has passed without the next sentence
the answer is given up (the bot apologizes and listens again: the call goes on).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class AnswerLate(Exception):
    """The hard timeout of the turn passed before the model's next sentence."""


@dataclass(frozen=True)
class AnswerClock:
    received_at: float  # time.perf_counter() when the caller's words arrived
    soft_s: float
    hard_s: float

    def soft_left(self) -> float:
        return max(0.0, self.received_at + self.soft_s - time.perf_counter())

    def hard_left(self) -> float:
        return max(0.0, self.received_at + self.hard_s - time.perf_counter())


async def next_within(
    stream: AsyncIterator[T],
    clock: AnswerClock,
    *,
    on_soft: Callable[[], Awaitable[None]] | None = None,
) -> T | None:
    """The stream's next item (None at its end) before the hard timeout, else AnswerLate (the pending
    step is cancelled). With `on_soft`, it is awaited once the soft timeout passes without an item."""
    pending: asyncio.Future[T] = asyncio.ensure_future(anext(stream))
    try:
        if on_soft is not None:
            done, _ = await asyncio.wait({pending}, timeout=clock.soft_left())
            if not done:
                await on_soft()
        done, _ = await asyncio.wait({pending}, timeout=clock.hard_left())
        if not done:
            raise AnswerLate(f"no answer within {clock.hard_s:g}s")
        try:
            return pending.result()
        except StopAsyncIteration:
            return None
    finally:
        if not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
