"""``python -m local.search_emulator --port 8083``: the AI Search emulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from local.search_emulator.server import DEFAULT_ADMIN_KEY, DEFAULT_PORT, SearchEmulator


async def serve(host: str, port: int, admin_key: str) -> None:
    emulator = await SearchEmulator(host=host, port=port, admin_key=admin_key).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"AI Search emulator on {emulator.endpoint}", flush=True)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.search_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--admin-key", default=DEFAULT_ADMIN_KEY)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.admin_key))


if __name__ == "__main__":
    main()
