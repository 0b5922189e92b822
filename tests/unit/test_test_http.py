"""test.http (the HTTP API as runnable requests) stays true to the route table: every request it
sends is a route the app serves, with the key a keyed route needs, and its POST /call body is valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

from core.api.call_request import CallRequest
from core.api.routes import ROUTES

TEST_HTTP = Path(__file__).resolve().parents[2] / "test.http"


def _requests() -> list[tuple[str, str, str]]:
    """(method, path, the request's text) of each request, variables kept."""
    found = []
    for block in TEST_HTTP.read_text().split("###")[1:]:
        lines = [line for line in block.splitlines()[1:] if line.strip() and not line.startswith("#")]
        method, url = lines[0].split(" ", 1)
        path = url.removeprefix("{{base}}").split("?", 1)[0]
        found.append((method, path, "\n".join(lines)))
    return found


def _route(method: str, path: str) -> object | None:
    for route in ROUTES:
        pattern = re.sub(r"\\\{[a-z_]+\\\}", r"[^/]+", re.escape(route.path))
        if route.method == method and re.fullmatch(pattern, path):
            return route
    return None


def test_every_request_is_a_served_route_with_its_key() -> None:
    requests = _requests()
    assert len(requests) >= 10
    for method, path, text in requests:
        route = _route(method, path)
        assert route is not None, f"{method} {path} is not a route"
        keyed = "x-functions-key: {{key}}" in text or "code={{key}}" in text
        if route.auth == "anonymous":
            assert not keyed, f"{method} {path} needs no key"
    unkeyed_keyed = [
        (m, p)
        for m, p, text in requests
        if _route(m, p).auth == "function" and "{{key}}" not in text  # type: ignore[union-attr]
    ]
    assert unkeyed_keyed == [("GET", "/call")], "only the 401 example goes without the key"


def test_the_call_it_places_is_a_valid_request() -> None:
    (text,) = [t for m, p, t in _requests() if m == "POST" and "{{phone}}" in t]
    body = json.loads(text[text.index("\n{") :].replace("{{phone}}", "+14155550123"))
    CallRequest.model_validate(body)
