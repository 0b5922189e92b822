"""The README's POST /call part is generated from the request model, and its example is a valid body."""

from __future__ import annotations

import json

import pytest

from core.api.call_request import EXAMPLE, parse_call_request
from core.errors import InvalidInputError
from core.settings import ConversationSettings
from local.settings_doc import CALL_BEGIN, CALL_END, README, call_request_doc


def test_the_readme_documents_the_current_call_request() -> None:
    inside = README.read_text().split(CALL_BEGIN, 1)[-1].split(CALL_END, 1)[0].strip()
    assert inside == call_request_doc(), (
        "README POST /call body is stale: run python -m local.settings_doc --write"
    )


def test_the_documented_limits_are_the_enforced_ones() -> None:
    doc = call_request_doc()
    assert "| `bot_name` | string | 1-60 characters |" in doc
    assert "| `languages` | list of string or `LanguageOption` | 1-10 items |" in doc
    too_long = json.dumps({"phone_number": "+14155550100", "bot_name": "x" * 61}).encode()
    with pytest.raises(InvalidInputError) as info:
        parse_call_request(too_long, ConversationSettings())
    assert "bot_name: longer than 60 characters (61)" in info.value.problems


def test_the_documented_example_is_a_valid_call_request() -> None:
    initiate = parse_call_request(json.dumps(EXAMPLE).encode(), ConversationSettings())
    assert initiate.bot_company == "Cake Shop"
    assert [f.name for f in initiate.claim_schema.fields] == ["flavor", "guests"]
