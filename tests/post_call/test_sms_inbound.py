"""Inbound SMS through the Event Grid webhook of the host adapter (Event Grid and CloudEvents schemas,
PascalCase and camelCase data keys), stored on the caller's case, each event handled once."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.messaging.sms_inbound import InboundSmsResult, handle_sms_received
from core.models import Action, Call, CallStatus, Persona, utcnow
from tests.conftest import make_call
from tests.post_call.harness import AppStack, app_stack

pytestmark = pytest.mark.usefixtures("local_stack")

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "eventgrid"


def random_number() -> str:
    return f"+1415555{uuid.uuid4().int % 10000:04d}"


def eventgrid_event(event_id: str, sender: str, text: str, *, pascal: bool = True) -> dict[str, Any]:
    """An SMSReceived event in the Event Grid schema, shaped like the published example."""
    keys = (
        ("MessageId", "From", "To", "Message", "ReceivedTimestamp")
        if pascal
        else ("messageId", "from", "to", "message", "receivedTimestamp")
    )
    values = (event_id, sender.lstrip("+"), "15550100000", text, "2026-01-01T10:00:00Z")
    return {
        "id": event_id,
        "topic": "/subscriptions/x/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs",
        "subject": f"/phonenumber/{sender.lstrip('+')}",
        "data": dict(zip(keys, values, strict=True)),
        "eventType": "Microsoft.Communication.SMSReceived",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": "2026-01-01T10:00:01Z",
    }


def cloud_event(event_id: str, sender: str, text: str) -> dict[str, Any]:
    return {
        "source": "/subscriptions/x/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs",
        "subject": f"/phonenumber/{sender.lstrip('+')}",
        "type": "Microsoft.Communication.SMSReceived",
        "time": "2026-01-01T10:00:01Z",
        "id": event_id,
        "data": {"messageId": event_id, "from": sender, "to": "+15550100000", "message": text},
        "specversion": "1.0",
    }


async def deliver(stack: AppStack, events: list[dict[str, Any]]) -> int:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            stack.url(
                "/runtime/webhooks/EventGrid", functionName="sms_received", code=stack.host.function_key
            ),
            data=json.dumps(events),
            headers={"aeg-event-type": "Notification", "content-type": "application/json"},
        )
        return response.status


def sms_messages(call: Call) -> list[str]:
    return [m.content for m in call.messages if m.action is Action.SMS and m.persona is Persona.HUMAN]


async def test_sms_outside_a_call_is_stored_on_the_latest_case_once(monkeypatch: pytest.MonkeyPatch) -> None:
    number = random_number()
    async with app_stack(monkeypatch) as stack:
        calls = stack.container.calls
        older = make_call(number)
        older.created_at = utcnow() - timedelta(hours=2)
        older.status = CallStatus.ENDED
        latest = make_call(number)
        latest.status = CallStatus.ENDED
        await calls.create(older)
        await calls.create(latest)

        event_id = f"Incoming_{uuid.uuid4().hex}"
        event = eventgrid_event(event_id, number, "My policy number is <b>AB-123</b>")
        assert await deliver(stack, [event]) == 202
        assert await deliver(stack, [event]) == 202  # redelivered by Event Grid: handled once

        camel_id = f"Incoming_{uuid.uuid4().hex}"
        assert await deliver(stack, [eventgrid_event(camel_id, number, "camel", pascal=False)]) == 202
        cloud_id = f"Incoming_{uuid.uuid4().hex}"
        assert await deliver(stack, [cloud_event(cloud_id, number, "cloud")]) == 202

        stored = await calls.get(latest.call_id)
        assert stored is not None
        assert sms_messages(stored) == ["My policy number is <b>AB-123</b>", "camel", "cloud"]
        assert [m.source_id for m in stored.messages] == [event_id, camel_id, cloud_id]
        untouched = await calls.get(older.call_id)
        assert untouched is not None and sms_messages(untouched) == []


async def test_sms_beyond_the_callback_window_goes_to_the_most_recent_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = random_number()
    async with app_stack(monkeypatch, env={"CONVERSATION__CALLBACK_WINDOW_HOURS": "1"}) as stack:
        old = make_call(number)
        old.created_at = utcnow() - timedelta(days=3)
        old.status = CallStatus.ENDED
        await stack.container.calls.create(old)

        assert await deliver(stack, [eventgrid_event(f"Incoming_{uuid.uuid4().hex}", number, "late")]) == 202
        stored = await stack.container.calls.get(old.call_id)
        assert stored is not None and sms_messages(stored) == ["late"]

        # A number with no case at all: acknowledged, nothing stored anywhere.
        unknown = random_number()
        assert await deliver(stack, [eventgrid_event(f"Incoming_{uuid.uuid4().hex}", unknown, "hi")]) == 202
        assert (await stack.container.calls.list(phone_number=unknown, limit=1)).calls == []


async def test_malformed_event_is_acknowledged_and_other_types_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with app_stack(monkeypatch) as stack:
        bad = eventgrid_event(f"Incoming_{uuid.uuid4().hex}", "+1", "x")
        bad["data"]["From"] = "not a number"
        assert await deliver(stack, [bad]) == 202
        other = eventgrid_event(f"Delivery_{uuid.uuid4().hex}", random_number(), "x")
        other["eventType"] = "Microsoft.Communication.SMSDeliveryReportReceived"
        assert await deliver(stack, [other]) == 202


def test_published_examples_parse() -> None:
    """Both published SMSReceived examples (PascalCase data keys) parse."""
    from core.messaging.sms_inbound import parse_sms_received

    folder = EXAMPLES / "Microsoft.Communication" / "stable" / "2018-01-01" / "examples"
    for schema in ("event-grid-schema", "cloud-events-schema"):
        example = json.loads((folder / schema / "sms_received.json").read_text())
        sms = parse_sms_received(example["id"], example["data"])
        assert sms.sender == "+15555555555"
        assert sms.text == "Great to connect with ACS events"


async def test_sms_during_a_live_call_goes_to_the_call_flow(container: Any) -> None:
    """With a live call, the text is handed to the call flow (which runs a turn on the phone)."""
    number = random_number()
    live = make_call(number)
    live.status = CallStatus.CONNECTED
    await container.calls.create(live)
    handed: list[tuple[str, str, str]] = []

    async def flow(call: Call, text: str, source_id: str) -> None:
        handed.append((call.call_id, text, source_id))

    event_id = f"Incoming_{uuid.uuid4().hex}"
    data = {"From": number, "To": "+15550100000", "Message": "I am at the garage now"}
    result = await handle_sms_received(
        container, event_id, "Microsoft.Communication.SMSReceived", data, live_call_handler=flow
    )
    assert result is InboundSmsResult.IN_CALL
    assert handed == [(live.call_id, "I am at the garage now", event_id)]
    again = await handle_sms_received(
        container, event_id, "Microsoft.Communication.SMSReceived", data, live_call_handler=flow
    )
    assert again is InboundSmsResult.DUPLICATE
    assert len(handed) == 1
