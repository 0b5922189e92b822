"""Call-backs under contention: many due reminders, several workers running the timer at once.

    python bench/callbacks.py [--cases 30] [--workers 4] [--rounds 3]

Over the whole local stack (Cosmos DB server, Azurite, the ACS emulator, the host adapter): ``--cases``
ended calls each hold a reminder the assistant owns, due now. Each round, ``--workers`` workers (each
its own ``Services``: its own clients, as separate instances) and the host's timer run at once; the
rounds after the first are redeliveries. The person called hangs up at once. Counted from the
emulator's CreateCall requests: calls placed, numbers called twice or more (duplicated), numbers never
called (missed).

Last line: ``callbacks cases=<n> workers=<n> runs=<n> placed=<n> duplicated=<n> missed=<n>
run_ms_p50=<n> run_ms_max=<n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.bootstrap import Services  # noqa: E402
from core.callbacks.scheduler import run_due  # noqa: E402
from core.settings import Settings  # noqa: E402
from local.functions_host import FunctionsHost  # noqa: E402
from tests.e2e.harness import call_stack, random_number  # noqa: E402
from tests.e2e.test_callbacks import ALWAYS, TIMER, callbacks_app, original_case  # noqa: E402


async def timed(run: object) -> float:
    started = time.perf_counter()
    await run  # type: ignore[misc]
    return (time.perf_counter() - started) * 1000


async def bench(cases: int, workers: int, rounds: int) -> str:
    env = {**ALWAYS, "CALLBACKS__BATCH_SIZE": str(cases * 2)}
    async with call_stack(env, app=callbacks_app()) as stack:
        numbers = [random_number() for _ in range(cases)]
        for number in numbers:
            stack.acs.set_script(number, [{"hangup": True}])
            await original_case(stack, number)
        instances = [Services(Settings()) for _ in range(workers)]
        durations: list[float] = []
        try:
            assert isinstance(stack.host, FunctionsHost)
            for _ in range(rounds):
                runs = [timed(run_due(s)) for s in instances] + [timed(stack.host.run_timer(TIMER))]
                durations += await asyncio.gather(*runs)
        finally:
            for services in instances:
                await services.close()
        await stack.acs.drain_callbacks(timeout=60)
        placed = Counter(
            c.person_number for c in stack.acs.engine.calls.values() if c.direction == "outbound"
        )
    duplicated = sum(1 for n in numbers if placed[n] > 1)
    missed = sum(1 for n in numbers if placed[n] == 0)
    return (
        f"callbacks cases={cases} workers={workers + 1} runs={len(durations)} "
        f"placed={sum(placed[n] for n in numbers)} duplicated={duplicated} missed={missed} "
        f"run_ms_p50={statistics.median(durations):.0f} run_ms_max={max(durations):.0f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/callbacks.py")
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4, help="workers besides the host's timer")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    from local.stack import LocalStack

    local = await asyncio.to_thread(LocalStack().start)
    try:
        print(await bench(args.cases, args.workers, args.rounds))
    finally:
        await asyncio.to_thread(local.stop)


if __name__ == "__main__":
    asyncio.run(main())
