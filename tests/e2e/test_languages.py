"""A language with no built-in phrases, over the whole call path: a de-DE call hears German fixed
phrases, translated once by the configured model (the scripted LLM here), kept in Azurite's blob
storage, and reused by the next call without asking the model again."""

from __future__ import annotations

import uuid

from core.engine.translation import english_source
from core.phrasebook import PHRASE_NAMES, TRANSLATED
from tests.e2e.harness import call_stack, random_number

GERMAN = {
    "Hello, I'm {bot_name} from {bot_company}. How can I help you today?": (
        "Hallo, ich bin {bot_name} von {bot_company}. Wie kann ich Ihnen heute helfen?"
    ),
    "Hi, this is {bot_name}, the assistant of {bot_company}. What can I do for you?": (
        "Hallo, hier ist {bot_name}, die Assistentin von {bot_company}. Was kann ich für Sie tun?"
    ),
    "Good day, {bot_name} from {bot_company} speaking. How may I help you?": (
        "Guten Tag, hier spricht {bot_name} von {bot_company}. Wie kann ich Ihnen helfen?"
    ),
}


def translation_rule() -> dict[str, object]:
    texts = [text for name in PHRASE_NAMES for text in english_source()[name]]
    return {
        "name": "translate",
        "user": r"Hello, I'm \{bot_name\}",
        "json": {"translations": [GERMAN.get(text, f"(de) {text}") for text in texts]},
    }


async def test_a_de_de_call_hears_german_phrases_translated_once(local_stack: None) -> None:
    TRANSLATED.clear()  # this process's worker memory: start as a fresh worker
    env = {
        "CONVERSATION__LANGUAGES": "de-DE:Deutsch:de-DE-KatjaNeural",
        "CONVERSATION__DEFAULT_LANGUAGE": "de-DE",
        "TRANSLATION__CONTAINER": f"phrases-e2e-{uuid.uuid4().hex[:8]}",
    }
    async with call_stack(env_overrides=env) as stack:
        stack.set_rules([translation_rule(), {"say": "Sehr gern."}])
        emulated = await stack.run_inbound(random_number(), [{"say": "Ich habe eine Frage."}])
        said = stack.bot_said(emulated)
        assert said[0]["text"].startswith(("Hallo", "Guten Tag")), said[0]
        assert "Contoso Insurance" in said[0]["text"]
        assert {line["voice"] for line in said} == {"de-DE-KatjaNeural"}
        translations = [r for r in stack.llm.requests if r.response_format]
        assert len(translations) == 1

        TRANSLATED.clear()  # a fresh worker: its phrases come from the blob, not from the model
        stack.container.built.pop("phrases", None)
        emulated = await stack.run_inbound(random_number(), [{"say": "Noch eine Frage."}])
        assert stack.bot_said(emulated)[0]["text"].startswith(("Hallo", "Guten Tag"))
        assert len([r for r in stack.llm.requests if r.response_format]) == 1
        assert not stack.failed_callbacks()
    TRANSLATED.clear()
