"""Keyless deployment: with no key set, every adapter builds its SDK client with the worker's one Entra
ID credential (core.bootstrap's ``credential``); with a key, the key; APP_MODE=azure needs no key.

No network: clients are built, never called. The fake credential is found by identity inside the SDK
client (its authentication policy holds it), whatever the SDK's internal layout.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.bootstrap import Services
from core.settings import ACS_EMULATOR_KEY, COSMOS_EMULATOR_KEY, Settings, load_settings


class FakeCredential:
    """An AsyncTokenCredential that is never asked for a token here."""

    def __init__(self) -> None:
        self.closed = False

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("no network in these tests")

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


def _holds(root: object, needle: object, depth: int = 7) -> bool:
    """Whether `needle` is reachable from `root` through attributes, lists and dicts."""
    seen: set[int] = set()
    frontier: list[object] = [root]
    for _ in range(depth):
        found: list[object] = []
        for item in frontier:
            if item is needle:
                return True
            if id(item) in seen or isinstance(item, (str, bytes, int, float, bool, type(None))):
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                found.extend(item.values())
            elif isinstance(item, (list, tuple, set)):
                found.extend(item)
            elif callable(item) and getattr(item, "__closure__", None):
                found.extend(cell.cell_contents for cell in item.__closure__)  # type: ignore[attr-defined]
            elif hasattr(item, "__dict__"):
                found.extend(vars(item).values())
            elif hasattr(item, "__slots__"):
                found.extend(getattr(item, slot, None) for slot in item.__slots__)
        frontier = found
    return any(item is needle for item in frontier)


def _keyless() -> Settings:
    return Settings.model_validate(
        {
            "cosmos": {"endpoint": "https://contoso.documents.azure.com:443/", "key": ""},
            "storage": {"account_name": "stcontoso"},
            "acs": {"endpoint": "https://contoso.communication.azure.com", "access_key": ""},
            "llm": {
                "primary": {
                    "provider": "azure_openai",
                    "endpoint": "https://contoso.openai.azure.com",
                    "model": "gpt-4.1-mini",
                }
            },
            "app_configuration": {"endpoint": "https://appcs-contoso.azconfig.io"},
            "search": {
                "endpoint": "https://srch-contoso.search.windows.net",
                "embeddings": {"provider": "azure_openai", "endpoint": "https://contoso.openai.azure.com"},
            },
            "recordings": {"container_url": "https://stcontoso.blob.core.windows.net/recordings"},
        }
    )


async def _clients(services: Services) -> dict[str, object]:
    """Each adapter's SDK client, built the way the adapter builds it on first use."""
    chat: Any = services.chat_model
    runtime: Any = services.runtime_config
    search: Any = services.search
    return {
        "cosmos": services.calls._make_client(),  # type: ignore[attr-defined]
        "table": services.inbox._make_service(),  # type: ignore[attr-defined]
        "queue": services.queues._make_service(),  # type: ignore[attr-defined]
        "blob": await services.recordings._get_container(),  # type: ignore[attr-defined]
        "call automation": await services.telephony._get_client(),  # type: ignore[attr-defined]
        "sms": await services.sms._get_client(),  # type: ignore[attr-defined]
        "openai": chat._make_client(chat._endpoints[0].settings),
        "app configuration": runtime._make_client(),
        "search": search.client,
        "embeddings": search.embeddings._make_client(),
    }


async def test_without_keys_every_adapter_uses_the_one_worker_credential() -> None:
    credential = FakeCredential()
    services = Services(_keyless(), credential=credential)
    clients = await _clients(services)
    for name, client in clients.items():
        if name in ("openai", "embeddings"):
            # The openai SDK holds a bearer token provider over the credential.
            provider = client._azure_ad_token_provider  # type: ignore[attr-defined]
            assert provider is not None and _holds(provider, credential), name
            assert getattr(client, "api_key", "") in ("", "<missing API key>"), name
        else:
            assert _holds(client, credential), f"{name} does not use the worker's credential"
    for client in clients.values():
        close = getattr(client, "close", None)
        if close is not None:
            await close()
    await services.close()
    assert credential.closed, "the worker's credential is closed with the services"


async def test_with_keys_no_adapter_touches_the_credential() -> None:
    """The local stack: keys and connection strings everywhere, azure-identity never needed."""
    services = Services(load_settings())
    clients = {
        "cosmos": services.calls._make_client(),  # type: ignore[attr-defined]
        "table": services.inbox._make_service(),  # type: ignore[attr-defined]
        "queue": services.queues._make_service(),  # type: ignore[attr-defined]
        "call automation": await services.telephony._get_client(),  # type: ignore[attr-defined]
        "sms": await services.sms._get_client(),  # type: ignore[attr-defined]
    }
    assert "credential" not in services.built
    for client in clients.values():
        await client.close()  # type: ignore[attr-defined]
    await services.close()


def test_an_adapter_without_key_nor_credential_says_which_setting() -> None:
    from core.adapters.cosmos_store import CosmosCallStore

    store = CosmosCallStore(_keyless().cosmos)
    with pytest.raises(ValueError, match="COSMOS__KEY is empty and no Entra ID credential"):
        store._make_client()


_AZURE = {
    "APP_MODE": "azure",
    "COSMOS__ENDPOINT": "https://contoso.documents.azure.com:443/",
    "STORAGE__ACCOUNT_NAME": "stcontoso",
    "ACS__ENDPOINT": "https://contoso.communication.azure.com",
    "ACS__PHONE_NUMBER": "+33123456789",
    "ACS__CALLBACK_BASE_URL": "https://func-contoso.azurewebsites.net",
    "ACS__JWKS_URL": "https://acscallautomation.communication.azure.com/calling/keys",
    "ACS__JWT_AUDIENCE": "d3b6c5c2-0000-4000-8000-000000000001",
    "ACS__COGNITIVE_SERVICES_ENDPOINT": "https://ais-contoso.cognitiveservices.azure.com/",
    "LLM__PRIMARY__PROVIDER": "azure_openai",
    "LLM__PRIMARY__ENDPOINT": "https://contoso.openai.azure.com",
    "LLM__PRIMARY__MODEL": "gpt-4.1-mini",
}


def test_azure_mode_starts_without_any_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _AZURE.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.cosmos.key == "" and settings.acs.access_key == ""
    assert settings.storage.uses_identity
    assert settings.storage.service_url("queue") == "https://stcontoso.queue.core.windows.net"


def test_azure_mode_keeps_keys_given_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _AZURE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COSMOS__KEY", "a2V5")
    monkeypatch.setenv("ACS__ACCESS_KEY", "a2V5")
    settings = load_settings()
    assert (settings.cosmos.key, settings.acs.access_key) == ("a2V5", "a2V5")


def test_azure_mode_names_the_missing_storage_account(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import ConfigurationError

    for name, value in _AZURE.items():
        if name != "STORAGE__ACCOUNT_NAME":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("STORAGE__ACCOUNT_NAME", raising=False)
    monkeypatch.delenv("STORAGE__CONNECTION_STRING", raising=False)
    with pytest.raises(ConfigurationError, match="STORAGE__ACCOUNT_NAME"):
        load_settings()


def test_local_mode_keeps_the_emulator_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_MODE", raising=False)
    settings = load_settings()
    assert (settings.cosmos.key, settings.acs.access_key) == (COSMOS_EMULATOR_KEY, ACS_EMULATOR_KEY)
    assert not settings.storage.uses_identity
