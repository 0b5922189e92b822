"""JSON from outside: deep nesting and lone surrogates are clear 400s, never a RecursionError or a
UnicodeEncodeError later."""

from __future__ import annotations

import pytest

from core import json_input
from core.callflow.outbound import default_initiate
from core.engine import limits
from core.errors import InvalidInputError
from core.models import Call, CallDirection, Message, Persona
from core.settings import ConversationSettings


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32 levels"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nested deeper than 32 levels"),
        (b'["\\ud800"]', "lone UTF-16 surrogate"),
        (b'{"\\udc00x": 1}', "lone UTF-16 surrogate"),
        (b"{", "body is not valid JSON"),
        (b"\xff", "body is not valid JSON"),
    ],
)
def test_bad_json_is_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        json_input.loads(raw)
    assert message in str(info.value)
    str(info.value).encode("utf-8")  # the message itself can always be sent


def test_ordinary_json_and_paired_surrogates_pass() -> None:
    assert json_input.loads(b'{"a": [1, {"b": "\\ud83d\\ude00"}]}') == {"a": [1, {"b": "\U0001f600"}]}
    assert json_input.loads(b"[" * 32 + b"]" * 32) is not None


def test_a_call_past_its_budget_is_compacted_oldest_first() -> None:
    initiate = default_initiate("+14155550100", ConversationSettings())
    call = Call(direction=CallDirection.INBOUND, initiate=initiate)
    call.messages = [Message(persona=Persona.HUMAN, content=f"{i} " + "w" * 1000) for i in range(100)]
    assert limits.compact(call, budget=50_000)
    assert limits.document_bytes(call) <= 50_000
    assert call.messages[0].content == limits.COMPACTED
    assert call.messages[-1].content.startswith("99 ")
    assert not limits.compact(call, budget=50_000)
