"""Load: 50 concurrent calls of 10 turns each on one host process, through the whole local stack.

    python bench/load.py [--calls 50] [--turns 10] [--ttft 0.2] [--speed 1.0]

The app runs in its own host process (one Functions worker); the emulated callers speak and listen in
real time (--speed 1), like 50 people on the phone at once.

lost = answers never played or never stored, calls not finalized or without post-call job;
duplicated = sentences played twice in a call, post-call jobs enqueued more than once.
Last line: load calls=<n> overhead_ms_p95=<n> lost=<n> duplicated=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from answer_latency import answer_rules, percentile, run_calls  # noqa: E402


async def main_async(calls: int, turns: int, ttft: float, speed: float = 1.0, ramp_s: float = 5.0) -> str:
    from core.bootstrap import reset_services
    from local.stack import LocalStack
    from tests.e2e.harness import process_stack

    # A database of its own: a long-running local stack keeps every earlier call in memory.
    os.environ.setdefault("COSMOS__DATABASE", f"bench-{uuid.uuid4().hex[:8]}")
    local = await asyncio.to_thread(LocalStack().start)
    try:
        async with process_stack(speed_factor=speed) as stack:
            stack.set_rules(answer_rules())
            stack.llm.ttft_s = ttft
            await run_calls(stack, 2, 2)  # warm-up
            started = time.perf_counter()
            results = await run_calls(stack, calls, turns, wait_s=600, ramp_s=ramp_s)
            elapsed = time.perf_counter() - started
    finally:
        reset_services()
        await asyncio.to_thread(local.stop)
    latencies = [v for r in results for v in r.latencies]
    overheads = [v for r in results for v in r.overheads]
    for result in results:
        if result.problems:
            print(f"call {result.number}: {'; '.join(result.problems)}")
    lost = sum(r.lost for r in results)
    duplicated = sum(r.duplicated for r in results)
    print(
        f"{len(results)} calls, {len(latencies)} turns measured in {elapsed:.1f} s; "
        f"answer_latency_ms p50={statistics.median(latencies):.0f} p95={percentile(latencies, 95):.0f}; "
        f"overhead_ms p50={statistics.median(overheads):.0f} max={max(overheads):.0f}"
    )
    return f"load calls={len(results)} overhead_ms_p95={percentile(overheads, 95):.0f} lost={lost} duplicated={duplicated}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--ttft", type=float, default=0.2)
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which the calls start")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="emulator time scale: 1 = callers speak in real time"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore", DeprecationWarning)
    print(asyncio.run(main_async(args.calls, args.turns, args.ttft, args.speed, args.ramp)), flush=True)


if __name__ == "__main__":
    main()
