"""Cost per call: the quantities a call used, measured from its document, priced at the settings' unit
prices (core/settings_costs.py), stored on the call (``call.cost``) when it ends and after its insights.

What is measured, and how:
- LLM tokens per model: the conversation's tokens as the model reported them (the engine's
  ``counters.llm_*_tokens``; estimated when an endpoint reports none), under the conversation model's
  name; the post-call insights' tokens (estimated) under the insights model's name.
- Text to speech: the characters of what the transcript holds the bot said (greetings, answers,
  goodbyes). Prompts kept out of the transcript (the language menu, silence prompts, fillers) are not
  counted.
- Call and recognition time: the connected time of each connection of the case, from its greeting to
  its hang-up. ACS recognizes speech whenever the bot listens, so recognition is priced on the same time.
- SMS: the messages the bot sent (its tool and the post-call summary).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core.models import Action, Call, CallDirection, Persona, utcnow
from core.models.cost import CallCost, CallUsage, TokenUsage, price

if TYPE_CHECKING:
    from core.settings import Settings

UNKNOWN_MODEL = "unknown"


def chat_model_name(settings: Settings) -> str:
    """The model the conversation is configured to use."""
    llm = settings.llm
    if llm.slow_llm_for_chat and llm.slow.configured:
        return llm.slow.primary.model
    return llm.primary.model or UNKNOWN_MODEL


def insights_model_name(settings: Settings) -> str:
    llm = settings.llm
    return (llm.slow.primary.model if llm.slow.configured else llm.primary.model) or UNKNOWN_MODEL


def connected_seconds(call: Call, now: datetime | None = None) -> float:
    """The connected time of every connection of the case: greeting to hang-up."""
    total = 0.0
    started: datetime | None = None
    for message in call.messages:
        if message.action is Action.CALL and started is None:
            started = message.created_at
        elif message.action is Action.HANGUP and started is not None:
            total += max((message.created_at - started).total_seconds(), 0.0)
            started = None
    if started is not None:  # not hung up (yet): until the end, or now
        end = call.ended_at or now or utcnow()
        total += max((end - started).total_seconds(), 0.0)
    return total


def measure(call: Call, settings: Settings) -> CallUsage:
    tokens: dict[str, TokenUsage] = {}

    def add(model: str, prompt: int, completion: int) -> None:
        if prompt or completion:
            usage = tokens.setdefault(model, TokenUsage())
            usage.prompt_tokens += prompt
            usage.completion_tokens += completion

    counters = call.counters
    add(chat_model_name(settings), counters.llm_prompt_tokens, counters.llm_completion_tokens)
    add(insights_model_name(settings), counters.insights_prompt_tokens, counters.insights_completion_tokens)
    spoken = sum(
        len(m.content)
        for m in call.messages
        if m.persona is Persona.ASSISTANT and m.action in (Action.CALL, Action.TALK)
    )
    seconds = connected_seconds(call)
    sent = sum(1 for m in call.messages if m.persona is Persona.ASSISTANT and m.action is Action.SMS)
    return CallUsage(
        tokens=tokens,
        tts_characters=spoken,
        recognition_seconds=seconds,
        call_seconds=seconds,
        sms_count=sent,
    )


def price_call(call: Call, settings: Settings) -> CallCost:
    """What the call cost at the configured prices."""
    usage = measure(call, settings)
    return price(usage, settings.prices.unit_prices, outbound=call.direction is CallDirection.OUTBOUND)


def total_of(calls: list[Call]) -> dict[str, float]:
    """The summed cost of priced calls, per currency."""
    totals: dict[str, float] = {}
    for call in calls:
        if call.cost is not None:
            totals[call.cost.currency] = totals.get(call.cost.currency, 0.0) + call.cost.total
    return totals
