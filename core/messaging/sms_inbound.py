"""Inbound SMS (Event Grid ``Microsoft.Communication.SMSReceived``).

During a live call the text joins the conversation and the bot answers on the phone (through the call
flow). Outside a call it is stored on the caller's case: the most recent call within the callback
window, else the most recent call at all. Each event is handled once (Table inbox, by event id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core.errors import InvalidInputError
from core.models import Action, Call, CallStatus, Message, Persona, normalize_e164, utcnow
from core.observability import logger, redact

if TYPE_CHECKING:
    from core.bootstrap import Services

SMS_RECEIVED = "Microsoft.Communication.SMSReceived"
INBOX_PARTITION = "sms-inbound"
MAX_SMS_CHARS = 2000

# (live call, text, source id) -> None: how a turn runs on an SMS (the call flow's, by default).
LiveCallHandler = Callable[[Call, str, str], Awaitable[object]]


class InboundSmsResult(StrEnum):
    IN_CALL = "answered_in_call"
    STORED = "stored_on_case"
    NO_CASE = "no_case"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class InboundSms:
    event_id: str
    sender: str  # E.164
    recipient: str
    text: str


def _pick(data: Mapping[str, Any], name: str) -> Any:
    """A data field by its camelCase name or its PascalCase form (the Event Grid schema example)."""
    for key in (name, name[:1].upper() + name[1:]):
        if key in data:
            return data[key]
    return None


def _e164(raw: Any, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInputError(f"SMSReceived event has no '{field}'")
    number = raw.strip()
    try:
        return normalize_e164(number if number.startswith("+") else "+" + number)
    except ValueError:
        # The number itself stays out of the message: it may end up in logs.
        raise InvalidInputError(f"SMSReceived '{field}' is not a valid phone number") from None


def parse_sms_received(event_id: str, data: Mapping[str, Any] | None) -> InboundSms:
    """Parse the event's data (camelCase or PascalCase keys); InvalidInputError when unusable."""
    if not event_id:
        raise InvalidInputError("SMSReceived event has no id")
    if not isinstance(data, Mapping):
        raise InvalidInputError("SMSReceived event has no data object")
    text = _pick(data, "message")
    if not isinstance(text, str):
        raise InvalidInputError("SMSReceived event has no 'message' text")
    return InboundSms(
        event_id=event_id,
        sender=_e164(_pick(data, "from"), "from"),
        recipient=str(_pick(data, "to") or ""),
        text=text.strip()[:MAX_SMS_CHARS],
    )


async def find_case(container: Services, phone_number: str, now: datetime | None = None) -> Call | None:
    """The caller's most recent call within the callback window, else the most recent at all."""
    window = timedelta(hours=(await container.runtime_config.snapshot()).callback_window_hours)
    since = (now or utcnow()) - window
    call = await container.calls.latest_for_phone_number(phone_number, since)
    if call is not None:
        return call
    page = await container.calls.list(phone_number=phone_number, limit=1)
    return page.calls[0] if page.calls else None


async def store_on_case(container: Services, call: Call, sms: InboundSms) -> None:
    def append(fresh: Call) -> bool:
        if fresh.has_message(sms.event_id):
            return False
        fresh.messages.append(
            Message(persona=Persona.HUMAN, action=Action.SMS, content=sms.text, source_id=sms.event_id)
        )
        return True

    await container.calls.update(call.call_id, append)


async def handle_sms_received(
    container: Services,
    event_id: str,
    event_type: str,
    data: Mapping[str, Any] | None,
    *,
    live_call_handler: LiveCallHandler | None = None,
) -> InboundSmsResult:
    """Handle one SMSReceived event. InvalidInputError for an event that can never be handled."""
    if event_type != SMS_RECEIVED:
        return InboundSmsResult.IGNORED
    sms = parse_sms_received(event_id, data)
    if not sms.text:
        return InboundSmsResult.IGNORED
    if not await container.inbox.claim(INBOX_PARTITION, sms.event_id):
        return InboundSmsResult.DUPLICATE
    try:
        call = await find_case(container, sms.sender)
        if call is None:
            logger().info("SMS from %s matches no case: not stored", redact(sms.sender))
            return InboundSmsResult.NO_CASE
        if call.status is CallStatus.CONNECTED:
            handler = live_call_handler or container.flow.handle_sms_during_call
            await handler(call, sms.text, sms.event_id)
            logger().info("SMS taken into live call %s", call.call_id)
            return InboundSmsResult.IN_CALL
        await store_on_case(container, call, sms)
        logger().info("SMS stored on call %s", call.call_id)
        return InboundSmsResult.STORED
    except BaseException:
        await container.inbox.release(INBOX_PARTITION, sms.event_id)
        raise
