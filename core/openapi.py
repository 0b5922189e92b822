"""The OpenAPI 3.1 document of the HTTP API (served at GET /openapi.json, anonymous).

Request and response schemas come from the pydantic models (``model_json_schema``), so they follow
the code; the contract test checks that every HTTP route the app registers is documented here and
that every documented route exists, with the same auth level.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from core.calls_query import MAX_PAGE_SIZE
from core.models import Call, ClaimField, ClaimSchema, LanguageOption

REF = "#/components/schemas/{model}"
SECURITY: list[dict[str, list[str]]] = [{"functionKeyHeader": []}, {"functionKeyQuery": []}]


class ErrorDetail(BaseModel):
    message: str = Field(description="What is wrong, for a person to read.")
    problems: list[str] | None = Field(
        default=None, description="Every problem found in the input, each naming its field."
    )


class ErrorBody(BaseModel):
    """The body of every 4xx answer of the JSON API."""

    error: ErrorDetail


class CallPageBody(BaseModel):
    """A page of calls, newest first."""

    calls: list[dict[str, Any]] = Field(description="Calls (see the Call schema).")
    continuation: str | None = Field(
        description="Opaque token for the next page (pass it as ?continuation=), null on the last page."
    )


class Readiness(BaseModel):
    status: str = Field(description='"ok" or "fail"')
    checks: dict[str, str] = Field(description='Each dependency: "ok" or why it failed.')


def _components() -> dict[str, Any]:
    _, top = models_json_schema(
        [
            (Call, "serialization"),
            (ErrorBody, "serialization"),
            (Readiness, "serialization"),
            (ClaimSchema, "validation"),
            (ClaimField, "validation"),
            (LanguageOption, "validation"),
            (CallPageBody, "serialization"),
        ],
        ref_template=REF,
    )
    schemas: dict[str, Any] = top["$defs"]
    call = schemas["Call"]
    # The public view never carries the callback secret (core.calls_query.public_view).
    call["properties"].pop("callback_secret", None)
    if "required" in call:
        call["required"] = [name for name in call["required"] if name != "callback_secret"]
    page = schemas["CallPageBody"]
    page["properties"]["calls"] = {
        "type": "array",
        "items": {"$ref": REF.format(model="Call")},
        "description": "Calls, newest first (public view: no callback secret).",
    }
    page["required"] = ["calls", "continuation"]
    schemas["CallPage"] = schemas.pop("CallPageBody")
    schemas["CallPage"]["title"] = "CallPage"
    schemas["CallRequest"] = _call_request_schema()
    return schemas


def _call_request_schema() -> dict[str, Any]:
    """POST /call body (validated by core.callflow.outbound.parse_initiate)."""
    schema_or_fields = {
        "anyOf": [
            {"$ref": REF.format(model="ClaimSchema")},
            {"type": "array", "items": {"$ref": REF.format(model="ClaimField")}, "maxItems": 50},
        ],
        "description": "Typed fields to collect: a claim schema or its list of fields. "
        "Defaults to the built-in insurance claim.",
    }
    return {
        "title": "CallRequest",
        "type": "object",
        "additionalProperties": False,
        "required": ["phone_number"],
        "properties": {
            "phone_number": {
                "type": "string",
                "description": "The number to call, E.164 (+14155550100); its country code must be allowed.",
                "examples": ["+14155550100"],
            },
            "bot_name": {"type": "string", "minLength": 1, "maxLength": 60},
            "bot_company": {"type": "string", "minLength": 1, "maxLength": 100},
            "task": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4000,
                "description": "What the bot must do, in plain English. Defaults to the configured task.",
            },
            "claim_schema": schema_or_fields,
            "claim": {**schema_or_fields, "description": "Alias of claim_schema."},
            "agent_phone_number": {
                "type": "string",
                "description": "Human agent for transfers, E.164. Defaults to the configured number.",
            },
            "languages": {
                "type": "array",
                "minItems": 1,
                "maxItems": 10,
                "items": {
                    "anyOf": [
                        {"type": "string", "description": "Code of a configured language, e.g. en-US"},
                        {"$ref": REF.format(model="LanguageOption")},
                    ]
                },
            },
            "default_language": {"type": "string", "description": "One of the call's language codes."},
        },
    }


def _json(model: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}},
    }


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


_UNAUTHORIZED = {"description": "No valid function key (empty body)."}
_BAD_REQUEST = _json("ErrorBody", "Invalid input; the message (and problems) say what and why.")
_NOT_FOUND = _json("ErrorBody", "Not found.")

_CALL_ID = {
    "name": "call_id",
    "in": "path",
    "required": True,
    "description": "The call id (a UUID).",
    "schema": {"type": "string"},
}
_PHONE = {
    "name": "phone_number",
    "in": "query",
    "required": False,
    "description": "Only calls with this phone number (E.164, e.g. +14155550100).",
    "schema": {"type": "string"},
}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": f"Page size, 1 to {MAX_PAGE_SIZE} (default: HTTP__REPORT_PAGE_SIZE).",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
}
_CONTINUATION = {
    "name": "continuation",
    "in": "query",
    "required": False,
    "description": "The continuation token of the previous page.",
    "schema": {"type": "string"},
}


def _paths() -> dict[str, Any]:
    return {
        "/health/liveness": {
            "get": {
                "operationId": "health_liveness",
                "tags": ["health"],
                "summary": "Liveness probe",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The worker runs.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/health/readiness": {
            "get": {
                "operationId": "health_readiness",
                "tags": ["health"],
                "summary": "Readiness probe: every dependency answers",
                "security": [],
                "responses": {
                    "200": _json("Readiness", "Every dependency is ready."),
                    "503": _json("Readiness", "At least one dependency failed; checks say which."),
                },
            }
        },
        "/call": {
            "post": {
                "operationId": "call_create",
                "tags": ["calls"],
                "summary": "Place an outbound call",
                "description": "The bot calls phone_number with the task and claim schema; everything but "
                "phone_number defaults to the configured values.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": REF.format(model="CallRequest")}}},
                },
                "responses": {
                    "201": {
                        **_json("Call", "The call was created and is being placed."),
                        "headers": {
                            "Location": {"description": "/call/{call_id}", "schema": {"type": "string"}}
                        },
                    },
                    "400": _BAD_REQUEST,
                    "401": _UNAUTHORIZED,
                    "502": _json("ErrorBody", "Azure Communication Services refused or failed the call."),
                },
            },
            "get": {
                "operationId": "call_list",
                "tags": ["calls"],
                "summary": "List calls, newest first, with paging",
                "parameters": [_PHONE, _LIMIT, _CONTINUATION],
                "responses": {
                    "200": _json("CallPage", "A page of calls."),
                    "400": _BAD_REQUEST,
                    "401": _UNAUTHORIZED,
                    "404": _json("ErrorBody", "No call at all for this phone number."),
                },
            },
        },
        "/call/{call_id}": {
            "get": {
                "operationId": "call_get",
                "tags": ["calls"],
                "summary": "One call: initiate request, claim, transcript, reminders, insights, figures",
                "parameters": [_CALL_ID],
                "responses": {
                    "200": _json("Call", "The call (public view: no callback secret)."),
                    "400": _BAD_REQUEST,
                    "401": _UNAUTHORIZED,
                    "404": _NOT_FOUND,
                },
            }
        },
        "/callbacks/{call_id}/{secret}": {
            "post": {
                "operationId": "acs_callback",
                "tags": ["telephony"],
                "summary": "Mid-call events from Azure Communication Services (CloudEvents)",
                "description": "Anonymous at the host: the per-call secret in the path and the JWT ACS signs "
                "its callbacks with (Authorization: Bearer) authenticate the request. Only ACS calls this.",
                "security": [],
                "parameters": [
                    _CALL_ID,
                    {
                        "name": "secret",
                        "in": "path",
                        "required": True,
                        "description": "The call's callback secret.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "Authorization",
                        "in": "header",
                        "required": False,
                        "description": "Bearer JWT signed by ACS.",
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "type"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "type": {"type": "string"},
                                        "source": {"type": "string"},
                                        "time": {"type": "string"},
                                        "specversion": {"type": "string"},
                                        "data": {"type": "object"},
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "How many events were handled (duplicates excluded).",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["handled"],
                                    "properties": {"handled": {"type": "integer", "minimum": 0}},
                                }
                            }
                        },
                    },
                    "400": _BAD_REQUEST,
                    "401": _json("ErrorBody", "Bad token, unknown call or wrong secret (not saying which)."),
                    "404": _NOT_FOUND,
                    "409": _json("ErrorBody", "The call document kept changing; ACS retries."),
                },
            }
        },
        "/report": {
            "get": {
                "operationId": "report_list",
                "tags": ["reports"],
                "summary": "HTML list of calls, newest first, searchable by phone number",
                "description": "Links on the page carry the key forward as ?code= when it was given so.",
                "parameters": [_PHONE, _LIMIT, _CONTINUATION],
                "responses": {
                    "200": _html("The page."),
                    "400": _html("Invalid phone number, limit or continuation (HTML error page)."),
                    "401": _UNAUTHORIZED,
                },
            }
        },
        "/report/{call_id}": {
            "get": {
                "operationId": "report_call",
                "tags": ["reports"],
                "summary": "HTML page of one call",
                "parameters": [_CALL_ID],
                "responses": {
                    "200": _html("The page."),
                    "400": _html("The call id is not a UUID (HTML error page)."),
                    "401": _UNAUTHORIZED,
                    "404": _html("No such call (HTML error page)."),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi_document",
                "tags": ["meta"],
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Call Center AI",
            "version": "0.1.0",
            "description": (
                "AI phone call center on Azure Functions. Every operation needs a function key, in the "
                "x-functions-key header or the code query parameter, except the health probes and this "
                "document. Event Grid events (IncomingCall, SMSReceived) arrive on the host's webhook "
                "/runtime/webhooks/EventGrid?functionName=NAME (system key), not on these routes."
            ),
        },
        "servers": [{"url": "/"}],
        "security": SECURITY,
        "paths": _paths(),
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "functionKeyHeader": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())
