"""The Azure AI Search data plane (REST API 2024-07-01, contracts/search/) over loopback HTTP.

Serves what the product and the real ``azure-search-documents`` SDK use: indexes (create, create or
update, get, list, delete), documents (index batches, lookup, count) and search (``search``,
``searchFields``, ``filter``, ``top``, ``skip``, ``select``, ``count``, ``vectorQueries`` of the
``vector`` and ``text`` kinds, hybrid ranking, ``queryType=semantic``). Requests need the ``api-key``
header (the emulator's admin key) or a bearer token; errors have the service's ``{"error": ...}`` body.
Text vector queries are vectorized by calling the field's ``azureOpenAI`` vectorizer, as the service
does. ``faults`` lets a test make the next searches fail or stall.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from local.search_emulator.contract import check
from local.search_emulator.index import (
    TEXT_RECALL,
    Document,
    SearchIndex,
    SearchRequestError,
    fuse,
)

DEFAULT_PORT = 8083
# Admin key of the local emulator (not a secret: it only opens the loopback emulator).
DEFAULT_ADMIN_KEY = "local-search-emulator-admin-key"
API_VERSIONS = {"2024-07-01", "2025-09-01", "2023-11-01"}
DEFAULT_PAGE = 50
MAX_PAGE = 1000
_NAME = r"\('(?P<name>[^']+)'\)"


@dataclass
class SearchFault:
    status: int = 503
    delay_s: float = 0.0
    times: int = 1


@dataclass
class SearchEmulator:
    host: str = "127.0.0.1"
    port: int = 0
    admin_key: str = DEFAULT_ADMIN_KEY
    indexes: dict[str, SearchIndex] = field(default_factory=dict)
    faults: list[SearchFault] = field(default_factory=list)
    searches: int = 0
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/health", self._health)
        app.router.add_post("/_control/faults", self._add_fault)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        return app

    async def start(self) -> SearchEmulator:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- plumbing ---------------------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except SearchRequestError as exc:
            return _error(exc.status, exc.code, str(exc))
        except json.JSONDecodeError as exc:
            return _error(400, "InvalidRequestParameter", f"The request body is not valid JSON: {exc}")

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "indexes": len(self.indexes)})

    async def _add_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.faults.append(SearchFault(**body))
        return web.json_response({"faults": len(self.faults)})

    def _authorized(self, request: web.Request) -> bool:
        if request.headers.get("api-key") == self.admin_key:
            return True
        return request.headers.get("Authorization", "").startswith("Bearer ")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(
                403, "Forbidden", "Authorization failed: give the api-key header or a bearer token."
            )
        version = request.query.get("api-version")
        if version is None:
            return _error(
                400,
                "MissingRequiredParameter",
                "The api-version query parameter (?api-version=) is required.",
            )
        if version not in API_VERSIONS and not version.endswith("-preview"):
            return _error(400, "InvalidApiVersionParameter", f"Invalid or missing api-version: '{version}'.")
        path = "/" + request.match_info["path"]
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"/indexes", self._list_indexes),
            ("POST", r"/indexes", self._create_index),
            ("GET", rf"/indexes{_NAME}", self._get_index),
            ("PUT", rf"/indexes{_NAME}", self._put_index),
            ("DELETE", rf"/indexes{_NAME}", self._delete_index),
            ("POST", rf"/indexes{_NAME}/docs/search\.index", self._index_documents),
            ("POST", rf"/indexes{_NAME}/docs/search\.post\.search", self._search),
            ("GET", rf"/indexes{_NAME}/docs/\$count", self._count),
            ("GET", rf"/indexes{_NAME}/docs(?:\('(?P<key>[^']*)'\)|/(?P<key2>[^/]+))", self._lookup),
        ]
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                response: web.StreamResponse = await handler(request, **match.groupdict())
                return response
        return _error(
            404, "ResourceNotFound", f"No HTTP resource was found that matches '{request.method} {path}'."
        )

    def _index(self, name: str) -> SearchIndex:
        index = self.indexes.get(name)
        if index is None:
            raise SearchRequestError(
                f"The index '{name}' for service 'local' was not found.", 404, "ResourceNotFound"
            )
        return index

    # -- indexes ----------------------------------------------------------------------------------

    async def _list_indexes(self, request: web.Request) -> web.Response:
        return web.json_response({"value": [i.as_json() for i in self.indexes.values()]})

    async def _create_index(self, request: web.Request) -> web.Response:
        definition = check("Indexes.SearchIndex", "index", await request.json())
        if definition.get("name") in self.indexes:
            raise SearchRequestError(
                f"Cannot create index '{definition['name']}' because it already exists.",
                409,
                "ResourceNameAlreadyInUse",
            )
        index = SearchIndex.create(definition)
        self.indexes[index.name] = index
        return web.json_response(index.as_json(), status=201, headers={"ETag": index.etag})

    async def _get_index(self, request: web.Request, name: str) -> web.Response:
        index = self._index(name)
        return web.json_response(index.as_json(), headers={"ETag": index.etag})

    async def _put_index(self, request: web.Request, name: str) -> web.Response:
        definition = await request.json()
        if definition.get("name", name) != name:
            raise SearchRequestError("The index name in the body does not match the one in the URL.")
        definition["name"] = name
        check("Indexes.SearchIndex", "index", definition)
        existing = self.indexes.get(name)
        if existing is None:
            if request.headers.get("If-Match"):
                raise SearchRequestError(
                    "The precondition given in one of the request headers evaluated to false.",
                    412,
                    "PreconditionFailed",
                )
            self.indexes[name] = SearchIndex.create(definition)
            status = 201
        else:
            if request.headers.get("If-None-Match") == "*":
                raise SearchRequestError(
                    "The precondition given in one of the request headers evaluated to false.",
                    412,
                    "PreconditionFailed",
                )
            existing.replace_definition(definition)
            status = 200
        index = self.indexes[name]
        if request.headers.get("Prefer") == "return=minimal":
            return web.Response(status=204, headers={"ETag": index.etag})
        return web.json_response(index.as_json(), status=status, headers={"ETag": index.etag})

    async def _delete_index(self, request: web.Request, name: str) -> web.Response:
        self._index(name)
        del self.indexes[name]
        return web.Response(status=204)

    # -- documents --------------------------------------------------------------------------------

    async def _index_documents(self, request: web.Request, name: str) -> web.Response:
        index = self._index(name)
        body = check("IndexBatch", "batch", await request.json())
        actions = body.get("value")
        if not isinstance(actions, list) or not actions:
            raise SearchRequestError(
                "The request is invalid. Details: actions : No indexing actions found in the request."
            )
        results, ok = index.index(actions)
        return web.json_response({"value": results}, status=200 if ok else 207)

    async def _count(self, request: web.Request, name: str) -> web.Response:
        return web.Response(text=str(len(self._index(name).documents)), content_type="text/plain")

    async def _lookup(
        self, request: web.Request, name: str, key: str | None = None, key2: str | None = None
    ) -> web.Response:
        index = self._index(name)
        wanted = key if key is not None else key2
        if wanted is None and "key" in request.query:
            wanted = request.query["key"]
        document = index.documents.get(wanted or "")
        if document is None:
            return web.Response(status=404)
        select = request.query.get("$select")
        return web.json_response(_project(document, select.split(",") if select else None, index))

    # -- search -----------------------------------------------------------------------------------

    async def _search(self, request: web.Request, name: str) -> web.Response:
        index = self._index(name)
        body = check("SearchRequest", "search request", await request.json())
        self.searches += 1
        if self.faults:
            fault = self.faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self.faults.pop(0)
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status >= 400:
                return _error(
                    fault.status, "ServiceUnavailable", "Service is temporarily unavailable (injected fault)."
                )
        predicate = index.predicate(body.get("filter"))
        candidates = [d for d in index.documents.values() if predicate(d)]
        search_text = body.get("search")
        vector_queries = body.get("vectorQueries") or []
        rankings: list[list[tuple[Document, float]]] = []
        if search_text is not None or not vector_queries:
            searchable = [
                n
                for n, f in index.fields.items()
                if f.get("searchable") and f["type"] in {"Edm.String", "Collection(Edm.String)"}
            ]
            fields_wanted = [
                f.strip() for f in (body.get("searchFields") or "").split(",") if f.strip()
            ] or searchable
            for wanted in fields_wanted:
                if wanted not in searchable:
                    raise SearchRequestError(f"Invalid expression: '{wanted}' is not a searchable field.")
            text = index.text_ranking(search_text or "*", candidates, fields_wanted)
            rankings.append(text[:TEXT_RECALL] if vector_queries else text)
        for query in vector_queries:
            vector = await self._query_vector(index, query)
            k = int(query.get("k") or query.get("kNearestNeighborsCount") or DEFAULT_PAGE)
            for field_name in str(query.get("fields", "")).split(","):
                rankings.append(index.vector_ranking(vector, field_name.strip(), k, candidates))
        ranked = rankings[0] if len(rankings) == 1 else fuse(rankings, index.key)
        semantic = body.get("queryType") == "semantic"
        reranker: dict[str, float] = {}
        if semantic:
            reranked = index.semantic_rerank(
                body.get("semanticQuery") or search_text or "", ranked, body.get("semanticConfiguration")
            )
            reranker = {d[index.key]: r for d, _s, r in reranked}
            ranked = [(d, s) for d, s, _r in reranked]
        return web.json_response(self._page(index, body, ranked, reranker))

    async def _query_vector(self, index: SearchIndex, query: dict[str, Any]) -> list[float]:
        kind = query.get("kind")
        if kind == "vector":
            vector = query.get("vector")
            if not isinstance(vector, list):
                raise SearchRequestError("A vector query of kind 'vector' needs a 'vector'.")
            return [float(x) for x in vector]
        if kind != "text":
            raise SearchRequestError(f"Unsupported vector query kind '{kind}'.")
        field_name = str(query.get("fields", "")).split(",")[0].strip()
        vectorizer = index.vectorizer_for(field_name)
        if vectorizer is None:
            raise SearchRequestError(
                f"The field '{field_name}' has no vectorizer configured in its vector profile, so a text vector query cannot be vectorized."
            )
        return await self._vectorize(vectorizer, str(query.get("text", "")))

    async def _vectorize(self, vectorizer: dict[str, Any], text: str) -> list[float]:
        if vectorizer.get("kind") != "azureOpenAI":
            raise SearchRequestError(
                f"Vectorizer kind '{vectorizer.get('kind')}' is not supported by the emulator."
            )
        parameters = (
            vectorizer.get("azureOpenAIParameters") or vectorizer.get("azureOpenAIParameters".lower()) or {}
        )
        url = (
            f"{str(parameters.get('resourceUri', '')).rstrip('/')}/openai/deployments/"
            f"{parameters.get('deploymentId')}/embeddings?api-version=2024-10-21"
        )
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        headers = {"api-key": str(parameters.get("apiKey") or "local")}
        try:
            async with self._http.post(url, json={"input": text}, headers=headers) as response:
                if response.status != 200:
                    raise SearchRequestError(
                        f"The vectorizer at {url} answered {response.status}.", 400, "VectorizerError"
                    )
                payload = await response.json()
        except aiohttp.ClientError as exc:
            raise SearchRequestError(
                f"The vectorizer at {url} could not be reached: {exc}", 400, "VectorizerError"
            ) from None
        return [float(x) for x in payload["data"][0]["embedding"]]

    def _page(
        self,
        index: SearchIndex,
        body: dict[str, Any],
        ranked: list[tuple[Document, float]],
        reranker: dict[str, float],
    ) -> dict[str, Any]:
        skip = int(body.get("skip") or 0)
        top = body.get("top")
        size = min(int(top), MAX_PAGE) if top is not None else DEFAULT_PAGE
        page = ranked[skip : skip + size]
        select = [s.strip() for s in (body.get("select") or "").split(",") if s.strip()] or None
        values = []
        for d, score in page:
            item: dict[str, Any] = {"@search.score": score}
            if reranker:
                item["@search.rerankerScore"] = reranker.get(d[index.key])
            item.update(_project(d, select, index))
            values.append(item)
        result: dict[str, Any] = {}
        if body.get("count"):
            result["@odata.count"] = len(ranked)
        result["value"] = values
        remaining = len(ranked) - (skip + len(page))
        wanted_more = top is None or int(top) > size
        if remaining > 0 and wanted_more and page:
            following = {**body, "skip": skip + len(page)}
            if top is not None:
                following["top"] = int(top) - len(page)
            result["@search.nextPageParameters"] = following
        return result


def _project(document: Document, select: list[str] | None, index: SearchIndex) -> Document:
    fields = index.fields
    if select is None or select == ["*"]:
        names = [n for n, f in fields.items() if f.get("retrievable", True)]
    else:
        unknown = [s for s in select if s not in fields]
        if unknown:
            raise SearchRequestError(
                f"Invalid expression: Could not find a property named '{unknown[0]}' on type 'search.document'."
            )
        names = select
    return {n: document.get(n) for n in names}


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
