"""POST /call bodies: every problem named by its field, defaults from the settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.api.call_request import parse_call_request
from core.errors import InvalidInputError
from core.settings import ConversationSettings

PHONE = "+14155550100"


def problems(body: Any, settings: ConversationSettings | None = None) -> list[str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(InvalidInputError) as info:
        parse_call_request(raw, settings or ConversationSettings())
    return info.value.problems


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{" + b" " * 70000 + b"}", "body is larger than 64 KiB"),
        (b"{", "body is not valid JSON"),
        (b"[]", "body must be a JSON object"),
        ({}, "phone_number: required, in E.164 format like +14155550100"),
        ({"phone_number": "  "}, "phone_number: required, in E.164 format like +14155550100"),
        ({"phone_number": "0612345678"}, "phone_number: '0612345678' is not in E.164 format"),
        (
            {"phone_number": "+8613800138000"},
            "phone_number: +8613800138000 is in region CN, which is not allowed",
        ),
        (
            {"phone_number": PHONE, "colour": "red"},
            "colour: unknown field (known: agent_phone_number, bot_company",
        ),
        (
            {"phone_number": PHONE, "agent_phone_number": 5},
            "agent_phone_number: expected a string in E.164 format",
        ),
        (
            {"phone_number": PHONE, "agent_phone_number": "+8613800138000"},
            "agent_phone_number: +8613800138000 is in region CN",
        ),
        ({"phone_number": PHONE, "bot_name": " "}, "bot_name: expected a non-empty string"),
        ({"phone_number": PHONE, "task": "t" * 4001}, "task: longer than 4000 characters (4001)"),
        (
            {"phone_number": PHONE, "claim_schema": [{"name": "Bad-Name"}]},
            "claim_schema.fields.0.name: field name",
        ),
        ({"phone_number": PHONE, "languages": []}, "languages: expected a non-empty list of language codes"),
        ({"phone_number": PHONE, "languages": ["en-US"] * 11}, "languages: at most 10 languages"),
        (
            {"phone_number": PHONE, "languages": ["de-DE"]},
            "languages.0: 'de-DE' is not a configured language",
        ),
        ({"phone_number": PHONE, "languages": [{"code": "german"}]}, "languages.0.code: String should match"),
        ({"phone_number": PHONE, "languages": [{"code": "de-DE"}]}, "languages.0.name: Field required"),
        ({"phone_number": PHONE, "default_language": "it-IT"}, "default_language: must be one of the call's"),
    ],
)
def test_each_problem_is_named_by_its_field(body: Any, expected: str) -> None:
    found = problems(body)
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {"phone_number": "0612", "agent_phone_number": "0612", "task": "", "x": 1, "languages": []}
    )
    assert [p.split(":")[0] for p in found] == [
        "x",
        "phone_number",
        "task",
        "agent_phone_number",
        "languages",
    ]


def test_defaults_come_from_the_settings_and_languages_mix_codes_and_objects() -> None:
    settings = ConversationSettings(agent_phone_number="+33612345678")
    body = {
        "phone_number": " +1 415 555 0100 ",
        "bot_name": " Rémi ",
        "languages": [{"code": "de-DE", "name": "German", "voice": "de-DE-KatjaNeural"}, "fr-FR"],
        "default_language": "fr-FR",
    }
    initiate = parse_call_request(json.dumps(body).encode(), settings)
    assert (initiate.phone_number, initiate.bot_name, initiate.bot_company) == (
        PHONE,
        "Rémi",
        settings.bot_company,
    )
    assert initiate.agent_phone_number == "+33612345678"
    assert [(o.code, o.voice) for o in initiate.languages] == [
        ("de-DE", "de-DE-KatjaNeural"),
        ("fr-FR", "fr-FR-DeniseNeural"),
    ]
    assert initiate.default_language == "fr-FR"


def test_the_configured_agent_number_passes_the_phone_policy_too() -> None:
    # Settings refuse such an agent at start-up; built unchecked, the request still refuses it.
    settings = ConversationSettings.model_construct(allowed_regions="FR")
    found = problems({"phone_number": "+33612345678"}, settings)
    assert found == ["agent_phone_number: +14155550199 is in region US, which is not allowed (allowed: FR)"]
