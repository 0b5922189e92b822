"""The Event Grid webhook: handshakes of both schemas, batches, failures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import azure.functions as func
import pytest

from local.functions_host import FunctionsHost

from . import sample_app
from .conftest import TEST_FUNCTION_KEY

WEBHOOK = "/runtime/webhooks/EventGrid"
TOPIC = "/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/CommunicationServices/acs"


@pytest.fixture
async def client(functions_host: FunctionsHost) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=functions_host.base_url) as session:
        yield session


def _params(function_name: str = "on_event") -> dict[str, str]:
    return {"functionName": function_name, "code": TEST_FUNCTION_KEY}


def _grid_event(event_type: str = "Microsoft.Communication.IncomingCall", **data: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "topic": TOPIC,
        "subject": "/phonenumber/15550100000",
        "eventType": event_type,
        "eventTime": "2025-01-01T10:00:00.0000000Z",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "data": data,
    }


async def test_event_grid_schema_validation_handshake(client: aiohttp.ClientSession) -> None:
    event = _grid_event("Microsoft.EventGrid.SubscriptionValidationEvent", validationCode="code-123")
    headers = {"aeg-event-type": "SubscriptionValidation"}
    async with client.post(WEBHOOK, params=_params(), json=[event], headers=headers) as response:
        assert response.status == 200
        assert await response.json() == {"validationResponse": "code-123"}


async def test_cloudevents_validation_handshake(client: aiohttp.ClientSession) -> None:
    headers = {"WebHook-Request-Origin": "eventgrid.azure.net"}
    async with client.options(WEBHOOK, params=_params(), headers=headers) as response:
        assert response.status == 200
        assert response.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"


async def test_webhook_needs_the_system_key_and_a_known_function(client: aiohttp.ClientSession) -> None:
    headers = {"aeg-event-type": "Notification"}
    async with client.post(
        WEBHOOK, params={"functionName": "on_event"}, json=[], headers=headers
    ) as response:
        assert response.status == 401
    async with client.post(WEBHOOK, params=_params("nope"), json=[], headers=headers) as response:
        assert response.status == 404
    async with client.post(WEBHOOK, params=_params(), json=[]) as response:
        assert response.status == 400  # no aeg-event-type header


async def test_event_grid_batch_invokes_once_per_event(client: aiohttp.ClientSession) -> None:
    events = [_grid_event(n=i) for i in range(3)]
    headers = {"aeg-event-type": "Notification"}
    async with client.post(WEBHOOK, params=_params(), json=events, headers=headers) as response:
        assert response.status == 202
    received = {e.id: e for e in sample_app.recorder.events if isinstance(e, func.EventGridEvent)}
    for sent in events:
        got = received[sent["id"]]
        assert got.event_type == "Microsoft.Communication.IncomingCall"
        assert got.subject == sent["subject"] and got.topic == sent["topic"]
        assert got.data_version == "1.0" and got.event_time is not None
        assert got.get_json() == sent["data"]
    assert sum(1 for e in sample_app.recorder.events if e.id in {s["id"] for s in events}) == 3


async def test_cloudevents_batch_and_single(client: aiohttp.ClientSession) -> None:
    def cloud_event() -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/acs",
            "type": "Microsoft.Communication.IncomingCall",
            "time": "2025-01-01T10:00:00Z",
            "subject": "call",
            "data": {"to": "+15550100000"},
        }

    batch = [cloud_event(), cloud_event()]
    single = cloud_event()
    headers = {"aeg-event-type": "Notification", "Content-Type": "application/cloudevents-batch+json"}
    async with client.post(WEBHOOK, params=_params(), json=batch, headers=headers) as response:
        assert response.status == 202
    headers["Content-Type"] = "application/cloudevents+json"
    async with client.post(WEBHOOK, params=_params(), json=single, headers=headers) as response:
        assert response.status == 202
    ids = {e["id"] for e in [*batch, single]}
    received = [e for e in sample_app.recorder.events if e.id in ids]
    assert len(received) == 3
    assert all(
        isinstance(e, func.CloudEvent) and e.type == "Microsoft.Communication.IncomingCall" for e in received
    )


async def test_failing_function_answers_500_so_event_grid_retries(client: aiohttp.ClientSession) -> None:
    headers = {"aeg-event-type": "Notification"}
    async with client.post(
        WEBHOOK, params=_params("on_event_failing"), json=[_grid_event()], headers=headers
    ) as response:
        assert response.status == 500
        assert "handler failure" not in await response.text()
