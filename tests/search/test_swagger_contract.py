"""The AI Search emulator against the service's swagger (contracts/search/2024-07-01/): what the real
SDK sends through the product's adapter fits the request schemas, what the emulator answers fits the
response schemas, and a request the swagger forbids is refused with the service's error body."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from core.adapters.ai_search import AiSearch
from core.adapters.openai_embeddings import OpenAIEmbeddings
from core.ingest import ingest
from core.settings_search import SearchSettings
from local.embeddings import EmbeddingsServer
from local.search_emulator import SearchEmulator
from local.search_emulator.contract import errors, operation, request_definition, response_definition
from local.search_emulator.sample import SAMPLE_CORPUS

API = {"api-version": "2024-07-01"}


@dataclass
class Exchange:
    method: str
    path: str
    request: Any
    status: int
    response: Any


@dataclass
class RecordingEmulator(SearchEmulator):
    """The emulator, recording each request and answer of the operations the swagger excerpt holds."""

    exchanges: list[Exchange] = field(default_factory=list)

    def app(self) -> web.Application:
        app = super().app()
        app.middlewares.insert(0, self._record)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        response: web.StreamResponse = await handler(request)
        path = request.path
        contracted = (
            "/docs/search." in path or path == "/indexes" or re.fullmatch(r"/indexes\('[^/']+'\)", path)
        )
        if contracted and isinstance(response, web.Response) and response.body is not None:
            body = response.body if isinstance(response.body, bytes) else b""
            self.exchanges.append(
                Exchange(
                    request.method,
                    path,
                    json.loads(raw) if raw else None,
                    response.status,
                    json.loads(body) if body else None,
                )
            )
        return response


@pytest.fixture(scope="module")
async def recording(embeddings_server: EmbeddingsServer) -> AsyncIterator[RecordingEmulator]:
    started = await RecordingEmulator().start()
    yield started
    await started.stop()


def settings_for(
    emulator: SearchEmulator, embeddings_server: EmbeddingsServer, **changes: Any
) -> SearchSettings:
    settings = SearchSettings(
        endpoint=emulator.endpoint,
        api_key=emulator.admin_key,
        index=f"contract-{uuid.uuid4().hex[:8]}",
        timeout_s=5.0,
    )
    embeddings = settings.embeddings.model_copy(
        update={
            "provider": "azure_openai",
            "endpoint": embeddings_server.root_url,
            "api_key": "local",
            "dimensions": 384,
        }
    )
    return settings.model_copy(update={"embeddings": embeddings, **changes})


@pytest.fixture(scope="module")
async def traffic(recording: RecordingEmulator, embeddings_server: EmbeddingsServer) -> list[Exchange]:
    """The product's own search traffic: ingestion of the sample corpus, then each search mode."""
    base = settings_for(recording, embeddings_server)
    for changes in ({}, {"mode": "text"}, {"mode": "vector"}, {"semantic_ranker": True}):
        settings = base.model_copy(update=changes)
        search = AiSearch(settings, OpenAIEmbeddings(settings.embeddings))
        try:
            if not changes:
                await ingest(SAMPLE_CORPUS, search, search.embeddings)  # type: ignore[arg-type]
            await search.search("Will you pay for a rental car while my car is being repaired?", 3)
        finally:
            await search.close()
    assert recording.exchanges
    return list(recording.exchanges)


def test_the_sdk_requests_fit_the_request_schemas(traffic: list[Exchange]) -> None:
    operations = set()
    for exchange in traffic:
        operations.add(operation(exchange.method, exchange.path)["operationId"])
        definition = request_definition(exchange.method, exchange.path)
        if definition is None:
            assert exchange.request is None, exchange.path
            continue
        assert not errors(definition, exchange.request), (exchange.path, errors(definition, exchange.request))
    assert {"Indexes_Create", "Documents_Index", "Documents_SearchPost"} <= operations


def test_the_emulator_answers_fit_the_response_schemas(traffic: list[Exchange]) -> None:
    for exchange in traffic:
        definition = response_definition(exchange.method, exchange.path, exchange.status)
        assert not errors(definition, exchange.response), (
            exchange.path,
            errors(definition, exchange.response),
        )
    searches = [e for e in traffic if e.path.endswith("search.post.search")]
    assert any(e.request.get("vectorQueries") for e in searches)
    assert any(e.request.get("queryType") == "semantic" for e in searches)
    assert any(e.response["value"] for e in searches)


async def raw(emulator: SearchEmulator, path: str, body: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(headers={"api-key": emulator.admin_key}) as http,
        http.post(f"{emulator.endpoint}{path}", params=API, json=body) as response,
    ):
        return response.status, await response.json(content_type=None)


@pytest.fixture(scope="module")
def index_name(traffic: list[Exchange]) -> str:
    return next(e.path.split("'")[1] for e in traffic if e.path.endswith("search.index"))


