"""Languages without built-in phrases: the fixed phrases are translated once from English, cached for
every worker, reused; overrides still win; a translation that fails or breaks a placeholder leaves
English."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from core.adapters.azure_translator import AzureTranslator, protect, unprotect
from core.engine.translation import ModelTranslator, PhraseTranslations, cache_key, english_source
from core.errors import DependencyError
from core.phrasebook import PHRASES, TRANSLATED, parse_overrides, render_phrase, variants
from core.settings import ConversationSettings, Settings
from core.settings_translation import TranslationSettings
from tests.callflow.fakes import event, make_rig
from tests.callflow.test_flow import incoming

GERMAN = {
    "Hello, I'm {bot_name} from {bot_company}. How can I help you today?": (
        "Hallo, ich bin {bot_name} von {bot_company}. Wie kann ich Ihnen heute helfen?"
    ),
    "Let me check.": "Ich schaue nach.",
}


class ScriptedTranslator:
    """German for the texts it knows, "(de) <English>" for the others."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []
        self.fail = False

    async def translate(self, texts: list[str], language: str) -> list[str]:
        self.calls.append((texts, language))
        if self.fail:
            raise DependencyError("translator down")
        return [GERMAN.get(text, f"(de) {text}") for text in texts]


class MemoryCache:
    def __init__(self) -> None:
        self.blobs: dict[str, dict[str, list[str]]] = {}
        self.reads = 0

    async def get(self, key: str) -> dict[str, list[str]] | None:
        self.reads += 1
        found = self.blobs.get(key)
        return json.loads(json.dumps(found)) if found is not None else None

    async def put(self, key: str, phrases: dict[str, list[str]]) -> None:
        self.blobs[key] = phrases


@pytest.fixture(autouse=True)
def fresh_phrase_book() -> Iterator[None]:
    TRANSLATED.clear()
    yield
    TRANSLATED.clear()


def worker(translator: ScriptedTranslator, cache: MemoryCache, **options: Any) -> PhraseTranslations:
    return PhraseTranslations(lambda: translator, lambda: cache, **options)


async def test_a_language_without_phrases_is_translated_once_and_cached_for_every_worker() -> None:
    translator, cache = ScriptedTranslator(), MemoryCache()
    assert variants("greeting", "de-DE")[0].startswith("Hello")  # before: English
    first = worker(translator, cache)
    await first.prepare(["en-US", "de-DE"])
    greetings = variants("greeting", "de-DE")
    assert greetings[0] == "Hallo, ich bin {bot_name} von {bot_company}. Wie kann ich Ihnen heute helfen?"
    assert all(g.startswith("(de) ") for g in greetings[1:])
    rendered = {
        render_phrase("greeting", "de-DE", bot_name="Amélie", bot_company="Contoso", seed=str(n))
        for n in range(20)
    }
    assert "Hallo, ich bin Amélie von Contoso. Wie kann ich Ihnen heute helfen?" in rendered
    assert variants("filler", "de-DE")[0] == "Ich schaue nach."
    assert len(translator.calls) == 1 and translator.calls[0][1] == "de-DE"
    await first.prepare(["de-DE"])  # the same worker: nothing to do
    TRANSLATED.clear()  # another worker: its own memory, the same cache
    await worker(translator, cache).prepare(["de-DE"])
    assert len(translator.calls) == 1, "the second worker read the cache"
    assert variants("filler", "de-DE")[0] == "Ich schaue nach."
    assert list(cache.blobs) == [cache_key("de-DE", english_source())]


async def test_languages_with_built_in_phrases_cost_nothing() -> None:
    translator, cache = ScriptedTranslator(), MemoryCache()
    await worker(translator, cache).prepare(["en-US", "fr-FR", "es-ES", "fr-CA"])
    assert translator.calls == [] and cache.reads == 0


async def test_overrides_still_win_over_the_translation() -> None:
    translator, cache = ScriptedTranslator(), MemoryCache()
    overrides = parse_overrides(json.dumps({"goodbye": {"de": "Tschüss!"}, "silence": "Hello?"}))
    await worker(translator, cache).prepare(["de-DE"], overrides)
    assert variants("goodbye", "de-DE", overrides) == ["Tschüss!"]
    assert variants("silence", "de-DE", overrides) == ["Hello?"]  # "*": every language
    assert variants("filler", "de-DE", overrides) == ["Ich schaue nach.", *variants("filler", "de-DE")[1:]]


