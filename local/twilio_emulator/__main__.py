"""Run the Twilio stand-in on its own (see local/twilio_emulator/server.py)."""

from __future__ import annotations

import argparse
import asyncio

from local.twilio_emulator.server import LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN, TwilioEmulator


async def _serve(args: argparse.Namespace) -> None:
    emulator = TwilioEmulator(args.account_sid, args.auth_token, set(args.number or ["+15550100000"]))
    await emulator.start(args.host, args.port)
    print(f"Twilio stand-in on {emulator.base_url} (account {emulator.account_sid})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local stand-in for Twilio's Messages REST API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--account-sid", default=LOCAL_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=LOCAL_AUTH_TOKEN)
    parser.add_argument("--number", action="append", help="a number of the account (repeatable)")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
