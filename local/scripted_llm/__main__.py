"""Run the scripted LLM as a process: python -m local.scripted_llm --port 8095 --rules rules.yaml"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os

from local.scripted_llm.rules import load_rules_file
from local.scripted_llm.server import ScriptedLlm

DEFAULT_RULES = os.path.join(os.path.dirname(__file__), "demo_rules.yaml")


async def _serve(args: argparse.Namespace) -> None:
    server = ScriptedLlm(load_rules_file(args.rules), ttft_s=args.ttft, tokens_per_s=args.tps, host=args.host)
    await server.start(args.port)
    print(f"scripted LLM listening on {server.base_url} ({len(server.rules)} rules)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.scripted_llm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument(
        "--rules", default=DEFAULT_RULES, help="YAML or JSON rules file (default: demo rules)"
    )
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds before the first token")
    parser.add_argument("--tps", type=float, default=0.0, help="tokens per second (0 = as fast as possible)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
