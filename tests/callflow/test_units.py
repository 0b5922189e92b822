"""Pure pieces of the call flow: SSML, callback body parsing, POST /call validation."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from core.adapters.ssml import to_ssml
from core.callflow.events import RecognizeCompleted, parse_callback_body
from core.callflow.outbound import parse_initiate
from core.errors import InvalidInputError
from core.ports import SpokenText
from core.settings import ConversationSettings


def test_ssml_escapes_text_and_carries_voice_style_and_rate() -> None:
    ssml = to_ssml(
        SpokenText(
            'Fish & "chips" <now>', voice="fr-FR-DeniseNeural", language="fr-FR", style="cheerful", rate=1.2
        )
    )
    root = ET.fromstring(ssml)  # well-formed XML
    assert root.attrib["{http://www.w3.org/XML/1998/namespace}lang"] == "fr-FR"
    assert 'name="fr-FR-DeniseNeural"' in ssml and 'style="cheerful"' in ssml and 'rate="1.20"' in ssml
    assert "".join(root.itertext()) == 'Fish & "chips" <now>'
    assert "express-as" not in to_ssml(SpokenText("Hi", voice="v", language="en-US"))


def test_callback_body_is_an_array_of_cloud_events() -> None:
    body = json.dumps(
        [
            {
                "id": "1",
                "type": "Microsoft.Communication.RecognizeCompleted",
                "data": {
                    "callConnectionId": "c",
                    "operationContext": "listen:x",
                    "recognitionType": "speech",
                    "speechResult": {"speech": " hello "},
                    "resultInformation": {"subCode": 8545},
                },
            }
        ]
    ).encode()
    [event] = parse_callback_body(body)
    assert isinstance(event, RecognizeCompleted)
    assert (event.type, event.connection_id, event.raw_context, event.speech, event.sub_code) == (
        "RecognizeCompleted",
        "c",
        "listen:x",
        "hello",
        8545,
    )
    for bad in (b"not json", b'[{"type": "x"}]', b"[1]"):
        with pytest.raises(InvalidInputError):
            parse_callback_body(bad)


def test_post_call_defaults_come_from_the_settings() -> None:
    settings = ConversationSettings()
    initiate = parse_initiate(json.dumps({"phone_number": "+1 415 555 0100"}).encode(), settings)
    assert initiate.phone_number == "+14155550100"
    assert initiate.bot_name == settings.bot_name and initiate.task == settings.default_task
    assert [o.code for o in initiate.languages] == ["en-US", "fr-FR", "es-ES"]
    assert initiate.agent_phone_number == settings.agent_phone_number


def test_post_call_accepts_custom_languages_and_rejects_bad_ones() -> None:
    settings = ConversationSettings()
    body = {
        "phone_number": "+33612345678",
        "languages": [{"code": "de-DE", "name": "German", "voice": "de-DE-KatjaNeural"}, "fr-FR"],
        "default_language": "de-DE",
    }
    initiate = parse_initiate(json.dumps(body).encode(), settings)
    assert [o.code for o in initiate.languages] == ["de-DE", "fr-FR"] and initiate.default_language == "de-DE"
    body = {"phone_number": "+33612345678", "languages": [{"code": "german"}], "default_language": "it-IT"}
    with pytest.raises(InvalidInputError) as error:
        parse_initiate(json.dumps(body).encode(), settings)
    text = " | ".join(error.value.problems)
    assert "languages.0.code" in text and "languages.0.name" in text and "default_language" in text


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"[]", "JSON object"),
        (b"{", "not valid JSON"),
        (b'{"phone_number": "0612345678"}', "E.164"),
        (b'{"phone_number": "+14155550100", "bot_name": "' + b"x" * 61 + b'"}', "bot_name: longer than 60"),
        (
            b'{"phone_number": "+14155550100", "claim_schema": [{"name": "a"}, {"name": "a"}]}',
            "more than once",
        ),
        (b"{" + b" " * 70000 + b"}", "larger than"),
    ],
)
def test_post_call_problems_are_named(body: bytes, needle: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        parse_initiate(body, ConversationSettings())
    assert needle in " | ".join(error.value.problems), error.value.problems


@pytest.mark.parametrize(
    ("raw", "purpose", "ref", "part"),
    [
        ("listen:rec-1", "listen", "rec-1", None),
        ("turn:rec-1:0", "turn", "rec-1", "0"),
        ("turn:rec-1:filler", "turn", "rec-1", "filler"),
        ("transfer:turn:rec-1:2", "transfer", "turn:rec-1:2", None),
        ("listen:xfer-error:turn:r:0", "listen", "xfer-error:turn:r:0", None),
    ],
)
def test_operation_contexts_round_trip(raw: str, purpose: str, ref: str, part: str | None) -> None:
    from core.models import OperationContext

    parsed = OperationContext.parse(raw)
    assert parsed is not None
    assert (parsed.purpose.value, parsed.ref, parsed.part) == (purpose, ref, part)
    assert parsed.format() == raw


@pytest.mark.parametrize("raw", ["", "nothing", "dance:1", "turn:", "turn:only-id", "listen:"])
def test_foreign_or_garbled_operation_contexts_are_none(raw: str) -> None:
    from core.models import OperationContext

    assert OperationContext.parse(raw) is None
