"""Document search on Azure AI Search (``azure-search-documents``, async), behind core.ports.DocumentSearch
and core.ports.DocumentIndex.

A search is hybrid by default: the caller's words as full text, and as a vector query that the index's
own vectorizer turns into a vector (or, for an index without one, the embeddings deployment), fused
by the service; optionally reranked by the semantic ranker. Everything a search does happens within
``SEARCH__TIMEOUT_S``; any failure, refusal or timeout is DocumentSearchUnavailable, which the tool
turns into "search is unavailable" for the model. The REST API version is pinned to the one whose
contract the local emulator follows (contracts/search/).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from core.adapters import azure_http
from core.adapters.identity import CredentialSource, require
from core.engine.search import DocumentSearchUnavailable, bound_hits
from core.observability import logger
from core.ports import DocumentHit, Embeddings, IndexedChunk
from core.settings_search import SearchSettings

if TYPE_CHECKING:
    from azure.search.documents.aio import SearchClient
    from azure.search.documents.indexes.aio import SearchIndexClient

API_VERSION = "2024-07-01"
# How many nearest neighbours a hybrid query brings into the rank fusion (the text side brings 50).
HYBRID_K = 50
UPLOAD_BATCH = 500
log = logger()


@asynccontextmanager
async def _unavailable_as(what: str) -> AsyncIterator[None]:
    from azure.core.exceptions import AzureError

    try:
        yield
    except DocumentSearchUnavailable:
        raise
    except (AzureError, OSError, TimeoutError) as exc:
        status = getattr(exc, "status_code", None)
        detail = f"HTTP {status}" if status else type(exc).__name__
        raise DocumentSearchUnavailable(f"{what} failed: {detail}") from exc


class AiSearch:
    """One index: search (the DocumentSearch port) and, for ingestion, the DocumentIndex port."""

    def __init__(
        self,
        settings: SearchSettings,
        embeddings: Embeddings | None = None,
        credential: CredentialSource | None = None,
    ) -> None:
        if not settings.endpoint:
            raise ValueError("SEARCH__ENDPOINT is not set: no search service to call")
        self.settings = settings
        self.embeddings = embeddings
        self._search_client: SearchClient | None = None
        self._index_client: SearchIndexClient | None = None
        self._credential_source = credential
        self._has_vectorizer: bool | None = None

    # -- clients ----------------------------------------------------------------------------------

    def _key(self) -> Any:
        if self.settings.api_key:
            from azure.core.credentials import AzureKeyCredential

            return AzureKeyCredential(self.settings.api_key)
        return require(self._credential_source, "Azure AI Search", "SEARCH__API_KEY")

    @property
    def client(self) -> SearchClient:
        if self._search_client is None:
            from azure.search.documents.aio import SearchClient

            self._search_client = SearchClient(
                self.settings.endpoint,
                self.settings.index,
                self._key(),
                api_version=API_VERSION,
                retry_total=1,
                retry_backoff_factor=0.2,
                **azure_http.client_options(),
            )
        return self._search_client

    @property
    def index_client(self) -> SearchIndexClient:
        if self._index_client is None:
            from azure.search.documents.indexes.aio import SearchIndexClient

            self._index_client = SearchIndexClient(
                self.settings.endpoint,
                self._key(),
                api_version=API_VERSION,
                retry_total=2,
                **azure_http.client_options(),
            )
        return self._index_client

    async def close(self) -> None:
        # The credential is the worker's: core.bootstrap closes it.
        for client in (self._search_client, self._index_client, self.embeddings):
            close = getattr(client, "close", None)
            if close is not None:
                await close()
        self._search_client = self._index_client = None

    # -- search -----------------------------------------------------------------------------------

    async def search(self, query: str, top: int) -> list[DocumentHit]:
        timeout = self.settings.timeout_s
        try:
            async with asyncio.timeout(timeout):
                hits = await self._search(query, top)
        except TimeoutError as exc:
            log.warning("document search took longer than %ss", timeout)
            raise DocumentSearchUnavailable(f"document search took longer than {timeout}s") from exc
        except DocumentSearchUnavailable as exc:
            log.warning("document search unavailable: %s", exc)
            raise
        return bound_hits(hits, self.settings.result_token_budget)

    async def _search(self, query: str, top: int) -> list[DocumentHit]:
        s, f = self.settings, self.settings.fields
        options: dict[str, Any] = {"select": [f.id, f.title, f.content, f.source], "top": top}
        if s.mode != "text":
            vector_query = await self._vector_query(query, top)
            if vector_query is not None:
                options["vector_queries"] = [vector_query]
            elif s.mode == "vector":
                raise DocumentSearchUnavailable("vector search needs a vectorizer on the index or embeddings")
        if s.semantic_ranker:
            options["query_type"] = "semantic"
            options["semantic_configuration_name"] = s.semantic_configuration
        hits: list[DocumentHit] = []
        async with _unavailable_as("document search"):
            results = await self.client.search(search_text=None if s.mode == "vector" else query, **options)
            async for result in results:
                reranked = result.get("@search.reranker_score")
                score = float(
                    reranked if s.semantic_ranker and reranked is not None else result["@search.score"]
                )
                if score < s.threshold:
                    continue
                source = str(result.get(f.source) or "")
                hits.append(
                    DocumentHit(
                        title=str(result.get(f.title) or source.rsplit("/", 1)[-1]),
                        content=str(result.get(f.content) or ""),
                        source=source,
                        score=score,
                    )
                )
        return hits[:top]

    async def _vector_query(self, query: str, top: int) -> Any:
        from azure.search.documents.models import VectorizableTextQuery, VectorizedQuery

        k = HYBRID_K if self.settings.mode == "hybrid" else top
        field = self.settings.fields.vector
        if await self._index_vectorizes():
            return VectorizableTextQuery(text=query, k_nearest_neighbors=k, fields=field)
        if self.embeddings is None:
            return None
        vector = (await self.embeddings.embed([query]))[0]
        return VectorizedQuery(vector=vector, k_nearest_neighbors=k, fields=field)

    async def _index_vectorizes(self) -> bool:
        """Whether the index's vector field has an integrated vectorizer (read once per worker)."""
        if self._has_vectorizer is None:
            async with _unavailable_as("reading the index definition"):
                index = await self.index_client.get_index(self.settings.index)
            field = next((x for x in index.fields if x.name == self.settings.fields.vector), None)
            profiles = (
                {p.name: p for p in (index.vector_search.profiles or [])} if index.vector_search else {}
            )
            profile = profiles.get(field.vector_search_profile_name or "") if field is not None else None
            self._has_vectorizer = bool(profile is not None and profile.vectorizer_name)
        return self._has_vectorizer

    # -- ingestion (DocumentIndex) ----------------------------------------------------------------

    async def ensure_index(self) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        from core.adapters.ai_search_schema import index_definition

        async with _unavailable_as("creating the index"):
            try:
                await self.index_client.get_index(self.settings.index)
                return False
            except ResourceNotFoundError:
                await self.index_client.create_index(index_definition(self.settings))
                self._has_vectorizer = None
                return True

    async def existing_chunks(self) -> dict[str, str]:
        f = self.settings.fields
        found: dict[str, str] = {}
        async with _unavailable_as("listing the index"):
            results = await self.client.search(search_text="*", select=[f.id, f.source])
            async for result in results:
                found[str(result[f.id])] = str(result.get(f.source) or "")
        return found

    async def upsert(self, chunks: list[IndexedChunk]) -> None:
        from core.models import utcnow

        f = self.settings.fields
        now = utcnow().isoformat()
        documents = [
            {
                f.id: c.id,
                f.title: c.title,
                f.content: c.content,
                f.source: c.source,
                f.vector: c.vector,
                f.created_at: now,
            }
            for c in chunks
        ]
        await self._batches("uploading documents", "upload", documents)

    async def delete(self, ids: list[str]) -> None:
        await self._batches("deleting documents", "delete", [{self.settings.fields.id: i} for i in ids])

    async def _batches(self, what: str, action: str, documents: list[dict[str, Any]]) -> None:
        for start in range(0, len(documents), UPLOAD_BATCH):
            batch = documents[start : start + UPLOAD_BATCH]
            async with _unavailable_as(what):
                if action == "upload":
                    results = await self.client.upload_documents(batch)
                else:
                    results = await self.client.delete_documents(batch)
            failed = [r for r in results if not r.succeeded]
            if failed:
                raise DocumentSearchUnavailable(
                    f"{what}: {len(failed)} of {len(batch)} refused, e.g. {failed[0].key}: {failed[0].error_message}"
                )
