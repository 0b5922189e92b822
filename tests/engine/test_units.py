"""Unit tests: sentence splitting, token estimates and trimming, argument repair, tool schemas, phrases."""

from __future__ import annotations

import json

import pytest

from core.engine.phrases import parse_overrides, render_phrase
from core.engine.sentences import SentenceSplitter
from core.engine.tokens import estimate_messages_tokens, estimate_tokens, trim_history
from core.engine.tool_schema import parse_docstring, tool_spec
from core.engine.toolbox import ToolArgumentError, parse_arguments
from core.engine.tools import Toolbox
from core.models import Style

from .conftest import make_call


def split_stream(text: str, step: int = 3, **kwargs: int) -> list[tuple[str, Style]]:
    splitter = SentenceSplitter(**kwargs)
    out = []
    for i in range(0, len(text), step):
        out += splitter.feed(text[i : i + step])
    out += splitter.flush()
    return [(c.text, c.style) for c in out]


def test_sentence_release_timing() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("I understand your concern.") == []
    chunks = splitter.feed(" What")
    assert [c.text for c in chunks] == ["I understand your concern."]
    assert [c.text for c in splitter.flush()] == ["What"]


def test_short_sentences_merged_and_abbreviations_kept() -> None:
    text = "OK. Sure. Dr. Smith will call you at 3.5 p.m. tomorrow! Is that fine?\nYes."
    assert [t for t, _ in split_stream(text)] == [
        "OK. Sure. Dr. Smith will call you at 3.5 p.m. tomorrow!",
        "Is that fine? Yes.",
    ]


def test_long_sentence_cut_at_a_pause() -> None:
    text = "When you get the letter, " * 12 + "call us."
    chunks = [t for t, _ in split_stream(text, max_chars=120)]
    assert len(chunks) > 1 and all(len(c) <= 125 for c in chunks)
    assert " ".join(chunks).replace("  ", " ") == text.strip()


def test_styles_and_markdown() -> None:
    text = "[style=sad] I'm so sorry to hear that. [style=cheerful] **Good news**: you are covered!"
    assert split_stream(text) == [
        ("I'm so sorry to hear that.", Style.SAD),
        ("Good news: you are covered!", Style.CHEERFUL),
    ]
    assert split_stream("- first point is here.\n- second point is here.") == [
        ("first point is here.", Style.NONE),
        ("second point is here.", Style.NONE),
    ]


def test_token_estimate_is_close_to_bpe_counts() -> None:
    # Reference counts from cl100k for these sentences: 10 and 14 tokens.
    assert 8 <= estimate_tokens("Hello, I would like to report a car accident.") <= 12
    assert 11 <= estimate_tokens("My policy number is B-12345 and my name is Jane Doe.") <= 17
    assert estimate_tokens("") == 0
    assert estimate_tokens("é" * 30) > estimate_tokens("e" * 30)


def test_trim_keeps_recent_and_tool_groups() -> None:
    history: list[dict[str, object]] = []
    for i in range(30):
        history.append({"role": "user", "content": f"message number {i} " * 10})
        history.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": f"c{i}", "function": {"name": "x", "arguments": "{}"}}],
            }
        )
        history.append({"role": "tool", "tool_call_id": f"c{i}", "content": "ok"})
    trimmed = trim_history(history, 300)  # type: ignore[arg-type]
    assert estimate_messages_tokens(trimmed) <= 310
    assert trimmed[-1] == history[-1]
    assert trimmed[0]["role"] != "tool"
    for index, message in enumerate(trimmed):
        if message["role"] == "tool":
            assert trimmed[index - 1]["role"] in ("assistant", "tool")
    # The latest exchange is kept even when it alone exceeds the budget.
    assert trim_history(history[-3:], 1) == history[-3:]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected", "repaired"),
    [
        ('{"a": 1}', {"a": 1}, False),
        ("", {}, False),
        ('{"a": 1}}garbage', {"a": 1}, True),
        ("{'a': 'x', 'b': True}", {"a": "x", "b": True}, True),
        ('```json\n{"a": [1, 2,],}\n```', {"a": [1, 2]}, True),
        ('Sure! {"a": 1}', {"a": 1}, True),
    ],
)
def test_argument_repair(raw: str, expected: dict[str, object], repaired: bool) -> None:
    assert parse_arguments(raw) == (expected, repaired)


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "{'a': __import__('os')}"])
def test_argument_repair_refuses_the_unsafe(raw: str) -> None:
    with pytest.raises(ToolArgumentError):
        parse_arguments(raw)


async def test_unknown_tool_and_bad_arguments_are_reported_not_raised() -> None:
    box = Toolbox(call=make_call())
    assert (await box.execute("EndCall", "{}")).ok  # repaired name
    unknown = await box.execute("launch_rocket", "{}")
    assert not unknown.ok and "no tool named" in unknown.content
    bad = await box.execute("speech_speed", '{"speed": "fast"}')
    assert not bad.ok and "speed" in bad.content
    garbage = await box.execute("send_sms", "<<<")
    assert not garbage.ok and "not valid JSON" in garbage.content
    shaped = await box.execute("update_claim", '{"caller_name": "Jane", "injuries": "maybe"}')
    assert box.call.claim == {"caller_name": "Jane"} and "injuries" in shaped.content


def test_tool_schema_from_signature_and_docstring() -> None:
    async def lookup(self: object, city: str, days: int = 2, exact: bool = False) -> str:
        """Find the weather.

        Args:
            city: Name of the city.
            days: How many days
                ahead.
        """
        return ""

    definition = tool_spec(lookup).definition()
    assert definition == {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Find the weather.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "Name of the city."},
                    "days": {"type": "integer", "default": 2, "description": "How many days ahead."},
                    "exact": {"type": "boolean", "default": False},
                },
                "required": ["city"],
            },
        },
    }
    assert parse_docstring(None) == ("", {})
    names = [d["function"]["name"] for d in Toolbox.definitions()]
    assert names == list(Toolbox.tool_names()) and "update_claim" in names and "send_sms" in names
    send_sms = next(d for d in Toolbox.definitions() if d["function"]["name"] == "send_sms")
    assert list(send_sms["function"]["parameters"]["properties"]) == ["message"]  # no recipient
    json.dumps(Toolbox.definitions())  # serializable


def test_phrases_per_language_with_overrides() -> None:
    call = make_call()
    for language in ("en-US", "fr-FR", "es-ES"):
        for name in ("greeting", "welcome_back", "goodbye", "silence", "error", "filler", "transfer"):
            text = render_phrase(name, language, call=call, seed="s")
            assert text and "{" not in text
    assert "Amélie" in render_phrase("greeting", "fr-CA", call=call, seed="x")
    overrides = parse_overrides(json.dumps({"greeting": {"en-US": ["Yo {bot_name}!"]}}))
    assert render_phrase("greeting", "en-US", call=call, overrides=overrides) == "Yo Amélie!"
    assert render_phrase("language_choice", "en-US", languages="English or French").endswith("French?")
    assert render_phrase("greeting", "de-DE", call=call, seed="a") == render_phrase(
        "greeting", "en-US", call=call, seed="a"
    )
