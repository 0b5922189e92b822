"""The App Configuration emulator answers as the official data-plane swagger says (contracts/), for
requests signed by the real SDK (sent raw with ``send_request``, so the bodies are checked as sent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.appconfiguration import ConfigurationSetting
from azure.appconfiguration.aio import AzureAppConfigurationClient
from azure.core.rest import HttpRequest

from local.appconfig_emulator import AppConfigEmulator
from tests.emulator.contracts import declared_statuses, response_definition, validate

SWAGGER = "appconfiguration/2024-09-01/appconfiguration.json"
VERSION = "api-version=2026-04-01"


def _without_nulls(value: Any) -> Any:
    """The service sends ``null`` for an absent label or content type (the REST reference's examples
    show ``"content_type": null``) where the swagger types them as strings: the service wins."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@pytest.fixture
async def client() -> AsyncIterator[AzureAppConfigurationClient]:
    emulator = await AppConfigEmulator().start()
    async with AzureAppConfigurationClient.from_connection_string(emulator.connection_string) as built:
        await built.set_configuration_setting(ConfigurationSetting(key="app:a", value="1", label="prod"))
        yield built
    await emulator.stop()


@pytest.mark.parametrize(
    ("method", "url", "template", "status"),
    [
        ("GET", "/kv?key=app:*&label=prod", "/kv", 200),
        ("GET", "/kv/app:a?label=prod", "/kv/{key}", 200),
        ("GET", "/kv/missing", "/kv/{key}", 404),
        ("GET", "/kv?key=*a*", "/kv", 400),
        ("DELETE", "/kv/app:a?label=prod", "/kv/{key}", 200),
        ("DELETE", "/kv/missing", "/kv/{key}", 204),
        ("PUT", "/locks/app:a?label=prod", "/locks/{key}", 200),
        ("GET", "/labels", "/labels", 200),
        ("GET", "/keys", "/keys", 200),
        ("GET", "/revisions?key=app:a", "/revisions", 200),
    ],
)
async def test_responses_match_the_swagger(
    client: AzureAppConfigurationClient, method: str, url: str, template: str, status: int
) -> None:
    separator = "&" if "?" in url else "?"
    response = await client.send_request(HttpRequest(method, f"{url}{separator}{VERSION}"))
    assert response.status_code == status, response.text()
    assert status in declared_statuses(SWAGGER, method, template) or status >= 400
    definition = response_definition(SWAGGER, method, template, status)
    if definition is not None and status != 204:
        validate(SWAGGER, definition, _without_nulls(response.json()))
    if status < 300:
        assert response.headers["Sync-Token"]


async def test_a_put_body_is_the_swagger_key_value(client: AzureAppConfigurationClient) -> None:
    body = {"value": "2", "content_type": "text/plain", "tags": {"team": "phone"}}
    validate(SWAGGER, "KeyValue", {"key": "app:b", **body})
    response = await client.send_request(HttpRequest("PUT", f"/kv/app:b?{VERSION}", json=body))
    assert response.status_code == 200
    stored = response.json()
    validate(SWAGGER, "KeyValue", _without_nulls(stored))
    assert response.headers["ETag"] == f'"{stored["etag"]}"'
