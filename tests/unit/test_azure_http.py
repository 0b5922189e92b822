"""The Azure SDK clients honour proxy and netrc settings when the environment has them, and skip
aiohttp's per-request lookups when it has none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.adapters import azure_http

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    azure_http.environment_has_http_settings.cache_clear()
    yield monkeypatch
    azure_http.environment_has_http_settings.cache_clear()


def test_without_proxy_or_netrc_the_clients_skip_the_lookups(clean_environment: pytest.MonkeyPatch) -> None:
    assert azure_http.client_options() == {"use_env_settings": False}
    transport = azure_http.transport()
    assert transport is not None and transport._use_env_settings is False


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY"])
def test_a_proxy_variable_keeps_the_environment_trusted(
    clean_environment: pytest.MonkeyPatch, name: str
) -> None:
    clean_environment.setenv(name, "http://proxy.example:3128")
    assert azure_http.client_options() == {}
    assert azure_http.transport() is None  # the SDK's default transport, which trusts the environment


def test_a_netrc_file_keeps_the_environment_trusted(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".netrc").write_text("machine example.com login user password secret\n")
    assert azure_http.client_options() == {}
    assert azure_http.transport() is None
