"""Inbound SMS: a person texts a number of the resource, and the emulator delivers the
``Microsoft.Communication.SMSReceived`` Event Grid event to ``config.sms_eventgrid_endpoint`` (a
subscription of its own, as in Azure), with the Event Grid retries of every other event.

The event follows the Event Grid contract (``AcsSmsReceivedEventData``: messageId, from, to, message,
receivedTimestamp, segmentCount; numbers in E.164). Every received text and each delivery attempt is
kept in ``InboundSmsDesk.log`` (a transcript), so a test can wait until the product has answered it.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.acs_emulator.callbacks import Dispatcher
from local.acs_emulator.config import EmulatorConfig
from local.acs_emulator.sms import valid_number
from local.acs_emulator.transcript import Transcript

SMS_RECEIVED = "Microsoft.Communication.SMSReceived"
# One SMS segment: 160 GSM-7 characters, 70 when the text needs UCS-2.
GSM_SEGMENT = 160
UCS2_SEGMENT = 70


class InboundSmsError(ValueError):
    """The text cannot be received (bad number, a number the resource does not own, empty text)."""


def segment_count(text: str) -> int:
    per_segment = GSM_SEGMENT if all(ord(c) < 128 for c in text) else UCS2_SEGMENT
    return max(1, -(-len(text) // per_segment))


def sms_received_event(topic: str, from_number: str, to: str, message: str) -> dict[str, Any]:
    """The Event Grid schema event ACS publishes when ``to`` receives ``message`` from ``from_number``."""
    message_id = f"Incoming_{datetime.now(UTC):%Y%m%d%H%M%S}{uuid.uuid4()}"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "id": message_id,
        "topic": topic,
        "subject": f"/phonenumber/{to.lstrip('+')}",
        "data": {
            "messageId": message_id,
            "from": from_number,
            "to": to,
            "message": message,
            "receivedTimestamp": now,
            "segmentCount": segment_count(message),
        },
        "eventType": SMS_RECEIVED,
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": now,
    }


@dataclass
class DeliveryOutcome:
    event_id: str
    status: int | None  # the last attempt's HTTP status (None: no answer)
    attempts: int

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class InboundSmsDesk:
    def __init__(self, config: EmulatorConfig, dispatcher: Dispatcher) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.log = Transcript()
        self.received: list[dict[str, Any]] = []

    def _topic(self) -> str:
        return (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
            f"Microsoft.Communication/communicationServices/{self.config.resource_name}"
        )

    def receive(self, from_number: str, message: str, to: str | None = None) -> dict[str, Any]:
        """``from_number`` texts ``to`` (default: the bot's number); returns the event. Without a
        ``sms_eventgrid_endpoint`` the text is kept but nothing is delivered (no subscription)."""
        to = to or self.config.bot_phone_number
        if not valid_number(from_number):
            raise InboundSmsError(f"the sender {from_number!r} is not an E.164 phone number")
        if to not in self.config.owned_numbers:
            raise InboundSmsError(f"{to} is not a number of this resource")
        if not message:
            raise InboundSmsError("an SMS needs a text")
        event = sms_received_event(self._topic(), from_number, to, message)
        self.received.append(event)
        endpoint = self.config.sms_eventgrid_endpoint
        self.log.add("sms_received", event_id=event["id"], uri=endpoint, **{"from": from_number, "to": to})
        if endpoint:
            self.dispatcher.send_eventgrid(f"sms-{from_number}", endpoint, event, self.log)
        return event

    def outcome(self, event_id: str) -> DeliveryOutcome | None:
        """The delivery's end (accepted, or every retry spent), or None while it is still going."""
        attempts = [
            e for e in self.log.entries if e["kind"] == "eventgrid_delivery" and e.get("event_id") == event_id
        ]
        if not attempts:
            return None
        last = attempts[-1]
        result = DeliveryOutcome(event_id, last.get("status"), int(last.get("attempt") or 0))
        if result.delivered or result.attempts > len(self.config.retry_delays_s):
            return result
        return None

    async def wait_delivered(self, event_id: str, timeout: float = 30.0) -> DeliveryOutcome:  # noqa: ASYNC109 (documented helper signature)
        """Wait until the event's delivery has ended; TimeoutError if it has not within ``timeout``."""
        async with asyncio.timeout(timeout):
            while True:
                seen = len(self.log.entries)
                found = self.outcome(event_id)
                if found is not None:
                    return found
                await self.log.wait_after(seen, timeout)
