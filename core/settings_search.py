"""The ``SEARCH__*`` settings: document search (RAG) on Azure AI Search, and the embeddings it uses.

Kept beside core/settings.py (which includes this section) so the settings tree stays one object.
The field names default to the reference schema (call-center-ai's index): ``id``, ``question``,
``answer``, ``context``, ``document_synthesis``, ``file_path``, ``created_at``, ``vectors``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EmbeddingsSettings(BaseModel):
    """An embeddings endpoint: chunks at ingestion, and queries when the index has no vectorizer."""

    provider: Literal["openai", "azure_openai"] = "openai"
    # OpenAI-compatible base URL (".../v1") or an Azure OpenAI resource endpoint. Empty = none.
    endpoint: str = ""
    # Model name (OpenAI) or deployment name (Azure OpenAI).
    model: str = "text-embedding-3-small"
    # Azure OpenAI: leave empty to use Entra ID (the Function App's managed identity).
    api_key: str = ""
    api_version: str = "2024-10-21"
    dimensions: int = Field(default=1536, ge=2, le=4096)
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class SearchFields(BaseModel):
    """Field names of the index (the reference schema by default)."""

    id: str = "id"
    title: str = "document_synthesis"
    content: str = "context"
    source: str = "file_path"
    created_at: str = "created_at"
    vector: str = "vectors"
    question: str = "question"
    answer: str = "answer"


class SearchSettings(BaseModel):
    # AI Search endpoint (https://<name>.search.windows.net). Empty = no document search (the tool says so).
    endpoint: str = ""
    index: str = "documents"
    # Admin or query key; leave empty to use Entra ID (roles "Search Index Data Reader/Contributor").
    api_key: str = ""
    # hybrid = full text + vector fused by rank; text or vector alone for comparisons (bench/rag.py).
    mode: Literal["hybrid", "text", "vector"] = "hybrid"
    top: int = Field(default=3, ge=1, le=10)
    # Hits scoring below this are dropped: @search.rerankerScore (0-4) with the semantic ranker, else
    # @search.score (hybrid scores are rank-fusion sums, about 0.01-0.05). 0 keeps everything.
    threshold: float = Field(default=0.0, ge=0)
    semantic_ranker: bool = False
    semantic_configuration: str = "default"
    # Ingestion creates the index with an Azure OpenAI vectorizer (queries vectorized by the service);
    # without one, the adapter embeds each query through SEARCH__EMBEDDINGS__* itself.
    integrated_vectorizer: bool = True
    # A search never holds up a turn longer than this; past it the model hears "search is unavailable".
    timeout_s: float = Field(default=3.0, gt=0, le=30)
    # What the model receives, in estimated tokens, across all hits.
    result_token_budget: int = Field(default=1200, ge=100, le=8000)
    fields: SearchFields = SearchFields()
    embeddings: EmbeddingsSettings = EmbeddingsSettings()
    # Ingestion: chunk size and overlap in estimated tokens.
    chunk_tokens: int = Field(default=350, ge=50, le=2000)
    chunk_overlap_tokens: int = Field(default=50, ge=0, le=500)

    @property
    def configured(self) -> bool:
        return bool(self.endpoint)
