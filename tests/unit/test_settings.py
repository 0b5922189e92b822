from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.engine.phrases import PhraseTable, render_phrase
from core.engine.prompts import system_prompt
from core.models import Call, CallDirection, InitiateRequest, LanguageOption
from core.phrasebook import TEMPLATE_VARIABLES
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


# -- every invalid value of a list setting stops start-up, naming the setting --------------------------


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("CONVERSATION__ALLOWED_COUNTRY_CODES", "1;33", "'1;33' is not a list of country calling codes"),
        ("CONVERSATION__ALLOWED_COUNTRY_CODES", "abc", "'abc' is not a number"),
        ("CONVERSATION__ALLOWED_COUNTRY_CODES", "0", "+0 is not assigned to any country"),
        ("CONVERSATION__ALLOWED_COUNTRY_CODES", "1,,33", "'' is not a number"),
        ("CONVERSATION__LANGUAGES", "en-US:English", "item 1 'en-US:English' is not one"),
        ("CONVERSATION__LANGUAGES", "en-US:English:en-US-AvaNeural,fr-FR::x", "item 2 'fr-FR::x' is not one"),
        ("CONVERSATION__LANGUAGES", " ", "it is empty"),
        ("CONVERSATION__LANGUAGES", "english:English:en-US-AvaNeural", "code 'english' is not a locale"),
        ("CONVERSATION__LANGUAGES", "en-US:A:v1,en-US:B:v2", "language en-US is listed twice"),
        ("CONVERSATION__NEXT_ACTIONS", " ", "an item is empty"),
        ("CONVERSATION__NEXT_ACTIONS", "case_closed,,call_back", "an item is empty"),
        ("CONVERSATION__NEXT_ACTIONS", "case_closed,Call Back", "'Call Back' is not a snake_case name"),
        ("CONVERSATION__NEXT_ACTIONS", "call_back,call_back", "'call_back' is listed twice"),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", "{greeting: 1}", "not valid JSON"),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", '["Hi"]', "expected a JSON object of phrase names"),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", '{"greeting": 3}', "greeting: expected a non-empty string"),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", '{"greeting": {"en-US": []}}', "greeting.en-US: expected"),
        (
            "CONVERSATION__PROMPTS_OVERRIDE_JSON",
            '{"greeting": {"English": "Hi"}}',
            "'English' is not a language",
        ),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", '{"greting": "Hi"}', "'greting' is not a phrase name"),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", '{"system": "{% if %}"}', "not a valid jinja2 template"),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", '{"system": "I am {{ name }}"}', "unknown template variable"),
        ("CONVERSATION__PROMPTS_OVERRIDE_JSON", '{"system": ["a", "b"]}', "one system prompt template"),
    ],
)
def test_an_invalid_list_setting_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert f"{env}: " in message and needle in message, message


def test_the_default_language_must_be_a_configured_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION__LANGUAGES", "fr-FR:French:fr-FR-DeniseNeural")
    with pytest.raises(ConfigurationError) as info:
        load_settings()  # the default en-US is no longer among them
    assert "CONVERSATION__DEFAULT_LANGUAGE: 'en-US' is not one of CONVERSATION__LANGUAGES (fr-FR)" in str(
        info.value
    )
    monkeypatch.setenv("CONVERSATION__DEFAULT_LANGUAGE", "fr-FR")
    assert load_settings().conversation.default_language == "fr-FR"


def test_an_invalid_language_list_is_reported_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION__LANGUAGES", "en-US")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert "CONVERSATION__LANGUAGES: " in str(info.value)
    assert "CONVERSATION__DEFAULT_LANGUAGE" not in str(info.value)


def test_list_settings_are_read_as_typed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION__ALLOWED_COUNTRY_CODES", " 1, +33 ,44")
    monkeypatch.setenv(
        "CONVERSATION__LANGUAGES", "en-US:English:en-US-AvaNeural, fr-FR : French : fr-FR-Denise"
    )
    monkeypatch.setenv("CONVERSATION__NEXT_ACTIONS", "call_back, case_closed")
    conversation = load_settings().conversation
    assert conversation.country_codes == frozenset({1, 33, 44})
    assert [(o.code, o.name, o.voice) for o in conversation.language_options()] == [
        ("en-US", "English", "en-US-AvaNeural"),
        ("fr-FR", "French", "fr-FR-Denise"),
    ]
    assert conversation.next_action_names == ("call_back", "case_closed")


def test_a_number_outside_the_allowed_country_codes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.callflow.outbound import parse_initiate
    from core.errors import InvalidInputError

    monkeypatch.setenv("CONVERSATION__ALLOWED_COUNTRY_CODES", "1,33")
    conversation = load_settings().conversation
    with pytest.raises(InvalidInputError) as info:
        parse_initiate(b'{"phone_number": "+8613800138000"}', conversation)
    assert (
        "phone_number: +8613800138000 is in region CN, which is not allowed (allowed: FR, US)"
        in info.value.problems
    )


