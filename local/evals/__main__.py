"""python -m local.evals: run the conversations, write evals.json and evals.html, print the summary."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from local.evals.spec import CONVERSATIONS_DIR, ConversationError, Prices, load_conversations

ROOT = Path(__file__).resolve().parents[2]


def _price(name: str) -> float:
    raw = os.environ.get(name, "0") or "0"
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number (price per million tokens)") from None


async def run(args: argparse.Namespace) -> int:
    from local.functions_host import load_local_settings

    load_local_settings(ROOT / "local.settings.json")
    try:
        conversations = load_conversations(Path(args.dir), args.only or None)
    except ConversationError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.real:
        from local.demo import llm_problem

        problem = llm_problem()
        if problem:
            print(
                f"{problem}\n(--real uses the model of LLM__PRIMARY__*; without --real the scripted LLM answers)",
                file=sys.stderr,
            )
            return 2
    prices = Prices(
        prompt_per_million=args.prompt_price
        if args.prompt_price is not None
        else _price("EVALS_PROMPT_PRICE_PER_MILLION"),
        completion_per_million=args.completion_price
        if args.completion_price is not None
        else _price("EVALS_COMPLETION_PRICE_PER_MILLION"),
    )
    from local.evals.report import results_json, write
    from local.evals.runner import eval_stack, run_all
    from local.evals.scoring import detail_line, summary, summary_line
    from local.stack import LocalStack

    stack = await asyncio.to_thread(LocalStack().start)
    try:
        async with eval_stack(scripted=not args.real, speed=args.speed) as running:
            model = "scripted" if running.scripted else os.environ.get("LLM__PRIMARY__MODEL", "")
            results = await run_all(running, conversations, prices)
    finally:
        await asyncio.to_thread(stack.stop)
    figures = summary([s for s, _ in results])
    json_path, html_path = write(Path(args.out), results_json(results, figures, model))
    for score, _ in results:
        if not score.passed:
            print(f"FAILED {score.name}: {'; '.join(score.failures + score.forbidden)}", file=sys.stderr)
    print(f"Results: {json_path} and {html_path}")
    print(detail_line(figures))
    print(summary_line(figures))
    return 0 if figures["passed"] == figures["conversations"] or args.real else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.evals", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--real", action="store_true", help="use the model of LLM__PRIMARY__* (default: scripted)"
    )
    parser.add_argument("--dir", default=str(CONVERSATIONS_DIR), help="folder of conversation YAML files")
    parser.add_argument("--only", nargs="*", help="names of the conversations to run")
    parser.add_argument("--out", default=".local/evals", help="folder for evals.json and evals.html")
    parser.add_argument("--speed", type=float, default=0.0, help="time scale of speech (0 = instant)")
    parser.add_argument("--prompt-price", type=float, help="price per million prompt tokens")
    parser.add_argument("--completion-price", type=float, help="price per million completion tokens")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
