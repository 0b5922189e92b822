from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.adapters.openai_chat import OpenAIChatModel
from core.engine import Speech, Turn, TurnEngine
from core.models import Call, CallDirection, InitiateRequest, LanguageOption
from core.settings import LlmEndpointSettings, LlmSettings, Settings
from local.scripted_llm import ScriptedLlm, load_rules_file

DEMO_RULES = os.path.join(os.path.dirname(__file__), "..", "..", "local", "scripted_llm", "demo_rules.yaml")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
CALLER = "+33612345678"
AGENT = "+14155550199"


@pytest.fixture(scope="session")
async def scripted() -> AsyncIterator[ScriptedLlm]:
    server = ScriptedLlm()
    await server.start(0)
    yield server
    await server.stop()


@pytest.fixture
def llm_server(scripted: ScriptedLlm) -> ScriptedLlm:
    scripted.reset()
    scripted.set_rules(load_rules_file(DEMO_RULES))
    return scripted


def make_settings(server: ScriptedLlm, *, fallback: bool = True, **llm: Any) -> Settings:
    endpoint = LlmEndpointSettings(endpoint=server.base_url, model="primary-model", timeout_s=5)
    backup = LlmEndpointSettings(endpoint=server.base_url, model="fallback-model", timeout_s=5)
    options: dict[str, Any] = {"max_retries": 1, "retry_backoff_s": 0.0, **llm}
    return Settings(
        llm=LlmSettings(primary=endpoint, fallback=backup if fallback else LlmEndpointSettings(), **options)
    )


def make_call() -> Call:
    return Call(
        direction=CallDirection.INBOUND,
        initiate=InitiateRequest(
            phone_number=CALLER,
            bot_name="Amélie",
            bot_company="Contoso Insurance",
            task="Help the caller file an insurance claim.",
            agent_phone_number=AGENT,
            languages=[
                LanguageOption(code="en-US", name="English", voice="en-US-AvaMultilingualNeural"),
                LanguageOption(code="fr-FR", name="French", voice="fr-FR-DeniseNeural"),
            ],
            default_language="en-US",
        ),
    )


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, message: str) -> bool:
        self.sent.append((to, message))
        return True


@pytest.fixture
async def engine(llm_server: ScriptedLlm) -> AsyncIterator[TurnEngine]:
    settings = make_settings(llm_server)
    client = OpenAIChatModel(settings.llm)
    yield TurnEngine(settings, client, sms=RecordingSms(), clock=lambda: NOW)
    await client.close()


async def speak(turn: Turn) -> list[Speech]:
    return [speech async for speech in turn]


async def say(engine: TurnEngine, call: Call, text: str | None, turn_id: str) -> tuple[Call, Turn, list[str]]:
    """Run one turn, apply its mutation to (a copy of) the call, return the new call and the sentences."""
    turn = engine.run(call, text, turn_id=turn_id)
    spoken = [s.text for s in await speak(turn)]
    updated = call.model_copy(deep=True)
    turn.outcome.mutation(updated)
    return updated, turn, spoken