# -- prompt overrides: every documented form works -------------------------------------------------------


def _call(language: str = "en-US") -> Call:
    options = [
        LanguageOption(code="en-US", name="English", voice="en-US-AvaMultilingualNeural"),
        LanguageOption(code="fr-FR", name="French", voice="fr-FR-DeniseNeural"),
    ]
    request = InitiateRequest(
        phone_number="+14155550100",
        bot_name="Amélie",
        bot_company="Contoso Insurance",
        task="Help with the claim.",
        agent_phone_number="+14155550199",
        languages=options,
        default_language=language,
    )
    return Call(direction=CallDirection.INBOUND, initiate=request)


def _overrides(monkeypatch: pytest.MonkeyPatch, value: object) -> PhraseTable:
    monkeypatch.setenv("CONVERSATION__PROMPTS_OVERRIDE_JSON", json.dumps(value))
    return load_settings().conversation.prompt_overrides


def test_phrase_overrides_in_every_documented_form(monkeypatch: pytest.MonkeyPatch) -> None:
    call = _call()
    every_language = _overrides(monkeypatch, {"greeting": "Welcome to {bot_company}!"})
    for language in ("en-US", "fr-FR", "de-DE"):
        assert render_phrase("greeting", language, call=call, overrides=every_language) == (
            "Welcome to Contoso Insurance!"
        )
    variants = _overrides(monkeypatch, {"goodbye": ["Bye!", "See you!"]})
    assert render_phrase("goodbye", "fr-FR", call=call, overrides=variants, seed="s") in {"Bye!", "See you!"}
    per_language = _overrides(
        monkeypatch, {"greeting": {"en-US": ["Hi {bot_name}!"], "fr": "Salut !", "*": "Hallo!"}}
    )
    assert render_phrase("greeting", "en-US", call=call, overrides=per_language) == "Hi Amélie!"
    assert render_phrase("greeting", "fr-FR", call=call, overrides=per_language) == "Salut !"
    assert render_phrase("greeting", "de-DE", call=call, overrides=per_language) == "Hallo!"
    # A language the override leaves out keeps its built-in phrase.
    english_only = _overrides(monkeypatch, {"greeting": {"en-US": "Hi!"}})
    assert "Amélie" in render_phrase("greeting", "fr-FR", call=call, overrides=english_only, seed="s")


def _system_prompt(overrides: PhraseTable, language: str = "en-US") -> str:
    return system_prompt(
        _call(language), now=datetime(2026, 1, 5, 9, 0, tzinfo=UTC), timezone="UTC", overrides=overrides
    )


def test_system_prompt_override_in_every_documented_form(monkeypatch: pytest.MonkeyPatch) -> None:
    readme_form = _overrides(monkeypatch, {"system": "You are {{ bot_name }}. Task: {{ task }}"})
    assert _system_prompt(readme_form) == "You are Amélie. Task: Help with the claim."
    assert _system_prompt(readme_form, "fr-FR") == "You are Amélie. Task: Help with the claim."
    per_language = _overrides(monkeypatch, {"system": {"fr-FR": ["Tu es {{ bot_name }}."], "*": "Other."}})
    assert _system_prompt(per_language, "fr-FR") == "Tu es Amélie."
    assert _system_prompt(per_language) == "Other."
    english_only = _overrides(monkeypatch, {"system": {"en-US": "English prompt."}})
    assert _system_prompt(english_only, "fr-FR").startswith("You are Amélie, a phone assistant")


def test_a_system_prompt_override_may_use_every_documented_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    template = " ".join("{{ " + name + " is defined }}" for name in sorted(TEMPLATE_VARIABLES))
    overrides = _overrides(monkeypatch, {"system": template})
    assert set(_system_prompt(overrides).split()) == {"True"}


async def test_the_system_prompt_override_is_what_the_model_receives(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.adapters.openai_chat import OpenAIChatModel
    from core.engine import TurnEngine
    from local.scripted_llm import ScriptedLlm

    async with ScriptedLlm([{"say": "Ahoy."}]) as server:
        monkeypatch.setenv("LLM__PRIMARY__ENDPOINT", server.base_url)
        monkeypatch.setenv("LLM__PRIMARY__MODEL", "primary-model")
        monkeypatch.setenv(
            "CONVERSATION__PROMPTS_OVERRIDE_JSON",
            json.dumps({"system": "You are {{ bot_name }} of {{ bot_company }}; speak like a pirate."}),
        )
        settings = load_settings()
        client = OpenAIChatModel(settings.llm)
        try:
            turn = TurnEngine(settings, client).run(_call(), "Hello?", turn_id="t1")
            spoken = [speech.text async for speech in turn]
        finally:
            await client.close()
    assert spoken == ["Ahoy."]
    system = server.requests[0].messages[0]
    assert system == {
        "role": "system",
        "content": "You are Amélie of Contoso Insurance; speak like a pirate.",
    }
