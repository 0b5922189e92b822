"""The AI Search emulator as the real azure-search-documents SDK sees it: indexes, index batches, and
queries (full text, filter, select, top, paging, vector and text vector queries, hybrid, semantic)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.search.documents.aio import SearchClient
from azure.search.documents.indexes.aio import SearchIndexClient
from azure.search.documents.indexes.models import SearchField, SearchIndex
from azure.search.documents.models import VectorizableTextQuery, VectorizedQuery

from core.adapters.ai_search import API_VERSION
from core.adapters.ai_search_schema import index_definition
from core.settings_search import SearchSettings
from local.embeddings import hashing_embedding
from local.search_emulator import SearchEmulator
from local.search_emulator.index import RRF_K

TEXTS = {
    "rental": "Rental car coverage pays up to 40 dollars per day while your car is repaired.",
    "glass": "Windshield chips are repaired with no deductible.",
    "password": "Reset your password in the self-service portal.",
    "vpn": "The VPN disconnects after 12 hours.",
}


@pytest.fixture
async def clients(search_settings: SearchSettings) -> AsyncIterator[tuple[SearchIndexClient, SearchClient]]:
    credential = AzureKeyCredential(search_settings.api_key)
    async with (
        SearchIndexClient(search_settings.endpoint, credential, api_version=API_VERSION) as indexes,
        SearchClient(
            search_settings.endpoint, search_settings.index, credential, api_version=API_VERSION
        ) as docs,
    ):
        await indexes.create_index(index_definition(search_settings))
        yield indexes, docs


def document(key: str, text: str, source: str = "") -> dict[str, Any]:
    return {
        "id": key,
        "context": text,
        "document_synthesis": key.title(),
        "file_path": source or f"{key}.md",
        "vectors": hashing_embedding(text),
    }


async def test_an_index_is_created_read_back_and_refused_twice(
    clients: tuple[SearchIndexClient, SearchClient], search_settings: SearchSettings
) -> None:
    indexes, _ = clients
    index = await indexes.get_index(search_settings.index)
    names = {f.name: f for f in index.fields}
    assert set(names) >= {
        "id",
        "question",
        "answer",
        "context",
        "document_synthesis",
        "file_path",
        "created_at",
        "vectors",
    }
    assert names["id"].key and names["vectors"].vector_search_dimensions == 384
    assert index.vector_search is not None and index.vector_search.vectorizers
    assert (
        index.vector_search.profiles[0].vectorizer_name == index.vector_search.vectorizers[0].vectorizer_name
    )
    assert index.semantic_search is not None and index.semantic_search.configurations[0].name == "default"
    assert index.e_tag
    with pytest.raises(ResourceExistsError):
        await indexes.create_index(index_definition(search_settings))
    with pytest.raises(ResourceNotFoundError):
        await indexes.get_index("no-such-index")


async def test_an_invalid_index_is_refused_with_the_reason(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    indexes, _ = clients
    no_key = SearchIndex(name="nokey", fields=[SearchField(name="a", type="Edm.String", searchable=True)])
    with pytest.raises(HttpResponseError) as refused:
        await indexes.create_index(no_key)
    assert refused.value.status_code == 400 and "key field" in str(refused.value.message)
    bad_name = SearchIndex(name="Bad_Name", fields=[SearchField(name="id", type="Edm.String", key=True)])
    with pytest.raises(HttpResponseError, match="invalid"):
        await indexes.create_index(bad_name)


async def test_index_batches_upload_merge_merge_or_upload_and_delete(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    _, docs = clients
    results = await docs.upload_documents(
        [document("rental", TEXTS["rental"]), document("glass", TEXTS["glass"])]
    )
    assert [(r.key, r.succeeded, r.status_code) for r in results] == [
        ("rental", True, 201),
        ("glass", True, 201),
    ]
    merged = await docs.merge_documents([{"id": "rental", "question": "Is a rental car covered?"}])
    assert merged[0].succeeded and merged[0].status_code == 200
    kept = await docs.get_document("rental")
    assert kept["question"] == "Is a rental car covered?" and kept["context"] == TEXTS["rental"]
    both = await docs.merge_or_upload_documents(
        [{"id": "vpn", "context": TEXTS["vpn"]}, {"id": "glass", "answer": "free"}]
    )
    assert [r.status_code for r in both] == [201, 200]
    assert await docs.get_document_count() == 3
    deleted = await docs.delete_documents([{"id": "glass"}, {"id": "never-there"}])
    assert all(r.succeeded for r in deleted)
    assert await docs.get_document_count() == 2
    with pytest.raises(ResourceNotFoundError):
        await docs.get_document("glass")


async def test_a_merge_of_a_missing_document_fails_alone(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    _, docs = clients
    results = await docs.merge_or_upload_documents([document("vpn", TEXTS["vpn"])])
    results += await docs.merge_documents([{"id": "missing", "answer": "x"}])
    assert [(r.key, r.succeeded, r.status_code) for r in results] == [
        ("vpn", True, 201),
        ("missing", False, 404),
    ]
    assert await docs.get_document_count() == 1


async def test_unknown_fields_and_wrong_vector_sizes_are_refused(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    _, docs = clients
    with pytest.raises(HttpResponseError, match="does not exist"):
        await docs.upload_documents([{"id": "a", "colour": "red"}])
    with pytest.raises(HttpResponseError, match="dimension"):
        await docs.upload_documents([{"id": "a", "vectors": [0.1, 0.2]}])


async def test_full_text_search_with_filter_select_and_top(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    _, docs = clients
    await docs.upload_documents(
        [
            document(k, v, f"{'it' if k in {'password', 'vpn'} else 'insurance'}/{k}.md")
            for k, v in TEXTS.items()
        ]
    )
    found = [
        r
        async for r in await docs.search(search_text="rental car repaired", select=["id", "file_path"], top=2)
    ]
    assert found[0]["id"] == "rental" and found[0]["@search.score"] > 0
    assert {k for k in found[0] if not k.startswith("@")} == {"id", "file_path"} and len(found) <= 2
    filtered = [
        r["id"]
        async for r in await docs.search(
            search_text="*", filter="file_path eq 'it/vpn.md' or search.in(id, 'glass,rental')"
        )
    ]
    assert sorted(filtered) == ["glass", "rental", "vpn"]
    negated = [
        r["id"]
        async for r in await docs.search(search_text="*", filter="not (file_path ne 'insurance/glass.md')")
    ]
    assert negated == ["glass"]
    with pytest.raises(HttpResponseError, match="Could not find a property named 'nope'"):
        [r async for r in await docs.search(search_text="*", filter="nope eq 'x'")]


async def test_results_beyond_one_page_are_fetched_by_the_sdk(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    _, docs = clients
    await docs.upload_documents(
        [{"id": f"d{i}", "context": f"passage {i}", "file_path": "many.md"} for i in range(130)]
    )
    results = await docs.search(search_text="*", select=["id"], include_total_count=True)
    keys = [r["id"] async for r in results]
    assert len(keys) == 130 == len(set(keys))
    assert await results.get_count() == 130


async def test_vector_queries_rank_by_cosine_and_text_queries_use_the_vectorizer(
    clients: tuple[SearchIndexClient, SearchClient], emulator: SearchEmulator
) -> None:
    _, docs = clients
    await docs.upload_documents([document(k, v) for k, v in TEXTS.items()])
    query = hashing_embedding("password reset portal")
    by_vector = [
        r
        async for r in await docs.search(
            vector_queries=[VectorizedQuery(vector=query, k_nearest_neighbors=2, fields="vectors")]
        )
    ]
    assert by_vector[0]["id"] == "password" and len(by_vector) == 2
    stored = hashing_embedding(TEXTS["password"])
    cosine = sum(a * b for a, b in zip(query, stored, strict=True)) / (
        math.hypot(*query) * math.hypot(*stored)
    )
    assert by_vector[0]["@search.score"] == pytest.approx(1 / (1 + (1 - cosine)))
    by_text = [
        r["id"]
        async for r in await docs.search(
            vector_queries=[
                VectorizableTextQuery(text="password reset portal", k_nearest_neighbors=1, fields="vectors")
            ]
        )
    ]
    assert by_text == ["password"]


async def test_hybrid_results_are_fused_by_reciprocal_rank(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    _, docs = clients
    await docs.upload_documents([document(k, v) for k, v in TEXTS.items()])
    vector = VectorizedQuery(
        vector=hashing_embedding("windshield glass"), k_nearest_neighbors=4, fields="vectors"
    )
    text_only = [r["id"] async for r in await docs.search(search_text="rental car")]
    vector_only = [r["id"] async for r in await docs.search(vector_queries=[vector])]
    hybrid = [
        (r["id"], r["@search.score"])
        async for r in await docs.search(search_text="rental car", vector_queries=[vector])
    ]
    expected: dict[str, float] = {}
    for ranking in (text_only, vector_only):
        for rank, key in enumerate(ranking, start=1):
            expected[key] = expected.get(key, 0.0) + 1 / (RRF_K + rank)
    assert [k for k, _ in hybrid] == sorted(expected, key=lambda k: -expected[k])
    assert dict(hybrid) == pytest.approx(expected)


async def test_the_semantic_ranker_adds_a_reranker_score(
    clients: tuple[SearchIndexClient, SearchClient],
) -> None:
    _, docs = clients
    await docs.upload_documents([document(k, v) for k, v in TEXTS.items()])
    results = [
        r
        async for r in await docs.search(
            search_text="windshield deductible", query_type="semantic", semantic_configuration_name="default"
        )
    ]
    assert results[0]["id"] == "glass" and 0 < results[0]["@search.reranker_score"] <= 4


async def test_a_wrong_key_is_refused(search_settings: SearchSettings) -> None:
    async with SearchIndexClient(
        search_settings.endpoint, AzureKeyCredential("wrong"), api_version=API_VERSION
    ) as indexes:
        # The service answers 403 (not 401) to a wrong api-key.
        with pytest.raises(HttpResponseError) as refused:
            await indexes.get_index(search_settings.index)
    assert refused.value.status_code == 403
