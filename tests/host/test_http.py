"""HTTP functions served by the host adapter: keys, routes, requests and responses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from local.functions_host import FunctionsHost

from .conftest import TEST_FUNCTION_KEY

GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
async def client(functions_host: FunctionsHost) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=functions_host.base_url) as session:
        yield session


async def test_keyed_function_needs_the_function_key(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/keyed") as response:
        assert response.status == 401
    async with client.get("/api/keyed", headers={"x-functions-key": "wrong"}) as response:
        assert response.status == 401
    async with client.get("/api/keyed", headers={"x-functions-key": TEST_FUNCTION_KEY}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["X-Sample"] == "keyed"
    async with client.post(
        "/api/keyed", params={"code": TEST_FUNCTION_KEY, "name": "Ada"}, data=b"payload"
    ) as response:
        assert response.status == 200
        assert await response.json() == {"method": "POST", "name": "Ada", "body": "payload"}


async def test_anonymous_function(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/anonymous") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert await response.text() == "hello"


async def test_methods_and_route_prefix(client: aiohttp.ClientSession) -> None:
    async with client.post("/api/anonymous") as response:
        assert response.status == 404
    async with client.get("/anonymous") as response:
        assert response.status == 404
    async with client.get("/api/nowhere") as response:
        assert response.status == 404


async def test_guid_route_and_optional_segment(client: aiohttp.ClientSession) -> None:
    async with client.get(f"/api/items/{GUID}") as response:
        assert response.status == 200
        assert await response.json() == {"id": GUID}
    async with client.get(f"/api/items/{GUID}/history") as response:
        assert await response.json() == {"id": GUID, "detail": "history"}
    async with client.get("/api/items/not-a-guid") as response:
        assert response.status == 404
    async with client.get("/api/items/special") as response:
        assert await response.text() == "special"
    async with client.get("/api/files/a/b/c.txt") as response:
        assert await response.text() == "a/b/c.txt"


async def test_admin_level_takes_the_master_key(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/admin-only") as response:
        assert response.status == 401
    async with client.get("/api/admin-only", params={"code": TEST_FUNCTION_KEY}) as response:
        assert response.status == 200  # the master key defaults to the function key


async def test_unhandled_exception_is_a_generic_500(
    client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    async with client.get("/api/boom") as response:
        assert response.status == 500
        body = await response.text()
    assert "secret" not in body and "Traceback" not in body
    assert any("boom" in record.getMessage() and record.exc_info for record in caplog.records)


async def test_context_argument(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/with-context") as response:
        assert await response.text() == "with_context"


async def test_ping(client: aiohttp.ClientSession) -> None:
    async with client.get("/admin/host/ping") as response:
        assert response.status == 200


def test_describe_lists_every_function(functions_host: FunctionsHost) -> None:
    lines = "\n".join(functions_host.describe())
    assert f"{functions_host.base_url}/api/items/{{id:guid}}/{{detail?}}" in lines
    assert "runtime/webhooks/EventGrid?functionName=on_event" in lines
    assert json.dumps(lines)  # printable
