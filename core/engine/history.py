"""The history the model gets: the recent exchanges word for word, the older ones as a short digest.

A call's prompt must stop growing with the call, yet provider prompt caching only reuses a prefix that
is identical to the previous request's. So the history is compacted in blocks, not slid one exchange at
a time:

- an *exchange* starts at each caller message (what came before the first one, the greeting, is an
  exchange of its own); the current exchange, the one being answered, is always verbatim;
- of the past exchanges, between ``keep`` and ``keep + block - 1`` stay verbatim: every ``block``
  exchanges the oldest ``block`` of them move into the digest at once. Between two such folds the
  history only grows at its end, so each request's prompt starts with the previous one's;
- the digest is one line per older exchange, deterministic (no model call, nothing stored): the start of
  what the caller said, the start of the answer, the tools used. It shows the last ``digest_max``
  folded exchanges (a multiple of ``block``, so it too changes only at a fold) and counts the rest.

What the caller gave is not lost with the words: the claim values and the reminders, in the state
message at the end of the prompt, carry it; the digest keeps the thread of the conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.models import Action, Message, Persona

CALLER_WORDS = 12
ANSWER_WORDS = 10


@dataclass(frozen=True)
class Compaction:
    """How much history stays verbatim (see the module docstring)."""

    keep: int = 2
    block: int = 4
    digest_max: int = 8

    def __post_init__(self) -> None:
        if self.keep < 1 or self.block < 1 or self.digest_max < self.block or self.digest_max % self.block:
            raise ValueError("keep >= 1, block >= 1, digest_max a positive multiple of block")


@dataclass(frozen=True)
class CompactedHistory:
    digest: list[str]  # one line per folded exchange shown, oldest first
    left_out: int  # folded exchanges older than the digest shows
    recent: list[Message]  # the verbatim part, from the oldest kept exchange to the current one


def _starts_exchange(message: Message) -> bool:
    # The caller messages the model sees (filtered ones are left out of the prompt altogether).
    return message.persona is Persona.HUMAN and bool(message.content) and not message.content_filtered


def exchanges(messages: list[Message]) -> list[list[Message]]:
    groups: list[list[Message]] = []
    for message in messages:
        if not groups or _starts_exchange(message):
            groups.append([])
        groups[-1].append(message)
    return groups


def folded_count(past: int, compaction: Compaction) -> int:
    """How many of `past` exchanges (all but the current one) are folded into the digest."""
    if past < compaction.keep + compaction.block:
        return 0
    return (past - compaction.keep) // compaction.block * compaction.block


def compact(messages: list[Message], compaction: Compaction) -> CompactedHistory:
    groups = exchanges(messages)
    folded = folded_count(max(len(groups) - 1, 0), compaction)
    shown_from = folded - min(folded, compaction.digest_max)
    digest = [line for group in groups[shown_from:folded] if (line := digest_line(group))]
    recent = [m for group in groups[folded:] for m in group]
    return CompactedHistory(digest=digest, left_out=shown_from, recent=recent)


def _clip(text: str, words: int) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _first_sentence(text: str) -> str:
    for end in (". ", "? ", "! "):
        index = text.find(end)
        if index > 0:
            text = text[: index + 1]
    return text


def digest_line(group: list[Message]) -> str:
    """One exchange in a line: "Caller: … | You: … | tools: update_claim(caller_email), send_sms"."""
    parts: list[str] = []
    answer = ""
    tools: list[str] = []
    for message in group:
        if message.content_filtered:
            continue
        if message.persona is Persona.HUMAN and message.content:
            who = "Caller (SMS)" if message.action is Action.SMS else "Caller"
            parts.append(f"{who}: {_clip(message.content, CALLER_WORDS)}")
        elif message.persona is Persona.ASSISTANT:
            if message.content and not answer and message.action is not Action.SMS:
                answer = _clip(_first_sentence(message.content), ANSWER_WORDS)
            tools += [_tool_brief(t.name, t.arguments, t.result) for t in message.tool_calls]
        elif message.persona is Persona.TOOL and message.content:
            parts.append(f"event: {_clip(message.content, CALLER_WORDS)}")
    if answer:
        parts.append(f"You: {answer}")
    if tools:
        parts.append("tools: " + ", ".join(dict.fromkeys(tools)))
    return " | ".join(parts)


def _tool_brief(name: str, arguments: str, result: str | None) -> str:
    brief = name
    if name == "update_claim":
        try:
            updates = json.loads(arguments).get("updates") or []
            fields = [str(u.get("field")) for u in updates if isinstance(u, dict)]
        except (ValueError, AttributeError):
            fields = []
        if fields:
            brief = f"{name}({', '.join(fields)})"
    if result is not None and result.startswith("Error: "):
        brief += " failed"
    return brief


def digest_text(history: CompactedHistory) -> str:
    """The digest as the model reads it, or "" when nothing is folded yet."""
    if not history.digest and not history.left_out:
        return ""
    lines = ["Earlier in this call (shortened, oldest first):"]
    if history.left_out:
        lines.append(f"- ({history.left_out} earlier exchanges not shown)")
    lines += [f"- {line}" for line in history.digest]
    return "\n".join(lines)
