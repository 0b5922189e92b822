"""What one turn and one call may store. Azure Cosmos DB refuses items over 2 MB (413), so a call whose
model loops on tool calls, sends huge arguments or talks without end must stay far below that: each
turn is bounded (tool calls per round, argument, result and message sizes, sentences per answer) and
the call as a whole is compacted before it is written when it grows past a budget. Pure."""

from __future__ import annotations

from core.models import Call

# Per model round: tool calls run (the rest are dropped, with their ids, so the history stays valid).
MAX_TOOL_CALLS_PER_ROUND = 8
# Stored per tool call: arguments over this are not run (and stored as "{}"), results are cut.
MAX_ARGUMENT_CHARS = 4_000
MAX_RESULT_CHARS = 4_000
# One message's text (the caller's words, the bot's answer of one round).
MAX_MESSAGE_CHARS = 4_000
# Sentences one answer may speak (each becomes a play prompt of the next recognize).
MAX_SENTENCES_PER_TURN = 30
# The call document's budget (JSON bytes): past it, the oldest tool call payloads are dropped, then
# the oldest message texts, until it fits. Half of Cosmos DB's 2 MB: the rest of the document
# (claim, reminders, insights) has room.
CALL_BUDGET_BYTES = 1_000_000
COMPACTED = "[removed: the call grew too large]"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def document_bytes(call: Call) -> int:
    return len(call.model_dump_json().encode("utf-8", "surrogatepass"))


def compact(call: Call, budget: int = CALL_BUDGET_BYTES) -> bool:
    """Shrink the call to its budget, oldest first; True if anything was removed."""
    size = document_bytes(call)
    if size <= budget:
        return False
    # Tool payloads first (the model no longer needs old ones), then message texts, oldest first; the
    # last 10 messages are kept whole so the conversation can go on.
    keep = 10
    older = call.messages[:-keep] if len(call.messages) > keep else []
    for message in older:
        for tool_call in message.tool_calls:
            saved = len(tool_call.arguments) + len(tool_call.result or "")
            if saved > len(COMPACTED):
                tool_call.arguments, tool_call.result = "{}", COMPACTED
                size -= saved
        if size <= budget:
            return True
    size = document_bytes(call)
    for message in older:
        if len(message.content) > len(COMPACTED):
            size -= len(message.content.encode("utf-8", "surrogatepass")) - len(COMPACTED)
            message.content = COMPACTED
        if size <= budget:
            break
    return True
