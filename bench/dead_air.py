"""Dead air inside an answer, and how much of the bot's speech the caller could interrupt, over the
whole local stack (host adapter, ACS emulator, Azurite, Cosmos DB, the scripted LLM), for this
checkout and a baseline git ref side by side.

    python bench/dead_air.py [--baseline-ref f67f0fe] [--turns 4] [--speed 0.25]

Each configuration is one call of ``--turns`` answers of three sentences (about 150 characters), the
scripted LLM streaming at 4, 8, 20 or 50 tokens a second (plus a time to first token of 0.3 s), and one
configuration where the answer says a sentence, calls a tool, and says two more (a second model
request: 20 tokens/s, 0.3 s to its first token).

The timing model is the emulator's: a sentence plays for 0.06 s per character; times are simulated
seconds (the emulator runs ``--speed`` times real time and the LLM is sped up by the same factor, so
the HTTP and processing delays of the product count ``1 / speed`` times over: pessimistic).
Dead air = the start of a sentence minus the end of the one before it, within one answer (from the
emulator's transcript: when each play or recognize started, and its prompts back to back).
Interruptible = the characters said as prompts of a recognize with barge-in, over all characters the
bot said in the call.

Last line: dead_air_ms p95_4=<n> p95_8=<n> p95_20=<n> p95_50=<n> p95_tool=<n> interruptible=<x>
baseline_p95_4=<n> baseline_p95_20=<n> baseline_p95_tool=<n> baseline_interruptible=<x>
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PLAY_S_PER_CHAR = 0.06  # the emulator's timing model (local/acs_emulator/media.py)
SPEEDS = [4.0, 8.0, 20.0, 50.0]
TOOL = "tool"


def rules() -> list[dict[str, Any]]:
    return [
        {
            "user": "(?i)check (?P<n>\\d+)",
            "say": "One moment.",
            "tool_calls": [
                {
                    "name": "update_claim",
                    "arguments": {"updates": [{"field": "caller_name", "value": "Jane"}]},
                }
            ],
        },
        {
            "tool_name": "update_claim",
            "say": "I have noted your name in the claim file. Is there anything else I should write down?",
        },
        {
            "user": "(?i)line (?P<n>\\d+)",
            "say": (
                "Thank you, I have noted what you said about line {n}. "
                "An expert from our team will review it within two days. "
                "Could you tell me when the damage happened?"
            ),
        },
        {"say": "Please go on."},
    ]


def script(turns: int, kind: str) -> list[dict[str, Any]]:
    word = "check" if kind == TOOL else "line"
    return [{"say": "English"}, *({"say": f"This is {word} {n}."} for n in range(1, turns + 1))]


@dataclass
class Sentence:
    text: str
    start: float  # real seconds since the call started
    group: str  # the answer it belongs to (the turn's id), "" for other speech
    interruptible: bool


@dataclass
class Figures:
    gaps_ms: list[float] = field(default_factory=list)
    chars: int = 0
    interruptible_chars: int = 0
    answers: int = 0


def _group(context: str) -> str:
    """The turn an operation belongs to: turn:<id>:<part> and listen:<id> (the answer's own listening)."""
    purpose, _, rest = context.partition(":")
    if purpose == "turn":
        ref, _, part = rest.rpartition(":")
        return "" if part in ("think", "filler") else ref
    return rest if purpose == "listen" else ""


def sentences(entries: list[dict[str, Any]], speed: float) -> list[Sentence]:
    """What the bot said, when each sentence started (prompts of one recognize play back to back)."""
    found: list[Sentence] = []
    context, offset, started, pending = "", 0.0, 0.0, []
    for entry in entries:
        kind = entry["kind"]
        if kind == "media_started":
            context, offset, started = str(entry.get("operation_context") or ""), 0.0, float(entry["t"])
        elif kind == "bot_said" and entry.get("heard_by_caller", True):
            text = str(entry.get("text", ""))
            if entry.get("prompt"):
                # A recognize's prompts are logged together at its start: they follow one another.
                item = Sentence(text, started + offset, _group(context), False)
                pending.append(item)
                offset += len(text) * PLAY_S_PER_CHAR * speed
            else:
                found.append(Sentence(text, float(entry["t"]), _group(context), False))
        elif kind == "listening":
            for item in pending:
                item.interruptible = bool(entry.get("interrupt_prompt"))
            found.extend(pending)
            pending = []
    found.extend(pending)
    return sorted(found, key=lambda s: s.start)


def figures(said: list[Sentence], speed: float) -> Figures:
    result = Figures()
    by_answer: dict[str, list[Sentence]] = {}
    for item in said:
        result.chars += len(item.text)
        result.interruptible_chars += len(item.text) if item.interruptible else 0
        if item.group:
            by_answer.setdefault(item.group, []).append(item)
    for group in by_answer.values():
        if len(group) < 2:
            continue
        result.answers += 1
        for before, after in itertools.pairwise(group):
            end = before.start + len(before.text) * PLAY_S_PER_CHAR * speed
            result.gaps_ms.append(max(0.0, after.start - end) / speed * 1000)
    return result


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def measure(turns: int, speed: float) -> dict[str, Any]:
    """Run every configuration on this checkout; the figures as a dict."""
    from core.bootstrap import reset_services
    from local.stack import LocalStack
    from tests.e2e.harness import process_stack, random_number

    os.environ.setdefault("COSMOS__DATABASE", f"bench-{uuid.uuid4().hex[:8]}")
    local = await asyncio.to_thread(LocalStack().start)
    out: dict[str, Any] = {}
    try:
        async with process_stack() as stack:
            stack.set_rules(rules())
            await stack.run_inbound(random_number(), script(1, "line"), timeout=60)  # warm-up
            stack.acs.config.speed_factor = speed
            for kind in [*(str(s) for s in SPEEDS), TOOL]:
                tps = 20.0 if kind == TOOL else float(kind)
                stack.llm.tokens_per_s = tps / speed
                stack.llm.ttft_s = 0.3 * speed
                emulated = await stack.run_inbound(random_number(), script(turns, kind), timeout=600)
                numbers = figures(sentences(stack.transcript(emulated), speed), speed)
                out[kind] = {
                    "gaps_ms": numbers.gaps_ms,
                    "chars": numbers.chars,
                    "interruptible_chars": numbers.interruptible_chars,
                    "answers": numbers.answers,
                }
    finally:
        reset_services()
        await asyncio.to_thread(local.stop)
    return out


def baseline(ref: str, turns: int, speed: float) -> dict[str, Any]:
    """The same measurement on a git worktree of ``ref`` (this file copied in), in a subprocess."""
    tree = Path(tempfile.mkdtemp(prefix="dead-air-baseline-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT, check=True, capture_output=True
    )
    try:
        shutil.copy(Path(__file__), tree / "bench" / "dead_air.py")
        if (ROOT / "node_modules").is_dir():  # the emulators' npm packages (./dev install)
            (tree / "node_modules").symlink_to(ROOT / "node_modules")
        done = subprocess.run(
            [sys.executable, "bench/dead_air.py", "--measure", "--turns", str(turns), "--speed", str(speed)],
            cwd=tree,
            check=True,
            capture_output=True,
            text=True,
        )
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def report(name: str, data: dict[str, Any]) -> dict[str, float]:
    summary: dict[str, float] = {}
    chars = sum(v["chars"] for v in data.values())
    interruptible = sum(v["interruptible_chars"] for v in data.values())
    for kind, values in data.items():
        gaps = values["gaps_ms"]
        label = f"{kind} tok/s" if kind != TOOL else "tool round at 20 tok/s"
        p50 = statistics.median(gaps) if gaps else float("nan")
        p95 = percentile(gaps, 95)
        share = values["interruptible_chars"] / values["chars"] if values["chars"] else float("nan")
        print(
            f"{name:8s} {label:24s} gaps={len(gaps):3d} dead_air_ms p50={p50:6.0f} p95={p95:6.0f} "
            f"interruptible={share:.2f}"
        )
        summary[kind] = p95
    summary["interruptible"] = interruptible / chars if chars else float("nan")
    print(f"{name:8s} interruptible share of all bot speech: {summary['interruptible']:.2f}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--speed", type=float, default=0.25, help="emulator speed factor (1 = real time)")
    parser.add_argument("--baseline-ref", default="f67f0fe", help="git ref of the design to compare with")
    parser.add_argument("--measure", action="store_true", help="only measure this checkout; print JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore")
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.turns, args.speed))))
        return
    base = baseline(args.baseline_ref, args.turns, args.speed)
    new = asyncio.run(measure(args.turns, args.speed))
    old_summary = report("baseline", base)
    new_summary = report("new", new)
    print(
        f"dead_air_ms p95_4={new_summary['4.0']:.0f} p95_8={new_summary['8.0']:.0f} p95_20={new_summary['20.0']:.0f} "
        f"p95_50={new_summary['50.0']:.0f} p95_tool={new_summary[TOOL]:.0f} "
        f"interruptible={new_summary['interruptible']:.2f} baseline_p95_4={old_summary['4.0']:.0f} "
        f"baseline_p95_20={old_summary['20.0']:.0f} "
        f"baseline_p95_tool={old_summary[TOOL]:.0f} baseline_interruptible={old_summary['interruptible']:.2f}"
    )


if __name__ == "__main__":
    main()
