"""JSON-schema validation against the official ACS swagger files (pinned copy in contracts/)."""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

BASE = "https://contracts.local/"
CALL_AUTOMATION = "callautomation/2025-06-15/communicationservicescallautomation.json"
SMS = "sms/2026-01-23/communicationservicessms.json"
EVENT_GRID = "eventgrid/Microsoft.Communication/stable/2018-01-01/AzureCommunicationServices.json"
_COMMON = re.compile(r"Common/(preview|stable)/([^/]+)/common\.json$", re.IGNORECASE)


def contracts_dir() -> Path:
    configured = os.environ.get("ACS_CONTRACTS_DIR")
    if configured:
        return Path(configured)
    # A pinned copy of the official contracts (../shared/contracts) ships with the repo.
    return Path(__file__).resolve().parents[2] / "contracts"


def require_contracts() -> Path:
    path = contracts_dir()
    if not (path / CALL_AUTOMATION).is_file():
        pytest.fail(f"ACS contracts not found at {path} (set ACS_CONTRACTS_DIR)")
    return path


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((require_contracts() / relative).read_text(encoding="utf-8"))
    return data


def _retrieve(uri: str) -> Resource[Any]:
    relative = uri.removeprefix(BASE)
    match = _COMMON.search(relative)
    if match:  # the swaggers' relative $refs point into upstream's folder layout
        relative = f"common/{match.group(1).lower()}/{match.group(2)}/common.json"
    return Resource.from_contents(load(relative), default_specification=DRAFT7)


@functools.cache
def _registry() -> Registry[Any]:
    return Registry(retrieve=_retrieve)  # type: ignore[call-arg]


def validator(document: str, definition: str) -> Draft7Validator:
    schema = {"$ref": f"{BASE}{document}#/definitions/{definition}"}
    return Draft7Validator(schema, registry=_registry())


def validate(document: str, definition: str, instance: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``instance`` does not match the definition."""
    errors = sorted(validator(document, definition).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        raise AssertionError(
            f"{definition}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        )


def operation(document: str, method: str, path_template: str) -> dict[str, Any]:
    op: dict[str, Any] = load(document)["paths"][path_template][method.lower()]
    return op


def body_definition(document: str, method: str, path_template: str) -> str | None:
    for param in operation(document, method, path_template).get("parameters", []):
        if param.get("in") == "body":
            return str(param["schema"]["$ref"]).rsplit("/", 1)[-1]
    return None


def response_definition(document: str, method: str, path_template: str, status: int) -> str | None:
    responses = operation(document, method, path_template)["responses"]
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        raise AssertionError(f"{method} {path_template}: status {status} is not in the contract")
    schema = response.get("schema")
    return str(schema["$ref"]).rsplit("/", 1)[-1] if schema else None


def declared_statuses(document: str, method: str, path_template: str) -> set[int]:
    return {int(s) for s in operation(document, method, path_template)["responses"] if s.isdigit()}
