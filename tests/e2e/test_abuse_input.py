"""Hostile and broken input over the whole local stack (issue 11, items 7, 10 and 11): every HTTP entry
point answers 4xx (never 5xx) and changes nothing; numbers the toll-fraud guard refuses are never
called; the readiness probe says which dependency fails, not how; a worker survives the loss of its
Cosmos DB container and its inbox table."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from core.callflow.outbound import default_initiate
from core.models import Call, CallDirection, CallStatus
from tests.e2e.harness import CallStack, call_stack, random_number
from tests.unit.test_phone_policy import REFUSED

DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 3000 + b"1" + b"}" * 3000
SURROGATE = b'{"phone_number": "+14155550100", "task": "\\ud800 hi"}'


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"x": value}
    return value


async def post(
    stack: CallStack, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    async with stack.session.post(
        stack.url(path),
        data=body,
        headers={**stack.headers, "Content-Type": "application/json", **(headers or {})},
    ) as response:
        return response.status, await response.text()


async def callback(stack: CallStack, call: Call, events: Any, raw: bytes | None = None) -> tuple[int, str]:
    body = raw if raw is not None else json.dumps(events).encode()
    headers = {"Authorization": f"Bearer {stack.acs.signer.token()}", "Content-Type": "application/json"}
    async with stack.session.post(
        stack.url(f"/callbacks/{call.call_id}/{call.callback_secret}"), data=body, headers=headers
    ) as response:
        return response.status, await response.text()


def event(kind: str, data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or str(uuid.uuid4()),
        "source": "calling/callConnections/x",
        "type": f"Microsoft.Communication.{kind}",
        "specversion": "1.0",
        "time": "2026-12-01T00:00:00Z",
        "data": data,
    }


async def eventgrid(stack: CallStack, body: bytes) -> int:
    async with stack.session.post(
        stack.acs.config.eventgrid_endpoint,
        data=body,
        headers={"aeg-event-type": "Notification", "Content-Type": "application/json"},
    ) as response:
        return response.status


async def stored_call(stack: CallStack) -> Call:
    number = random_number()
    return await stack.container.calls.create(
        Call(
            direction=CallDirection.INBOUND,
            initiate=default_initiate(number, stack.container.settings.conversation),
        )
    )


# -- item 7: toll fraud --------------------------------------------------------------------------------


async def test_post_call_never_calls_a_refused_number(stack: CallStack) -> None:
    for number, why in REFUSED.items():
        for field in ("phone_number", "agent_phone_number"):
            body = {"phone_number": "+14155550100", field: number}
            status, text = await post(stack, "/call", json.dumps(body).encode())
            assert status == 400, (number, field, text)
            assert why in text or "E.164" in text, (number, text)
    assert not stack.acs.engine.calls, "a refused number was called"


# -- item 10: 5xx on bad input ---------------------------------------------------------------------------


async def test_bad_bodies_of_post_call_are_refused_with_400(stack: CallStack) -> None:
    for body, message in (
        (DEEP, "nested deeper than"),
        (DEEP_OBJECT, "nested deeper than"),
        (json.dumps({"phone_number": "+14155550100", "task": nested(100)}).encode(), "nested deeper than"),
        (SURROGATE, "lone UTF-16 surrogate"),
        (b'{"\\udfff": 1}', "lone UTF-16 surrogate"),
        (b"\xff\xfe{}", "not valid JSON"),
    ):
        status, text = await post(stack, "/call", body)
        assert status == 400, (body[:40], status, text)
        assert message in json.loads(text)["error"]["message"]
    assert not stack.acs.engine.calls


async def test_bad_continuation_tokens_are_refused_with_400(stack: CallStack) -> None:
    tokens = [
        base64.urlsafe_b64encode(DEEP).decode(),
        base64.urlsafe_b64encode(b'["\\ud800", "x"]').decode(),
        "A" * 5000,
    ]
    for token in tokens:
        async with stack.session.get(
            stack.url("/call"), params={"continuation": token}, headers=stack.headers
        ) as response:
            assert response.status == 400, (token[:30], await response.text())


async def test_bad_callbacks_are_refused_and_change_nothing(stack: CallStack) -> None:
    call = await stored_call(stack)
    bodies: list[bytes] = [
        DEEP,
        json.dumps([event("RecognizeCompleted", {"callConnectionId": "c", "x": nested(200)})]).encode(),
        b'[{"id": "\\ud800", "type": "Microsoft.Communication.PlayCompleted", "data": {}}]',
        json.dumps([event("PlayCompleted", {"callConnectionId": "c"}, event_id="e" * 600)]).encode(),
        json.dumps([event("CallConnected", {"serverCallId": "s"})]).encode(),  # no callConnectionId
        json.dumps([{"id": 5, "type": ["x"]}]).encode(),
    ]
    for body in bodies:
        status, text = await callback(stack, call, None, raw=body)
        assert status == 400, (body[:60], status, text)
    fresh = await stack.container.calls.get(call.call_id)
    assert fresh is not None
    assert fresh.status is CallStatus.CREATED and not fresh.messages and fresh.etag == call.etag


async def test_callback_fields_of_the_wrong_type_read_as_absent(stack: CallStack) -> None:
    call = await stored_call(stack)
    for data in (
        {"speechResult": "hello", "recognitionType": "speech"},
        {"speechResult": {"speech": ["a"]}, "choiceResult": 3, "dtmfResult": "1"},
        {"choiceResult": "x", "recognitionType": "choices", "operationContext": {"a": 1}},
        {"resultInformation": "bad", "operationContext": ["x"]},
    ):
        events = [event("RecognizeCompleted", {"callConnectionId": "c", **data})]
        status, text = await callback(stack, call, events)
        assert status < 500, (data, status, text)


async def test_the_event_grid_webhook_never_answers_5xx_to_bad_events(stack: CallStack) -> None:
    def incoming(event_id: str, data: Any) -> bytes:
        return json.dumps(
            [
                {
                    "id": event_id,
                    "topic": "/subscriptions/x",
                    "subject": "incomingCall",
                    "eventType": "Microsoft.Communication.IncomingCall",
                    "eventTime": "2026-12-01T00:00:00Z",
                    "dataVersion": "1.0",
                    "data": data,
                }
            ]
        ).encode()

    assert await eventgrid(stack, DEEP) == 400
    for data in (
        {"from": "+14155550100", "incomingCallContext": "ctx"},
        {"from": {"phoneNumber": "+14155550100"}, "incomingCallContext": "ctx"},
        {"from": {"phoneNumber": {"value": 14155550100}}, "incomingCallContext": ["ctx"]},
        {"from": [1], "incomingCallContext": "ctx", "deep": nested(20)},
    ):
        assert await eventgrid(stack, incoming(str(uuid.uuid4()), data)) == 202, data
    # An id longer than a Table key may be is claimed like any other (hashed), not a 500.
    long_id = "i" * 2000
    data = {"from": {"phoneNumber": {"value": "not a number"}}, "incomingCallContext": "ctx"}
    assert await eventgrid(stack, incoming(long_id, data)) == 202


async def test_event_ids_that_escaped_to_the_same_key_are_two_events(stack: CallStack) -> None:
    inbox, partition = stack.container.inbox, str(uuid.uuid4())
    # Under the old escaping both were "%101"; and two ids sharing their first 1,000 characters collided.
    for first, second in (("\u0101", "\x101"), ("a" * 1000 + "1", "a" * 1000 + "2")):
        assert await inbox.claim(partition, first)
        assert await inbox.claim(partition, second)
        assert not await inbox.claim(partition, second)


# -- item 11: smaller ------------------------------------------------------------------------------------


async def test_json_responses_are_not_sniffed(stack: CallStack) -> None:
    for path in ("/call", "/call/" + str(uuid.uuid4()), "/health/readiness"):
        async with stack.session.get(stack.url(path), headers=stack.headers) as response:
            assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    async with stack.session.post(stack.url("/call"), data=b"{", headers=stack.headers) as response:
        assert response.status == 400
        assert response.headers.get("X-Content-Type-Options") == "nosniff"


async def test_readiness_names_the_dependency_only(local_stack: None) -> None:
    async with (
        call_stack({"COSMOS__ENDPOINT": "http://127.0.0.1:9"}) as stack,
        stack.session.get(stack.url("/health/readiness")) as response,
    ):
        assert response.status == 503
        body = await response.json()
    assert body["checks"]["cosmos"] == "unavailable"
    assert body["checks"]["inbox_table"] == "ok"
    assert "127.0.0.1" not in json.dumps(body) and "Error" not in json.dumps(body)


async def test_a_running_worker_recreates_its_container_and_table(local_stack: None) -> None:
    from azure.cosmos.aio import CosmosClient
    from azure.data.tables.aio import TableServiceClient

    suffix = uuid.uuid4().hex[:8]
    env = {"COSMOS__DATABASE": f"recreate{suffix}", "STORAGE__INBOX_TABLE": f"recreate{suffix}"}
    async with call_stack(env) as stack:
        settings = stack.container.settings
        first = await stored_call(stack)
        assert await stack.container.inbox.claim("p", "one")
        # As after a restart of the emulators (their data is in memory): database and table gone.
        async with CosmosClient(
            settings.cosmos.endpoint, credential=settings.cosmos.key, enable_endpoint_discovery=False
        ) as cosmos:
            await cosmos.delete_database(settings.cosmos.database)
        async with TableServiceClient.from_connection_string(settings.storage.connection_string) as tables:
            await tables.delete_table(settings.storage.inbox_table)
        assert await stack.container.calls.get(first.call_id) is None
        second = await stored_call(stack)
        assert await stack.container.calls.get(second.call_id) is not None
        assert await stack.container.inbox.claim("p", "two")
        assert not await stack.container.inbox.claim("p", "two")
        async with stack.session.get(stack.url("/health/readiness")) as response:
            assert response.status == 200, await response.text()
