"""The OpenAPI document against the app: every registered HTTP route is documented with its auth level,
every documented route exists, and a bounded property-based fuzz run (schemathesis) against the local
host adapter finds no server error."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from core.openapi import openapi_document
from tests.post_call.harness import FUNCTION_KEY, app_stack

METHODS = {"get", "post", "put", "patch", "delete"}


def registered_routes() -> dict[tuple[str, str], str]:
    """(METHOD, /path) -> auth level, for every HTTP trigger of function_app."""
    import function_app
    from local.functions_host.invocation import index_app

    routes: dict[tuple[str, str], str] = {}
    # index_app: app.get_functions() with the app's duplicate-name record reset, so it can run twice.
    for function in index_app(function_app.app):
        binding = function.trigger
        if function.trigger_type != "httpTrigger":
            continue
        route = "/" + str(binding.get("route") or function.name).strip("/")
        level = str(binding.get("authLevel") or "function").lower()
        for method in binding.get("methods") or []:
            routes[(str(method).upper(), route)] = level
    return routes


def documented_routes(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    routes: dict[tuple[str, str], str] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                security = operation.get("security", document.get("security"))
                routes[(method.upper(), path)] = "anonymous" if security == [] else "function"
    return routes


def test_every_registered_route_is_documented_and_every_documented_route_exists() -> None:
    registered = registered_routes()
    documented = documented_routes(openapi_document())
    assert registered, "function_app registers no HTTP route"
    missing = sorted(set(registered) - set(documented))
    assert not missing, f"routes missing from /openapi.json: {missing}"
    extra = sorted(set(documented) - set(registered))
    assert not extra, f"documented routes the app does not have: {extra}"
    wrong_auth = {
        route: (registered[route], documented[route])
        for route in registered
        if registered[route] != documented[route]
    }
    assert not wrong_auth, f"auth level (app, document) differs: {wrong_auth}"


def test_document_is_valid_openapi_with_key_schemes() -> None:
    import schemathesis

    document = openapi_document()
    schemathesis.openapi.from_dict(document).validate()
    schemes = document["components"]["securitySchemes"]
    assert schemes["functionKeyHeader"] == {"type": "apiKey", "in": "header", "name": "x-functions-key"}
    assert schemes["functionKeyQuery"] == {"type": "apiKey", "in": "query", "name": "code"}
    call = document["components"]["schemas"]["Call"]
    assert "callback_secret" not in call["properties"]


@pytest.mark.usefixtures("local_stack")
async def test_served_document_is_anonymous_and_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        app_stack(monkeypatch) as stack,
        aiohttp.ClientSession() as session,
        session.get(stack.url("/openapi.json")) as response,
    ):
        assert response.status == 200
        assert await response.json() == openapi_document()


def _fuzz(base_url: str, max_examples: int) -> list[str]:
    """Run every operation with generated inputs (valid and invalid); the server errors found."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_dict(openapi_document())
    failures: list[str] = []
    http = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        if operation.method.upper() == "POST" and operation.path == "/call":
            # A valid body places a real outbound call (covered by the call-flow end-to-end tests);
            # here only invalid bodies, which must be refused with a 4xx.
            modes = [GenerationMode.NEGATIVE]
        for mode in modes:

            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                response = case.call(
                    base_url=base_url, session=http, headers={"x-functions-key": FUNCTION_KEY}, timeout=10
                )
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:200]}"
                    )

            try:
                run()
            except Unsatisfiable:
                # No input to make invalid (an operation without parameters or body).
                assert mode is GenerationMode.NEGATIVE
    return failures


@pytest.mark.usefixtures("local_stack")
async def test_fuzz_finds_no_server_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_stack(monkeypatch) as stack:
        failures = await asyncio.to_thread(_fuzz, stack.base_url, 25)
    assert not failures, "\n".join(failures[:20])
