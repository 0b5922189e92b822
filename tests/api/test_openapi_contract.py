"""The route table and the OpenAPI document against the app: every HTTP function registered in
function_app has a route-table entry (same name, method, path and auth level) and every entry is
registered; the document holds exactly the table's routes; and a bounded property-based fuzz run
(schemathesis) against the local host adapter finds no server error."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from core.api.openapi import openapi_document
from core.api.routes import ROUTES
from tests.post_call.harness import FUNCTION_KEY, app_stack

METHODS = {"get", "post", "put", "patch", "delete"}
INTERNAL_FIELDS = {
    "callback_secret",
    "flags",
    "connection",
    "connection_id",
    "current_turn_id",
    "old_connections",
    "lease_owner",
    "for_connection",
}

Route = tuple[str, str, str, str]  # function name, METHOD, /path, auth level


def registered_routes() -> set[Route]:
    """Every HTTP trigger of function_app."""
    import function_app
    from local.functions_host.invocation import index_app

    routes: set[Route] = set()
    # index_app: app.get_functions() with the app's duplicate-name record reset, so it can run twice.
    for function in index_app(function_app.app):
        binding = function.trigger
        if function.trigger_type != "httpTrigger":
            continue
        route = "/" + str(binding.get("route") or function.name).strip("/")
        level = str(binding.get("authLevel") or "function").lower()
        for method in binding.get("methods") or []:
            routes.add((function.name, str(method).upper(), route, level))
    return routes


def table_routes() -> set[Route]:
    return {(r.function, r.method, r.path, r.auth) for r in ROUTES}


def documented_routes(document: dict[str, Any]) -> set[Route]:
    routes: set[Route] = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                security = operation.get("security", document.get("security"))
                level = "anonymous" if security == [] else "function"
                routes.add((operation["operationId"], method.upper(), path, level))
    return routes


def test_every_registered_http_function_is_in_the_route_table_and_back() -> None:
    registered, table = registered_routes(), table_routes()
    assert registered, "function_app registers no HTTP route"
    missing = sorted(registered - table)
    assert not missing, f"HTTP functions without a route-table entry (core/api/routes.py): {missing}"
    extra = sorted(table - registered)
    assert not extra, f"route-table entries the app does not register as such: {extra}"
    assert len(ROUTES) == len(table), "a route is listed twice in the route table"


def test_the_document_holds_exactly_the_route_table() -> None:
    assert documented_routes(openapi_document()) == table_routes()


def test_the_document_shows_the_public_view_of_a_call() -> None:
    schemas = openapi_document()["components"]["schemas"]
    assert "Call" not in schemas
    public = schemas["PublicCall"]["properties"]
    assert not INTERNAL_FIELDS & set(public), sorted(INTERNAL_FIELDS & set(public))
    post_call = set(schemas["PublicPostCall"]["properties"])
    assert not INTERNAL_FIELDS & post_call, sorted(INTERNAL_FIELDS & post_call)
    assert {"call_id", "initiate", "claim", "messages", "insights"} <= set(public)
    page_items = schemas["CallPage"]["properties"]["calls"]["items"]
    assert page_items == {"$ref": "#/components/schemas/PublicCall"}


def test_document_is_valid_openapi_with_key_schemes() -> None:
    import schemathesis

    document = openapi_document()
    schemathesis.openapi.from_dict(document).validate()
    schemes = document["components"]["securitySchemes"]
    assert schemes["functionKeyHeader"] == {"type": "apiKey", "in": "header", "name": "x-functions-key"}
    assert schemes["functionKeyQuery"] == {"type": "apiKey", "in": "query", "name": "code"}


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
        if operation.method.upper() == "POST" and operation.path in ("/call", "/campaign"):
            # A valid body places real outbound calls (covered by the call-flow and campaign
            # end-to-end tests); here only invalid bodies, which must be refused with a 4xx.
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
