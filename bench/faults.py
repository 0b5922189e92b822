"""Faults: a bad day in production, scenario by scenario, over the whole local stack.

    python bench/faults.py [--runs 3] [--only NAME]

Each scenario is a call with one fault (a store outage through the TCP proxies in front of Cosmos DB
and Azurite, ACS refusing or delaying a media operation, duplicated / reordered / concurrent callback
delivery, a failing or slow model, a caller hanging up mid-answer, a post-call job that always fails),
run --runs times. For each: the caller's lines lost (said, but not stored; or a value they gave that
the model's tool call did not store), bot sentences heard twice in one turn, side effects doubled (SMS, transfers,
post-call jobs), calls with dead air longer than 10 s, and how the calls ended.
Last line: faults scenarios=<n> runs=<n> lost=<n> doubled=<n> dead_air=<n>, where doubled counts the
sentences heard twice and the side effects doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.fault_harness import (  # noqa: E402
    POLICY,
    SMS,
    FaultStack,
    fault_rules,
    fault_stack,
    longest_silence_s,
)

DEAD_AIR_S = 10.0
CALL_TIMEOUT_S = 45.0
TRANSFER = {"user": "(?i)human", "tool_calls": [{"name": "talk_to_human", "arguments": {}}]}


@dataclass
class Call:
    """One scripted call of a scenario and what it must leave behind."""

    script: list[dict[str, Any]]
    sms: int = 0  # SMS the caller asked for
    claim: dict[str, Any] = field(default_factory=dict)  # values the caller gave


ASK_SMS = Call([{"say": "Please text me."}, {"say": "Goodbye."}], sms=1)
GIVE_POLICY = Call(
    [{"say": "My policy number is B-12345."}, {"say": "Goodbye."}], claim={"policy_number": "B-12345"}
)
HANG_UP_AFTER_VALUE = Call(
    [{"say": "My policy number is C-777."}, {"hangup": True}], claim={"policy_number": "C-777"}
)
ASK_HUMAN = Call([{"say": "I want a human."}])
# The content filter refuses the caller's words: they are stored (flagged), the model never saw them.
FILTERED = Call([{"say": "My policy number is B-12345."}, {"say": "Goodbye."}])


def _at_first_words(action: Callable[[FaultStack], None]) -> Callable[[FaultStack, str], Awaitable[None]]:
    """Run ``action`` once the greeting's recognition has started (the caller is about to speak)."""

    async def when(faults: FaultStack, emulated: str) -> None:
        from tests.waiting import wait_until

        await wait_until(
            lambda: any(
                e["kind"] == "media_started" and e.get("op") == "recognize"
                for e in faults.stack.transcript(emulated)
            ),
            timeout=15,
            what="the greeting's recognition",
        )
        action(faults)

    return when


def _at_line(line: str, action: Callable[[FaultStack], None]) -> Callable[[FaultStack, str], Awaitable[None]]:
    async def when(faults: FaultStack, emulated: str) -> None:
        from tests.waiting import wait_until

        await wait_until(
            lambda: any(
                e["kind"] == "bot_said" and e["text"] == line for e in faults.stack.transcript(emulated)
            ),
            timeout=20,
            what=f"the bot to say {line!r}",
        )
        action(faults)

    return when


@dataclass
class Scenario:
    name: str
    call: Call
    rules: list[dict[str, Any]] = field(default_factory=list)
    # Before the call (arm ACS / LLM faults, slow the store), and once the call is up.
    before: Callable[[FaultStack], None] = lambda faults: None
    during: Callable[[FaultStack, str], Awaitable[None]] | None = None
    emulator: dict[str, Any] = field(default_factory=dict)


def _llm(kind: str, **options: Any) -> Callable[[FaultStack], None]:
    return lambda faults: faults.stack.llm.inject_fault(kind, **options)  # type: ignore[arg-type]


def _acs(operation: str, **fault: Any) -> Callable[[FaultStack], None]:
    return lambda faults: faults.stack.acs.inject(operation, **fault)


def _slow_llm(faults: FaultStack) -> None:
    faults.stack.llm.ttft_s = 2.5


def _slow_llm_stream(faults: FaultStack) -> None:
    faults.stack.llm.tokens_per_s = 40


def _throttled_writes(faults: FaultStack) -> None:
    faults.cosmos.slow(0.3, b"PUT ")


def _slow_answer(faults: FaultStack) -> None:
    faults.stack.llm.ttft_s = 0.3


