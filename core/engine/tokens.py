"""Token estimates without tokenizer files, and trimming of the history to a token budget.

The estimate follows the shape of BPE tokenizers (cl100k/o200k): a short ASCII word is one token, a long
word a few, punctuation one each, non-ASCII text more per character. On the 60-turn claim call of
``bench/prompt_budget.py`` it is within about 10% of the exact o200k_base count of every request, which
is all a budget needs; the `usage` the API returns is used for the call's counters whenever the endpoint
sends it.

Why not the exact count here: loading o200k_base (tiktoken and its 3.6 MB rank file) costs a worker about
0.45 s of CPU and 82 MB of memory (measured on the development machine), for a budget that the bounded
prompt (``core.engine.history``) keeps far from being reached: ~2,000 tokens against 6,000. The exact
count is the benchmark's (``bench/prompt_budget.py``, with the encoding vendored there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_PIECE = re.compile(r"[A-Za-z]+|\d{1,3}|[^\W\d_A-Za-z]+|[^\w\s]|_", re.UNICODE)
# Per-message framing of the chat format (role, separators).
MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3


def estimate_tokens(text: str) -> int:
    """Estimated token count of a text."""
    if not text:
        return 0
    count = 0
    for match in _PIECE.finditer(text):
        piece = match.group()
        if piece.isascii():
            # Common English words are one token; longer ones split every ~6 characters.
            count += 1 + (len(piece) - 1) // 6 if piece[0].isalpha() else 1
        else:
            # Accented or non-Latin words split much more often.
            count += 1 + len(piece) // 3
    return count


def estimate_message_tokens(message: Mapping[str, Any]) -> int:
    tokens = MESSAGE_OVERHEAD
    content = message.get("content")
    if isinstance(content, str):
        tokens += estimate_tokens(content)
    elif isinstance(content, list):
        tokens += sum(
            estimate_tokens(str(part.get("text", ""))) for part in content if isinstance(part, dict)
        )
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        tokens += (
            3
            + estimate_tokens(str(function.get("name", "")))
            + estimate_tokens(str(function.get("arguments", "")))
        )
    if message.get("name"):
        tokens += 1
    return tokens


def estimate_messages_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    return REPLY_PRIMING + sum(estimate_message_tokens(m) for m in messages)


def _schema_tokens(schema: Mapping[str, Any]) -> int:
    """Providers render parameters compactly (TypeScript-like): names, types, descriptions, enums."""
    tokens = 0
    for name, prop in (schema.get("properties") or {}).items():
        tokens += 3 + estimate_tokens(name) + estimate_tokens(str(prop.get("description", "")))
        tokens += estimate_tokens(json.dumps(prop.get("enum", ""))) if "enum" in prop else 0
        tokens += sum(1 for _ in prop.get("anyOf", []))
        if isinstance(prop.get("items"), Mapping):
            tokens += 2 + _schema_tokens(prop["items"])
        if isinstance(prop.get("properties"), Mapping):
            tokens += 2 + _schema_tokens(prop)
    return tokens


def estimate_tools_tokens(tools: Sequence[Mapping[str, Any]] | None) -> int:
    if not tools:
        return 0
    tokens = 12
    for tool in tools:
        function = tool.get("function", tool)
        tokens += 8 + estimate_tokens(str(function.get("name", "")))
        tokens += estimate_tokens(str(function.get("description", "")))
        tokens += _schema_tokens(function.get("parameters") or {})
    return tokens


def estimate_prompt_tokens(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None
) -> int:
    return estimate_messages_tokens(messages) + estimate_tools_tokens(tools)


def _groups(messages: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Messages grouped so that an assistant message with tool calls stays with its tool results."""
    groups: list[list[dict[str, Any]]] = []
    for message in messages:
        if (
            message.get("role") == "tool"
            and groups
            and (groups[-1][0].get("tool_calls") or groups[-1][0].get("role") == "tool")
        ):
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def trim_history(messages: Sequence[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Keep the most recent messages that fit in `budget` tokens.

    Never splits a tool call from its results, never starts with a tool result, and always keeps the
    current exchange (from the last user message on) even if it alone exceeds the budget.
    """
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=len(messages) - 1)
    tail = list(messages[max(last_user, 0) :])
    used = sum(estimate_message_tokens(m) for m in tail)
    kept: list[list[dict[str, Any]]] = []
    for group in reversed(_groups(messages[: max(last_user, 0)])):
        cost = sum(estimate_message_tokens(m) for m in group)
        if used + cost > budget:
            break
        kept.append(group)
        used += cost
    result = [m for group in reversed(kept) for m in group] + tail
    while result and result[0].get("role") == "tool":
        result.pop(0)
    return result
