"""The whole local stack with its fault tools: TCP proxies in front of Cosmos DB and Azurite (tables,
queues), the emulator's per-operation ACS faults, and what a caller heard, counted.

Used by the end-to-end fault tests and by ``bench/faults.py``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from local.stack import AZURITE_PORTS, COSMOS_PORT
from local.tcp_proxy import TcpProxy
from tests.e2e.harness import CallStack, call_stack

# Azurite's well-known development account (public, documented; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
ONE_LANGUAGE = {"CONVERSATION__LANGUAGES": "en-US:English:en-US-AvaMultilingualNeural"}


GOODBYE = {
    "user": "(?i)goodbye",
    "say": "Goodbye then!",
    "tool_calls": [{"name": "end_call", "arguments": {}}],
}
POLICY = {
    "user": "(?i)policy number is (?P<policy>[A-Z]-\\d+)",
    "say": "Thank you, I noted your policy number.",
    "tool_calls": [
        {"name": "update_claim", "arguments": {"updates": [{"field": "policy_number", "value": "{policy}"}]}}
    ],
}
SMS = {
    "user": "(?i)text me",
    "say": "I am sending you a text now.",
    "tool_calls": [{"name": "send_sms", "arguments": {"message": "Your reference is 42."}}],
}


def fault_rules(*first: dict[str, Any]) -> list[dict[str, Any]]:
    """The scripted model's answers the fault scenarios use (``first`` wins over the others)."""
    return [
        *first,
        GOODBYE,
        {"tool_name": "end_call", "say": ""},
        {"tool_name": "send_sms", "say": "Done, the text is on its way."},
        {"tool_name": "update_claim", "say": "Anything else?"},
        {"say": "How can I help?"},
    ]


@dataclass
class FaultStack:
    stack: CallStack
    cosmos: TcpProxy
    tables: TcpProxy
    queues: TcpProxy


@contextlib.asynccontextmanager
async def fault_stack(env: dict[str, str] | None = None, **emulator: Any) -> AsyncIterator[FaultStack]:
    blob_port, queue_port, table_port = AZURITE_PORTS
    async with (
        TcpProxy(COSMOS_PORT) as cosmos,
        TcpProxy(table_port) as tables,
        TcpProxy(queue_port) as queues,
    ):
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{blob_port}/{DEV_ACCOUNT};"
            f"QueueEndpoint=http://127.0.0.1:{queues.port}/{DEV_ACCOUNT};"
            f"TableEndpoint=http://127.0.0.1:{tables.port}/{DEV_ACCOUNT};"
        )
        overrides = {
            **ONE_LANGUAGE,
            "COSMOS__ENDPOINT": f"http://127.0.0.1:{cosmos.port}",
            "STORAGE__CONNECTION_STRING": connection,
            **(env or {}),
        }
        async with call_stack(overrides, **emulator) as stack:
            yield FaultStack(stack, cosmos, tables, queues)


def bot_lines(stack: CallStack, emulated_call_id: str) -> list[str]:
    return [e["text"] for e in stack.bot_said(emulated_call_id)]


def heard_twice(stack: CallStack, emulated_call_id: str) -> dict[str, int]:
    """Bot sentences the caller heard more than once (phrases meant to repeat are the caller's to judge)."""
    counts = Counter(bot_lines(stack, emulated_call_id))
    return {line: n for line, n in counts.items() if n > 1}


def longest_silence_s(stack: CallStack, emulated_call_id: str, until: float | None = None) -> float:
    """The longest time the caller waited for the bot: from the caller's words, silence or key press
    (or the answer) to the bot's next media operation, transfer or hang-up. A wait still open at the
    end of the transcript runs to ``until`` (seconds since the call started), when given."""
    longest, waiting_since = 0.0, None
    for entry in stack.transcript(emulated_call_id):
        at, kind = float(entry["t"]), entry["kind"]
        if kind in ("caller_said", "caller_silence", "caller_dtmf") or (
            kind == "call_state" and entry.get("state") == "connected"
        ):
            waiting_since = at
        elif kind in ("media_queued", "transfer", "call_ended", "caller_hangup"):
            if waiting_since is not None:
                longest = max(longest, at - waiting_since)
            waiting_since = None
    if waiting_since is not None and until is not None:
        longest = max(longest, until - waiting_since)
    return longest