SCENARIOS = [
    Scenario("baseline", GIVE_POLICY, [POLICY]),
    Scenario(
        "cosmos refused 6s", GIVE_POLICY, [POLICY], during=_at_first_words(lambda f: f.cosmos.refuse(6.0))
    ),
    Scenario(
        "cosmos black hole 6s",
        GIVE_POLICY,
        [POLICY],
        during=_at_first_words(lambda f: f.cosmos.blackhole(6.0)),
    ),
    Scenario(
        "cosmos refused mid-answer",
        ASK_SMS,
        [SMS],
        before=_slow_llm_stream,
        during=_at_line("I am sending you a text now.", lambda f: f.cosmos.refuse(3.0)),
    ),
    Scenario(
        "tables refused 6s", GIVE_POLICY, [POLICY], during=_at_first_words(lambda f: f.tables.refuse(6.0))
    ),
    # The recognizes of a call: 1 the greeting, 2 the listening while the model thinks, 3 and on the
    # sentences of the answer (core/callflow/speaker.py); the bot plays nothing else.
    Scenario("acs sentence refused", ASK_SMS, [SMS], before=_acs("recognize", status=400, skip=2)),
    Scenario("acs sentence 503 x2", ASK_SMS, [SMS], before=_acs("recognize", status=503, count=2, skip=2)),
    Scenario("acs sentence 429 x2", ASK_SMS, [SMS], before=_acs("recognize", status=429, count=2, skip=2)),
    Scenario("acs sentence slow 3s", ASK_SMS, [SMS], before=_acs("recognize", delay_s=3.0, skip=2)),
    Scenario("acs greeting refused", GIVE_POLICY, [POLICY], before=_acs("recognize", status=400)),
    Scenario("acs listen refused", ASK_SMS, [SMS], before=_acs("recognize", status=400, skip=1)),
    Scenario("acs hang-up refused", GIVE_POLICY, [POLICY], before=_acs("hangup", status=400)),
    Scenario("acs transfer 503", ASK_HUMAN, [TRANSFER], before=_acs("transfer", status=503)),
    Scenario("caller hangs up mid-answer", HANG_UP_AFTER_VALUE, [POLICY], before=_slow_answer),
    Scenario("duplicated delivery", ASK_SMS, [SMS], emulator={"duplicate_callbacks": True}),
    Scenario("reordered delivery", ASK_SMS, [SMS], emulator={"out_of_order_callbacks": True}),
    Scenario(
        "concurrent delivery",
        GIVE_POLICY,
        [POLICY],
        before=_throttled_writes,
        emulator={"concurrent_callbacks": True},
    ),
    Scenario("llm 429", GIVE_POLICY, [POLICY], before=_llm("429", times=2)),
    Scenario("llm 500", GIVE_POLICY, [POLICY], before=_llm("500", times=2)),
    Scenario("llm cut stream", ASK_SMS, [SMS], before=_llm("cut", after_sentences=1)),
    Scenario("llm content filter", FILTERED, [POLICY], before=_llm("content_filter")),
    # The emulated caller waits longer than its default 2 s for the slow goodbye.
    Scenario(
        "llm slow (filler)",
        GIVE_POLICY,
        [POLICY],
        before=_slow_llm,
        emulator={"exhausted_script_hangup_s": 6.0},
    ),
]


@dataclass
class Tally:
    lost: int = 0
    heard_twice: int = 0
    doubled: int = 0
    dead_air: int = 0
    ended: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


async def run_call(faults: FaultStack, scenario: Scenario, tally: Tally) -> None:
    from tests.e2e.harness import random_number

    stack = faults.stack
    stack.set_rules(fault_rules(*scenario.rules))
    stack.llm.ttft_s = stack.llm.tokens_per_s = 0.0
    stack.llm.faults.clear()
    stack.acs.faults.clear()
    faults.cosmos.heal()
    scenario.before(faults)
    number = random_number()
    emulated = stack.acs.start_incoming_call(number, scenario.call.script)
    started = time.monotonic()
    during = asyncio.create_task(scenario.during(faults, emulated.call_id)) if scenario.during else None
    try:
        await stack.acs.wait_for_call_end(emulated.call_id, timeout=CALL_TIMEOUT_S)
        ended = stack.acs.call(emulated.call_id).ended_by or "?"
    except TimeoutError:
        ended = "hung (silent)"
        stack.acs.engine.remote_hangup(stack.acs.call(emulated.call_id))
    if during is not None:
        during.cancel()
        await asyncio.gather(during, return_exceptions=True)
    for proxy in (faults.cosmos, faults.tables, faults.queues):
        proxy.heal()
    with contextlib.suppress(TimeoutError):
        await stack.acs.drain_callbacks(timeout=30)
    tally.ended[ended] += 1
    until = time.monotonic() - started
    if longest_silence_s(stack, emulated.call_id, until=until) > DEAD_AIR_S:
        tally.dead_air += 1
    said = _said_per_turn(stack.transcript(emulated.call_id))
    tally.heard_twice += sum(n - 1 for n in said.values())
    caller_lines = [e["text"] for e in stack.transcript(emulated.call_id) if e["kind"] == "caller_said"]
    stored = await _stored(faults, number)
    kept = {m.content for m in stored.messages} if stored is not None else set()
    missing = [line for line in caller_lines if line not in kept]
    if stored is not None:
        missing += [f"{k}={v}" for k, v in scenario.call.claim.items() if stored.claim.get(k) != v]
    tally.lost += len(missing)
    sms = [m for m in stack.acs.sent_sms if m["to"] == number]
    transfers = [
        e for e in stack.transcript(emulated.call_id) if e["kind"] == "transfer" and "outcome" not in e
    ]
    jobs = await stack.post_call_messages(stored.call_id) if stored is not None else []
    doubled = max(0, len(sms) - scenario.call.sms) + max(0, len(transfers) - 1) + max(0, len(jobs) - 1)
    tally.doubled += doubled
    if missing or doubled:
        tally.notes.append(f"lost {missing}, sms {len(sms)}, transfers {len(transfers)}, jobs {len(jobs)}")


