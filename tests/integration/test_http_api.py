"""The read API and health probes of the product app, served by the host adapter over HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.bootstrap import Services, get_services, reset_services
from core.models import Call
from local.functions_host import FunctionsHost
from tests.conftest import make_call

KEY = {"x-functions-key": "local-function-key"}


@pytest.fixture
async def app_host(settings: object) -> AsyncIterator[str]:
    import function_app

    host = FunctionsHost(function_app.app, host_json_path="host.json", function_key="local-function-key")
    await host.start()
    try:
        yield host.base_url
    finally:
        await host.stop()
        await get_services().close()
        reset_services()


async def test_read_api_needs_the_function_key(app_host: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{app_host}/call/{uuid.uuid4()}") as response:
            assert response.status == 401
        async with http.get(
            f"{app_host}/call/{uuid.uuid4()}", params={"code": "local-function-key"}
        ) as response:
            assert response.status == 404


async def test_a_call_is_read_by_id_without_its_secret(app_host: str, container: Services) -> None:
    call = await container.calls.create(make_call("+14155550123"))
    async with (
        aiohttp.ClientSession(headers=KEY) as http,
        http.get(f"{app_host}/call/{call.call_id}") as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["call_id"] == call.call_id
    assert body["initiate"]["phone_number"] == "+14155550123"
    assert "callback_secret" not in body


async def test_a_call_read_over_http_shows_no_internal_state(app_host: str, container: Services) -> None:
    # The live connection's state as a stored document holds it (built from a dict: it stays valid
    # however the model types that state).
    document = make_call("+14155550125").model_dump(mode="json")
    document.update(
        connection_id="conn-internal", current_turn_id="turn-internal", old_connections=["conn-old"]
    )
    document["connection"].update(greeted="conn-internal", server_call_id="server-internal")
    document["post_call"].update(for_connection="conn-internal", lease_owner="lease-internal")
    call = await container.calls.create(Call.model_validate(document))
    async with aiohttp.ClientSession(headers=KEY) as http:
        async with http.get(f"{app_host}/call/{call.call_id}") as response:
            one = await response.json()
        async with http.get(f"{app_host}/call", params={"phone_number": "+14155550125"}) as response:
            [listed] = (await response.json())["calls"]
    for body in (one, listed):
        assert body["call_id"] == call.call_id
        assert not {"callback_secret", "flags", "connection_id", "current_turn_id"} & set(body)
        text = json.dumps(body)
        for internal in (
            "conn-internal",
            "conn-old",
            "server-internal",
            "lease-internal",
            "turn-internal",
            call.callback_secret,
        ):
            assert internal not in text


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/call/not-a-uuid", 400, "is not a UUID"),
        (f"/call/{uuid.uuid4()}", 404, "not found"),
        ("/call?phone_number=0612345678", 400, "E.164"),
        ("/call?phone_number=%2B14155550999", 404, "no call for phone number +14155550999"),
        ("/call?limit=0", 400, "limit must be between"),
        ("/call?continuation=%%%", 400, "continuation token is malformed"),
    ],
)
async def test_bad_or_unknown_input_gets_a_clear_4xx(
    app_host: str, path: str, status: int, message: str
) -> None:
    async with aiohttp.ClientSession(headers=KEY) as http, http.get(f"{app_host}{path}") as response:
        assert response.status == status
        body = await response.json()
    assert message in body["error"]["message"]


async def test_calls_of_a_number_are_listed_newest_first(app_host: str, container: Services) -> None:
    number = "+14155550124"
    first = await container.calls.create(make_call(number))
    second = await container.calls.create(make_call(number))
    async with aiohttp.ClientSession(headers=KEY) as http:
        async with http.get(f"{app_host}/call", params={"phone_number": number, "limit": "1"}) as response:
            page = await response.json()
        assert [c["call_id"] for c in page["calls"]] == [second.call_id]
        params = {"phone_number": number, "limit": "1", "continuation": page["continuation"]}
        async with http.get(f"{app_host}/call", params=params) as response:
            page = await response.json()
    assert [c["call_id"] for c in page["calls"]] == [first.call_id]


async def test_liveness_and_readiness(app_host: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{app_host}/health/liveness") as response:
            assert response.status == 200
        async with http.get(f"{app_host}/health/readiness") as response:
            body = await response.json()
            assert response.status == 200, body
    assert body["checks"]["cosmos"] == "ok"
    assert body["checks"]["queue"] == "ok"


async def test_readiness_names_the_dependency_that_fails(
    app_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_services()
    monkeypatch.setenv("COSMOS__ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    async with aiohttp.ClientSession() as http, http.get(f"{app_host}/health/readiness") as response:
        body = await response.json()
        assert response.status == 503
    assert body["checks"]["cosmos"] != "ok"
    assert body["checks"]["inbox_table"] == "ok"
