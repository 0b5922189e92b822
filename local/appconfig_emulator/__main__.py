"""python -m local.appconfig_emulator [--host 127.0.0.1] [--port 8483]: serve until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from local.appconfig_emulator import DEFAULT_PORT, AppConfigEmulator


async def _serve(host: str, port: int) -> None:
    emulator = await AppConfigEmulator(host, port).start()
    print(f"App Configuration emulator on {emulator.endpoint}: {emulator.connection_string}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.appconfig_emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
