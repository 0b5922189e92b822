from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import ConfigurationError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_fit_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_MODE", raising=False)
    settings = load_settings()
    assert settings.cosmos.endpoint.startswith("http://127.0.0.1")
    assert settings.storage.connection_string == "UseDevelopmentStorage=true"


def test_nested_settings_come_from_double_underscore_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSMOS__DATABASE", "elsewhere")
    monkeypatch.setenv("LLM__PRIMARY__MODEL", "gpt-4.1-mini")
    settings = load_settings()
    assert settings.cosmos.database == "elsewhere"
    assert settings.llm.primary.model == "gpt-4.1-mini"


def test_every_invalid_setting_is_named_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACS__END_SILENCE_TIMEOUT_S", "soon")
    monkeypatch.setenv("CONVERSATION__AGENT_PHONE_NUMBER", "0612")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert "ACS__END_SILENCE_TIMEOUT_S" in str(info.value)
    assert "CONVERSATION__AGENT_PHONE_NUMBER" in str(info.value)


def test_start_up_with_a_required_setting_missing_fails_naming_it() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSMOS__", "ACS__", "LLM__"))}
    env.update(
        APP_MODE="azure",
        COSMOS__ENDPOINT="https://contoso.documents.azure.com:443/",
        COSMOS__KEY="a2V5",
        ACS__ENDPOINT="https://contoso.communication.azure.com",
        ACS__ACCESS_KEY="a2V5",
        ACS__PHONE_NUMBER="+33123456789",
        ACS__JWKS_URL="https://acscallautomation.communication.azure.com/calling/keys",
        ACS__JWT_AUDIENCE="d3b6c5c2-0000-4000-8000-000000000001",
        LLM__PRIMARY__ENDPOINT="https://contoso.openai.azure.com",
        LLM__PRIMARY__MODEL="gpt-4.1-mini",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import function_app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ACS__CALLBACK_BASE_URL" in last_line
    assert "COSMOS__ENDPOINT" not in last_line
