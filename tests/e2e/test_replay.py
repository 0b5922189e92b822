"""Real callbacks of the live ACS service (tests/fixtures/acs/, provenance in SOURCES.md) replayed
through the Functions host to the product: none fails, each is acknowledged, and the call ends in the
state the events imply."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.models import CallStatus, PostCallStatus, utcnow
from local.acs_emulator.callbacks import iso_now
from tests.e2e.harness import CallStack, random_number
from tests.waiting import wait_until

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "acs"
RECORDINGS = sorted(p.name for p in FIXTURES.glob("*.json"))


def load(name: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The recorded IncomingCall data (if any) and the callback events, in the file's order."""
    incoming: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    for key, value in json.loads((FIXTURES / name).read_text()).items():
        if key == "IncomingCall":
            incoming = value
        else:
            events.extend(value if isinstance(value, list) else [value])
    return incoming, events


def test_every_fixture_has_its_provenance() -> None:
    sources = (FIXTURES / "SOURCES.md").read_text()
    assert RECORDINGS, "no recorded callbacks"
    for name in RECORDINGS:
        assert f"`{name}`" in sources, f"{name} is not in SOURCES.md"


async def deliver_incoming_call(stack: CallStack, data: dict[str, Any]) -> int:
    event = {
        "id": str(uuid.uuid4()),
        "topic": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/x",
        "subject": f"/caller/{data['from']['rawId']}/recipient/{data['to']['rawId']}",
        "data": data,
        "eventType": "Microsoft.Communication.IncomingCall",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": iso_now(),
    }
    headers = {"aeg-event-type": "Notification", "aeg-delivery-count": "0"}
    url = stack.acs.config.eventgrid_endpoint or ""
    async with stack.session.post(url, json=[event], headers=headers) as response:
        return response.status


@pytest.mark.parametrize("recording", RECORDINGS)
async def test_recorded_callbacks_replayed_through_the_host(stack: CallStack, recording: str) -> None:
    stack.use_demo_rules()
    incoming, events = load(recording)
    connection_id = events[0]["data"]["callConnectionId"]
    server_call_id = events[0]["data"]["serverCallId"]

    if incoming is not None:
        # A call between ACS users (no phone number): acknowledged, whatever the product decides.
        status = await deliver_incoming_call(stack, incoming)
        assert 200 <= status < 300, status

    # The product answers a phone call that ACS gives the recorded connection id; the emulator keeps
    # that call's own events to itself and the recorded ones are delivered instead.
    number = random_number()
    emulated = stack.acs.start_incoming_call(
        number,
        [{"silence": 100}],
        call_connection_id=connection_id,
        server_call_id=server_call_id,
        deliver_callbacks=False,
    )

    since = utcnow() - timedelta(minutes=5)

    async def answered() -> bool:
        found = await stack.container.calls.latest_for_phone_number(number, since)
        return found is not None and found.connection_id == connection_id

    await wait_until(answered, timeout=30, what=f"the product to answer with connection {connection_id}")
    call = await stack.call_by_number(number)
    headers = {"Authorization": f"Bearer {stack.acs.signer.token()}"}
    url = stack.url(f"/callbacks/{call.call_id}/{call.callback_secret}")
    for event in events:
        async with stack.session.post(url, json=[event], headers=headers) as response:
            body = await response.text()
            assert 200 <= response.status < 300, (event["type"], response.status, body)

    ended = await stack.container.calls.get(call.call_id)
    assert ended is not None
    types = [e["type"].removeprefix("Microsoft.Communication.") for e in events]
    if "CallConnected" in types:
        assert ended.connection.greeted == connection_id
        spoken = [e for e in stack.transcript(emulated.call_id) if e["kind"] == "bot_said"]
        assert spoken, "the recorded CallConnected did not make the bot speak"
    if "RecordingStateChanged" in types:
        assert ended.connection.recording == "active"
    assert types[-1] == "CallDisconnected"
    assert ended.status is CallStatus.ENDED
    assert ended.post_call.status is PostCallStatus.ENQUEUED
    assert await stack.post_call_messages(call.call_id) == [{"call_id": call.call_id}]
    stack.acs.engine.bot_hangup(emulated)
