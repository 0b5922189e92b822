"""The App Configuration data-plane API on aiohttp (contract: contracts/appconfiguration/).

Key-values (``/kv``, ``/kv/{key}``: GET, HEAD, PUT, DELETE with ``If-Match``/``If-None-Match``),
``/keys``, ``/labels``, ``/revisions``, ``/locks/{key}``; every request HMAC-signed (auth.py) and
carrying a supported ``api-version``; errors as ``application/problem+json`` like the service's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from local.appconfig_emulator.auth import AuthFailed, challenge, verify
from local.appconfig_emulator.store import InvalidArgument, KeyValue, KeyValueStore

API_VERSIONS = frozenset({"1.0", "2023-10-01", "2023-11-01", "2024-09-01", "2026-04-01"})
PAGE_SIZE = 100
KV = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8"
KVSET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"
DEFAULT_CREDENTIAL = "emulator-id"
# base64 of a fixed 32-byte secret: public, for the local stack only.
DEFAULT_SECRET = base64.b64encode(b"local-app-configuration-emulator").decode()

STORE_KEY = web.AppKey("store", KeyValueStore)
REQUESTS_KEY = web.AppKey("requests", list)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, kind: str, title: str, detail: str = "", name: str = "") -> web.Response:
    body: dict[str, Any] = {"type": f"https://azconfig.io/errors/{kind}", "title": title, "status": status}
    if name:
        body["name"] = name
    if detail:
        body["detail"] = detail
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


def _label(request: web.Request) -> str | None:
    raw = request.query.get("label")
    return None if raw is None or raw in ("", "\0") else raw


def _etag_matches(header: str, etag: str | None) -> bool:
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return etag is not None and ("*" in tags or etag in tags)


def _kv_response(request: web.Request, kv: KeyValue, status: int = 200) -> web.Response:
    headers = {"ETag": f'"{kv.etag}"', "Last-Modified": format_datetime(kv.last_modified, usegmt=True)}
    if request.method == "HEAD":
        return web.Response(status=status, headers=headers, content_type=KV.split(";")[0])
    return web.Response(
        status=status,
        text=json.dumps(kv.to_json(_select(request))),
        headers=headers,
        content_type=KV.split(";")[0],
        charset="utf-8",
    )


def _select(request: web.Request) -> list[str] | None:
    raw = request.query.get("$Select") or request.query.get("$select")
    return [s.strip() for s in raw.split(",")] if raw else None


def _precondition(request: web.Request, current: KeyValue | None) -> web.Response | None:
    """412 when If-Match / If-None-Match (on a write) fails; 304 for If-None-Match on a read."""
    etag = current.etag if current is not None else None
    if_match, if_none = request.headers.get("If-Match"), request.headers.get("If-None-Match")
    if if_match is not None and not _etag_matches(if_match, etag):
        return problem(412, "precondition-failed", "Precondition failed")
    if if_none is not None and _etag_matches(if_none, etag):
        if request.method in ("GET", "HEAD"):
            return web.Response(status=304, headers={"ETag": f'"{etag}"'})
        return problem(412, "precondition-failed", "Precondition failed")
    return None


async def get_kv(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    kv = store.get(request.match_info["key"], _label(request))
    if kv is None:
        if request.headers.get("If-Match") is not None:
            return problem(412, "precondition-failed", "Precondition failed")
        return (
            web.Response(status=404) if request.method == "HEAD" else problem(404, "not-found", "Not Found")
        )
    return _precondition(request, kv) or _kv_response(request, kv)


async def put_kv(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    key, label = request.match_info["key"], _label(request)
    current = store.get(key, label)
    failed = _precondition(request, current)
    if failed is not None:
        return failed
    if current is not None and current.locked:
        return problem(
            409, "key-locked", f"Modifying key '{key}' is not allowed", "The key is read-only", "key"
        )
    try:
        body = json.loads(await request.text() or "{}")
    except ValueError:
        return problem(400, "invalid-argument", "Invalid request body", "The body is not JSON")
    if not isinstance(body, dict):
        return problem(400, "invalid-argument", "Invalid request body", "The body must be a JSON object")
    return _kv_response(request, store.put(key, label, body))


async def delete_kv(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    key, label = request.match_info["key"], _label(request)
    current = store.get(key, label)
    failed = _precondition(request, current)
    if failed is not None:
        return failed
    if current is None:
        return web.Response(status=204)
    if current.locked:
        return problem(
            409, "key-locked", f"Deleting key '{key}' is not allowed", "The key is read-only", "key"
        )
    store.delete(key, label)
    return _kv_response(request, current)


async def put_lock(request: web.Request) -> web.StreamResponse:
    return await _lock(request, True)


async def delete_lock(request: web.Request) -> web.StreamResponse:
    return await _lock(request, False)


async def _lock(request: web.Request, locked: bool) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    key, label = request.match_info["key"], _label(request)
    failed = _precondition(request, store.get(key, label))
    if failed is not None:
        return failed
    kv = store.lock(key, label, locked)
    return problem(404, "not-found", "Not Found") if kv is None else _kv_response(request, kv)


def _page(request: web.Request, items: list[Any]) -> tuple[list[Any], dict[str, str], str | None]:
    after = request.query.get("After") or request.query.get("after")
    start = int(after) if after and after.isdigit() else 0
    page = items[start : start + PAGE_SIZE]
    headers: dict[str, str] = {}
    next_link = None
    if start + PAGE_SIZE < len(items):
        query = {k: v for k, v in request.query.items() if k.lower() != "after"} | {
            "After": str(start + PAGE_SIZE)
        }
        next_link = f"{request.path}?{urlencode(query)}"
        headers["Link"] = f'<{next_link}>; rel="next"'
    return page, headers, next_link


def _set_etag(items: list[KeyValue]) -> str:
    return base64.b64encode("|".join(kv.etag for kv in items).encode()).decode()[:32] or "empty"


async def list_kv(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    items = store.query(request.query.get("key"), request.query.get("label"))
    page, headers, next_link = _page(request, items)
    etag = _set_etag(page)
    headers["ETag"] = f'"{etag}"'
    if_none = request.headers.get("If-None-Match")
    if if_none is not None and _etag_matches(if_none, etag):
        return web.Response(status=304, headers=headers)
    if request.method == "HEAD":
        return web.Response(status=200, headers=headers, content_type=KVSET.split(";")[0])
    body: dict[str, Any] = {"items": [kv.to_json(_select(request)) for kv in page], "etag": etag}
    if next_link:
        body["@nextLink"] = next_link
    return web.Response(
        text=json.dumps(body), headers=headers, content_type=KVSET.split(";")[0], charset="utf-8"
    )


async def list_revisions(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    from local.appconfig_emulator.store import Filter

    keys, labels = Filter("key", request.query.get("key")), Filter("label", request.query.get("label"))
    found = [kv for kv in reversed(store.revisions) if keys.matches(kv.key) and labels.matches(kv.label)]
    page, headers, next_link = _page(request, found)
    body: dict[str, Any] = {"items": [kv.to_json(_select(request)) for kv in page]}
    if next_link:
        body["@nextLink"] = next_link
    return web.Response(
        text=json.dumps(body), headers=headers, content_type=KVSET.split(";")[0], charset="utf-8"
    )


async def list_keys(request: web.Request) -> web.StreamResponse:
    names = request.app[STORE_KEY].keys(request.query.get("name"))
    page, headers, next_link = _page(request, [{"name": n} for n in names])
    body: dict[str, Any] = {"items": page} | ({"@nextLink": next_link} if next_link else {})
    return web.Response(
        text=json.dumps(body), headers=headers, content_type="application/vnd.microsoft.appconfig.keyset+json"
    )


async def list_labels(request: web.Request) -> web.StreamResponse:
    names = request.app[STORE_KEY].labels(request.query.get("name"))
    page, headers, next_link = _page(request, [{"name": n} for n in names])
    body: dict[str, Any] = {"items": page} | ({"@nextLink": next_link} if next_link else {})
    return web.Response(
        text=json.dumps(body),
        headers=headers,
        content_type="application/vnd.microsoft.appconfig.labelset+json",
    )


def make_app(
    store: KeyValueStore | None = None,
    *,
    credential: str = DEFAULT_CREDENTIAL,
    secret: str = DEFAULT_SECRET,
    requests: list[str] | None = None,
) -> web.Application:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        request.app[REQUESTS_KEY].append(f"{request.method} {request.path}")
        try:
            verify(request, body, credential, secret)
        except AuthFailed as failure:
            return web.Response(status=401, headers={"WWW-Authenticate": challenge(failure)})
        version = request.query.get("api-version")
        if version is None:
            return problem(
                400,
                "invalid-argument",
                "Invalid request parameter 'api-version'",
                "api-version is required",
                "api-version",
            )
        if version not in API_VERSIONS:
            return problem(
                400,
                "invalid-argument",
                "Invalid request parameter 'api-version'",
                f"The api-version '{version}' is not supported",
                "api-version",
            )
        try:
            response = await handler(request)
        except InvalidArgument as exc:
            return problem(
                400, "invalid-argument", f"Invalid request parameter '{exc.name}'", exc.detail, exc.name
            )
        response.headers["Sync-Token"] = request.app[STORE_KEY].sync_token()
        return response

    app = web.Application(middlewares=[guard])
    app[STORE_KEY] = store or KeyValueStore()
    app[REQUESTS_KEY] = requests if requests is not None else []
    routes = app.router
    routes.add_route("GET", "/kv", list_kv)
    routes.add_get("/kv/{key:.+}", get_kv)
    routes.add_put("/kv/{key:.+}", put_kv)
    routes.add_delete("/kv/{key:.+}", delete_kv)
    routes.add_put("/locks/{key:.+}", put_lock)
    routes.add_delete("/locks/{key:.+}", delete_lock)
    routes.add_get("/keys", list_keys)
    routes.add_get("/labels", list_labels)
    routes.add_get("/revisions", list_revisions)
    return app


class AppConfigEmulator:
    """The emulator in this process (tests), or ``python -m local.appconfig_emulator`` (the stack)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credential: str = DEFAULT_CREDENTIAL,
        secret: str = DEFAULT_SECRET,
    ) -> None:
        self.host, self.port = host, port
        self.credential, self.secret = credential, secret
        self.store = KeyValueStore()
        self.requests: list[str] = []  # "GET /kv/..." as received, for tests
        self._runner: web.AppRunner | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def connection_string(self) -> str:
        return connection_string(self.endpoint, self.credential, self.secret)

    async def start(self) -> AppConfigEmulator:
        self._runner = web.AppRunner(
            make_app(self.store, credential=self.credential, secret=self.secret, requests=self.requests),
            access_log=None,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(getattr(site, "_server", None), "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def connection_string(
    endpoint: str, credential: str = DEFAULT_CREDENTIAL, secret: str = DEFAULT_SECRET
) -> str:
    return f"Endpoint={endpoint};Id={credential};Secret={secret}"
