"""One in-memory search index: its definition as the service validates it, its documents, and queries.

Ranking follows what the service documents: full text is BM25 (k1=1.2, b=0.75) over the searchable
fields with the standard analyzer (lowercased words, no stemming); vector fields are compared with the
metric of their profile's algorithm (cosine: score = 1 / (1 + distance)); a request with both, or with
several vector queries, is fused with Reciprocal Rank Fusion (score = sum of 1 / (60 + rank)) over the
text results (the best 50) and each vector query's k nearest neighbours. The semantic ranker is not a
language model here: it reranks the best 50 by the share of query words found in the configuration's
prioritized fields, scaled to the service's 0-4 ``@search.rerankerScore`` range.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from local.search_emulator.odata import FilterError, Predicate, parse_filter

Document = dict[str, Any]

RRF_K = 60
TEXT_RECALL = 50
SEMANTIC_WINDOW = 50
MAX_BATCH = 1000
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_INDEX_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,126}[a-z0-9])?$")
_KEY_VALUE = re.compile(r"^[A-Za-z0-9_\-=]{1,1024}$")
_VECTOR_TYPES = {"Collection(Edm.Single)", "Collection(Edm.Half)"}


# The service's limit for a vector field (2 to 3072 dimensions, the size of text-embedding-3-large);
# the 2024-07-01 swagger still says 2048 (contract.py overrides it).
MAX_DIMENSIONS = 3072


class SearchRequestError(ValueError):
    """A request the service refuses: carries the HTTP status and error code it answers with."""

    def __init__(self, message: str, status: int = 400, code: str = "InvalidRequestParameter") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _check_definition(definition: dict[str, Any]) -> None:
    name = str(definition.get("name", ""))
    if not _INDEX_NAME.match(name) or "--" in name:
        raise SearchRequestError(
            f"Index name '{name}' is invalid: lowercase letters, digits or dashes, at most 128 characters,"
            " starting and ending with a letter or digit."
        )
    fields = definition.get("fields") or []
    if not fields:
        raise SearchRequestError(
            "The request is invalid. Details: index : The index must have at least one field."
        )
    names = [f.get("name") for f in fields]
    if len(set(names)) != len(names):
        raise SearchRequestError("The request is invalid. Details: index : Field names must be unique.")
    keys = [f for f in fields if f.get("key")]
    if len(keys) != 1 or keys[0].get("type") != "Edm.String":
        raise SearchRequestError(
            "The request is invalid. Details: index : The index must contain exactly one key field of type"
            " Edm.String."
        )
    vector_search = definition.get("vectorSearch") or {}
    algorithms = {a["name"]: a for a in vector_search.get("algorithms") or []}
    vectorizers = {v["name"]: v for v in vector_search.get("vectorizers") or []}
    profiles = {p["name"]: p for p in vector_search.get("profiles") or []}
    for profile in profiles.values():
        if profile.get("algorithm") not in algorithms:
            raise SearchRequestError(f"Vector profile '{profile['name']}' names an unknown algorithm.")
        if profile.get("vectorizer") and profile["vectorizer"] not in vectorizers:
            raise SearchRequestError(f"Vector profile '{profile['name']}' names an unknown vectorizer.")
    for f in fields:
        if f.get("type") in _VECTOR_TYPES:
            dims = f.get("dimensions")
            if not isinstance(dims, int) or not 2 <= dims <= MAX_DIMENSIONS:
                raise SearchRequestError(
                    f"Vector field '{f['name']}' needs dimensions between 2 and {MAX_DIMENSIONS}."
                )
            if f.get("vectorSearchProfile") not in profiles:
                raise SearchRequestError(f"Vector field '{f['name']}' needs an existing vectorSearchProfile.")
    semantic = definition.get("semantic") or {}
    for config in semantic.get("configurations") or []:
        prioritized = config.get("prioritizedFields") or {}
        used = [(prioritized.get("titleField") or {}).get("fieldName")]
        used += [c.get("fieldName") for c in prioritized.get("prioritizedContentFields") or []]
        used += [c.get("fieldName") for c in prioritized.get("prioritizedKeywordsFields") or []]
        for name_used in filter(None, used):
            if name_used not in names:
                raise SearchRequestError(
                    f"Semantic configuration '{config['name']}' names unknown field '{name_used}'."
                )


def _with_defaults(definition: dict[str, Any]) -> dict[str, Any]:
    stored = dict(definition)
    stored["fields"] = []
    for f in definition["fields"]:
        vector = f.get("type") in _VECTOR_TYPES
        text = f.get("type") in {"Edm.String", "Collection(Edm.String)"}
        stored["fields"].append(
            {
                "searchable": text or vector,
                "filterable": not vector,
                "retrievable": True,
                "stored": True,
                "sortable": not vector and not f.get("type", "").startswith("Collection"),
                "facetable": not vector,
                "key": False,
                "synonymMaps": [],
                **{k: v for k, v in f.items() if v is not None},
            }
        )
    stored.pop("@odata.etag", None)
    stored.pop("@odata.context", None)
    return stored


@dataclass
class SearchIndex:
    definition: dict[str, Any]
    documents: dict[str, Document] = field(default_factory=dict)
    etag_counter: int = 1

    @classmethod
    def create(cls, definition: dict[str, Any]) -> SearchIndex:
        _check_definition(definition)
        return cls(_with_defaults(definition))

    def replace_definition(self, definition: dict[str, Any]) -> None:
        _check_definition(definition)
        old = {f["name"]: f for f in self.definition["fields"]}
        for f in definition["fields"]:
            previous = old.get(f["name"])
            if previous is not None and previous.get("type") != f.get("type"):
                raise SearchRequestError(
                    f"Existing field '{f['name']}' cannot be changed: its type is {previous.get('type')}.",
                    code="OperationNotAllowed",
                )
        self.definition = _with_defaults(definition)
        self.etag_counter += 1

    @property
    def name(self) -> str:
        return str(self.definition["name"])

    @property
    def etag(self) -> str:
        return f'"0x{self.etag_counter:016X}"'

    def as_json(self) -> dict[str, Any]:
        return {"@odata.etag": self.etag, **self.definition}

    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.definition["fields"]}

    @property
    def key(self) -> str:
        return next(f["name"] for f in self.definition["fields"] if f.get("key"))

    # -- documents --------------------------------------------------------------------------------

    def _checked(self, document: Document) -> Document:
        fields = self.fields
        clean: Document = {}
        for name, value in document.items():
            if name == "@search.action":
                continue
            spec = fields.get(name)
            if spec is None:
                raise SearchRequestError(
                    f"The request is invalid. Details: The property '{name}' does not exist on type"
                    f" 'search.documentFields'. Make sure to only use property names that are defined by the type."
                )
            wrong_size = not isinstance(value, list) or len(value) != spec.get("dimensions")
            if spec["type"] in _VECTOR_TYPES and value is not None and wrong_size:
                got = len(value) if isinstance(value, list) else type(value).__name__
                raise SearchRequestError(
                    f"The request is invalid. Details: The vector field '{name}' must have dimension"
                    f" {spec['dimensions']}, but it has {got}."
                )
            clean[name] = value
        return clean

    def index(self, actions: list[Document]) -> tuple[list[dict[str, Any]], bool]:
        """Apply an IndexBatch; returns the per-document results and whether all succeeded."""
        if len(actions) > MAX_BATCH:
            raise SearchRequestError(
                f"The batch has {len(actions)} documents; at most {MAX_BATCH} are allowed."
            )
        checked = [(a.get("@search.action", "upload"), self._checked(a)) for a in actions]
        results: list[dict[str, Any]] = []
        for action, document in checked:
            key = document.get(self.key)
            if not isinstance(key, str) or not _KEY_VALUE.match(key):
                results.append(
                    {
                        "key": key,
                        "status": False,
                        "statusCode": 400,
                        "errorMessage": f"Invalid document key: '{key}'.",
                    }
                )
                continue
            if action not in {"upload", "merge", "mergeOrUpload", "delete"}:
                raise SearchRequestError(f"'{action}' is not a valid @search.action.")
            existing = self.documents.get(key)
            if action == "upload":
                self.documents[key] = document
                status = 201 if existing is None else 200
            elif action == "merge":
                if existing is None:
                    results.append(
                        {
                            "key": key,
                            "status": False,
                            "statusCode": 404,
                            "errorMessage": "Document not found.",
                        }
                    )
                    continue
                existing.update(document)
                status = 200
            elif action == "mergeOrUpload":
                if existing is None:
                    self.documents[key] = document
                    status = 201
                else:
                    existing.update(document)
                    status = 200
            else:
                self.documents.pop(key, None)
                status = 200
            results.append({"key": key, "status": True, "statusCode": status, "errorMessage": None})
        return results, all(r["status"] for r in results)

    # -- queries ----------------------------------------------------------------------------------

    def predicate(self, text: str | None) -> Predicate:
        if not text:
            return lambda _d: True
        filterable = {name for name, f in self.fields.items() if f.get("filterable")}
        try:
            return parse_filter(text, filterable)
        except FilterError as exc:
            raise SearchRequestError(str(exc)) from None

    def text_ranking(
        self, query: str, candidates: list[Document], search_fields: list[str]
    ) -> list[tuple[Document, float]]:
        """BM25 over the searchable fields; ``*`` or nothing matches every candidate with score 1."""
        terms = words(query.replace("*", " ")) if query.strip() not in {"", "*"} else []
        if not terms:
            return [(d, 1.0) for d in candidates] if query.strip() in {"", "*"} else []
        scores: dict[str, float] = {}
        docs = list(self.documents.values())
        for name in search_fields:
            tokenized = {id(d): words(_text(d.get(name))) for d in docs}
            average = sum(len(t) for t in tokenized.values()) / max(len(docs), 1) or 1.0
            for term in set(terms):
                containing = sum(1 for t in tokenized.values() if term in t)
                if not containing:
                    continue
                idf = math.log(1 + (len(docs) - containing + 0.5) / (containing + 0.5))
                for d in candidates:
                    tokens = tokenized.get(id(d), [])
                    frequency = tokens.count(term)
                    if frequency:
                        norm = frequency + 1.2 * (1 - 0.75 + 0.75 * len(tokens) / average)
                        key = d[self.key]
                        scores[key] = scores.get(key, 0.0) + idf * frequency * 2.2 / norm
        by_key = {d[self.key]: d for d in candidates}
        return sorted(((by_key[k], s) for k, s in scores.items()), key=lambda pair: -pair[1])

    def vector_ranking(
        self, vector: list[float], field_name: str, k: int, candidates: list[Document]
    ) -> list[tuple[Document, float]]:
        spec = self.fields.get(field_name)
        if spec is None or spec["type"] not in _VECTOR_TYPES:
            raise SearchRequestError(f"The field '{field_name}' is not a vector field.")
        if len(vector) != spec["dimensions"]:
            raise SearchRequestError(
                f"The vector query's dimensions ({len(vector)}) do not match the field's ({spec['dimensions']})."
            )
        metric = self._metric(spec)
        ranked = []
        for d in candidates:
            stored = d.get(field_name)
            if not stored:
                continue
            ranked.append((d, _similarity(metric, vector, stored)))
        ranked.sort(key=lambda pair: -pair[1])
        return ranked[:k]

    def _metric(self, spec: dict[str, Any]) -> str:
        vector_search = self.definition.get("vectorSearch") or {}
        profile = next(
            p for p in vector_search.get("profiles", []) if p["name"] == spec["vectorSearchProfile"]
        )
        algorithm = next(a for a in vector_search.get("algorithms", []) if a["name"] == profile["algorithm"])
        parameters = algorithm.get("hnswParameters") or algorithm.get("exhaustiveKnnParameters") or {}
        return str(parameters.get("metric") or "cosine")

    def vectorizer_for(self, field_name: str) -> dict[str, Any] | None:
        spec = self.fields.get(field_name) or {}
        vector_search = self.definition.get("vectorSearch") or {}
        profile = next(
            (p for p in vector_search.get("profiles", []) if p["name"] == spec.get("vectorSearchProfile")),
            None,
        )
        if profile is None or not profile.get("vectorizer"):
            return None
        return next(
            (v for v in vector_search.get("vectorizers", []) if v["name"] == profile["vectorizer"]), None
        )

    def semantic_rerank(
        self, query: str, ranked: list[tuple[Document, float]], configuration: str | None
    ) -> list[tuple[Document, float, float]]:
        semantic = self.definition.get("semantic") or {}
        name = configuration or semantic.get("defaultConfiguration")
        config = next((c for c in semantic.get("configurations") or [] if c["name"] == name), None)
        if config is None:
            raise SearchRequestError(f"Unknown semantic configuration '{name}'.")
        prioritized = config.get("prioritizedFields") or {}
        names = [(prioritized.get("titleField") or {}).get("fieldName")]
        names += [c["fieldName"] for c in prioritized.get("prioritizedContentFields") or []]
        terms = set(words(query))
        reranked = []
        for d, score in ranked[:SEMANTIC_WINDOW]:
            present = set(words(" ".join(_text(d.get(n)) for n in names if n)))
            share = len(terms & present) / len(terms) if terms else 0.0
            reranked.append((d, score, round(4.0 * share, 6)))
        reranked.sort(key=lambda item: (-item[2], -item[1]))
        return reranked


def fuse(rankings: list[list[tuple[Document, float]]], key: str) -> list[tuple[Document, float]]:
    """Reciprocal Rank Fusion of several ranked lists (rank 1 is the best of each)."""
    scores: dict[str, float] = {}
    documents: dict[str, Document] = {}
    for ranking in rankings:
        for rank, (d, _score) in enumerate(ranking, start=1):
            scores[d[key]] = scores.get(d[key], 0.0) + 1.0 / (RRF_K + rank)
            documents[d[key]] = d
    return sorted(((documents[k], s) for k, s in scores.items()), key=lambda pair: -pair[1])


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _similarity(metric: str, a: list[float], b: list[float]) -> float:
    if metric == "dotProduct":
        return sum(x * y for x, y in zip(a, b, strict=True))
    if metric == "euclidean":
        return 1.0 / (1.0 + math.dist(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)) or 1.0
    cosine = sum(x * y for x, y in zip(a, b, strict=True)) / norm
    return 1.0 / (1.0 + (1.0 - cosine))
