"""``python -m local.functions_host [--app function_app:app] [--port 7071]``: the local ``func start``.

Run from the app's root folder (where host.json and local.settings.json live). Loads the ``Values`` of
local.settings.json into the environment before importing the app, then serves it until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys

import azure.functions as func

from .host import FunctionsHost
from .settings_loader import load_local_settings


def load_app(spec: str) -> func.FunctionApp:
    """Import ``module:attribute`` (attribute defaults to ``app``) and check it is a FunctionApp."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app")
    if not isinstance(app, func.FunctionApp):
        raise TypeError(f"{spec} is a {type(app).__name__}, not an azure.functions.FunctionApp")
    return app


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.functions_host", description=__doc__)
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=None, help="default: Host.LocalHttpPort or 7071")
    parser.add_argument("--host-json", default="host.json")
    parser.add_argument("--settings", default="local.settings.json", help="local settings file, if present")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace, port: int) -> None:
    host = FunctionsHost(load_app(args.app), host_json_path=args.host_json)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await host.start(args.host, port)
    print(f"Functions host adapter listening on {host.base_url}", flush=True)
    for line in host.describe():
        print(f"  {line}", flush=True)
    try:
        await stop.wait()
    finally:
        await host.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if logging.getLogger().level > logging.DEBUG:
        # The Azure SDKs log every request (each queue poll) at INFO; keep them out of the host's log.
        logging.getLogger("azure").setLevel(logging.WARNING)
    settings = load_local_settings(args.settings)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    port = args.port if args.port is not None else (settings.local_http_port or 7071)
    asyncio.run(serve(args, port))


if __name__ == "__main__":
    main()
