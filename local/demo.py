"""Call the bot from this terminal, with everything running locally.

    python -m local.demo              # you are the caller: type what you say, read (and hear) the bot
    python -m local.demo --canned     # offline: a scripted caller and the scripted LLM (canned answers)
    python -m local.demo --outbound   # the bot calls you through POST /call (add --canned: offline)

Starts Azurite, the Cosmos DB server, the AI Search emulator and the embeddings endpoint (reused when
already running; the sample documents of docs/sample-corpus/ are ingested into the search index), the
ACS emulator, and the function app in the local Functions-host adapter, all on loopback. The interactive mode uses the LLM
the settings name (environment or local.settings.json: LLM__PRIMARY__ENDPOINT, LLM__PRIMARY__MODEL,
LLM__PRIMARY__API_KEY); without one it says exactly what to set. Bot lines are spoken aloud when
espeak-ng is installed (--mute to silence).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO_RULES = ROOT / "local" / "scripted_llm" / "demo_rules.yaml"
CALLER_NUMBER = "+14155550123"  # the interactive caller: call again within the window to resume


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class Voice:
    """Speaks the bot's lines one after the other with espeak-ng, when it is installed."""

    def __init__(self, muted: bool) -> None:
        self.espeak = None if muted else shutil.which("espeak-ng")
        self.lines: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def say(self, text: str, language: str | None) -> None:
        if self.espeak and text.strip():
            self.lines.put_nowait((text, (language or "en-US").split("-")[0]))

    async def run(self) -> None:
        while self.espeak:
            text, voice = await self.lines.get()
            with contextlib.suppress(OSError):
                process = await asyncio.create_subprocess_exec(
                    self.espeak, "-v", voice, text, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                await process.wait()


def _format(entry: dict[str, Any]) -> str | None:
    kind = entry["kind"]
    if kind == "bot_said":
        lang = f" ({entry['language']})" if entry.get("language") else ""
        return f"  BOT{lang}: {entry['text']}"
    if kind == "caller_said" and not entry.get("ignored"):
        return f"  CALLER: {entry['text']}" + ("  [interrupting]" if entry.get("barge_in") else "")
    if kind == "caller_dtmf":
        return f"  CALLER pressed {entry['tones']}"
    if kind == "caller_silence":
        return f"  CALLER: ... (silence, {entry.get('seconds', 0):.0f} s)"
    if kind == "transfer" and entry.get("outcome"):
        return f"  -- transfer to {entry.get('target')}: {entry['outcome']}"
    if kind == "call_ended":
        return f"  -- call ended by {entry.get('ended_by')}"
    return None


def canned_caller_script() -> list[dict[str, Any]]:
    data = yaml.safe_load(DEMO_RULES.read_text(encoding="utf-8"))
    lines = data.get("caller_script") or []
    return [{"say": "English"}, *({"say": str(line)} for line in lines)]


def llm_problem() -> str | None:
    from core.settings import load_settings

    settings = load_settings()
    if settings.llm.configured:
        return None
    from core.adapters.openai_chat import OpenAIChatModel
    from core.errors import ModelNotConfiguredError

    try:
        OpenAIChatModel(settings.llm)
    except ModelNotConfiguredError as exc:
        return str(exc)
    return None


async def run(args: argparse.Namespace) -> int:
    from local.functions_host import load_local_settings

    load_local_settings(ROOT / "local.settings.json")
    if not args.canned:
        problem = llm_problem()
        if problem:
            print(problem, file=sys.stderr)
            print(
                "Put them in the environment or in local.settings.json (see local.settings.example.json),\n"
                "or run the offline demo with canned answers: python -m local.demo --canned",
                file=sys.stderr,
            )
            return 2
        # A person needs time to type: wait longer for them before the "are you still there?" prompt.
        os.environ.setdefault("ACS__INITIAL_SILENCE_TIMEOUT_S", "45")

    from core.bootstrap import get_services, reset_services
    from local.acs_emulator import AcsEmulator, EmulatorConfig
    from local.functions_host import FunctionsHost
    from local.scripted_llm import ScriptedLlm, load_rules_file
    from local.stack import LocalStack

    print("Starting Azurite, the Cosmos DB server and the AI Search emulator...", flush=True)
    stack = await asyncio.to_thread(LocalStack().start)
    from local.search_emulator.sample import index_sample_corpus

    indexed = await index_sample_corpus()
    print(f"Sample documents in the search index: {indexed.summary()}.", flush=True)
    llm: ScriptedLlm | None = None
    acs = AcsEmulator(EmulatorConfig(speed_factor=args.speed if args.canned else 1.0))
    host: FunctionsHost | None = None
    try:
        if args.canned:
            llm = await ScriptedLlm(load_rules_file(str(DEMO_RULES)), ttft_s=0.3, tokens_per_s=60).start()
            os.environ.update(
                {
                    "LLM__PRIMARY__ENDPOINT": llm.base_url,
                    "LLM__PRIMARY__MODEL": "scripted",
                    "LLM__PRIMARY__API_KEY": "scripted",
                }
            )
        await acs.start(port=8090 if _port_free(8090) else 0)
        os.environ.update({"ACS__ENDPOINT": acs.base_url, "ACS__JWKS_URL": acs.jwks_url})
        reset_services()
        import function_app

        settings = get_services().settings
        host = FunctionsHost(
            function_app.app,
            host_json_path=ROOT / "host.json",
            function_key=settings.http.function_key,
            storage_connection_string=settings.storage.connection_string,
        )
        await host.start("127.0.0.1", args.port if _port_free(args.port) else 0)
        os.environ["ACS__CALLBACK_BASE_URL"] = host.base_url
        reset_services()
        settings = get_services().settings
        acs.config.eventgrid_endpoint = (
            f"{host.base_url}/runtime/webhooks/EventGrid?functionName=incoming_call"
            f"&code={settings.http.function_key}"
        )
        acs.config.sms_eventgrid_endpoint = (
            f"{host.base_url}/runtime/webhooks/EventGrid?functionName=sms_received"
            f"&code={settings.http.function_key}"
        )
        print(f"Function app on {host.base_url}, ACS emulator on {acs.base_url}.", flush=True)
        from core.observability import destination

        print(f"Traces, metrics and logs go {destination(settings)}.", flush=True)
        if args.canned:
            print(
                "\n*** CANNED DEMO: a scripted caller and the scripted LLM (no real model). ***\n", flush=True
            )
        return await _call(args, acs, host.base_url, settings.http.function_key)
    finally:
        if host is not None:
            await host.stop()
        await acs.stop()
        if llm is not None:
            await llm.stop()
        with contextlib.suppress(Exception):
            await get_services().close()
        await asyncio.to_thread(stack.stop)


async def _call(args: argparse.Namespace, acs: Any, base_url: str, key: str) -> int:
    import aiohttp

    number = args.from_number or (
        CALLER_NUMBER if not args.canned else f"+1415{random.randint(2000000, 9999999)}"
    )
    typing_hint = "Type what you say and press Enter; '/dtmf 1' presses keys; '/hangup' or Ctrl-D hangs up.\n"
    if args.outbound:
        if args.canned:
            acs.set_script(number, canned_caller_script()[1:])
        body = {"phone_number": number, "languages": ["en-US"]}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{base_url}/call", json=body, headers={"x-functions-key": key}) as response,
        ):
            created = await response.json()
            if response.status != 201:
                print(f"POST /call failed ({response.status}): {created}", file=sys.stderr)
                return 1
        print(f"POST /call -> 201, call {created['call_id']}; the bot is calling {number}.", flush=True)
        emulated = (await acs.wait_for_calls(1))[0]
        if not args.canned:
            # You are the person called: answer with your keyboard (the phone rings for a second).
            from local.acs_emulator.caller import InteractiveCaller

            emulated.caller = InteractiveCaller(
                emulated.transcript, acs.engine.clock, lambda: acs.engine.remote_hangup(emulated)
            )
            print(f"Your phone ({number}) rings and you pick up. {typing_hint}", flush=True)
    elif args.canned:
        emulated = acs.start_incoming_call(number, canned_caller_script())
    else:
        emulated = acs.start_incoming_call(number, interactive=True)
        print(f"Calling the bot from {number}. {typing_hint}", flush=True)
    voice = Voice(args.mute)
    speaker = asyncio.create_task(voice.run())
    printer = asyncio.create_task(_print_transcript(emulated, voice))
    typing: asyncio.Task[None] | None = None
    if not args.canned:
        typing = asyncio.create_task(_type_as_caller(emulated))
    await emulated.ended.wait()
    with contextlib.suppress(TimeoutError):
        await acs.drain_callbacks(timeout=10)
    await asyncio.sleep(0.2)
    for task in (printer, speaker, typing):
        if task is not None:
            task.cancel()
    await asyncio.gather(printer, speaker, *(t for t in [typing] if t), return_exceptions=True)
    await _summary(base_url, key, number)
    return 0


