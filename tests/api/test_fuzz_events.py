"""A bounded, deterministic fuzz of the entry points the OpenAPI fuzz cannot reach with valid
credentials: ACS callbacks (JWT-signed, to a stored call with its secret, so bodies get past the
authentication to the parser and the handlers) and the Event Grid webhook (IncomingCall). Bodies nest
deeply, hold odd unicode (lone surrogates, controls, non-BMP) and put values of the wrong type where
ACS puts objects. No response may be a 5xx: bad input is refused or ignored, never a crash."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.callflow.outbound import default_initiate
from core.models import Call, CallDirection
from tests.e2e.harness import call_stack, random_number

EXAMPLES = 60
CONNECTION = "fuzz-connection"

odd_text = st.text(
    alphabet=st.characters(codec=None, categories=["L", "N", "P", "S", "Z", "Cc", "Cs", "Co"]), max_size=20
)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def deep(draw: st.DrawFn) -> Any:
    value: Any = draw(scalars)
    for _ in range(draw(st.integers(min_value=20, max_value=1500))):
        value = [value] if draw(st.booleans()) else {"k": value}
    return value


anything = values | deep()
KINDS = [
    "CallConnected", "CallDisconnected", "RecognizeCompleted", "RecognizeFailed", "PlayCompleted",
    "PlayFailed", "CallTransferAccepted", "CallTransferFailed", "RecordingStateChanged", "CreateCallFailed",
]  # fmt: skip


@st.composite
def callback_event(draw: st.DrawFn) -> Any:
    data = draw(
        st.fixed_dictionaries(
            {"callConnectionId": st.just(CONNECTION) | anything},
            optional={
                "speechResult": st.fixed_dictionaries({"speech": anything}) | anything,
                "choiceResult": st.fixed_dictionaries({"label": anything}) | anything,
                "dtmfResult": anything,
                "recognitionType": st.sampled_from(["speech", "choices", "dtmf"]) | anything,
                "operationContext": odd_text | anything,
                "resultInformation": st.fixed_dictionaries({"subCode": anything}) | anything,
                "serverCallId": anything,
                "state": anything,
            },
        )
    )
    return draw(
        st.fixed_dictionaries(
            {
                "id": st.uuids().map(str) | odd_text | st.text(min_size=500, max_size=700) | anything,
                "type": st.sampled_from(KINDS).map("Microsoft.Communication.".__add__) | anything,
                "data": st.just(data) | anything,
            }
        )
    )


callback_bodies = st.lists(callback_event(), min_size=1, max_size=3) | callback_event() | anything


@st.composite
def incoming_call(draw: st.DrawFn) -> Any:
    data = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "from": st.fixed_dictionaries({"phoneNumber": st.fixed_dictionaries({"value": anything})})
                | anything,
                "to": anything,
                "incomingCallContext": anything,
                "correlationId": anything,
            },
        )
    )
    event = {
        "id": draw(st.uuids().map(str) | odd_text.filter(bool) | st.text(min_size=600, max_size=1200)),
        "topic": "/subscriptions/fuzz",
        "subject": draw(odd_text),
        "eventType": "Microsoft.Communication.IncomingCall",
        "eventTime": "2026-12-01T00:00:00Z",
        "dataVersion": "1.0",
        "data": draw(st.just(data) | anything),
    }
    return [event]


eventgrid_bodies = incoming_call() | anything


def _encode(body: Any) -> bytes:
    return json.dumps(body).encode()  # ASCII escapes: lone surrogates arrive as \\udXXX in valid JSON


def _run(base_url: str, token: str, call: Call, eventgrid_url: str) -> list[str]:
    import requests

    failures: list[str] = []
    http = requests.Session()
    fuzz = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )

    @fuzz
    @given(body=callback_bodies)
    def callbacks(body: Any) -> None:
        response = http.post(
            f"{base_url}/callbacks/{call.call_id}/{call.callback_secret}",
            data=_encode(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10,
        )
        if response.status_code >= 500:
            failures.append(
                f"callback {_encode(body)[:300]!r} -> {response.status_code}: {response.text[:200]}"
            )

    @fuzz
    @given(body=eventgrid_bodies)
    def eventgrid(body: Any) -> None:
        response = http.post(
            eventgrid_url,
            data=_encode(body),
            headers={"aeg-event-type": "Notification", "Content-Type": "application/json"},
            timeout=10,
        )
        if response.status_code >= 500:
            failures.append(
                f"event grid {_encode(body)[:300]!r} -> {response.status_code}: {response.text[:200]}"
            )

    callbacks()
    eventgrid()
    return failures


@pytest.mark.usefixtures("local_stack")
async def test_fuzzed_callbacks_and_event_grid_bodies_never_get_a_server_error() -> None:
    async with call_stack() as stack:
        initiate = default_initiate(random_number(), stack.container.settings.conversation)
        # The fuzzed connection is an earlier one of the call: events get through parsing and routing,
        # and the handlers leave the (nonexistent) connection alone, as for a late event of ACS.
        call = Call(direction=CallDirection.INBOUND, initiate=initiate, old_connections=[CONNECTION])
        call = await stack.container.calls.create(call)
        token = stack.acs.signer.token()
        eventgrid_url = stack.acs.config.eventgrid_endpoint
        assert eventgrid_url is not None
        failures = await asyncio.to_thread(_run, stack.host.base_url, token, call, eventgrid_url)
    assert not failures, "\n".join(failures[:10])


EVENT_GRID_FUNCTIONS = {
    "sms_received": "Microsoft.Communication.SMSReceived",
    "recording_file_status": "Microsoft.Communication.RecordingFileStatusUpdated",
    "incoming_call": "Microsoft.Communication.IncomingCall",
}


@st.composite
def any_event(draw: st.DrawFn, event_type: str) -> Any:
    data = draw(
        st.fixed_dictionaries(
            {},
            optional={
                key: anything
                for key in (
                    "from",
                    "to",
                    "message",
                    "messageId",
                    "recordingStorageInfo",
                    "incomingCallContext",
                )
            },
        )
        | anything
    )
    event = {
        "id": draw(st.uuids().map(str) | odd_text.filter(bool) | st.text(min_size=600, max_size=1200)),
        "topic": "/subscriptions/fuzz",
        "subject": draw(odd_text),
        "eventType": event_type,
        "eventTime": "2026-12-01T00:00:00Z",
        "dataVersion": "1.0",
        "data": data,
    }
    return [event]


def _run_event_grid(url: str) -> list[str]:
    import requests

    failures: list[str] = []
    http = requests.Session()

    def fuzz(name: str, event_type: str) -> None:
        @settings(max_examples=40, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(body=any_event(event_type) | anything)
        def deliver(body: Any) -> None:
            response = http.post(
                f"{url}&functionName={name}",
                data=_encode(body),
                headers={"aeg-event-type": "Notification", "Content-Type": "application/json"},
                timeout=10,
            )
            if response.status_code >= 500:
                failures.append(
                    f"{name} {_encode(body)[:300]!r} -> {response.status_code}: {response.text[:200]}"
                )

        deliver()

    for name, event_type in EVENT_GRID_FUNCTIONS.items():
        fuzz(name, event_type)
    return failures


@pytest.mark.usefixtures("local_stack")
async def test_fuzzed_event_grid_events_of_every_function_never_get_a_server_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.post_call.harness import app_stack

    async with app_stack(monkeypatch) as stack:
        url = stack.url("/runtime/webhooks/EventGrid", code=stack.host.function_key)
        failures = await asyncio.to_thread(_run_event_grid, url)
    assert not failures, "\n".join(failures[:10])