def _said_per_turn(entries: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """What the bot said, keyed by the turn (operation context ``purpose:turn_id[:part]``) and text:
    the same sentence in two turns is two answers, twice in one turn a replay."""
    said: Counter[tuple[str, str]] = Counter()
    turn = ""
    for entry in entries:
        if entry["kind"] == "media_started":
            parts = str(entry.get("operation_context") or "").split(":")
            turn = parts[1] if len(parts) > 1 else ""
        elif entry["kind"] == "bot_said":
            said[(turn, entry["text"])] += 1
    return said


async def _stored(faults: FaultStack, number: str) -> Any:
    page = await faults.stack.container.calls.list(phone_number=number, limit=1)
    return page.calls[0] if page.calls else None


async def run_poison_job(runs: int) -> Tally:
    """A post-call job whose model never answers validly: released, then poisoned, never doubled."""
    import pytest

    from core.models import PostCallStatus
    from tests.post_call.harness import POST_CALL_QUEUE, app_stack
    from tests.post_call.test_post_call_e2e import ended_call

    tally = Tally()
    patch = pytest.MonkeyPatch()
    try:
        async with app_stack(patch, sms_summary=True) as stack:
            for _ in range(runs):
                marker = uuid.uuid4().hex
                stack.llm.add_rule(name="invalid", user=marker, json={"synthesis_short": ""})
                stack.llm.add_rule(name="still-invalid", user="That answer is not valid", json="not json")
                call = await stack.container.calls.create(
                    ended_call(marker, f"+1415{uuid.uuid4().int % 10**7:07d}")
                )
                await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
                stack.host.nudge(POST_CALL_QUEUE)
                outcomes = await stack.wait_outcomes(
                    lambda seen: any(o.outcome == "poisoned" for o in seen), 60
                )
                stored = await stack.container.calls.get(call.call_id)
                poisoned = sum(1 for o in outcomes if o.outcome == "poisoned")
                failed = stored is not None and stored.post_call.status is PostCallStatus.FAILED
                tally.ended["poisoned, marked failed" if failed else "poisoned"] += 1
                tally.doubled += max(0, poisoned - 1) + len(stack.sms_to(call.phone_number))
    finally:
        patch.undo()
    return tally


async def main_async(runs: int, only: str | None) -> str:
    from core.bootstrap import reset_services
    from local.stack import LocalStack

    os.environ.setdefault("MONITORING__LOG_LEVEL", "CRITICAL")
    os.environ.setdefault("COSMOS__DATABASE", f"bench-{uuid.uuid4().hex[:8]}")
    os.environ.setdefault("STORAGE__INBOX_TABLE", f"inbox{uuid.uuid4().hex[:8]}")
    local = await asyncio.to_thread(LocalStack().start)
    results: list[tuple[str, Tally]] = []
    try:
        for scenario in SCENARIOS:
            if only and only not in scenario.name:
                continue
            tally = Tally()
            # Emulated callers wait longer than the dead air that counts, so "ended" says who hung up.
            emulator = {"exhausted_script_hangup_s": DEAD_AIR_S + 2, **scenario.emulator}
            async with fault_stack(**emulator) as faults:
                for _ in range(runs):
                    await run_call(faults, scenario, tally)
            results.append((scenario.name, tally))
            _row(scenario.name, tally)
        if not only or only in "poison post-call job":
            tally = await run_poison_job(runs)
            results.append(("poison post-call job", tally))
            _row("poison post-call job", tally)
    finally:
        reset_services()
        await asyncio.to_thread(local.stop)
    lost = sum(t.lost for _, t in results)
    doubled = sum(t.doubled + t.heard_twice for _, t in results)
    dead_air = sum(t.dead_air for _, t in results)
    return f"faults scenarios={len(results)} runs={runs} lost={lost} doubled={doubled} dead_air={dead_air}"


def _row(name: str, tally: Tally) -> None:
    ended = ", ".join(f"{k} x{n}" for k, n in sorted(tally.ended.items()))
    print(
        f"{name:<28} lost={tally.lost:<2} heard_twice={tally.heard_twice:<2} doubled={tally.doubled:<2} "
        f"dead_air={tally.dead_air:<2} ended: {ended}",
        flush=True,
    )
    for note in tally.notes[:3]:
        print(f"    {note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="calls per scenario")
    parser.add_argument("--only", default=None, help="run the scenarios whose name contains this")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    logging.basicConfig(level=logging.CRITICAL)
    warnings.simplefilter("ignore")
    print(f"{'scenario':<28} per {args.runs} call(s)")
    print(asyncio.run(main_async(args.runs, args.only)))


if __name__ == "__main__":
    main()
