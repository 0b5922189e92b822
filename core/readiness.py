"""Readiness: every dependency checked in parallel, each with a time limit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from core.observability import logger
from core.ports import ReadinessReport

CHECK_TIMEOUT_S = 3.0


async def _check(name: str, probe: Callable[[], Awaitable[None]]) -> str:
    # The probe is anonymous: it names the dependency and the kind of failure, never the exception's
    # text (endpoints, account names, SDK internals); that goes to the log.
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
    except TimeoutError:
        logger().warning("readiness: %s timed out after %.0fs", name, CHECK_TIMEOUT_S)
        return "timeout"
    except Exception:  # any failure of a dependency, of whatever kind, makes us not ready
        logger().warning("readiness: %s failed", name, exc_info=True)
        return "unavailable"
    return "ok"


async def check_readiness(probes: Mapping[str, Callable[[], Awaitable[None]]]) -> ReadinessReport:
    results = await asyncio.gather(*(_check(name, probe) for name, probe in probes.items()))
    checks = dict(zip(probes, results, strict=True))
    return ReadinessReport(ok=all(r == "ok" for r in results), checks=checks)
