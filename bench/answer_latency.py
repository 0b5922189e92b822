"""Answer latency through the whole local stack: a 20-turn scripted call, the scripted LLM at a fixed
time to first token. Everything real over HTTP: host adapter, ACS emulator (speed 0), Azurite, Cosmos.

    python bench/answer_latency.py [--turns 20] [--ttft 0.2]

Answer latency = the RecognizeCompleted callback arriving at the app -> the first play request sent
(acknowledged by ACS); overhead = answer latency - the LLM's time to its first complete sentence.
Figures come from the stored call (call.timing), as the app measured them.
Outside = the same, seen from the emulator: it sends RecognizeCompleted -> it receives the request
of the first sentence (callback delivery and the HTTP round trips included).
Last line: answer_latency_ms p50=<n> p95=<n> overhead_ms p50=<n> p95=<n> outside_ms p50=<n> p95=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def answer_rules() -> list[dict[str, Any]]:
    return [
        {
            "user": "(?i)line (?P<n>\\d+)",
            "say": "Answer to line {n}, first sentence. And a second sentence for line {n}.",
        },
        {"say": "Please go on."},
    ]


def caller_script(turns: int, prefix: str = "") -> list[dict[str, Any]]:
    return [{"say": "English"}, *({"say": f"{prefix}This is line {n}."} for n in range(1, turns + 1))]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class CallResult:
    number: str
    emulated_id: str
    latencies: list[float] = field(default_factory=list)
    overheads: list[float] = field(default_factory=list)
    # Seen from outside the app: the emulator emitting RecognizeCompleted -> the first sentence queued.
    outside: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)


async def run_calls(
    stack: Any, calls: int, turns: int, wait_s: float = 300, ramp_s: float = 0.0
) -> list[CallResult]:
    """Place `calls` concurrent inbound calls of `turns` turns (started evenly over `ramp_s`); check
    and measure each."""
    from tests.e2e.harness import random_number

    numbers = [random_number() for _ in range(calls)]
    emulated = []
    for number in numbers:
        emulated.append(stack.acs.start_incoming_call(number, caller_script(turns)))
        if ramp_s:
            await asyncio.sleep(ramp_s / calls)
    await asyncio.gather(*(stack.acs.wait_for_call_end(e.call_id, timeout=wait_s) for e in emulated))
    await stack.acs.drain_callbacks(timeout=wait_s)
    jobs = Counter(message.get("call_id") for message in await stack.take_post_call_messages())
    results = []
    for number, call in zip(numbers, emulated, strict=True):
        result = CallResult(number, call.call_id)
        said = [e["text"] for e in stack.bot_said(call.call_id)]
        result.duplicated += len(said) - len(set(said))
        stored = await stack.call_by_number(number)
        for n in range(1, turns + 1):
            if not any(f"Answer to line {n}," in s for s in said):
                result.lost += 1
                result.problems.append(f"answer {n} not played")
            elif not any(m.content.startswith(f"Answer to line {n},") for m in stored.messages):
                result.lost += 1
                result.problems.append(f"answer {n} not stored")
        queued = jobs[stored.call_id]
        if stored.status != "ended" or not queued:
            result.lost += 1
            result.problems.append(f"status {stored.status}, {queued} post-call job(s)")
        result.duplicated += max(0, queued - 1)
        timing = stored.timing
        result.latencies = list(timing.answer_latency_ms)
        result.overheads = [
            a - b for a, b in zip(timing.answer_latency_ms, timing.llm_first_sentence_ms, strict=True)
        ]
        result.outside = outside_latencies(stack.transcript(call.call_id))
        results.append(result)
    return results


def outside_latencies(entries: list[dict[str, Any]]) -> list[float]:
    """Per answer, from the emulator's transcript: the RecognizeCompleted event it sent (the caller's
    words) to the request of the answer's first sentence (a play, or a recognize with it as prompt)."""
    sent = {
        e["event_id"]: float(e["t"])
        for e in entries
        if e["kind"] == "event" and e.get("type") == "RecognizeCompleted"
    }
    found: list[float] = []
    for entry in entries:
        context = str(entry.get("operation_context") or "")
        if entry["kind"] == "media_queued" and context.startswith("turn:") and context.endswith(":0"):
            turn_id = context[len("turn:") : -len(":0")]
            if turn_id in sent:
                found.append((float(entry["t"]) - sent[turn_id]) * 1000)
    return found


async def main_async(turns: int, ttft: float) -> str:
    from core.bootstrap import reset_services
    from local.stack import LocalStack
    from tests.e2e.harness import process_stack

    # A database of its own: a long-running local stack keeps every earlier call in memory.
    os.environ.setdefault("COSMOS__DATABASE", f"bench-{uuid.uuid4().hex[:8]}")
    local = await asyncio.to_thread(LocalStack().start)
    try:
        async with process_stack() as stack:
            stack.set_rules(answer_rules())
            stack.llm.ttft_s = ttft
            [fresh] = await run_calls(stack, 1, 2)  # warm-up: clients, connections, containers
            [result] = await run_calls(stack, 1, turns)
    finally:
        reset_services()
        await asyncio.to_thread(local.stop)
    lat, over, outside = result.latencies, result.overheads, result.outside
    for index, (a, o) in enumerate(zip(lat, over, strict=True), start=1):
        seen = f" outside_ms={outside[index - 1]:7.1f}" if index <= len(outside) else ""
        print(f"turn {index:2d}: answer_latency_ms={a:7.1f} overhead_ms={o:6.1f}{seen}")
    print(f"turns={len(lat)} lost={result.lost} duplicated={result.duplicated} ttft_s={ttft}")
    if fresh.latencies:
        # The first call after the services were built (imports are paid once per process:
        # bench/cold_turn.py measures a fresh process).
        print(
            f"first turn of a fresh worker: {fresh.latencies[0]:.0f} ms; warm: {statistics.median(lat):.0f} ms"
        )
    print(
        f"outside the app (emulator: RecognizeCompleted sent -> first sentence received): "
        f"p50={statistics.median(outside):.0f} p95={percentile(outside, 95):.0f} ms"
    )
    return (
        f"answer_latency_ms p50={statistics.median(lat):.0f} p95={percentile(lat, 95):.0f} "
        f"overhead_ms p50={statistics.median(over):.0f} p95={percentile(over, 95):.0f} "
        f"outside_ms p50={statistics.median(outside):.0f} p95={percentile(outside, 95):.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--ttft", type=float, default=0.2, help="scripted LLM time to first token (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore", DeprecationWarning)
    print(asyncio.run(main_async(args.turns, args.ttft)), flush=True)


if __name__ == "__main__":
    main()
