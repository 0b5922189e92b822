"""Route templates and key checks, without a server."""

from __future__ import annotations

import pytest

from local.functions_host.auth import KeyChecker, Level, presented_key
from local.functions_host.host_config import HostConfig, parse_timespan
from local.functions_host.routing import Router, compile_route

GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("items/{id:guid}", f"/api/items/{GUID}", {"id": GUID}),
        ("items/{id:guid}", f"/api/items/{{{GUID}}}", {"id": f"{{{GUID}}}"}),
        ("items/{id:guid}", "/api/items/42", None),
        ("items/{id:int}", "/api/items/42", {"id": "42"}),
        ("items/{id:int}", "/api/items/4294967296", None),
        ("items/{id:int:min(1)}", "/api/items/0", None),
        ("users/{name:alpha}", "/api/users/Ada", {"name": "Ada"}),
        ("users/{name:alpha}", "/api/users/ada1", None),
        ("report/{x?}", "/api/report", {}),
        ("report/{x?}", "/api/report/", {}),
        ("report/{x?}", "/api/report/7", {"x": "7"}),
        ("report/{x?}", "/api/report/7/8", None),
        ("files/{*rest}", "/api/files/a/b%20c", {"rest": "a/b c"}),
        ("files/{*rest}", "/api/files", {}),
        ("Mixed/Case", "/API/mixed/CASE", {}),
        ("lang/{code=en}", "/api/lang", {"code": "en"}),
        ("code/{c:regex(^\\d{{3}}$)}", "/api/code/123", {"c": "123"}),
        ("code/{c:regex(^\\d{{3}}$)}", "/api/code/1234", None),
        ("doc/{name}.{ext}", "/api/doc/report.pdf", {"name": "report", "ext": "pdf"}),
    ],
)
def test_templates(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert compile_route(template, "api").match(path) == expected


def test_empty_route_prefix() -> None:
    route = compile_route("call/{call_id}", "")
    assert route.match("/call/abc") == {"call_id": "abc"}
    assert route.match("/api/call/abc") is None


@pytest.mark.parametrize("template", ["a/{x:nosuch}", "a/{*rest}/b", "a/{x}/{x}", "a/{x", "a//b"])
def test_invalid_templates_fail_at_indexing(template: str) -> None:
    with pytest.raises(ValueError):
        compile_route(template)


def test_precedence_and_methods() -> None:
    router: Router[str] = Router()
    router.add(compile_route("items/{id}"), ["GET"], "param")
    router.add(compile_route("items/{id:int}"), ["GET"], "int")
    router.add(compile_route("items/special"), ["GET"], "literal")
    router.add(compile_route("items/{*rest}"), [], "catch-all")
    resolve = router.resolve
    assert (m := resolve("GET", "/items/special")) and m.target == "literal"
    assert (m := resolve("GET", "/items/5")) and m.target == "int"
    assert (m := resolve("GET", "/items/x")) and m.target == "param"
    assert (m := resolve("POST", "/items/x")) and m.target == "catch-all"
    assert resolve("GET", "/other") is None


def test_keys() -> None:
    keys = KeyChecker(function_key="fk", master_key="mk")
    assert keys.authorized(Level.ANONYMOUS, None)
    assert not keys.authorized(Level.FUNCTION, None)
    assert not keys.authorized(Level.FUNCTION, "wrong")
    assert keys.authorized(Level.FUNCTION, "fk") and keys.authorized(Level.FUNCTION, "mk")
    assert not keys.authorized(Level.ADMIN, "fk") and keys.authorized(Level.ADMIN, "mk")
    assert keys.authorized(Level.SYSTEM, "fk")
    assert presented_key({"X-Functions-Key": "h"}, {"code": "q"}) == "h"
    assert presented_key({}, {"code": "q"}) == "q"


def test_host_json_defaults_and_overrides() -> None:
    defaults = HostConfig.from_dict({})
    assert defaults.route_prefix == "api"
    queues = defaults.queues
    assert (queues.batch_size, queues.effective_new_batch_threshold, queues.max_dequeue_count) == (16, 8, 5)
    assert (queues.max_polling_interval_s, queues.visibility_timeout_s, queues.message_encoding) == (
        60,
        0,
        "base64",
    )
    config = HostConfig.from_dict(
        {
            "extensions": {
                "http": {"routePrefix": ""},
                "queues": {"batchSize": 4, "visibilityTimeout": "00:00:10"},
            }
        }
    )
    assert config.route_prefix == ""
    assert config.queues.effective_new_batch_threshold == 2
    assert config.queues.visibility_timeout_s == 10
    assert parse_timespan("1.00:00:01.5") == 86401.5


def test_an_app_can_be_indexed_more_than_once() -> None:
    from local.functions_host.invocation import index_app

    from . import sample_app

    first = [f.name for f in index_app(sample_app.app)]
    assert [f.name for f in index_app(sample_app.app)] == first
    assert {"keyed", "on_event", "queue_failing"} <= set(first)
