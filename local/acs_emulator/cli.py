"""Command line for the emulator's control API.

    python -m local.acs_emulator.cli call --from +15551230000 --script caller.yaml [--wait]
    python -m local.acs_emulator.cli call --from +15551230000 --interactive
    python -m local.acs_emulator.cli list
    python -m local.acs_emulator.cli transcript CALL_ID

In an interactive call, type a line to say it; ``/dtmf 12#`` presses keys; ``/hangup`` (or end of
input) hangs up. The bot's lines are printed as they are played.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from local.acs_emulator.control import EmulatorControl

DEFAULT_URL = "http://127.0.0.1:8090"


def format_entry(entry: dict[str, Any]) -> str | None:
    kind = entry["kind"]
    t = f"[{entry['t']:8.2f}s]"
    if kind == "bot_said":
        lang = f" ({entry['language']})" if entry.get("language") else ""
        return f"{t} BOT{lang}: {entry['text']}"
    if kind == "caller_said":
        return f"{t} YOU: {entry['text']}" + (
            " (nobody listening for speech)" if entry.get("ignored") else ""
        )
    if kind == "caller_dtmf":
        return f"{t} YOU pressed {entry['tones']}"
    if kind in (
        "call_state",
        "call_ended",
        "transfer",
        "expectation_failed",
        "expectation_met",
        "caller_hangup",
    ):
        details = {k: v for k, v in entry.items() if k not in ("seq", "t", "at", "kind")}
        return f"{t} {kind} {json.dumps(details)}"
    if kind == "event":
        return f"{t} event {entry['type']}"
    return None


async def cmd_call(ctl: EmulatorControl, args: argparse.Namespace) -> int:
    script = await asyncio.to_thread(Path(args.script).read_text, encoding="utf-8") if args.script else None
    call = await ctl.start_call(args.from_number, script, to=args.to, interactive=args.interactive)
    call_id = call["call_id"]
    print(f"call {call_id} ringing the bot", flush=True)
    if args.interactive:
        return await _interactive(ctl, call_id)
    if args.wait:
        seq = 0
        while True:
            entries = await ctl.transcript(call_id, since=seq, wait=5)
            for entry in entries:
                line = format_entry(entry)
                if line:
                    print(line, flush=True)
            seq += len(entries)
            if entries and any(e["kind"] == "call_ended" for e in entries):
                break
    return 0


async def _interactive(ctl: EmulatorControl, call_id: str) -> int:
    done = asyncio.Event()

    async def printer() -> None:
        seq = 0
        while not done.is_set():
            entries = await ctl.transcript(call_id, since=seq, wait=2)
            for entry in entries:
                line = format_entry(entry)
                if line and entry["kind"] != "caller_said":
                    print(line, flush=True)
                if entry["kind"] == "call_ended":
                    done.set()
            seq += len(entries)

    task = asyncio.create_task(printer())
    loop = asyncio.get_running_loop()
    try:
        while not done.is_set():
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if done.is_set():
                break
            if not line or line.strip() == "/hangup":
                await ctl.hangup(call_id)
                break
            text = line.strip()
            if not text:
                continue
            if text.startswith("/dtmf "):
                await ctl.dtmf(call_id, text.split(maxsplit=1)[1])
            else:
                await ctl.say(call_id, text)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return 0


async def cmd_list(ctl: EmulatorControl, args: argparse.Namespace) -> int:
    for call in await ctl.list_calls():
        print(f"{call['call_id']}  {call['direction']:8}  {call['person_number']:16}  {call['state']}")
    return 0


async def cmd_transcript(ctl: EmulatorControl, args: argparse.Namespace) -> int:
    entries = await ctl.transcript(args.call_id)
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    for entry in entries:
        line = format_entry(entry)
        if line:
            print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.acs_emulator.cli", description="ACS emulator control"
    )
    parser.add_argument("--url", default=DEFAULT_URL, help="emulator base URL")
    sub = parser.add_subparsers(dest="command", required=True)
    call = sub.add_parser("call", help="ring the bot")
    call.add_argument("--from", dest="from_number", default="+15551230000")
    call.add_argument("--to", default=None)
    call.add_argument("--script", default=None, help="YAML script file")
    call.add_argument("--interactive", action="store_true", help="type the caller's lines")
    call.add_argument("--wait", action="store_true", help="print the transcript until the call ends")
    sub.add_parser("list", help="list calls")
    transcript = sub.add_parser("transcript", help="print a call's transcript")
    transcript.add_argument("call_id")
    transcript.add_argument("--json", action="store_true")
    return parser


async def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    async with EmulatorControl(args.url) as ctl:
        handler = {"call": cmd_call, "list": cmd_list, "transcript": cmd_transcript}[args.command]
        return await handler(ctl, args)


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(asyncio.run(run(argv)))


if __name__ == "__main__":
    main()
