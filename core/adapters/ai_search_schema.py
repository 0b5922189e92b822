"""The index the ingestion command creates: the reference schema (call-center-ai's) with its field names
from the settings, an HNSW vector profile (cosine), an Azure OpenAI vectorizer so queries are vectorized
by the service, and a semantic configuration (title + content) for the semantic ranker.

Without an API key, the vectorizer calls Azure OpenAI as the search service's managed identity (infra
gives that identity "Cognitive Services OpenAI User" on the OpenAI account): no key is stored.
"""

from __future__ import annotations

from typing import Any

from core.settings_search import SearchSettings

PROFILE = "vectors-profile"
ALGORITHM = "vectors-hnsw"
VECTORIZER = "vectors-vectorizer"
# Model names the service's vectorizer accepts; a deployment of another model is declared as the small one.
_MODEL_NAMES = {"text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large"}


def index_definition(settings: SearchSettings) -> Any:
    from azure.search.documents.indexes.models import (
        AzureOpenAIVectorizer,
        AzureOpenAIVectorizerParameters,
        HnswAlgorithmConfiguration,
        HnswParameters,
        SearchField,
        SearchFieldDataType,
        SearchIndex,
        SemanticConfiguration,
        SemanticField,
        SemanticPrioritizedFields,
        SemanticSearch,
        VectorSearch,
        VectorSearchProfile,
    )

    f, e = settings.fields, settings.embeddings
    text = SearchFieldDataType.STRING

    def searchable(name: str) -> SearchField:
        return SearchField(name=name, type=text, searchable=True, retrievable=True)

    fields = [
        SearchField(name=f.id, type=text, key=True, filterable=True, retrievable=True),
        searchable(f.question),
        searchable(f.answer),
        searchable(f.content),
        searchable(f.title),
        SearchField(name=f.source, type=text, filterable=True, retrievable=True),
        SearchField(
            name=f.created_at, type=SearchFieldDataType.DATE_TIME_OFFSET, filterable=True, sortable=True
        ),
        SearchField(
            name=f.vector,
            type="Collection(Edm.Single)",
            searchable=True,
            retrievable=False,
            vector_search_dimensions=e.dimensions,
            vector_search_profile_name=PROFILE,
        ),
    ]
    vectorizers: list[Any] = []
    if settings.integrated_vectorizer and e.endpoint:
        vectorizers.append(
            AzureOpenAIVectorizer(
                vectorizer_name=VECTORIZER,
                parameters=AzureOpenAIVectorizerParameters(
                    resource_url=e.endpoint.rstrip("/"),
                    deployment_name=e.model,
                    model_name=e.model if e.model in _MODEL_NAMES else "text-embedding-3-small",
                    api_key=e.api_key or None,
                ),
            )
        )
    return SearchIndex(
        name=settings.index,
        fields=fields,
        vector_search=VectorSearch(
            algorithms=[
                HnswAlgorithmConfiguration(name=ALGORITHM, parameters=HnswParameters(metric="cosine"))
            ],
            profiles=[
                VectorSearchProfile(
                    name=PROFILE,
                    algorithm_configuration_name=ALGORITHM,
                    vectorizer_name=VECTORIZER if vectorizers else None,
                )
            ],
            vectorizers=vectorizers or None,
        ),
        semantic_search=SemanticSearch(
            default_configuration_name=settings.semantic_configuration,
            configurations=[
                SemanticConfiguration(
                    name=settings.semantic_configuration,
                    prioritized_fields=SemanticPrioritizedFields(
                        title_field=SemanticField(field_name=f.title),
                        content_fields=[SemanticField(field_name=f.content)],
                    ),
                )
            ],
        ),
    )