async def test_an_english_override_is_what_gets_translated_and_a_new_one_is_translated_again() -> None:
    translator, cache = ScriptedTranslator(), MemoryCache()
    phrases = worker(translator, cache)
    overrides = parse_overrides(json.dumps({"filler": {"en-US": "Let me check."}}))
    await phrases.prepare(["de-DE"])
    await phrases.prepare(["de-DE"], overrides)
    assert len(translator.calls) == 2 and variants("filler", "de-DE", overrides) == ["Ich schaue nach."]


async def test_a_translation_that_breaks_a_placeholder_keeps_the_english_variant() -> None:
    class Careless(ScriptedTranslator):
        async def translate(self, texts: list[str], language: str) -> list[str]:
            return [text.replace("{bot_name}", "{nom}") for text in await super().translate(texts, language)]

    await worker(Careless(), MemoryCache()).prepare(["de-DE"])
    greetings = variants("greeting", "de-DE")
    assert greetings == PHRASES["greeting"]["en-US"]
    assert variants("goodbye", "de-DE")[0].startswith("(de) Thank you for calling {bot_company}")


async def test_a_failed_translation_leaves_english_and_is_retried_later() -> None:
    translator, cache = ScriptedTranslator(), MemoryCache()
    translator.fail = True
    phrases = worker(translator, cache, retry_after_s=3600)
    await phrases.prepare(["de-DE"])
    await phrases.prepare(["de-DE"])
    assert variants("filler", "de-DE") == PHRASES["filler"]["en-US"]
    assert len(translator.calls) == 1 and cache.blobs == {}
    translator.fail = False
    retrying = worker(translator, cache, retry_after_s=0)
    translator.fail = True
    await retrying.prepare(["de-DE"])
    translator.fail = False
    await retrying.prepare(["de-DE"])
    assert variants("filler", "de-DE")[0] == "Ich schaue nach."


async def test_a_de_de_call_hears_german_from_its_first_words() -> None:
    translator, cache = ScriptedTranslator(), MemoryCache()
    settings = Settings(
        conversation=ConversationSettings(
            languages="de-DE:Deutsch:de-DE-KatjaNeural", default_language="de-DE"
        )
    )
    rig = make_rig(settings, phrases=worker(translator, cache))
    call, conn = await incoming(rig)
    await rig.send(call, event("CallConnected", conn))
    greeting = rig.tel.of("listen")[0].prompt[0]
    assert greeting.startswith(("Hallo, ich bin Amélie", "(de) ")), greeting
    assert len(translator.calls) == 1


async def test_the_model_translates_when_no_translator_is_configured() -> None:
    class Model:
        def __init__(self) -> None:
            self.messages: list[dict[str, Any]] = []

        async def complete_json(self, messages: list[dict[str, Any]], schema: Any, **_: Any) -> Any:
            self.messages = messages
            texts = json.loads(messages[-1]["content"])
            return schema(translations=[f"[de] {t}" for t in texts])

    model = Model()
    translated = await ModelTranslator(model).translate(["Hi {bot_name}."], "de-DE")  # type: ignore[arg-type]
    assert translated == ["[de] Hi {bot_name}."]
    assert "de-DE" in model.messages[0]["content"] and "{bot_name}" in model.messages[0]["content"]


def test_placeholders_are_kept_out_of_the_translator() -> None:
    text = "Hello, I'm {bot_name} & co."
    wrapped = protect(text)
    assert wrapped == 'Hello, I&#x27;m <span class="notranslate">{bot_name}</span> &amp; co.'
    assert unprotect(wrapped) == text


async def test_azure_translator_speaks_the_v3_rest_api() -> None:
    seen: dict[str, Any] = {}

    async def translate(request: web.Request) -> web.Response:
        seen["query"] = dict(request.query)
        seen["headers"] = dict(request.headers)
        body = await request.json()
        seen["body"] = body
        out = [
            {"translations": [{"text": item["Text"].replace("Hello", "Hallo"), "to": "de"}]} for item in body
        ]
        return web.json_response(out)

    app = web.Application()
    app.router.add_post("/translate", translate)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    settings = TranslationSettings(endpoint=f"http://127.0.0.1:{port}", api_key="k", region="westeurope")
    translator = AzureTranslator(settings)
    try:
        assert await translator.translate(["Hello {bot_name}!"], "de-DE") == ["Hallo {bot_name}!"]
    finally:
        await translator.close()
        await runner.cleanup()
    assert seen["query"] == {"api-version": "3.0", "from": "en", "to": "de-DE", "textType": "html"}
    assert seen["headers"]["Ocp-Apim-Subscription-Key"] == "k"
    assert seen["headers"]["Ocp-Apim-Subscription-Region"] == "westeurope"
    assert seen["body"] == [{"Text": 'Hello <span class="notranslate">{bot_name}</span>!'}]
