"""HTTP-triggered functions: routing, keys, ``func.HttpRequest`` in and ``func.HttpResponse`` out."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import azure.functions as func
from aiohttp import web
from multidict import CIMultiDict, MultiMapping

from .auth import KeyChecker, Level, presented_key
from .invocation import FunctionInfo, InvocationError, Invoker
from .routing import Router, compile_route

logger = logging.getLogger("local.functions_host")

_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection"})


def _joined(values: MultiMapping[str], separator: str) -> dict[str, str]:
    """A multi-valued mapping flattened the way the host flattens headers and query parameters."""
    result: dict[str, str] = {}
    for key in values:
        if key not in result:
            result[key] = separator.join(values.getall(key))
    return result


def build_request(request: web.Request, route_params: Mapping[str, str], body: bytes) -> func.HttpRequest:
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=_joined(request.headers, ", "),
        params=_joined(request.query, ","),
        route_params=dict(route_params),
        body=body,
    )


def to_web_response(result: Any) -> web.Response:
    """Map a function's return value to the HTTP response the host would send."""
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        return web.Response(
            status=200, body=result.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
        )
    if not isinstance(result, func.HttpResponse):
        raise TypeError(f"unsupported return type for an HTTP function: {type(result).__name__}")
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in result.headers.items():
        if name.lower() not in _HOP_BY_HOP:
            headers.add(name, str(value))
    if "Content-Type" not in headers:
        mimetype = result.mimetype
        headers["Content-Type"] = (
            f"{mimetype}; charset={result.charset}" if mimetype.startswith("text/") else mimetype
        )
    return web.Response(status=result.status_code, body=result.get_body() or b"", headers=headers)


def internal_error() -> web.Response:
    return web.Response(status=500, text="Internal Server Error")


class HttpFunctions:
    """The HTTP-triggered functions of an app, behind the host's router and key checks."""

    def __init__(
        self, functions: Iterable[FunctionInfo], *, route_prefix: str, keys: KeyChecker, invoker: Invoker
    ) -> None:
        self.keys = keys
        self.invoker = invoker
        self.router: Router[FunctionInfo] = Router()
        for function in functions:
            if function.trigger_type != "httpTrigger":
                continue
            route = function.trigger.get("route") or function.name
            methods = function.trigger.get("methods") or []
            Level.parse(function.trigger.get("authLevel"))  # fail at start-up on an unknown level
            self.router.add(compile_route(route, route_prefix), methods, function)

    async def handle(self, request: web.Request) -> web.Response | None:
        """The function's response, 401 without a valid key, or None when no route matches."""
        match = self.router.resolve(request.method, request.raw_path.split("?", 1)[0])
        if match is None:
            return None
        function = match.target
        level = Level.parse(function.trigger.get("authLevel"))
        if not self.keys.authorized(level, presented_key(request.headers, request.query)):
            return web.Response(status=401)
        http_request = build_request(request, match.route_params, await request.read())
        try:
            result = await self.invoker.invoke(
                function,
                http_request,
                reason="This function was programmatically called via the host APIs.",
                trace_parent=request.headers.get("traceparent", ""),
            )
            return to_web_response(result)
        except InvocationError:
            return internal_error()
        except TypeError:
            logger.exception("Function '%s' returned an unsupported value", function.name)
            return internal_error()
