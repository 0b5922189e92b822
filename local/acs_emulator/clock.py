"""Simulated time: every simulated duration is multiplied by the (runtime-adjustable) speed factor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Clock:
    def __init__(self, speed: Callable[[], float]) -> None:
        self._speed = speed

    @property
    def speed(self) -> float:
        return max(0.0, self._speed())

    def real(self, simulated_s: float) -> float:
        return max(0.0, simulated_s) * self.speed

    async def sleep(self, simulated_s: float) -> None:
        """Sleep for a simulated duration; with speed 0 only yields to the loop (stays asynchronous)."""
        delay = self.real(simulated_s)
        await asyncio.sleep(delay if delay > 0 else 0)

    @staticmethod
    def now() -> float:
        return time.monotonic()