async def _print_transcript(emulated: Any, voice: Voice) -> None:
    seq = 0
    while True:
        entries = await emulated.transcript.wait_after(seq, timeout=1.0)
        for entry in entries:
            line = _format(entry)
            if line:
                print(line, flush=True)
            if entry["kind"] == "bot_said":
                voice.say(entry["text"], entry.get("language"))
        seq += len(entries)


async def _type_as_caller(emulated: Any) -> None:
    loop = asyncio.get_running_loop()
    caller = emulated.caller
    while not emulated.ended.is_set():
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if emulated.ended.is_set():
            return
        text = line.strip()
        if not line or text == "/hangup":
            caller.hangup()
            return
        if text.startswith("/dtmf "):
            caller.dtmf(text.split(maxsplit=1)[1])
        elif text:
            caller.say(text)


async def _summary(base_url: str, key: str, number: str) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{base_url}/call", params={"phone_number": number}, headers={"x-functions-key": key}
        ) as response,
    ):
        if response.status != 200:
            return
        page = await response.json()
    if not page.get("calls"):
        return
    call = page["calls"][0]
    # Post-call insights are computed by a queue-triggered function a moment after the call.
    async with aiohttp.ClientSession() as session:
        for _ in range(40):
            if call.get("insights"):
                break
            await asyncio.sleep(0.25)
            async with session.get(
                f"{base_url}/call/{call['call_id']}", headers={"x-functions-key": key}
            ) as response:
                if response.status == 200:
                    call = await response.json()
    print("\nThe stored call:", flush=True)
    print(f"  id: {call['call_id']}  status: {call['status']}  turns: {call['counters']['turns']}")
    for name, value in (call.get("claim") or {}).items():
        print(f"  claim.{name} = {value}")
    for reminder in call.get("reminders") or []:
        print(f"  reminder: {reminder['title']} (due {reminder['due_at']})")
    from core.engine.search import citations_from_result

    for message in call.get("messages") or []:
        for tool_call in message.get("tool_calls") or []:
            for cited in citations_from_result(tool_call.get("name", ""), tool_call.get("result")):
                print(f"  source cited: {cited.title} ({cited.source})")
    insights = call.get("insights") or {}
    if insights:
        print(f"  insights: {insights.get('synthesis_short')} (satisfaction: {insights.get('satisfaction')})")
    print(f"  JSON: {base_url}/call/{call['call_id']}?code={key}")
    print(f"  report: {base_url}/report/{call['call_id']}?code={key}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--canned", action="store_true", help="scripted caller and scripted LLM, offline")
    parser.add_argument("--outbound", action="store_true", help="the bot calls you (POST /call)")
    parser.add_argument(
        "--speed", type=float, default=0.3, help="--canned: time scale of speech (0 = instant)"
    )
    parser.add_argument("--port", type=int, default=7071, help="port of the function app")
    parser.add_argument("--from", dest="from_number", help="the caller's number (E.164)")
    parser.add_argument("--mute", action="store_true", help="do not speak the bot's lines with espeak-ng")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
