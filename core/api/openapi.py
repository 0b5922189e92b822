"""The OpenAPI 3.1 document of the HTTP API (served at GET /openapi.json, anonymous), generated from
the route table (core.api.routes) and the pydantic models it names: paths, auth, parameters, bodies
and statuses come from the table, schemas (with their limits and descriptions) from the models.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from core.api.bodies import ErrorBody
from core.api.routes import HTML, JSON, ROUTES, Body, Parameter, Route

REF = "#/components/schemas/{model}"
SECURITY: list[dict[str, list[str]]] = [{"functionKeyHeader": []}, {"functionKeyQuery": []}]
_UNAUTHORIZED = Body("No valid function key (empty body).", media_type=None)

ModelKey = tuple[type[BaseModel], JsonSchemaMode]
# The $ref of each model, as models_json_schema gives them (keyed by its wider key type).
Refs = Mapping[Any, dict[str, Any]]


def _models() -> list[ModelKey]:
    keys: list[ModelKey] = [(ErrorBody, "serialization")]
    for route in ROUTES:
        if route.request is not None:
            keys.append((route.request, "validation"))
        keys += [(body.model, "serialization") for body in route.responses.values() if body.model]
    return list(dict.fromkeys(keys))


def _parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "name": parameter.name,
        "in": parameter.location,
        "required": parameter.required or parameter.location == "path",
        "description": parameter.description,
        "schema": dict(parameter.schema),
    }


def _response(body: Body, refs: Refs) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": body.description}
    if body.media_type is not None:
        schema = refs[(body.model, "serialization")] if body.model else dict(body.schema or {})
        answer["content"] = {body.media_type: {"schema": schema}}
    if body.headers:
        answer["headers"] = {
            name: {"description": description, "schema": {"type": "string"}}
            for name, description in body.headers.items()
        }
    return answer


def _operation(route: Route, refs: Refs) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.function,
        "tags": [route.tag],
        "summary": route.summary,
    }
    if route.description:
        operation["description"] = route.description
    if route.auth == "anonymous":
        operation["security"] = []
    if route.parameters:
        operation["parameters"] = [_parameter(p) for p in route.parameters]
    if route.request is not None:
        schema = refs[(route.request, "validation")]
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": schema}}}
    responses = dict(route.responses)
    for status, description in route.errors.items():
        if route.error_media == "html":
            responses[status] = Body(description, media_type=HTML, schema={"type": "string"})
        else:
            responses[status] = Body(description, ErrorBody)
    if route.auth == "function":
        responses.setdefault(401, _UNAUTHORIZED)
    operation["responses"] = {str(s): _response(responses[s], refs) for s in sorted(responses)}
    return operation


@functools.cache
def _document() -> dict[str, Any]:
    refs, top = models_json_schema(_models(), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Call Center AI",
            "version": "0.1.0",
            "description": (
                "AI phone call center on Azure Functions. Every operation needs a function key, in the "
                "x-functions-key header or the code query parameter, except the health probes, the ACS "
                "callbacks and this document. Event Grid events (IncomingCall, SMSReceived) arrive on the "
                "host's webhook /runtime/webhooks/EventGrid?functionName=NAME (system key), not on these "
                "routes."
            ),
        },
        "servers": [{"url": "/"}],
        "security": SECURITY,
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "functionKeyHeader": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())
