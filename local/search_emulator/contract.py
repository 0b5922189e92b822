"""The AI Search swagger excerpt (contracts/search/2024-07-01/) as JSON schema: the emulator refuses a
request body that breaks it, as the service does, and tests/search/ hold the emulator's answers to it.

The swagger's definitions become a JSON schema the way AutoRest and the SDKs read them: an optional
property may be null, an object without ``additionalProperties`` is closed (a property the contract does
not name is an error, so neither the emulator nor a request may invent fields), ``allOf`` bases are
merged into their subtypes, and a base with a ``discriminator`` dispatches on it to the subtype whose
``x-ms-discriminator-value`` matches (an unknown kind is an error).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from local.search_emulator.index import MAX_DIMENSIONS, SearchRequestError

SWAGGER = Path(__file__).resolve().parents[2] / "contracts/search/2024-07-01/search.excerpt.json"
# answers and captions take options after a '|' (``extractive|count-3``, ``extractive|highlight-true``),
# as the enums' own descriptions say: only the part before it is the enum value.
_WITH_OPTIONS = ("QueryAnswerType", "QueryCaptionType")


@functools.cache
def swagger() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SWAGGER.read_text(encoding="utf-8"))
    return document


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _convert(node: dict[str, Any]) -> dict[str, Any] | bool:
    if "$ref" in node:
        name = _name(node["$ref"])
        # A definition the excerpt does not hold (README.md names them) constrains nothing here.
        return {"$ref": f"#/definitions/{name}"} if name in swagger()["definitions"] else True
    schema: dict[str, Any] = {}
    for keyword in ("type", "enum", "minimum", "maximum"):
        if keyword in node:
            schema[keyword] = node[keyword]
    if "items" in node:
        schema["items"] = _convert(node["items"])
    if node.get("type") == "object" or "properties" in node:
        schema.update(_object(node))
    return schema


def _nullable(schema: dict[str, Any] | bool) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(node: dict[str, Any], inherited: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    extra: Any = None
    for part in (*inherited, node):
        properties.update(part.get("properties", {}))
        required += part.get("required", [])
        if "additionalProperties" in part:
            extra = part["additionalProperties"]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: _convert(value) if name in required else _nullable(_convert(value))
            for name, value in properties.items()
        },
        "additionalProperties": False if extra is None else (_convert(extra) if extra else True),
    }
    if required:
        schema["required"] = sorted(set(required))
    return schema


@functools.cache
def json_schema() -> dict[str, Any]:
    definitions: dict[str, Any] = swagger()["definitions"]
    converted: dict[str, Any] = {}
    for name, node in definitions.items():
        bases = tuple(definitions[_name(part["$ref"])] for part in node.get("allOf", []))
        converted[name] = _object(node, bases) if node.get("type") == "object" else _convert(node)
    # The swagger lists a field's element types; the service also takes Collection(<type>) of each
    # (the enum's own descriptions: Edm.Single "is only valid when used with Collection(Edm.Single)").
    field_type = converted["Indexes.SearchFieldDataType"]
    field_type["enum"] = field_type["enum"] + [f"Collection({t})" for t in field_type["enum"]]
    # The swagger caps a vector field at 2048 dimensions; the service takes up to 3072 (its vector index
    # documentation: "valid values range from 2 to 3072"), and the service is the contract.
    field = converted["Indexes.SearchField"]["properties"]["dimensions"]["anyOf"][0]
    field["maximum"] = MAX_DIMENSIONS
    for name in _WITH_OPTIONS:
        values = "|".join(re.escape(v) for v in converted[name].pop("enum"))
        converted[name]["pattern"] = f"^({values})(\\|.*)?$"
    for name, node in definitions.items():
        key = node.get("discriminator")
        if not key:
            continue
        subtypes = {
            sub["x-ms-discriminator-value"]: sub_name
            for sub_name, sub in definitions.items()
            if any(_name(p["$ref"]) == name for p in sub.get("allOf", []))
        }
        converted[name] = {
            "type": "object",
            "required": [key],
            "properties": {key: {"enum": sorted(subtypes)}},
            "allOf": [
                {
                    "if": {"properties": {key: {"const": value}}},
                    "then": {"$ref": f"#/definitions/{sub_name}"},
                }
                for value, sub_name in sorted(subtypes.items())
            ],
        }
    return {"definitions": converted}


@functools.cache
def _validator(definition: str) -> Draft7Validator:
    return Draft7Validator({**json_schema(), "$ref": f"#/definitions/{definition}"})


def errors(definition: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks the swagger's ``definition`` (empty when it conforms)."""
    found = sorted(
        _validator(definition).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))
    )
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in found]


def check(definition: str, what: str, body: Any) -> Any:
    """``body`` when it fits ``definition``; else SearchRequestError (400) naming the first fault."""
    found = errors(definition, body)
    if found:
        raise SearchRequestError(f"The request is invalid. Details: {what} : {found[0]}")
    return body


def operation(method: str, path: str) -> dict[str, Any]:
    """The swagger operation of a request path (``/indexes('name')/docs/...``)."""
    for template, operations in swagger()["paths"].items():
        prefix, placeholder, suffix = template.partition("{indexName}")
        if placeholder:
            name = path.removeprefix(prefix).removesuffix(suffix)
            matches = path.startswith(prefix) and path.endswith(suffix) and "/" not in name
        else:
            matches = path == template
        if matches and method.lower() in operations:
            found: dict[str, Any] = operations[method.lower()]
            return found
    raise KeyError(f"{method} {path} is not an operation of the excerpt")


def request_definition(method: str, path: str) -> str | None:
    bodies = [p for p in operation(method, path)["parameters"] if p["in"] == "body"]
    return _name(bodies[0]["schema"]["$ref"]) if bodies else None


def response_definition(method: str, path: str, status: int) -> str:
    responses = operation(method, path)["responses"]
    return _name((responses.get(str(status)) or responses["default"])["schema"]["$ref"])
