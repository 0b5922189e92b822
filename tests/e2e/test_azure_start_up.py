"""Start-up of the app with APP_MODE=azure, through the local Functions host: what ACS needs from the
settings is checked before any call is taken."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.harness import REPO_ROOT

AZURE_ENV = {
    "APP_MODE": "azure",
    "COSMOS__ENDPOINT": "https://contoso.documents.azure.com:443/",
    "COSMOS__KEY": "a2V5",
    "STORAGE__ACCOUNT_NAME": "stcontoso",
    "ACS__ENDPOINT": "https://contoso.communication.azure.com",
    "ACS__ACCESS_KEY": "a2V5",
    "ACS__PHONE_NUMBER": "+33123456789",
    "ACS__CALLBACK_BASE_URL": "https://contoso-calls.azurewebsites.net",
    "ACS__JWKS_URL": "https://acscallautomation.communication.azure.com/calling/keys",
    "ACS__JWT_AUDIENCE": "d3b6c5c2-0000-4000-8000-000000000001",
    "ACS__COGNITIVE_SERVICES_ENDPOINT": "https://contoso-ai.cognitiveservices.azure.com/",
    "LLM__PRIMARY__ENDPOINT": "https://contoso.openai.azure.com",
    "LLM__PRIMARY__MODEL": "gpt-4.1-mini",
}


def start_host(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSMOS__", "ACS__", "LLM__"))}
    env.update(AZURE_ENV)
    for name, value in overrides.items():
        if value:
            env[name] = value
        else:
            env.pop(name, None)
    command = [sys.executable, "-m", "local.functions_host", "--app", "function_app:app", "--port", "0"]
    return subprocess.run(
        [*command, "--settings", "none.json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        # ACS posts call events only to HTTPS callback URIs ("The field CallbackUri is invalid").
        ({"ACS__CALLBACK_BASE_URL": "http://contoso-calls.azurewebsites.net"}, "must be an https:// URL"),
        # Without an AI Services endpoint the bot would answer, then stay mute and deaf.
        ({"ACS__COGNITIVE_SERVICES_ENDPOINT": ""}, "ACS__COGNITIVE_SERVICES_ENDPOINT"),
        ({"ACS__COGNITIVE_SERVICES_ENDPOINT": "contoso-ai"}, "is not an https:// URL"),
    ],
)
def test_azure_start_up_refuses_what_acs_would_refuse(overrides: dict[str, str], needle: str) -> None:
    result = start_host(**overrides)
    assert result.returncode != 0
    assert needle in result.stderr, result.stderr[-2000:]
