"""Load: 50 concurrent calls of 10 turns each on one host process, through the whole local stack.

    python bench/load.py [--calls 50] [--turns 10] [--ttft 0.2] [--speed 1.0] [--baseline-ref REF]

The app runs in its own host process (one Functions worker); the emulated callers speak and listen in
real time (--speed 1), like 50 people on the phone at once.

lost = answers never played or never stored, calls not finalized or without post-call job;
duplicated = sentences played twice in a call, post-call jobs enqueued more than once.
cpu_ms_per_turn = the host process's CPU time (user + system, from /proc/<pid>/stat: the app only,
not the emulator, the scripted LLM or the storage emulators) over the measured calls, divided by the
turns measured (call set-up, greeting, ending and post-call work included).
--baseline-ref REF first runs the same load against a git worktree of REF (the host serves that
checkout; the emulators and this script stay the current ones), then against this checkout.
Last line: load calls=<n> overhead_ms_p95=<n> lost=<n> duplicated=<n> cpu_ms_per_turn=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from answer_latency import answer_rules, percentile, run_calls  # noqa: E402


def host_cpu_s(pid: int) -> tuple[float, float]:
    """The process's (user, system) CPU seconds so far (its threads included)."""
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


async def run_load(
    calls: int, turns: int, ttft: float, speed: float, ramp_s: float, app_root: Path = ROOT
) -> str:
    from tests.e2e.harness import process_stack

    async with process_stack(app_root=app_root, speed_factor=speed) as stack:
        stack.set_rules(answer_rules())
        stack.llm.ttft_s = ttft
        await run_calls(stack, 2, 2)  # warm-up
        pid = stack.host.pid  # type: ignore[union-attr]
        cpu_before = host_cpu_s(pid)
        started = time.perf_counter()
        results = await run_calls(stack, calls, turns, wait_s=600, ramp_s=ramp_s)
        elapsed = time.perf_counter() - started
        cpu_after = host_cpu_s(pid)
    user_s, sys_s = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    cpu_s = user_s + sys_s
    latencies = [v for r in results for v in r.latencies]
    overheads = [v for r in results for v in r.overheads]
    for result in results:
        if result.problems:
            print(f"call {result.number}: {'; '.join(result.problems)}")
    lost = sum(r.lost for r in results)
    duplicated = sum(r.duplicated for r in results)
    cpu_ms_per_turn = cpu_s * 1000 / max(1, len(latencies))
    print(
        f"{len(results)} calls, {len(latencies)} turns measured in {elapsed:.1f} s; "
        f"answer_latency_ms p50={statistics.median(latencies):.0f} p95={percentile(latencies, 95):.0f}; "
        f"overhead_ms p50={statistics.median(overheads):.0f} max={max(overheads):.0f}; "
        f"host cpu {cpu_s:.1f} s (user {user_s:.1f}, system {sys_s:.1f}; {cpu_s / elapsed:.0%} of one core)"
    )
    return (
        f"load calls={len(results)} overhead_ms_p95={percentile(overheads, 95):.0f} lost={lost} "
        f"duplicated={duplicated} cpu_ms_per_turn={cpu_ms_per_turn:.1f}"
    )


async def main_async(
    calls: int,
    turns: int,
    ttft: float,
    speed: float = 1.0,
    ramp_s: float = 5.0,
    baseline: tuple[str, Path] | None = None,
) -> str:
    from core.bootstrap import reset_services
    from local.stack import LocalStack

    # A database of its own: a long-running local stack keeps every earlier call in memory.
    os.environ.setdefault("COSMOS__DATABASE", f"bench-{uuid.uuid4().hex[:8]}")
    local = await asyncio.to_thread(LocalStack().start)
    try:
        if baseline:
            ref, worktree = baseline
            line = await run_load(calls, turns, ttft, speed, ramp_s, app_root=worktree)
            print(f"baseline {ref}: {line}", flush=True)
        return await run_load(calls, turns, ttft, speed, ramp_s)
    finally:
        reset_services()
        await asyncio.to_thread(local.stop)


@contextlib.contextmanager
def worktree_of(ref: str | None) -> Iterator[tuple[str, Path] | None]:
    """A detached git worktree of `ref` (removed afterwards), or None without a ref."""
    if not ref:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="load-baseline-") as parent:
        worktree = Path(parent) / "app"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(worktree), ref], check=True)
        try:
            yield ref, worktree
        finally:
            subprocess.run([*git, "remove", "--force", str(worktree)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--ttft", type=float, default=0.2)
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which the calls start")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="emulator time scale: 1 = callers speak in real time"
    )
    parser.add_argument(
        "--baseline-ref", help="git ref to run the same load against first (before/after in one run)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore", DeprecationWarning)
    with worktree_of(args.baseline_ref) as baseline:
        line = asyncio.run(main_async(args.calls, args.turns, args.ttft, args.speed, args.ramp, baseline))
    print(line, flush=True)


if __name__ == "__main__":
    main()
