"""Prompt budget benchmark (not a test): estimated prompt tokens of a 20-turn insurance-claim call.

Runs the same scripted conversation twice through the real engine, the real openai SDK and the
scripted LLM: once with the history trimmed to the token budget (the product), once sending the full
untrimmed history every turn (the naive baseline). Prompt tokens are estimated by the scripted LLM from
what it actually received (messages and tool definitions).

    .venv/bin/python bench/prompt_budget.py [--budget 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from datetime import UTC, datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from core.adapters.openai_chat import OpenAIChatModel
from core.engine import TurnEngine
from core.models import Call, CallDirection, InitiateRequest, LanguageOption
from core.settings import LlmEndpointSettings, LlmSettings, Settings
from local.scripted_llm import ScriptedLlm, load_rules, load_rules_file

DEMO_RULES = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "local", "scripted_llm", "demo_rules.yaml"
)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

SCRIPT = [
    "Hello, I need to report a car accident.",
    "My name is Jane Doe.",
    "My policy number is B-12345.",
    "A truck hit my parked car on Main Street in Lyon on November 24 at 5 pm. Nobody was hurt.",
    "The repair will cost about two thousand euros.",
    "Does my policy cover a rental car while mine is repaired?",
    "My email is jane.doe@example.com.",
    "You can also reach me at +33 6 12 34 56 78.",
    "The truck driver gave me his insurance details, is that useful?",
    "I took photos of the damage, where should I send them?",
    "Can you repeat what you have noted so far?",
    "How long will the expert take to come?",
    "Will my premium go up after this?",
    "Can you text me the claim reference?",
    "My car is a blue Peugeot 208 from 2019.",
    "The police did not come, is that a problem?",
    "Could you speak a little slower, please?",
    "I think that is everything for the claim.",
    "What happens next?",
    "No, that's all. Thank you, goodbye.",
]

EXTRA_RULES = [
    {
        "name": "coverage",
        "user": "(?i)cover|premium",
        "tool_calls": [{"name": "search_documents", "arguments": {"query": "rental car coverage"}}],
    },
    {
        "name": "search-result",
        "tool_name": "search_documents",
        "say": "I don't have that document at hand. An advisor will confirm it during the expert call-back, "
        "and I have noted your question.",
    },
    {
        "name": "email",
        "user": r"(?i)email is (?P<email>\S+?)\.?$",
        "tool_calls": [
            {
                "name": "update_claim",
                "arguments": {"updates": [{"field": "caller_email", "value": "{email}"}]},
            }
        ],
    },
    {
        "name": "phone",
        "user": r"(?i)reach me at (?P<phone>[+\d ]+)",
        "tool_calls": [
            {
                "name": "update_claim",
                "arguments": {"updates": [{"field": "caller_phone", "value": "{phone}"}]},
            }
        ],
    },
    {
        "name": "sms",
        "user": "(?i)text me",
        "tool_calls": [{"name": "send_sms", "arguments": {"message": "Claim ref CLM-0001"}}],
    },
    {
        "name": "sms-sent",
        "tool_name": "send_sms",
        "say": "I've just sent you the claim reference by text message.",
    },
    {
        "name": "slower",
        "user": "(?i)slower",
        "tool_calls": [{"name": "speech_speed", "arguments": {"speed": 0.85}}],
    },
    {
        "name": "slower-done",
        "tool_name": "speech_speed",
        "say": "Of course, I'll speak more slowly. What else can I do?",
    },
    {
        "name": "generic",
        "user": "(?i)useful|photos|repeat|expert|peugeot|police|everything|next",
        "say": "[style=calm] Thank you, that's helpful. I've noted it in your file, and the expert "
        "will review everything when they call you back. Your claim is progressing well. Is there anything "
        "else you would like to add about the accident?",
    },
]


class NoSms:
    async def send(self, to: str, message: str) -> bool:
        return True


def make_call() -> Call:
    return Call(
        direction=CallDirection.INBOUND,
        initiate=InitiateRequest(
            phone_number="+33612345678",
            bot_name="Amélie",
            bot_company="Contoso Insurance",
            task="Help the caller with their insurance claim. Collect the details of the incident, reassure "
            "them, and create reminders for any follow-up.",
            agent_phone_number="+15550109999",
            languages=[LanguageOption(code="en-US", name="English", voice="en-US-AvaMultilingualNeural")],
            default_language="en-US",
        ),
    )


async def run_conversation(server: ScriptedLlm, budget: int) -> list[int]:
    server.reset()
    server.set_rules([*load_rules(EXTRA_RULES), *load_rules_file(DEMO_RULES)])
    endpoint = LlmEndpointSettings(endpoint=server.base_url, model="scripted")
    settings = Settings(llm=LlmSettings(primary=endpoint, history_token_budget=budget, retry_backoff_s=0))
    client = OpenAIChatModel(settings.llm)
    engine = TurnEngine(settings, client, sms=NoSms(), clock=lambda: NOW)
    call = make_call()
    per_turn: list[int] = []
    try:
        for index, line in enumerate(SCRIPT):
            before = len(server.requests)
            turn = engine.run(call, line, turn_id=f"turn-{index}")
            async for _ in turn:
                pass
            turn.outcome.mutation(call)
            per_turn.append(sum(r.estimated_prompt_tokens for r in server.requests[before:]))
    finally:
        await client.close()
    return per_turn


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--budget", type=int, default=LlmSettings().history_token_budget, help="history token budget"
    )
    args = parser.parse_args()
    async with ScriptedLlm() as server:
        trimmed = await run_conversation(server, args.budget)
        baseline = await run_conversation(server, 10**9)
    print(f"history_token_budget={args.budget} turns={len(SCRIPT)}")
    print(f"{'turn':>4} {'trimmed':>8} {'baseline':>8}")
    for index, (a, b) in enumerate(zip(trimmed, baseline, strict=True), start=1):
        print(f"{index:>4} {a:>8} {b:>8}")
    print(
        f"prompt_tokens total={sum(trimmed)} baseline={sum(baseline)} "
        f"per_turn_p50={int(statistics.median(trimmed))} per_turn_p95={percentile(trimmed, 0.95)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
