"""The first turn of a call that holds an earlier case back (core.models.verification): the caller's
answer is checked here, in code, without the model; the earlier case's claim, reminders and history
join the conversation only when it matches. Pure."""

from __future__ import annotations

from core.engine import limits
from core.engine.outcome import Speech, TurnOutcome
from core.models import Call, Message, Persona, Reminder, Style
from core.models.verification import NOT_VERIFIED, VERIFIED, answer_matches, localized


def caller_answer(caller_text: str | None, extra: list[Message]) -> str:
    if caller_text:
        return caller_text
    return next((m.content for m in reversed(extra) if m.persona is Persona.HUMAN), "")


def verification_outcome(call: Call, answer: str, turn_id: str, extra: list[Message]) -> TurnOutcome:
    """What the bot says to the caller's answer, and the change to the call (the earlier case loaded, or
    let go for good)."""
    pending = call.connection.held_case
    assert pending is not None
    matched = answer_matches(pending, answer)
    reply = localized(VERIFIED if matched else NOT_VERIFIED, call.language)
    words = [m.model_copy(update={"source_id": m.source_id or turn_id}) for m in extra]
    said = Message(persona=Persona.ASSISTANT, content=reply, source_id=turn_id)

    def apply(fresh: Call) -> bool:
        held = fresh.connection.held_case
        if held is None or fresh.has_message(turn_id):
            return False
        fresh.connection.held_case = None
        if matched:
            fresh.claim = {**held.claim, **fresh.claim}
            fresh.reminders = [Reminder.model_validate(r) for r in held.reminders] + fresh.reminders
            fresh.messages = [Message.model_validate(m) for m in held.messages] + fresh.messages
            fresh.resumed_count = held.resumed_count + 1
        for message in words:
            if not fresh.has_message(message.source_id or ""):
                fresh.messages.append(message.model_copy(deep=True))
        fresh.messages.append(said.model_copy(deep=True))
        limits.compact(fresh)
        return True

    outcome = TurnOutcome()
    outcome.spoken.append(Speech(text=reply, style=Style.NONE, language=""))
    outcome.mutation = apply
    return outcome
