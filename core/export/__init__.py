"""Export for fine-tuning: the anonymized transcripts of a date range as chat-format JSONL.

    python -m core.export --from 2026-01-01 --to 2026-02-01 > calls.jsonl
    GET /export?from=2026-01-01&to=2026-02-01      (function key; application/x-ndjson)

One line per call: ``{"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": ...}]}``,
the OpenAI fine-tuning chat format, tool calls included; PII redacted (core/export/redact.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from core.errors import InvalidInputError
from core.export.redact import redactor
from core.models import Action, Call, Persona
from core.ports import CallStore

PAGE_SIZE = 100


def parse_day(raw: str | None, name: str) -> datetime:
    """``YYYY-MM-DD`` (or a full ISO date-time) as an aware UTC datetime; InvalidInputError otherwise."""
    if not raw:
        raise InvalidInputError(f"{name} is required (YYYY-MM-DD)")
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), UTC)
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInputError(f"{name} '{raw[:40]}' is not a date (YYYY-MM-DD)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def date_range(raw_from: str | None, raw_to: str | None) -> tuple[datetime, datetime]:
    """[from, to): ``to`` as a day includes that whole day."""
    since = parse_day(raw_from, "from")
    until = parse_day(raw_to, "to")
    if raw_to and len(raw_to) == 10:
        until += timedelta(days=1)
    if until <= since:
        raise InvalidInputError("to must not be before from")
    return since, until


def chat_example(call: Call, regions: tuple[str, ...] = ("US",)) -> dict[str, Any] | None:
    """The call as one fine-tuning example, redacted; None when it has no exchange to learn from."""
    redact = redactor(call, regions)
    messages: list[dict[str, Any]] = [{"role": "system", "content": redact(call.initiate.task)}]
    for message in call.messages:
        if message.content_filtered or message.action in (Action.HANGUP, Action.TRANSFER):
            continue
        if message.persona is Persona.HUMAN and message.content:
            messages.append({"role": "user", "content": redact(message.content)})
        elif message.persona is Persona.ASSISTANT and message.action is not Action.SMS:
            if not message.content and not message.tool_calls:
                continue
            said: dict[str, Any] = {"role": "assistant", "content": redact(message.content) or None}
            if message.tool_calls:
                said["tool_calls"] = [
                    {
                        "id": t.id,
                        "type": "function",
                        "function": {"name": t.name, "arguments": redact(t.arguments)},
                    }
                    for t in message.tool_calls
                ]
            messages.append(said)
            messages += [
                {"role": "tool", "tool_call_id": t.id, "content": redact(t.result or "")}
                for t in message.tool_calls
            ]
    roles = {m["role"] for m in messages}
    if not {"user", "assistant"} <= roles:
        return None
    return {"messages": messages}


async def export_lines(
    store: CallStore, since: datetime, until: datetime, regions: tuple[str, ...] = ("US",)
) -> AsyncIterator[str]:
    """JSONL lines (with their newline) of the calls created in [since, until), newest first."""
    continuation: str | None = None
    while True:
        page = await store.list(limit=PAGE_SIZE, continuation=continuation)
        for call in page.calls:
            if call.created_at < since:
                return  # newest first: everything after is older
            if call.created_at >= until:
                continue
            example = chat_example(call, regions)
            if example is not None:
                yield json.dumps(example, ensure_ascii=False) + "\n"
        if page.continuation is None:
            return
        continuation = page.continuation
