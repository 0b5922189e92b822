"""The first turn of a fresh worker, with and without the warm-up that runs while the greeting plays.

Each run is a new Python process that imports the Function App and the call flow (what the worker has
done by the time a call's greeting is requested: its cold start and the CallConnected handler), then
times one turn from ``services.engine`` to the first sentence the model streams, against the scripted
LLM (time to first token 0, in this process, so only the product's own cost is measured):

- ``cold``: the turn right away, paying the engine's imports (openai, jinja2, the tools), the chat
  model's client and the template compilation on the caller's time;
- ``warmed``: ``Services.warm_up()`` first (what CallConnected starts), then the turn;
- ``steady``: the same worker's second turn, for reference.

    .venv/bin/python bench/cold_turn.py [--runs 7]

The last line: ``first_turn_ms cold=<n> warmed=<n> steady=<n> warm_up_ms=<n>`` (medians).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.scripted_llm import ScriptedLlm  # noqa: E402

CHILD = """
import asyncio, json, sys, time

import function_app  # noqa: F401 - the worker's cold start
import core.callflow  # the CallConnected handler that requested the greeting
from core.bootstrap import Services
from core.models import Call, CallDirection, InitiateRequest, LanguageOption
from core.settings import LlmEndpointSettings, LlmSettings, Settings

warm = sys.argv[1] == "warmed"
endpoint = LlmEndpointSettings(endpoint=sys.argv[2], model="scripted")
services = Services(Settings(llm=LlmSettings(primary=endpoint, retry_backoff_s=0)))
call = Call(
    direction=CallDirection.INBOUND,
    initiate=InitiateRequest(
        phone_number="+33612345678", bot_name="Amélie", bot_company="Contoso Insurance",
        task="Help the caller with their insurance claim.", agent_phone_number="+15550109999",
        languages=[LanguageOption(code="en-US", name="English", voice="en-US-AvaMultilingualNeural")],
        default_language="en-US",
    ),
)


async def turn(turn_id: str) -> float:
    started = time.perf_counter()
    async for _ in services.engine.run(call, "Hello, I need help.", turn_id=turn_id):
        return (time.perf_counter() - started) * 1000
    raise SystemExit("no sentence")


async def main() -> None:
    warm_up_ms = 0.0
    if warm:
        started = time.perf_counter()
        await services.warm_up()
        warm_up_ms = (time.perf_counter() - started) * 1000
    first = await turn("t1")
    second = await turn("t2")
    await services.close()
    print(json.dumps({"first": first, "second": second, "warm_up": warm_up_ms}))


asyncio.run(main())
"""

CHILD_TIMEOUT_S = 120.0


async def child(mode: str, url: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, mode, url, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        raise SystemExit(f"the {mode} worker did not answer within {CHILD_TIMEOUT_S:g}s") from None
    if process.returncode != 0:
        raise SystemExit(f"the {mode} worker failed:\n{err.decode()}")
    result: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def main(runs: int) -> str:
    async with ScriptedLlm([{"say": "Of course, I can help you with that."}]) as server:
        url = server.base_url
        await child("cold", url)  # discarded: writes the bytecode caches, as a deployed app has them
        cold: list[dict[str, float]] = []
        warmed: list[dict[str, float]] = []
        for _ in range(runs):  # alternating, so both see the same machine
            cold.append(await child("cold", url))
            warmed.append(await child("warmed", url))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"{runs} fresh workers each; ms to the first sentence of the first turn")
    print("cold:   " + ", ".join(f"{r['first']:.0f}" for r in cold))
    print("warmed: " + ", ".join(f"{r['first']:.0f}" for r in warmed))
    print("warm-up (while the greeting plays): " + ", ".join(f"{r['warm_up']:.0f}" for r in warmed))
    steady = statistics.median([r["second"] for r in cold + warmed])
    return (
        f"first_turn_ms cold={med(cold, 'first'):.0f} warmed={med(warmed, 'first'):.0f} "
        f"steady={steady:.0f} warm_up_ms={med(warmed, 'warm_up'):.0f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    print(asyncio.run(main(parser.parse_args().runs)), flush=True)
