"""Fixed phrases for languages the phrase book has no set for: translated once from English, kept in
a cache every worker reads (a blob container), and registered in this worker's phrase book.

A call's languages are prepared before its events are handled (core.callflow.ingress): a language with
built-in phrases costs nothing; another one costs one cache read per worker, and one translation per
deployment (per version of the English phrases: an English override changed at run time is translated
again). The English source is what an English call would hear: the built-in phrases with the English
overrides applied; overrides that fit the language itself still win over its translation.

A translation that fails (the translator or model is down, not configured) leaves the language on
English, logged, and is tried again after TRANSLATION__RETRY_AFTER_S. A translated variant that lost
or changed a ``{placeholder}`` is replaced by its English text.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping

from pydantic import BaseModel

from core.errors import ConfigurationError, DependencyError
from core.phrasebook import DEFAULT_LANGUAGE, PHRASE_NAMES, TRANSLATED, has_builtin, variants
from core.ports import ChatModel, PhraseCache, PhraseTranslator

log = logging.getLogger("callcenter.translation")

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def english_source(overrides: Mapping[str, Mapping[str, list[str]]] | None = None) -> dict[str, list[str]]:
    """What an English call hears: every phrase's variants, English overrides applied."""
    return {name: variants(name, DEFAULT_LANGUAGE, overrides) for name in PHRASE_NAMES}


def cache_key(language: str, source: Mapping[str, list[str]]) -> str:
    """``<language>/<digest of the English source>``: a new English text gets a new translation."""
    digest = hashlib.sha256(json.dumps(source, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{language}/{digest[:16]}"


def keeps_placeholders(english: str, translated: str) -> bool:
    return sorted(_PLACEHOLDER.findall(english)) == sorted(_PLACEHOLDER.findall(translated))


class PhraseTranslations:
    """The worker's translated phrase sets (one per process, built by core.bootstrap)."""

    def __init__(
        self,
        translator: Callable[[], PhraseTranslator],
        cache: Callable[[], PhraseCache],
        *,
        timeout_s: float = 20.0,
        retry_after_s: float = 60.0,
    ) -> None:
        # Factories: a deployment whose languages all have built-in phrases never builds either.
        self._translator = translator
        self._cache = cache
        self._timeout_s = timeout_s
        self._retry_after_s = retry_after_s
        self._loaded: dict[str, str] = {}  # language -> cache key of the registered set
        self._failed: dict[str, float] = {}  # cache key -> when its translation last failed
        self._locks: dict[str, asyncio.Lock] = {}

    async def prepare(
        self, languages: Iterable[str], overrides: Mapping[str, Mapping[str, list[str]]] | None = None
    ) -> None:
        """Make sure every one of ``languages`` has its phrases; never raises (English is the fallback)."""
        missing = [code for code in dict.fromkeys(languages) if not has_builtin(code)]
        if not missing:
            return
        source = english_source(overrides)
        for language in missing:
            key = cache_key(language, source)
            if self._loaded.get(language) == key:
                continue
            lock = self._locks.setdefault(language, asyncio.Lock())
            async with lock:
                if self._loaded.get(language) != key:
                    await self._load(language, key, source)

    async def _load(self, language: str, key: str, source: dict[str, list[str]]) -> None:
        failed_at = self._failed.get(key)
        if failed_at is not None and time.monotonic() - failed_at < self._retry_after_s:
            return
        try:
            phrases = await self._cache().get(key)
            if phrases is None:
                phrases = await asyncio.wait_for(self._translate(language, source), self._timeout_s)
                await self._cache().put(key, phrases)
                log.info("phrases translated to %s and cached (%s)", language, key)
        except (DependencyError, ConfigurationError, TimeoutError) as exc:
            self._failed[key] = time.monotonic()
            log.warning(
                "no phrases for %s (English is said instead): %s: %s", language, type(exc).__name__, exc
            )
            return
        self._failed.pop(key, None)
        for name in PHRASE_NAMES:
            if phrases.get(name):
                TRANSLATED.setdefault(name, {})[language] = list(phrases[name])
        self._loaded[language] = key

    async def _translate(self, language: str, source: dict[str, list[str]]) -> dict[str, list[str]]:
        texts = [text for name in PHRASE_NAMES for text in source[name]]
        translated = await self._translator().translate(texts, language)
        if len(translated) != len(texts):
            raise DependencyError(f"the translator gave {len(translated)} texts for {len(texts)}")
        found = iter(zip(texts, translated, strict=True))
        phrases: dict[str, list[str]] = {}
        for name in PHRASE_NAMES:
            phrases[name] = []
            for english, text in (next(found) for _ in source[name]):
                good = text.strip() and keeps_placeholders(english, text)
                phrases[name].append(text.strip() if good else english)
        return phrases


class _Translations(BaseModel):
    translations: list[str]


class ModelTranslator:
    """core.ports.PhraseTranslator on the conversation's chat model (no translator configured)."""

    def __init__(self, model: ChatModel) -> None:
        self._model = model

    async def translate(self, texts: list[str], language: str) -> list[str]:
        messages = [
            {
                "role": "system",
                "content": "You translate the fixed phrases of a phone assistant from English into the "
                f"language {language} (a BCP 47 code). Keep the tone polite and spoken. Keep every "
                "placeholder in braces, like {bot_name}, exactly as it is. Answer with a JSON object "
                '{"translations": [...]}: one translation per phrase, in the same order.',
            },
            {"role": "user", "content": json.dumps(texts, ensure_ascii=False)},
        ]
        answer = await self._model.complete_json(messages, _Translations)
        return answer.translations
