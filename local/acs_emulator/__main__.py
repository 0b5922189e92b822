"""``python -m local.acs_emulator --port 8090 --eventgrid-endpoint URL --speed 1.0``"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from local.acs_emulator.config import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_BOT_NUMBER,
    DEFAULT_JWT_AUDIENCE,
    DEFAULT_JWT_ISSUER,
    DEFAULT_PORT,
    EmulatorConfig,
)
from local.acs_emulator.server import AcsEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.acs_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--access-key", default=DEFAULT_ACCESS_KEY)
    parser.add_argument("--eventgrid-endpoint", default=None, help="where IncomingCall events are POSTed")
    parser.add_argument(
        "--sms-eventgrid-endpoint",
        default=None,
        help="where SMSReceived events (texts to the bot) are POSTed",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="time scale of simulated speech (0 = instant)"
    )
    parser.add_argument("--jwt-issuer", default=DEFAULT_JWT_ISSUER)
    parser.add_argument("--jwt-audience", default=DEFAULT_JWT_AUDIENCE)
    parser.add_argument("--bot-number", default=DEFAULT_BOT_NUMBER)
    parser.add_argument("--duplicate-callbacks", action="store_true")
    parser.add_argument("--out-of-order-callbacks", action="store_true")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        access_key=args.access_key,
        jwt_issuer=args.jwt_issuer,
        jwt_audience=args.jwt_audience,
        eventgrid_endpoint=args.eventgrid_endpoint,
        sms_eventgrid_endpoint=args.sms_eventgrid_endpoint,
        speed_factor=args.speed,
        duplicate_callbacks=args.duplicate_callbacks,
        out_of_order_callbacks=args.out_of_order_callbacks,
        bot_phone_number=args.bot_number,
    )
    emulator = AcsEmulator(config)
    await emulator.start(args.host, args.port)
    print(f"ACS emulator listening on {emulator.base_url} (JWKS {emulator.jwks_url})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
