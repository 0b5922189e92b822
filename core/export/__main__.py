"""python -m core.export --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]: anonymized chat JSONL.

Reads the calls from the configured Cosmos DB (the app's settings, from the environment). Exit status:
0 done, 2 bad usage or settings, 1 the store failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from core.errors import InvalidInputError, ProductError


async def _run(raw_from: str, raw_to: str, out: TextIO) -> int:
    from core.bootstrap import get_services
    from core.export import date_range, export_lines

    since, until = date_range(raw_from, raw_to)
    services = get_services()
    regions = tuple(sorted(services.settings.conversation.phone_policy.regions)) or ("US",)
    count = 0
    try:
        async for line in export_lines(services.calls, since, until, regions):
            out.write(line)
            count += 1
    finally:
        await services.close()
    print(f"{count} calls exported", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.export", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="since", required=True, help="first day (YYYY-MM-DD, UTC)")
    parser.add_argument("--to", dest="until", required=True, help="last day, included (YYYY-MM-DD, UTC)")
    parser.add_argument("--out", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        if args.out:
            with open(args.out, "w", encoding="utf-8") as out:
                return asyncio.run(_run(args.since, args.until, out))
        return asyncio.run(_run(args.since, args.until, sys.stdout))
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ProductError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
