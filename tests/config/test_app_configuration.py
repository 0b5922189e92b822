"""The run-time options from App Configuration, through the real SDK against the local emulator: the
emulator refuses what the service refuses, and the adapter caches, refreshes on the sentinel, and
falls back to the app settings."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from azure.appconfiguration import ConfigurationSetting, ResourceReadOnlyError
from azure.appconfiguration.aio import AzureAppConfigurationClient
from azure.core import MatchConditions
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
)

from core.adapters.app_configuration import AppConfigurationRuntime
from core.settings import Settings
from local.appconfig_emulator import AppConfigEmulator, connection_string
from tests.waiting import wait_until


@pytest.fixture
async def emulator() -> AsyncIterator[AppConfigEmulator]:
    started = await AppConfigEmulator().start()
    yield started
    await started.stop()


@pytest.fixture
async def client(emulator: AppConfigEmulator) -> AsyncIterator[AzureAppConfigurationClient]:
    async with AzureAppConfigurationClient.from_connection_string(emulator.connection_string) as built:
        yield built


def _settings(connection: str, label: str = "", **options: object) -> Settings:
    return Settings.model_validate(
        {"app_configuration": {"connection_string": connection, "label": label, **options}}
    )


async def test_labels_filters_and_etags_behave_like_the_service(client: AzureAppConfigurationClient) -> None:
    first = await client.set_configuration_setting(ConfigurationSetting(key="app:a", value="1"))
    await client.set_configuration_setting(ConfigurationSetting(key="app:a", value="2", label="prod"))
    await client.set_configuration_setting(ConfigurationSetting(key="app:b", value="3", label="prod"))
    await client.set_configuration_setting(ConfigurationSetting(key="other", value="4"))

    null_label = [
        (s.key, s.value)
        async for s in client.list_configuration_settings(key_filter="app:*", label_filter="\0")
    ]
    assert null_label == [("app:a", "1")]
    prod = [
        (s.key, s.value)
        async for s in client.list_configuration_settings(key_filter="app:*", label_filter="prod")
    ]
    assert prod == [("app:a", "2"), ("app:b", "3")]
    both = [s.key async for s in client.list_configuration_settings(key_filter="app:b,other")]
    assert both == ["app:b", "other"]

    # Unchanged since its ETag: 304, which the SDK returns as None.
    assert (
        await client.get_configuration_setting(
            "app:a", etag=first.etag, match_condition=MatchConditions.IfModified
        )
        is None
    )
    changed = await client.set_configuration_setting(ConfigurationSetting(key="app:a", value="5"))
    assert changed.etag != first.etag
    fresh = await client.get_configuration_setting(
        "app:a", etag=first.etag, match_condition=MatchConditions.IfModified
    )
    assert fresh is not None and fresh.value == "5"

    stale = ConfigurationSetting(key="app:a", value="6", etag=first.etag)
    with pytest.raises(ResourceModifiedError):
        await client.set_configuration_setting(stale, match_condition=MatchConditions.IfNotModified)
    with pytest.raises(ResourceExistsError):
        await client.add_configuration_setting(ConfigurationSetting(key="app:a", value="7"))

    await client.set_read_only(changed, True)
    with pytest.raises(ResourceReadOnlyError):
        await client.set_configuration_setting(ConfigurationSetting(key="app:a", value="8"))


async def test_requests_not_signed_with_the_key_are_refused(emulator: AppConfigEmulator) -> None:
    wrong = connection_string(emulator.endpoint, secret="d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=")
    async with AzureAppConfigurationClient.from_connection_string(wrong) as client:
        with pytest.raises(ClientAuthenticationError) as refused:
            await client.get_configuration_setting("anything")
    assert refused.value.response is not None
    assert 'error="invalid_token"' in refused.value.response.headers["WWW-Authenticate"]
    unknown = connection_string(emulator.endpoint, credential="someone-else")
    async with AzureAppConfigurationClient.from_connection_string(unknown) as client:
        with pytest.raises(ClientAuthenticationError):
            await client.get_configuration_setting("anything")


async def test_bad_filters_and_api_versions_are_refused(emulator: AppConfigEmulator) -> None:
    async with AzureAppConfigurationClient.from_connection_string(emulator.connection_string) as client:
        with pytest.raises(HttpResponseError) as bad_filter:
            _ = [s async for s in client.list_configuration_settings(key_filter="*middle*")]
        assert bad_filter.value.status_code == 400
    async with AzureAppConfigurationClient.from_connection_string(
        emulator.connection_string, api_version="2019-01-01"
    ) as client:
        with pytest.raises(HttpResponseError) as bad_version:
            await client.get_configuration_setting("anything")
        assert bad_version.value.status_code == 400


async def test_options_load_then_refresh_only_when_the_sentinel_changes(
    emulator: AppConfigEmulator, client: AzureAppConfigurationClient
) -> None:
    label = f"t-{uuid.uuid4().hex[:6]}"

    async def put(key: str, value: str) -> None:
        await client.set_configuration_setting(
            ConfigurationSetting(key=f"callcenter:{key}", value=value, label=label)
        )

    await put("answer_hard_timeout_s", "20")
    await put("recognition_retries", "not a number")
    await put("sentinel", "1")
    runtime = AppConfigurationRuntime(_settings(emulator.connection_string, label, refresh_interval_s=0.05))
    try:
        first = await runtime.snapshot()
        assert first.answer_hard_timeout_s == 20
        assert (
            first.recognition_retries == Settings().conversation.silence_retries
        )  # invalid: app setting kept
        assert first.source.startswith("App Configuration")

        await put("answer_hard_timeout_s", "25")  # no sentinel change: not picked up
        await put("recording_enabled", "true")
        checks = emulator.requests.count("GET /kv/callcenter:sentinel")
        await wait_until(
            lambda: emulator.requests.count("GET /kv/callcenter:sentinel") >= checks + 2,
            timeout=5,
            what="two sentinel checks",
        )
        assert runtime.current() is first  # the sentinel did not change: nothing reloaded
        await put("sentinel", "2")
        await wait_until(
            lambda: runtime.current().answer_hard_timeout_s == 25,
            timeout=5,
            what="the refresh after the sentinel changed",
            seen=lambda: runtime.current(),
        )
        assert runtime.current().recording_enabled
    finally:
        await runtime.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_store_that_is_down_at_start_up_leaves_the_app_settings_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = connection_string(f"http://127.0.0.1:{_closed_port()}")
    runtime = AppConfigurationRuntime(_settings(down, load_timeout_s=3, refresh_interval_s=3600))
    try:
        with caplog.at_level(logging.WARNING, logger="callcenter.runtime"):
            snapshot = await runtime.snapshot()
        assert snapshot.answer_hard_timeout_s == Settings().llm.answer_hard_timeout_s
        assert "unreachable" in snapshot.source
        assert "cannot be read" in caplog.text and "app settings" in caplog.text
        assert await runtime.snapshot() is snapshot  # one warning, no retry on the event path
    finally:
        await runtime.close()
