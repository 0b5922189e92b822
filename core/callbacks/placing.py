"""The call placed for a reminder: its id, its task, and placing it through the telephony port."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from core.errors import ConcurrencyError, TelephonyError
from core.models import Call, CallDirection, Reminder
from core.models.reminder import CallbackOrigin

if TYPE_CHECKING:
    from core.ports import CallStore, Telephony
    from core.settings import Settings

# Call-back call ids are derived from (original call, reminder, attempt): an attempt placed by one
# instance is found, never placed again, by another that took over a lost lease.
_NAMESPACE = uuid.UUID("6f1d3c52-2d4e-4a83-9f0e-8c1b7a5e2c10")
MAX_TASK = 4000


def callback_call_id(original_call_id: str, reminder: Reminder, attempt: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{original_call_id}/{reminder.key}/{attempt}"))


def _person(original: Call) -> str:
    for field in ("caller_name", "name", "full_name"):
        value = original.claim.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "the person"


def callback_task(settings: Settings, original: Call, reminder: Reminder) -> str:
    """The reminder as the new call's task (CALLBACKS__TASK), the earlier call's task for context."""
    values = {
        "title": reminder.title,
        "description": reminder.description,
        "when": original.created_at.date().isoformat(),
        "task": original.initiate.task,
        "name": _person(original),
    }
    try:
        text = settings.callbacks.task.format(**values)
    except (KeyError, IndexError, ValueError):  # a template naming something else: keep what it says
        text = settings.callbacks.task
    return " ".join(text.split())[:MAX_TASK]


def callback_call(settings: Settings, original: Call, reminder: Reminder, attempt: int) -> Call:
    """The new call: the original's bot, schema, agent and languages; the reminder as its task; the
    language the person spoke last time (no language menu); the claim known so far."""
    initiate = original.initiate.model_copy(update={"task": callback_task(settings, original, reminder)})
    return Call(
        call_id=callback_call_id(original.call_id, reminder, attempt),
        direction=CallDirection.OUTBOUND,
        initiate=initiate,
        language=original.language,
        language_chosen=True,
        claim=dict(original.claim),
        callback_of=CallbackOrigin(call_id=original.call_id, reminder=reminder.title, attempt=attempt),
    )


def callback_url(settings: Settings, call: Call) -> str:
    base = settings.acs.callback_base_url.rstrip("/")
    return f"{base}/callbacks/{call.call_id}/{call.callback_secret}"


async def place(
    settings: Settings,
    calls: CallStore,
    telephony: Telephony,
    original: Call,
    reminder: Reminder,
    attempt: int,
) -> tuple[Call, bool]:
    """Create and place attempt ``attempt``'s call, once: (the call, True) when this run placed it;
    (the stored call, False) when it existed already (placed, or being placed, by another run).
    TelephonyError when ACS refused: the new call is stored as ended with the reason."""
    call_id = callback_call_id(original.call_id, reminder, attempt)
    existing = await calls.get(call_id)
    if existing is not None:
        return existing, False
    try:
        created = await calls.create(callback_call(settings, original, reminder, attempt))
    except ConcurrencyError:  # created meanwhile by a run that took a lost lease over
        found = await calls.get(call_id)
        if found is None:
            raise
        return found, False
    try:
        connection_id = await telephony.call(created.phone_number, callback_url(settings, created))
    except TelephonyError as exc:
        reason = f"could not place the call: {type(exc).__name__}"
        await calls.update(call_id, lambda c: c.end(reason), current=created)
        raise
    placed = await calls.update(call_id, lambda c: c.attach(connection_id), current=created)
    return placed, True