SEARCH_FORBIDDEN = [
    {"search": "car", "top": "3"},
    {"search": "car", "topp": 3},
    {"search": "car", "queryType": "fuzzy"},
    {"vectorQueries": [{"fields": "content_vector", "k": 3, "vector": [0.1] * 384}]},
    {"vectorQueries": [{"kind": "vector", "fields": "content_vector", "k": 3}]},
    {"vectorQueries": [{"kind": "text", "fields": "content_vector", "k": 3}]},
    {"vectorQueries": [{"kind": "image", "fields": "content_vector", "url": "x"}]},
    {"search": "car", "semanticMaxWaitInMilliseconds": 100},
]


@pytest.mark.parametrize("body", SEARCH_FORBIDDEN)
async def test_a_search_the_swagger_forbids_is_refused(
    recording: RecordingEmulator, index_name: str, body: dict[str, Any]
) -> None:
    assert errors("SearchRequest", body), "the case must break the swagger"
    status, answer = await raw(recording, f"/indexes('{index_name}')/docs/search.post.search", body)
    assert status == 400, answer
    assert not errors("ErrorResponse", answer) and answer["error"]["message"]


BATCH_FORBIDDEN = [
    {},
    {"value": {"@search.action": "upload", "id": "x"}},
    {"value": [{"@search.action": "insert", "id": "x"}]},
]


@pytest.mark.parametrize("body", BATCH_FORBIDDEN)
async def test_a_batch_the_swagger_forbids_is_refused(
    recording: RecordingEmulator, index_name: str, body: dict[str, Any]
) -> None:
    assert errors("IndexBatch", body), "the case must break the swagger"
    status, answer = await raw(recording, f"/indexes('{index_name}')/docs/search.index", body)
    assert status == 400, answer
    assert not errors("ErrorResponse", answer) and answer["error"]["message"]


def test_the_checker_finds_what_the_emulator_must_not_answer() -> None:
    assert errors("IndexingResult", {"key": "1", "status": True}), "statusCode is required"
    assert errors("SearchResult", {"id": "1"}), "@search.score is required"
    assert errors("SearchDocumentsResult", {"value": [], "@search.total": 3}), "not a property of the result"
    assert not errors("IndexingResult", {"key": "1", "status": True, "statusCode": 201, "errorMessage": None})


def valid_index(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "fields": [
            {"name": "id", "type": "Edm.String", "key": True},
            {"name": "v", "type": "Collection(Edm.Single)", "dimensions": 3, "vectorSearchProfile": "p"},
        ],
        "vectorSearch": {
            "profiles": [{"name": "p", "algorithm": "a"}],
            "algorithms": [{"name": "a", "kind": "hnsw", "hnswParameters": {"m": 4, "metric": "cosine"}}],
        },
    }


INDEX_FORBIDDEN: dict[str, Any] = {
    "a property the index does not have": lambda d: d.update(fieldz=[]),
    "a field property the swagger does not name": lambda d: d["fields"][0].update(hidden=True),
    "an index name that is not a string": lambda d: d.update(name=5),
    "a vector field above 3072 dimensions": lambda d: d["fields"][1].update(dimensions=3073),
    "HNSW m above 10": lambda d: d["vectorSearch"]["algorithms"][0]["hnswParameters"].update(m=20),
    "an unknown metric": lambda d: d["vectorSearch"]["algorithms"][0]["hnswParameters"].update(metric="l1"),
    "an unknown algorithm kind": lambda d: d["vectorSearch"]["algorithms"][0].update(kind="ivf"),
    "a semantic configuration without prioritizedFields": lambda d: d.update(
        semantic={"configurations": [{"name": "s"}]}
    ),
    "a suggester with an unknown search mode": lambda d: d.update(
        suggesters=[{"name": "s", "searchMode": "prefix", "sourceFields": ["id"]}]
    ),
}


@pytest.mark.parametrize("case", sorted(INDEX_FORBIDDEN))
async def test_an_index_the_swagger_forbids_is_refused_on_create_and_on_put(
    recording: RecordingEmulator, case: str
) -> None:
    name = f"forbidden-{uuid.uuid4().hex[:8]}"
    definition = valid_index(name)
    assert not errors("Indexes.SearchIndex", definition)
    INDEX_FORBIDDEN[case](definition)
    assert errors("Indexes.SearchIndex", definition), "the case must break the swagger"
    status, answer = await raw(recording, "/indexes", definition)
    assert status == 400, answer
    assert not errors("ErrorResponse", answer) and answer["error"]["message"]
    async with (
        aiohttp.ClientSession(headers={"api-key": recording.admin_key}) as http,
        http.put(f"{recording.endpoint}/indexes('{name}')", params=API, json=definition) as response,
    ):
        assert response.status == 400
    assert name not in recording.indexes


async def test_a_vector_field_of_3072_dimensions_is_taken_as_the_service_takes_it(
    recording: RecordingEmulator,
) -> None:
    definition = valid_index(f"large-{uuid.uuid4().hex[:8]}")
    definition["fields"][1]["dimensions"] = 3072
    status, answer = await raw(recording, "/indexes", definition)
    assert status == 201, answer
    assert not errors("Indexes.SearchIndex", answer)
