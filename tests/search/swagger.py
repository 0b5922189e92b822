"""JSON-schema validation against the AI Search swagger excerpt in contracts/search/2024-07-01/.

The swagger's definitions become a JSON schema the way AutoRest and the SDKs read them: an optional
property may be null, an object without ``additionalProperties`` is closed (a property the contract does
not name is an error, so neither the emulator nor a request may invent fields), ``allOf`` bases are
merged into their subtypes, and a base with a ``discriminator`` dispatches on it to the subtype whose
``x-ms-discriminator-value`` matches (an unknown kind is an error).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SWAGGER = Path(__file__).resolve().parents[2] / "contracts/search/2024-07-01/search.documents.json"


@functools.cache
def swagger() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SWAGGER.read_text(encoding="utf-8"))
    return document


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _convert(node: dict[str, Any]) -> dict[str, Any] | bool:
    if "$ref" in node:
        return {"$ref": f"#/definitions/{_name(node['$ref'])}"}
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


def errors(definition: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks the swagger's ``definition`` (empty when it conforms)."""
    schema = {**json_schema(), "$ref": f"#/definitions/{definition}"}
    found = Draft7Validator(schema).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def operation(method: str, path: str) -> dict[str, Any]:
    """The swagger operation of a request path (``/indexes('name')/docs/...``)."""
    for template, operations in swagger()["paths"].items():
        prefix, _, suffix = template.partition("{indexName}")
        if path.startswith(prefix) and path.endswith(suffix) and method.lower() in operations:
            found: dict[str, Any] = operations[method.lower()]
            return found
    raise KeyError(f"{method} {path} is not an operation of the excerpt")


def request_definition(method: str, path: str) -> str:
    (body,) = [p for p in operation(method, path)["parameters"] if p["in"] == "body"]
    return _name(body["schema"]["$ref"])


def response_definition(method: str, path: str, status: int) -> str:
    responses = operation(method, path)["responses"]
    return _name((responses.get(str(status)) or responses["default"])["schema"]["$ref"])
