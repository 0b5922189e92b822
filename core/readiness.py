"""Readiness: every dependency checked in parallel, each with a time limit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from core.ports import ReadinessReport

CHECK_TIMEOUT_S = 3.0


async def _check(probe: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"timed out after {CHECK_TIMEOUT_S:.0f}s"
    except Exception as exc:  # any failure of a dependency, of whatever kind, makes us not ready
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return "ok"


async def check_readiness(probes: Mapping[str, Callable[[], Awaitable[None]]]) -> ReadinessReport:
    results = await asyncio.gather(*(_check(probe) for probe in probes.values()))
    checks = dict(zip(probes, results, strict=True))
    return ReadinessReport(ok=all(r == "ok" for r in results), checks=checks)
