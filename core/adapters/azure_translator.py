"""core.ports.PhraseTranslator on Azure AI Translator (REST, v3.0 ``/translate``), with aiohttp.

One request translates every phrase (the API takes up to 1,000 texts and 50,000 characters per
request; the phrase book is far below). Placeholders are wrapped in ``<span class="notranslate">``
with ``textType=html``, the documented way to keep a part of a text untranslated, and unwrapped after.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from core.errors import DependencyError

if TYPE_CHECKING:
    import aiohttp

    from core.settings_translation import TranslationSettings

API_VERSION = "3.0"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_KEPT = re.compile(r'<span class="notranslate">\s*(\{[a-z_]+\})\s*</span>')


def protect(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: f'<span class="notranslate">{m.group(0)}</span>', html.escape(text))


def unprotect(text: str) -> str:
    return html.unescape(_KEPT.sub(lambda m: m.group(1), text))


class AzureTranslator:
    def __init__(self, settings: TranslationSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        if self._settings.api_key:
            headers["Ocp-Apim-Subscription-Key"] = self._settings.api_key
        if self._settings.region:
            headers["Ocp-Apim-Subscription-Region"] = self._settings.region
        return headers

    async def translate(self, texts: list[str], language: str) -> list[str]:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s)
            )
        params = {"api-version": API_VERSION, "from": "en", "to": language, "textType": "html"}
        body = [{"Text": protect(text)} for text in texts]
        try:
            async with self._session.post(
                f"{self._settings.endpoint}/translate", params=params, json=body, headers=self._headers()
            ) as response:
                if response.status != 200:
                    detail = (await response.text())[:200]
                    raise DependencyError(f"Translator answered HTTP {response.status}: {detail}")
                data: Any = await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DependencyError(f"Translator is unreachable: {type(exc).__name__}") from exc
        try:
            return [unprotect(str(item["translations"][0]["text"])) for item in data]
        except (KeyError, IndexError, TypeError) as exc:
            raise DependencyError("Translator's answer is not a list of translations") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
