"""Embeddings over the openai SDK: OpenAI, Azure OpenAI (API key or Entra ID) or any OpenAI-compatible
``/v1/embeddings`` (the local stack's). Failures and timeouts surface as DocumentSearchUnavailable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.adapters.identity import CredentialSource
from core.adapters.openai_clients import openai_client
from core.engine.search import DocumentSearchUnavailable
from core.settings_search import EmbeddingsSettings

if TYPE_CHECKING:
    from openai import AsyncOpenAI

BATCH = 64


class OpenAIEmbeddings:
    def __init__(self, settings: EmbeddingsSettings, credential: CredentialSource | None = None) -> None:
        if not settings.endpoint:
            raise ValueError("SEARCH__EMBEDDINGS__ENDPOINT is not set: no embeddings endpoint to call")
        self.settings = settings
        self.dimensions = settings.dimensions
        self._client: AsyncOpenAI | None = None
        self._credential_source = credential

    def _make_client(self) -> AsyncOpenAI:
        s = self.settings
        return openai_client(
            provider=s.provider,
            endpoint=s.endpoint,
            api_key=s.api_key,
            api_version=s.api_version,
            timeout_s=s.timeout_s,
            max_retries=1,
            credential=self._credential_source,
            what="Azure OpenAI embeddings",
            key_setting="SEARCH__EMBEDDINGS__API_KEY",
        )

    async def embed(self, texts: list[str]) -> list[list[float]]:
        import openai

        if self._client is None:
            self._client = self._make_client()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = [t or " " for t in texts[start : start + BATCH]]
            try:
                response = await self._client.embeddings.create(model=self.settings.model, input=batch)
            except openai.APIError as exc:
                raise DocumentSearchUnavailable(f"embeddings failed: {type(exc).__name__}") from exc
            ordered = sorted(response.data, key=lambda d: d.index)
            vectors.extend(list(d.embedding) for d in ordered)
        for vector in vectors:
            if len(vector) != self.dimensions:
                raise DocumentSearchUnavailable(
                    f"embeddings have {len(vector)} dimensions, SEARCH__EMBEDDINGS__DIMENSIONS says {self.dimensions}"
                )
        return vectors

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
